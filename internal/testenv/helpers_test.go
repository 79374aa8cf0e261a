//go:build e2e

package testenv_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// timeout bounds every wait in these tests. Things normally happen within
// a second; the margin is for a loaded 2-core CI machine.
const timeout = 60 * time.Second

func ctxFor(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*timeout)
	t.Cleanup(cancel)
	return ctx
}

func container(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "registry.example/app:v1"}
}

func newPod(ns, name string, podLabels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: podLabels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{container("main")}},
	}
}

func newStatefulSet(ns, name string, replicas int32, mutate ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	sts := testenv.BareStatefulSet(ns, name, replicas, 0)
	for _, m := range mutate {
		m(sts)
	}
	return sts
}

func create(t testing.TB, c *testenv.Cluster, obj interface {
	GetNamespace() string
	GetName() string
}) {
	t.Helper()
	var err error
	switch o := obj.(type) {
	case *corev1.Pod:
		_, err = c.Clientset.CoreV1().Pods(o.Namespace).Create(ctxFor(t), o, metav1.CreateOptions{})
	case *appsv1.StatefulSet:
		_, err = c.Clientset.AppsV1().StatefulSets(o.Namespace).Create(ctxFor(t), o, metav1.CreateOptions{})
	default:
		t.Fatalf("create: unsupported type %T", obj)
	}
	if err != nil {
		t.Fatalf("creating %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

func getPod(t testing.TB, c *testenv.Cluster, ns, name string) *corev1.Pod {
	t.Helper()
	pod, err := c.Clientset.CoreV1().Pods(ns).Get(ctxFor(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting pod %s/%s: %v", ns, name, err)
	}
	return pod
}

// waitPodScheduled waits until the scheduler bound the pod and returns it.
func waitPodScheduled(t testing.TB, c *testenv.Cluster, ns, name string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	testenv.Eventually(t, timeout, fmt.Sprintf("pod %s/%s scheduled", ns, name), func(ctx context.Context) (bool, error) {
		p, err := c.Clientset.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		return p.Spec.NodeName != "", nil
	})
	return pod
}

func waitPodReady(t testing.TB, c *testenv.Cluster, ns, name string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	testenv.Eventually(t, timeout, fmt.Sprintf("pod %s/%s ready", ns, name), func(ctx context.Context) (bool, error) {
		p, err := c.Clientset.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, testenv.Pendingf("pod not created yet")
		}
		if err != nil {
			return false, err
		}
		pod = p
		return testenv.PodReady(p), testenv.Pendingf("phase %s, node %q", p.Status.Phase, p.Spec.NodeName)
	})
	return pod
}

// waitStatefulSetReady waits for readyReplicas == replicas == the number of
// Ready pods matching the StatefulSet's selector.
func waitStatefulSetReady(t testing.TB, c *testenv.Cluster, ns, name string, replicas int32) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	testenv.Eventually(t, timeout, fmt.Sprintf("statefulset %s/%s with %d ready replicas", ns, name, replicas), func(ctx context.Context) (bool, error) {
		sts, err := c.Clientset.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
		if err != nil {
			return false, err
		}
		list, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return false, err
		}
		ready := int32(0)
		for i := range list.Items {
			if testenv.PodReady(&list.Items[i]) && list.Items[i].DeletionTimestamp == nil {
				ready++
			}
		}
		pods = list.Items
		if sts.Status.ReadyReplicas != replicas || ready != replicas || int32(len(list.Items)) != replicas {
			return false, testenv.Pendingf("status.readyReplicas=%d, %d pods of which %d ready",
				sts.Status.ReadyReplicas, len(list.Items), ready)
		}
		return true, nil
	})
	return pods
}

// waitGone waits until no pod matches the selector.
func waitNoPods(t testing.TB, c *testenv.Cluster, ns string, sel labels.Selector) {
	t.Helper()
	testenv.Eventually(t, timeout, fmt.Sprintf("no pods matching %s in %s", sel, ns), func(ctx context.Context) (bool, error) {
		list, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return false, err
		}
		return len(list.Items) == 0, testenv.Pendingf("%d pods left", len(list.Items))
	})
}

func nodeLabel(t testing.TB, c *testenv.Cluster, node, key string) string {
	t.Helper()
	n, err := c.Clientset.CoreV1().Nodes().Get(ctxFor(t), node, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting node %s: %v", node, err)
	}
	v, ok := n.Labels[key]
	if !ok {
		t.Fatalf("node %s has no label %s", node, key)
	}
	return v
}
