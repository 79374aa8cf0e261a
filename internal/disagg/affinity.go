package disagg

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// PlaceSlice adds the affinity of a placement policy (KEP-848) to a
// template's pods, for the given slice: ExclusiveSlice keeps a slice's pods
// in one topology domain and other slices of the same DisaggregatedSet out
// of it; ExclusiveTopology also keeps out every other DisaggregatedSet's
// slices. It is applied when a LeaderWorkerSet is created, so a policy
// change takes effect with the next revision, as upstream's.
func PlaceSlice(t *v1alpha1.LeaderWorkerTemplate, ds string, slice int32, policy *v1alpha1.DisaggregatedPlacementPolicy) {
	if policy == nil || policy.Type == "" || policy.Type == v1alpha1.PlacementNone {
		return
	}
	s := strconv.Itoa(int(slice))
	together := corev1.PodAffinityTerm{
		TopologyKey: policy.Topology,
		LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: LabelName, Operator: metav1.LabelSelectorOpIn, Values: []string{ds}},
			{Key: LabelSlice, Operator: metav1.LabelSelectorOpIn, Values: []string{s}},
		}},
	}
	apart := []metav1.LabelSelectorRequirement{{Key: LabelName, Operator: metav1.LabelSelectorOpIn, Values: []string{ds}}}
	if slice == 0 {
		// NotIn alone also matches pods without the label: slice 0's own
		// pods from before slices existed must not repel it.
		apart = append(apart, metav1.LabelSelectorRequirement{Key: LabelSlice, Operator: metav1.LabelSelectorOpExists})
	}
	apart = append(apart, metav1.LabelSelectorRequirement{Key: LabelSlice, Operator: metav1.LabelSelectorOpNotIn, Values: []string{s}})
	repel := []corev1.PodAffinityTerm{{TopologyKey: policy.Topology, LabelSelector: &metav1.LabelSelector{MatchExpressions: apart}}}
	if policy.Type == v1alpha1.PlacementExclusiveTopology {
		repel = append(repel, corev1.PodAffinityTerm{
			TopologyKey: policy.Topology,
			LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: LabelName, Operator: metav1.LabelSelectorOpExists},
				{Key: LabelName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{ds}},
				{Key: LabelSlice, Operator: metav1.LabelSelectorOpExists},
			}},
		})
	}
	for _, pod := range []*corev1.PodTemplateSpec{t.LeaderTemplate, &t.WorkerTemplate} {
		if pod == nil {
			continue
		}
		a := pod.Spec.Affinity
		if a == nil {
			a = &corev1.Affinity{}
			pod.Spec.Affinity = a
		}
		if a.PodAffinity == nil {
			a.PodAffinity = &corev1.PodAffinity{}
		}
		if a.PodAntiAffinity == nil {
			a.PodAntiAffinity = &corev1.PodAntiAffinity{}
		}
		a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, *together.DeepCopy())
		for _, term := range repel {
			a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, *term.DeepCopy())
		}
	}
}
