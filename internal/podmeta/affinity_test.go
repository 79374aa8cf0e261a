package podmeta

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func terms(p *corev1.Pod) (affinity, anti int) {
	if a := p.Spec.Affinity; a != nil {
		if a.PodAffinity != nil {
			affinity = len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		}
		if a.PodAntiAffinity != nil {
			anti = len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		}
	}
	return affinity, anti
}

func TestExclusiveAffinity(t *testing.T) {
	cases := map[string]struct {
		reason             string
		pod                pod
		affinity, antiTerm int
	}{
		"Leader": {
			reason:   "An exclusive leader gets one affinity and one anti-affinity term.",
			pod:      leaderPod("test-sample-0", "s", "2").annotate(lws.AnnotationExclusiveTopology, "zone"),
			affinity: 1, antiTerm: 1,
		},
		"LeaderAndSubGroup": {
			reason: "A leader with group and subgroup exclusivity on different keys gets two pairs.",
			pod: leaderPod("test-sample-0", "s", "4").annotate(lws.AnnotationExclusiveTopology, "zone").
				annotate(lws.AnnotationSubGroupSize, "2").annotate(lws.AnnotationSubGroupExclusiveTopology, "rack"),
			affinity: 2, antiTerm: 2,
		},
		"WorkerSubGroupOnly": {
			reason: "A worker gets only the subgroup pair; group exclusivity reaches workers through a nodeSelector.",
			pod: workerPod("test-sample-0-1", "s", "test-sample-0", "4").annotate(lws.AnnotationExclusiveTopology, "zone").
				annotate(lws.AnnotationSubGroupSize, "2").annotate(lws.AnnotationSubGroupExclusiveTopology, "rack"),
			affinity: 1, antiTerm: 1,
		},
		"Disabled": {
			reason: "Without the annotations there is no affinity.",
			pod:    leaderPod("test-sample-0", "s", "2"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := Mutate(tc.pod.Pod); err != nil {
				t.Fatal(err)
			}
			a, aa := terms(tc.pod.Pod)
			if a != tc.affinity || aa != tc.antiTerm {
				t.Errorf("%s\nterms: want %d/%d, got %d/%d", tc.reason, tc.affinity, tc.antiTerm, a, aa)
			}
		})
	}
}

func TestExclusiveAffinityKeepsUserTermsAndIsIdempotent(t *testing.T) {
	user := corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}, TopologyKey: "host"}
	p := &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{user}}}}}
	ExclusiveAffinity(p, "k", "zone", lws.LabelGroupKey)
	ExclusiveAffinity(p, "k", "zone", lws.LabelGroupKey)
	want := &corev1.Affinity{
		PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{user, {
			LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: lws.LabelGroupKey, Operator: metav1.LabelSelectorOpIn, Values: []string{"k"}}}},
			TopologyKey:   "zone",
		}}},
		PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: lws.LabelGroupKey, Operator: metav1.LabelSelectorOpExists},
				{Key: lws.LabelGroupKey, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"k"}},
			}},
			TopologyKey: "zone",
		}}},
	}
	if diff := cmp.Diff(want, p.Spec.Affinity); diff != "" {
		t.Errorf("user terms kept, exclusive pair added once: -want, +got:\n%s", diff)
	}
}
