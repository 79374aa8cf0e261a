package nodeagent

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/retry"
)

var everything = labels.Everything()

// podMatcher selects pods by namespace ("" for all) and labels (nil for
// all).
type podMatcher struct {
	namespace string
	selector  labels.Selector
}

func (m podMatcher) matches(p *corev1.Pod) bool {
	if m.namespace != "" && p.Namespace != m.namespace {
		return false
	}
	return m.selector == nil || m.selector.Matches(labels.Set(p.Labels))
}

type delayRule struct {
	podMatcher
	delay time.Duration
}

// ruleSet holds the active selector-based faults. Callers hold Agent.mu.
type ruleSet struct {
	next   int
	delays map[int]delayRule
	never  map[int]podMatcher
}

func (r *ruleSet) startDelay(p *corev1.Pod) time.Duration {
	var d time.Duration
	for _, rule := range r.delays {
		if rule.matches(p) && rule.delay > d {
			d = rule.delay
		}
	}
	return d
}

func (r *ruleSet) neverReady(p *corev1.Pod) bool {
	for _, m := range r.never {
		if m.matches(p) {
			return true
		}
	}
	return false
}

// DelayStart makes matching pods stay Pending for d after they are bound,
// on top of Config.StartDelay: a slow image pull. The returned func removes
// the rule.
func (a *Agent) DelayStart(namespace string, selector labels.Selector, d time.Duration) (undo func()) {
	m := podMatcher{namespace: namespace, selector: selector}
	a.mu.Lock()
	if a.rules.delays == nil {
		a.rules.delays = map[int]delayRule{}
	}
	id := a.rules.next
	a.rules.next++
	a.rules.delays[id] = delayRule{podMatcher: m, delay: d}
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.rules.delays, id)
		a.mu.Unlock()
		a.resyncPods(m.matches)
	}
}

// NeverReady makes matching pods run without ever passing readiness: their
// containers run but report ready=false. Pods already Ready become NotReady.
// The returned func removes the rule and lets them become Ready.
func (a *Agent) NeverReady(namespace string, selector labels.Selector) (undo func()) {
	m := podMatcher{namespace: namespace, selector: selector}
	a.mu.Lock()
	if a.rules.never == nil {
		a.rules.never = map[int]podMatcher{}
	}
	id := a.rules.next
	a.rules.next++
	a.rules.never[id] = m
	a.mu.Unlock()
	a.resyncPods(m.matches)
	return func() {
		a.mu.Lock()
		delete(a.rules.never, id)
		a.mu.Unlock()
		a.resyncPods(m.matches)
	}
}

// RestartContainer records one crash and restart of a container of a
// running pod: restartCount+1 and a terminated last state. An empty
// container name means the pod's first container.
func (a *Agent) RestartContainer(ctx context.Context, namespace, name, container string) error {
	return a.updatePodStatus(ctx, namespace, name, func(pod *corev1.Pod) error {
		c := container
		if c == "" && len(pod.Spec.Containers) > 0 {
			c = pod.Spec.Containers[0].Name
		}
		st, ok := restartedStatus(pod, c, time.Now())
		if !ok {
			return fmt.Errorf("pod %s/%s has no status for container %q; is it running?", namespace, name, c)
		}
		pod.Status = st
		return nil
	})
}

// FailPod makes a pod's containers exit with an error and the pod enter
// phase Failed, like a pod with restartPolicy Never whose process crashed
// or a pod the kubelet rejected.
func (a *Agent) FailPod(ctx context.Context, namespace, name, message string) error {
	if message == "" {
		message = "container failed (injected by node agent)"
	}
	return a.updatePodStatus(ctx, namespace, name, func(pod *corev1.Pod) error {
		pod.Status = failedStatus(pod, "Error", message, time.Now())
		return nil
	})
}

