package render

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// exclusiveLeaders keeps every leader alone in its topology domain: it repels
// the leaders of other groups, of any LeaderWorkerSet in the namespace.
// Upstream's webhook writes each leader's own group key into its affinity
// terms; a shared template cannot, so the term leaves out the pod itself
// through mismatchLabelKeys on the pod-name label, which the StatefulSet
// controller sets before the API server resolves the term. Workers follow
// their leader through a nodeSelector on the leader's domain, so a domain
// with one leader holds one group.
func exclusiveLeaders(spec *corev1.PodSpec, topologyKey string) {
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.PodAntiAffinity == nil {
		spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	aa := spec.Affinity.PodAntiAffinity
	aa.RequiredDuringSchedulingIgnoredDuringExecution = append(aa.RequiredDuringSchedulingIgnoredDuringExecution, corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: lws.LabelName, Operator: metav1.LabelSelectorOpExists},
			{Key: lws.LabelWorkerIndex, Operator: metav1.LabelSelectorOpIn, Values: []string{"0"}},
		}},
		MismatchLabelKeys: []string{LabelStatefulSetPodName},
		TopologyKey:       topologyKey,
	})
}
