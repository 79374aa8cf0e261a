package groups

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// unschedulable are the groups below replicas with a pod the scheduler
// cannot place, each since the oldest such pod became so: the facts that
// placement's spill decides from. Surge groups are left out, as they go
// with the rollout that made them.
func unschedulable(s *State) []v1alpha1.UnschedulableGroup {
	var out []v1alpha1.UnschedulableGroup
	for i := range s.Pods {
		pod := &s.Pods[i]
		c := podScheduled(pod)
		if c == nil || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		g, err := strconv.ParseInt(pod.Labels[lws.LabelGroupIndex], 10, 32)
		if err != nil || int32(g) >= s.Params.Replicas {
			continue
		}
		j := slices.IndexFunc(out, func(u v1alpha1.UnschedulableGroup) bool { return u.Group == int32(g) })
		switch {
		case j < 0:
			out = append(out, v1alpha1.UnschedulableGroup{Group: int32(g), Since: c.LastTransitionTime})
		case c.LastTransitionTime.Before(&out[j].Since):
			out[j].Since = c.LastTransitionTime
		}
	}
	slices.SortFunc(out, func(a, b v1alpha1.UnschedulableGroup) int { return int(a.Group - b.Group) })
	return out
}

func podScheduled(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