func (a *Agent) updatePodStatus(ctx context.Context, namespace, name string, mutate func(*corev1.Pod) error) error {
	pods := a.client.CoreV1().Pods(namespace)
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if err := mutate(pod); err != nil {
			return err
		}
		_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("updating status of pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// SetNodeNotReady makes a node's kubelet report Ready=False while it keeps
// renewing its Lease, e.g. a broken container runtime: the node turns
// Ready=False and its pods Ready=False. The agent starts nothing there until
// RecoverNode; the node-lifecycle controller taints the node.
func (a *Agent) SetNodeNotReady(ctx context.Context, node string) error {
	if err := a.setHealth(node, notReady); err != nil {
		return err
	}
	if err := a.setNodeReady(ctx, node, corev1.ConditionFalse, "KubeletNotReady", "container runtime is down (injected by node agent)"); err != nil {
		return err
	}
	return a.markPodsNotReady(ctx, node)
}

// LoseNode simulates a node that vanished: its kubelet stops renewing the
// Lease and handling pods. The node turns Ready=Unknown and its pods
// Ready=False at once, which is what the node-lifecycle controller does
// only after its grace period (50s by default, too slow for tests); the
// controller then taints the node unreachable as usual.
func (a *Agent) LoseNode(ctx context.Context, node string) error {
	if err := a.setHealth(node, lost); err != nil {
		return err
	}
	if err := a.setNodeReady(ctx, node, corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."); err != nil {
		return err
	}
	return a.markPodsNotReady(ctx, node)
}

// markPodsNotReady sets Ready=False on the node's pods, as the
// node-lifecycle controller does for an unhealthy node.
func (a *Agent) markPodsNotReady(ctx context.Context, node string) error {
	pods, err := a.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return fmt.Errorf("listing pods of node %s: %w", node, err)
	}
	now := time.Now()
	for i := range pods.Items {
		p := &pods.Items[i]
		if isTerminal(p) || conditionStatus(p.Status.Conditions, corev1.PodReady) == corev1.ConditionFalse {
			continue
		}
		err := a.updatePodStatus(ctx, p.Namespace, p.Name, func(pod *corev1.Pod) error {
			pod.Status.Conditions = mergeConditions(pod.Status.Conditions, now,
				corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "NodeNotReady"})
			return nil
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// RecoverNode brings a NotReady or lost node back: heartbeats resume, it
// reports Ready=True and its pods are brought back to Running and Ready.
func (a *Agent) RecoverNode(ctx context.Context, node string) error {
	if err := a.setHealth(node, healthy); err != nil {
		return err
	}
	a.mu.Lock()
	st := a.nodes[node]
	a.mu.Unlock()
	if err := a.renewLease(ctx, st.node); err != nil {
		return err
	}
	if err := a.setNodeReady(ctx, node, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"); err != nil {
		return err
	}
	a.resyncPods(func(p *corev1.Pod) bool { return p.Spec.NodeName == node })
	return nil
}

// RemoveNode deletes a node and force-deletes the pods bound to it, as a
// cloud provider removing the machine plus the pod garbage collector would.
// The agent no longer manages the node afterwards.
func (a *Agent) RemoveNode(ctx context.Context, node string) error {
	if err := a.setHealth(node, lost); err != nil {
		return err
	}
	if err := a.client.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting node %s: %w", node, err)
	}
	pods, err := a.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return fmt.Errorf("listing pods of removed node %s: %w", node, err)
	}
	for i := range pods.Items {
		if err := a.finishDeletion(ctx, &pods.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agent) setHealth(node string, h health) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, ok := a.nodes[node]
	if !ok {
		return fmt.Errorf("node %q is not managed by this agent", node)
	}
	st.health = h
	return nil
}

// setNodeReady writes the node's Ready condition, keeping the pressure
// conditions as they are.
func (a *Agent) setNodeReady(ctx context.Context, node string, status corev1.ConditionStatus, reason, message string) error {
	nodes := a.client.CoreV1().Nodes()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		n, err := nodes.Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		found := false
		for i := range n.Status.Conditions {
			c := &n.Status.Conditions[i]
			if c.Type != corev1.NodeReady {
				continue
			}
			found = true
			if c.Status != status {
				c.LastTransitionTime = now
			}
			c.Status, c.Reason, c.Message, c.LastHeartbeatTime = status, reason, message, now
		}
		if !found {
			n.Status.Conditions = nodeConditions(status, reason, message, now.Time)
		}
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("setting Ready=%s on node %s: %w", status, node, err)
	}
	return nil
}
