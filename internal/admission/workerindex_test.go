package admission

import (
	"strings"
	"testing"

	admissionv1beta1 "k8s.io/api/admissionregistration/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// decodeStrictly renders a policy and its binding at v1beta1 and decodes
// them into the API's types, failing on any field the API does not have.
func decodeStrictly(t *testing.T, render func(string) (*unstructured.Unstructured, *unstructured.Unstructured)) (admissionv1beta1.MutatingAdmissionPolicy, admissionv1beta1.MutatingAdmissionPolicyBinding) {
	t.Helper()
	policy, binding := render("v1beta1")
	var p admissionv1beta1.MutatingAdmissionPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(policy.Object, &p, true); err != nil {
		t.Fatalf("policy: %v", err)
	}
	var b admissionv1beta1.MutatingAdmissionPolicyBinding
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(binding.Object, &b, true); err != nil {
		t.Fatalf("binding: %v", err)
	}
	return p, b
}

// TestWorkerIndexPolicyDecodesStrictly: every field of the rendered policy
// and binding is one of the API's; an unknown one would be dropped by the
// API server without a word.
func TestWorkerIndexPolicyDecodesStrictly(t *testing.T) {
	p, b := decodeStrictly(t, WorkerIndexPolicy)
	if b.Spec.PolicyName != p.Name {
		t.Errorf("binding names policy %q, want %q", b.Spec.PolicyName, p.Name)
	}
}

// TestWorkerIndexPolicyMatchesWorkersOnly: the policy selects workers as
// their StatefulSet creates them, and neither leaders (whose template has
// no group key) nor pods labelled already.
func TestWorkerIndexPolicyMatchesWorkersOnly(t *testing.T) {
	p, _ := decodeStrictly(t, WorkerIndexPolicy)
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

// TestLeaderWorkloadPolicyDecodesStrictly: as the worker-index policy's.
func TestLeaderWorkloadPolicyDecodesStrictly(t *testing.T) {
	p, b := decodeStrictly(t, LeaderWorkloadPolicy)
	if b.Spec.PolicyName != p.Name || p.Name != WorkloadPolicyName {
		t.Errorf("binding names policy %q, policy is %q, want %q", b.Spec.PolicyName, p.Name, WorkloadPolicyName)
	}
	if p.Spec.FailurePolicy == nil || *p.Spec.FailurePolicy != admissionv1beta1.Fail {
		t.Errorf("failure policy %v, want Fail: a leader admitted without its reference would run outside its gang", p.Spec.FailurePolicy)
	}
}

// TestLeaderWorkloadPolicyMatchesLeadersOnly: the selector lets through
// leaders being created by their StatefulSet, and neither workers nor pods
// of no StatefulSet; the match condition then keeps those asking for a
// Workload (the end-to-end test runs it on an API server).
func TestLeaderWorkloadPolicyMatchesLeadersOnly(t *testing.T) {
	p, _ := decodeStrictly(t, LeaderWorkloadPolicy)
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.MatchConstraints.ObjectSelector)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		labels labels.Set
		want   bool
	}{
		"a leader being created":  {labels.Set{lws.LabelName: "lws", lws.LabelWorkerIndex: "0", labelPodIndex: "3"}, true},
		"a worker being created":  {labels.Set{lws.LabelName: "lws", lws.LabelGroupKey: "k", labelPodIndex: "3"}, false},
		"a labelled worker":       {labels.Set{lws.LabelName: "lws", lws.LabelWorkerIndex: "3", labelPodIndex: "3"}, false},
		"a leader of no ordinal":  {labels.Set{lws.LabelName: "lws", lws.LabelWorkerIndex: "0"}, false},
		"a pod of another object": {labels.Set{lws.LabelWorkerIndex: "0", labelPodIndex: "3"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := sel.Matches(tc.labels); got != tc.want {
				t.Errorf("selector %s matches %v: %t, want %t", sel, tc.labels, got, tc.want)
			}
		})
	}
	if len(p.Spec.MatchConditions) != 1 || !strings.Contains(p.Spec.MatchConditions[0].Expression, string(lws.GangWorkload)) {
		t.Errorf("match conditions %+v, want one on the %s annotation", p.Spec.MatchConditions, lws.AnnotationGangScheduling)
	}
}
