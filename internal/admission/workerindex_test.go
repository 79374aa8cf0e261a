package admission

import (
	"testing"

	admissionv1beta1 "k8s.io/api/admissionregistration/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// TestWorkerIndexPolicyDecodesStrictly: every field of the rendered policy
// and binding is one of the API's; an unknown one would be dropped by the
// API server without a word.
func TestWorkerIndexPolicyDecodesStrictly(t *testing.T) {
	policy, binding := WorkerIndexPolicy("v1beta1")
	var p admissionv1beta1.MutatingAdmissionPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(policy.Object, &p, true); err != nil {
		t.Fatalf("policy: %v", err)
	}
	var b admissionv1beta1.MutatingAdmissionPolicyBinding
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(binding.Object, &b, true); err != nil {
		t.Fatalf("binding: %v", err)
	}
	if b.Spec.PolicyName != p.Name {
		t.Errorf("binding names policy %q, want %q", b.Spec.PolicyName, p.Name)
	}
}

// TestWorkerIndexPolicyMatchesWorkersOnly: the policy selects workers as
// their StatefulSet creates them, and neither leaders (whose template has
// no group key) nor pods labelled already.
func TestWorkerIndexPolicyMatchesWorkersOnly(t *testing.T) {
	policy, _ := WorkerIndexPolicy("v1beta1")
	var p admissionv1beta1.MutatingAdmissionPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(policy.Object, &p); err != nil {
		t.Fatal(err)
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.MatchConstraints.ObjectSelector)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		labels labels.Set
		want   bool
	}{
		"a worker being created":                                {labels.Set{lws.LabelName: "lws", lws.LabelGroupKey: "k", labelPodIndex: "3"}, true},
		"a leader being created":                                {labels.Set{lws.LabelName: "lws", lws.LabelWorkerIndex: "0", labelPodIndex: "3"}, false},
		"a worker labelled already, as upstream's webhook does": {labels.Set{lws.LabelGroupKey: "k", labelPodIndex: "3", lws.LabelWorkerIndex: "3"}, false},
		"a pod of no StatefulSet":                               {labels.Set{lws.LabelGroupKey: "k"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := sel.Matches(tc.labels); got != tc.want {
				t.Errorf("selector %s matches %v: %t, want %t", sel, tc.labels, got, tc.want)
			}
		})
	}
}
