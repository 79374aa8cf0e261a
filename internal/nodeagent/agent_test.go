//go:build e2e

package nodeagent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

const timeout = 60 * time.Second

// TestAgent runs the agent against a real control plane. Subtests run in
// parallel; each pins its pods to its own node so that node faults do not
// leak into the others.
func TestAgent(t *testing.T) {
	c := testenv.Start(t, testenv.Options{
		NodeAgent: nodeagent.Config{
			Pools:             []nodeagent.Pool{{Name: "a", Nodes: 8, RackSize: 4}},
			HeartbeatInterval: 200 * time.Millisecond,
		},
		// The node-lifecycle controller checks nodes every 5s by default;
		// faster checks keep the node-fault tests short.
		ControllerManagerFlags: []string{"--node-monitor-period=500ms"},
	})
	agent := c.Nodes
	ctx := context.Background()

	t.Run("InitContainersAndSidecars", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "init")
		always := corev1.ContainerRestartPolicyAlways
		pod := pinnedPod(ns, "p", "a-0")
		pod.Spec.InitContainers = []corev1.Container{
			{Name: "setup", Image: "setup:v1"},
			{Name: "proxy", Image: "proxy:v1", RestartPolicy: &always},
		}
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "second", Image: "app:v1"})
		createPod(t, c, pod)
		got := waitPod(t, c, ns, "p", "Ready", podReady)
		if got.Status.PodIP == "" || got.Status.HostIP == "" {
			t.Errorf("pod IP %q host IP %q, want both set", got.Status.PodIP, got.Status.HostIP)
		}
		if len(got.Status.InitContainerStatuses) != 2 || got.Status.InitContainerStatuses[0].State.Terminated == nil ||
			got.Status.InitContainerStatuses[1].State.Running == nil {
			t.Errorf("init container statuses %+v, want setup completed and proxy running", got.Status.InitContainerStatuses)
		}
		if len(got.Status.ContainerStatuses) != 2 {
			t.Errorf("container statuses %+v, want 2", got.Status.ContainerStatuses)
		}
	})

	t.Run("RestartContainer", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "restart")
		createPod(t, c, pinnedPod(ns, "p", "a-1"))
		waitPod(t, c, ns, "p", "Ready", podReady)
		if err := agent.RestartContainer(ctx, ns, "p", ""); err != nil {
			t.Fatal(err)
		}
		got := waitPod(t, c, ns, "p", "one restart, Ready", func(p *corev1.Pod) bool {
			return podReady(p) && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount == 1
		})
		if got.Status.ContainerStatuses[0].LastTerminationState.Terminated == nil {
			t.Errorf("no terminated last state after a restart: %+v", got.Status.ContainerStatuses[0])
		}
	})

	t.Run("FailPod", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "fail")
		createPod(t, c, pinnedPod(ns, "p", "a-2"))
		waitPod(t, c, ns, "p", "Ready", podReady)
		if err := agent.FailPod(ctx, ns, "p", ""); err != nil {
			t.Fatal(err)
		}
		got := waitPod(t, c, ns, "p", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
		if podReady(got) {
			t.Error("failed pod still Ready")
		}
	})

	t.Run("FailedStatefulSetPodIsReplaced", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "fail-sts")
		podLabels := map[string]string{"app": "web"}
		sts := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: appsv1.StatefulSetSpec{
				Replicas:            ptr(int32(1)),
				PodManagementPolicy: appsv1.ParallelPodManagement,
				Selector:            &metav1.LabelSelector{MatchLabels: podLabels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
					Spec:       pinnedPod(ns, "", "a-2").Spec,
				},
			},
		}
		if _, err := c.Clientset.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		first := waitPod(t, c, ns, "web-0", "Ready", podReady)
		if err := agent.FailPod(ctx, ns, "web-0", "OOMKilled"); err != nil {
			t.Fatal(err)
		}
		// The StatefulSet controller deletes the failed pod and creates a
		// new one with the same name.
		waitPod(t, c, ns, "web-0", "replaced and Ready", func(p *corev1.Pod) bool { return p.UID != first.UID && podReady(p) })
	})

	t.Run("DelayStartAndNeverReady", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "slow")
		const delay = time.Second
		undoSlow := agent.DelayStart(ns, labels.SelectorFromSet(labels.Set{"speed": "slow"}), delay)
		defer undoSlow()
		undoNever := agent.NeverReady(ns, labels.SelectorFromSet(labels.Set{"health": "bad"}))

		slow := pinnedPod(ns, "slow", "a-3")
		slow.Labels = map[string]string{"speed": "slow"}
		bad := pinnedPod(ns, "bad", "a-3")
		bad.Labels = map[string]string{"health": "bad"}
		createPod(t, c, bad)
		created := time.Now()
		createPod(t, c, slow)
		waitPod(t, c, ns, "slow", "Ready", podReady)
		if elapsed := time.Since(created); elapsed < delay {
			t.Errorf("slow pod Ready after %v, want at least %v", elapsed, delay)
		}
		// The rule was in place before the pod existed, so it never had a
		// chance to become Ready, even transiently.
		got := waitPod(t, c, ns, "bad", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
		if podReady(got) || got.Status.ContainerStatuses[0].State.Running == nil {
			t.Fatalf("never-ready pod: ready %t, container %+v; want running and not Ready", podReady(got), got.Status.ContainerStatuses[0])
		}
		undoNever()
		waitPod(t, c, ns, "bad", "Ready after the fault is removed", podReady)
	})

	t.Run("NodeNotReadyAndRecover", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "notready")
		createPod(t, c, pinnedPod(ns, "p", "a-4"))
		waitPod(t, c, ns, "p", "Ready", podReady)
		if err := agent.SetNodeNotReady(ctx, "a-4"); err != nil {
			t.Fatal(err)
		}
		waitNode(t, c, "a-4", "Ready=False and tainted not-ready", func(n *corev1.Node) bool {
			return nodeReady(n) == corev1.ConditionFalse && hasTaint(n, corev1.TaintNodeNotReady)
		})
		// The node-lifecycle controller, not the agent, marks the pods.
		waitPod(t, c, ns, "p", "NotReady", func(p *corev1.Pod) bool { return !podReady(p) })

		if err := agent.RecoverNode(ctx, "a-4"); err != nil {
			t.Fatal(err)
		}
		waitNode(t, c, "a-4", "Ready=True and untainted", func(n *corev1.Node) bool {
			return nodeReady(n) == corev1.ConditionTrue && !hasTaint(n, corev1.TaintNodeNotReady)
		})
		waitPod(t, c, ns, "p", "Ready again", podReady)
	})

	t.Run("LoseAndRemoveNode", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "lost")
		createPod(t, c, pinnedPod(ns, "p", "a-5"))
		waitPod(t, c, ns, "p", "Ready", podReady)
		if err := agent.LoseNode(ctx, "a-5"); err != nil {
			t.Fatal(err)
		}
		waitNode(t, c, "a-5", "Ready=Unknown and tainted unreachable", func(n *corev1.Node) bool {
			return nodeReady(n) == corev1.ConditionUnknown && hasTaint(n, corev1.TaintNodeUnreachable)
		})
		waitPod(t, c, ns, "p", "NotReady", func(p *corev1.Pod) bool { return !podReady(p) })

		// Heartbeats stop: while a healthy node renews its Lease twice,
		// the lost node's Lease stays as it was.
		lost := getLease(t, c, "a-5")
		healthy := getLease(t, c, "a-6")
		for range 2 {
			prev := healthy.Spec.RenewTime.Time
			testenv.Eventually(t, timeout, "healthy node lease renewal", func(context.Context) (bool, error) {
				healthy = getLease(t, c, "a-6")
				return healthy.Spec.RenewTime.After(prev), nil
			})
		}
		if now := getLease(t, c, "a-5"); !now.Spec.RenewTime.Equal(lost.Spec.RenewTime) {
			t.Errorf("lost node's lease renewed: %v -> %v", lost.Spec.RenewTime, now.Spec.RenewTime)
		}

		// Nobody finishes the deletion of a pod on a lost node...
		if err := c.Clientset.CoreV1().Pods(ns).Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if p := getPod(t, c, ns, "p"); p.DeletionTimestamp == nil {
			t.Fatal("pod on a lost node has no deletion timestamp after delete")
		}
		// ...until the node is removed.
		if err := agent.RemoveNode(ctx, "a-5"); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, timeout, "pod and node gone", func(ctx context.Context) (bool, error) {
			_, perr := c.Clientset.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
			_, nerr := c.Clientset.CoreV1().Nodes().Get(ctx, "a-5", metav1.GetOptions{})
			return apierrors.IsNotFound(perr) && apierrors.IsNotFound(nerr), nil
		})
	})

	t.Run("GracefulDeletion", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "delete")
		pod := pinnedPod(ns, "p", "a-7")
		pod.Spec.TerminationGracePeriodSeconds = ptr(int64(3600))
		createPod(t, c, pod)
		waitPod(t, c, ns, "p", "Ready", podReady)
		if err := c.Clientset.CoreV1().Pods(ns).Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, timeout, "pod deletion finished by the agent", func(ctx context.Context) (bool, error) {
			_, err := c.Clientset.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
	})
}

