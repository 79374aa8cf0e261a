//go:build e2e

package clusters_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/admission"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// testPolicyKept: the worker-index policy is applied once, costs no write
// while it is intact, and comes back when deleted or edited by hand.
func testPolicyKept(t *testing.T, e *env) {
	const interval = 200 * time.Millisecond
	m, _ := e.newManager(t, clusters.Options{PolicyInterval: interval})
	ctx := ctxFor(t, 30*time.Second)
	e.putSecret(t, "default", "policy", e.a.Kubeconfig)
	pc := &v1alpha1.ClusterProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "policy"},
		Spec:       v1alpha1.ProviderConfigSpec{Credentials: secretCredentials("default", "policy", "kubeconfig"), WorkerLabels: v1alpha1.WorkerLabelsAdmissionPolicy},
	}
	if err := e.cp.Client.Create(ctx, pc); err != nil {
		t.Fatal(err)
	}
	k := clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: pc.Name}
	if _, err := m.Get(ctx, k); err != nil {
		t.Fatal(err)
	}
	requests := func(verb string) float64 {
		t.Helper()
		var n float64
		for _, resource := range []string{"mutatingadmissionpolicies", "mutatingadmissionpolicybindings"} {
			r, err := e.a.Requests(ctx, verb, resource, "")
			if err != nil {
				t.Fatal(err)
			}
			n += r
		}
		return n
	}
	// keep has the manager look at the policy, and returns how many
	// applies that took.
	keep := func() float64 {
		t.Helper()
		gets, applies := requests("GET"), requests("APPLY")
		testenv.Eventually(t, 10*time.Second, "the manager looking at the policy", func(ctx context.Context) (bool, error) {
			if _, err := m.WorkerIndexPolicy(ctx, k); err != nil {
				return false, err
			}
			return requests("GET") > gets, nil
		})
		return requests("APPLY") - applies
	}
	policy, binding := admission.WorkerIndexPolicy("v1beta1")
	get := func(obj *unstructured.Unstructured) *unstructured.Unstructured {
		t.Helper()
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(obj.GroupVersionKind())
		if err := e.a.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
			t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		return got
	}
	failurePolicy := func() string {
		t.Helper()
		got, _, _ := unstructured.NestedString(get(policy).Object, "spec", "failurePolicy")
		return got
	}

	if n := keep(); n != 2 {
		t.Errorf("applies of a missing policy and binding: %v, want 2", n)
	}
	get(binding)
	if got := failurePolicy(); got != "Ignore" {
		t.Fatalf("failurePolicy %q, want Ignore", got)
	}
	if n := keep(); n != 0 {
		t.Errorf("applies of an intact policy: %v, want 0", n)
	}

	if err := e.a.Client.Delete(ctx, policy.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if n := keep(); n != 1 {
		t.Errorf("applies after the policy was deleted by hand: %v, want 1", n)
	}

	edited := get(policy)
	if err := unstructured.SetNestedField(edited.Object, "Fail", "spec", "failurePolicy"); err != nil {
		t.Fatal(err)
	}
	if err := e.a.Client.Update(ctx, edited); err != nil {
		t.Fatal(err)
	}
	keep()
	if got := failurePolicy(); got != "Ignore" {
		t.Errorf("failurePolicy after an edit by hand: %q, want Ignore again", got)
	}
}
