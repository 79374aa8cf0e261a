package podmeta

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExclusiveAffinity makes a pod's topology domain exclusive to the pods whose
// labelKey equals key: it requires pods with that value and repels pods with
// any other value of labelKey, on topologyKey (the exclusive-topology annotation, https://lws.sigs.k8s.io/docs/reference/labels-annotations-and-environment-variables/). User terms are kept;
// a pod that already has a required affinity and anti-affinity term on
// topologyKey is left alone, so applying it twice adds nothing.
func ExclusiveAffinity(pod *corev1.Pod, key, topologyKey, labelKey string) {
	if exclusiveAffinityApplied(pod, topologyKey) {
		return
	}
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &corev1.Affinity{}
	}
	a := pod.Spec.Affinity
	if a.PodAffinity == nil {
		a.PodAffinity = &corev1.PodAffinity{}
	}
	if a.PodAntiAffinity == nil {
		a.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: labelKey, Operator: metav1.LabelSelectorOpIn, Values: []string{key}},
		}},
		TopologyKey: topologyKey,
	})
	a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: labelKey, Operator: metav1.LabelSelectorOpExists},
			{Key: labelKey, Operator: metav1.LabelSelectorOpNotIn, Values: []string{key}},
		}},
		TopologyKey: topologyKey,
	})
}

func exclusiveAffinityApplied(pod *corev1.Pod, topologyKey string) bool {
	a := pod.Spec.Affinity
	if a == nil || a.PodAffinity == nil || a.PodAntiAffinity == nil {
		return false
	}
	return hasTerm(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, topologyKey) &&
		hasTerm(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, topologyKey)
}

func hasTerm(terms []corev1.PodAffinityTerm, topologyKey string) bool {
	for _, t := range terms {
		if t.TopologyKey == topologyKey {
			return true
		}
	}
	return false
}