func pinnedPod(ns, name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			// A node selector, not spec.nodeName, so that the real scheduler
			// still does the binding.
			NodeSelector: map[string]string{nodeagent.LabelHostname: node},
			Containers:   []corev1.Container{{Name: "main", Image: "app:v1"}},
		},
	}
}

func createPod(t *testing.T, c *testenv.Cluster, pod *corev1.Pod) {
	t.Helper()
	if _, err := c.Clientset.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func getPod(t *testing.T, c *testenv.Cluster, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := c.Clientset.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting pod %s/%s: %v", ns, name, err)
	}
	return p
}

func getLease(t *testing.T, c *testenv.Cluster, node string) *coordinationv1.Lease {
	t.Helper()
	l, err := c.Clientset.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), node, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting lease of %s: %v", node, err)
	}
	return l
}

func waitPod(t *testing.T, c *testenv.Cluster, ns, name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	testenv.Eventually(t, timeout, fmt.Sprintf("pod %s/%s %s", ns, name, what), func(ctx context.Context) (bool, error) {
		p, err := c.Clientset.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, testenv.Pendingf("pod does not exist")
		}
		if err != nil {
			return false, err
		}
		pod = p
		return cond(p), testenv.Pendingf("phase %s, ready %t, node %q", p.Status.Phase, podReady(p), p.Spec.NodeName)
	})
	return pod
}

func waitNode(t *testing.T, c *testenv.Cluster, name, what string, cond func(*corev1.Node) bool) {
	t.Helper()
	testenv.Eventually(t, timeout, fmt.Sprintf("node %s %s", name, what), func(ctx context.Context) (bool, error) {
		n, err := c.Clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return cond(n), testenv.Pendingf("Ready=%s, taints %v", nodeReady(n), n.Spec.Taints)
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func nodeReady(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return ""
}

func hasTaint(n *corev1.Node, key string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
