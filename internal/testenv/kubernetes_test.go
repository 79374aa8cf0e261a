//go:build e2e

package testenv_test

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestKubernetes checks, on one shared cluster, the behaviour of the real
// controllers and scheduler that the project builds on. Subtests run in
// parallel, each in its own namespace.
func TestKubernetes(t *testing.T) {
	c := testenv.Start(t, testenv.Options{})
	t.Logf("cluster started in %v", c.StartupDuration)

	// Sequential, so it is over before the parallel subtests start.
	t.Run("ASchedulerThatExitsIsStartedAgain", func(t *testing.T) {
		pid := c.ProcessIDs()[testenv.ComponentScheduler]
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, timeout, "kube-scheduler started again", func(context.Context) (bool, error) {
			now := c.ProcessIDs()[testenv.ComponentScheduler]
			if restarts := c.Restarts()[testenv.ComponentScheduler]; restarts != 1 || now == 0 || now == pid {
				return false, testenv.Pendingf("%d restarts, pid %d (was %d)", restarts, now, pid)
			}
			return true, nil
		})
		ns := c.CreateNamespace(t, "restarted")
		create(t, c, newPod(ns, "after", nil))
		waitPodScheduled(t, c, ns, "after")
	})

	t.Run("StatefulSetScaleUpAndDown", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "sts")
		create(t, c, newStatefulSet(ns, "web", 3))
		pods := waitStatefulSetReady(t, c, ns, "web", 3)
		for _, p := range pods {
			if p.Spec.NodeName == "" || p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
				t.Errorf("pod %s: node %q, IP %q, phase %s; want scheduled, addressed and Running",
					p.Name, p.Spec.NodeName, p.Status.PodIP, p.Status.Phase)
			}
		}

		scale, err := c.Clientset.AppsV1().StatefulSets(ns).GetScale(ctxFor(t), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		scale.Spec.Replicas = 1
		if _, err := c.Clientset.AppsV1().StatefulSets(ns).UpdateScale(ctxFor(t), "web", scale, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		pods = waitStatefulSetReady(t, c, ns, "web", 1)
		if pods[0].Name != "web-0" {
			t.Errorf("after scale-down the remaining pod is %s, want web-0", pods[0].Name)
		}
	})

	t.Run("CascadeDeletion", func(t *testing.T) {
		t.Parallel()
		for _, policy := range []metav1.DeletionPropagation{metav1.DeletePropagationBackground, metav1.DeletePropagationForeground} {
			t.Run(string(policy), func(t *testing.T) {
				t.Parallel()
				ns := c.CreateNamespace(t, "gc")
				create(t, c, newStatefulSet(ns, "db", 2))
				waitStatefulSetReady(t, c, ns, "db", 2)

				stsClient := c.Clientset.AppsV1().StatefulSets(ns)
				if err := stsClient.Delete(ctxFor(t), "db", metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
					t.Fatal(err)
				}
				if policy == metav1.DeletePropagationForeground {
					// The owner waits, with the foregroundDeletion finalizer,
					// until the garbage collector deleted its dependents.
					sts, err := stsClient.Get(ctxFor(t), "db", metav1.GetOptions{})
					if err == nil && !slices.Contains(sts.Finalizers, metav1.FinalizerDeleteDependents) {
						t.Errorf("foreground-deleted StatefulSet has finalizers %v, want %s", sts.Finalizers, metav1.FinalizerDeleteDependents)
					}
				}
				waitNoPods(t, c, ns, labels.SelectorFromSet(labels.Set{"app": "db"}))
				testenv.Eventually(t, timeout, "StatefulSet and its ControllerRevisions gone", func(ctx context.Context) (bool, error) {
					_, err := stsClient.Get(ctx, "db", metav1.GetOptions{})
					if !apierrors.IsNotFound(err) {
						return false, testenv.Pendingf("StatefulSet still there (%v)", err)
					}
					revs, err := c.Clientset.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
					if err != nil {
						return false, err
					}
					return len(revs.Items) == 0, testenv.Pendingf("%d ControllerRevisions left", len(revs.Items))
				})
			})
		}
	})

	t.Run("InterPodAffinity", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name        string
			topologyKey string
			anti        bool
		}{
			{"AntiAffinityZone", nodeagent.LabelZone, true},
			{"AffinityZone", nodeagent.LabelZone, false},
			{"AntiAffinityRack", nodeagent.LabelRack, true},
			{"AffinityNodePool", nodeagent.LabelNodePool, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ns := c.CreateNamespace(t, "affinity")
				create(t, c, newPod(ns, "peer", map[string]string{"role": "peer"}))
				peer := waitPodScheduled(t, c, ns, "peer")

				term := corev1.PodAffinityTerm{
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "peer"}},
					TopologyKey:   tc.topologyKey,
				}
				pod := newPod(ns, "follower", nil)
				if tc.anti {
					pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term}}}
				} else {
					pod.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term}}}
				}
				create(t, c, pod)
				follower := waitPodScheduled(t, c, ns, "follower")

				peerDomain := nodeLabel(t, c, peer.Spec.NodeName, tc.topologyKey)
				followerDomain := nodeLabel(t, c, follower.Spec.NodeName, tc.topologyKey)
				if same := peerDomain == followerDomain; same == tc.anti {
					t.Errorf("%s=%s for the peer and %s for the follower; anti-affinity=%t",
						tc.topologyKey, peerDomain, followerDomain, tc.anti)
				}
			})
		}
	})

	t.Run("NodeSelector", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "selector")
		for i := range 4 {
			pod := newPod(ns, fmt.Sprintf("p%d", i), nil)
			pod.Spec.NodeSelector = map[string]string{nodeagent.LabelNodePool: "pool-b"}
			create(t, c, pod)
		}
		for i := range 4 {
			pod := waitPodScheduled(t, c, ns, fmt.Sprintf("p%d", i))
			if pool := nodeLabel(t, c, pod.Spec.NodeName, nodeagent.LabelNodePool); pool != "pool-b" {
				t.Errorf("pod %s landed in pool %s, want pool-b", pod.Name, pool)
			}
		}
	})

	t.Run("DesignFeatures", func(t *testing.T) {
		t.Parallel()
		testDesignFeatures(t, c)
	})

	t.Run("SchedulingGate", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "gate")
		gated := newPod(ns, "gated", nil)
		gated.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "lws.crossplane.io/placement"}}
		create(t, c, gated)
		// A pod created after the gated one being scheduled shows that the
		// scheduler has seen, and skipped, the gated pod.
		create(t, c, newPod(ns, "sentinel", nil))
		waitPodScheduled(t, c, ns, "sentinel")
		pod := getPod(t, c, ns, "gated")
		if pod.Spec.NodeName != "" {
			t.Fatalf("gated pod was scheduled to %s", pod.Spec.NodeName)
		}
		if !hasCondition(pod, corev1.PodScheduled, corev1.ConditionFalse, corev1.PodReasonSchedulingGated) {
			t.Errorf("gated pod conditions %+v, want PodScheduled=False reason %s", pod.Status.Conditions, corev1.PodReasonSchedulingGated)
		}

		pod.Spec.SchedulingGates = nil
		if _, err := c.Clientset.CoreV1().Pods(ns).Update(ctxFor(t), pod, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("removing the gate: %v", err)
		}
		waitPodReady(t, c, ns, "gated")
	})
}

func hasCondition(p *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, reason string) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status == status && c.Reason == reason
		}
	}
	return false
}

// podNames lists the pods' names in ordinal order.
func podNames(pods []corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}
