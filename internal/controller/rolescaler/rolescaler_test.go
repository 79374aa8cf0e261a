package rolescaler

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
)

func set(name, role string, replicas int32) *v1alpha1.RemoteLeaderWorkerSet {
	mr := &v1alpha1.RemoteLeaderWorkerSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: disagg.ScalerLabels("llm", role)}}
	mr.Status.AtProvider.Replicas = replicas
	return mr
}

func TestReconcileWritesTheRolesGroups(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	scaler := &v1alpha1.DisaggregatedSetRoleScaler{ObjectMeta: metav1.ObjectMeta{Name: "llm-decode", Namespace: "ns", Labels: disagg.ScalerLabels("llm", "decode"), Generation: 1}}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(scaler).
		WithObjects(scaler, set("old", "decode", 1), set("new", "decode", 2), set("p", "prefill", 4)).Build()
	r := &Reconciler{kube: kube}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(scaler)}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := &v1alpha1.DisaggregatedSetRoleScaler{}
	if err := kube.Get(context.Background(), req.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Replicas != 3 || got.Status.Selector != disagg.ScalerSelector("llm", "decode") || len(got.Status.Conditions) != 1 {
		t.Errorf("status %+v: want decode's 3 groups over both revisions, its leaders' selector and Ready", got.Status)
	}
	// Nothing changed: no write (the resource version stays).
	version := got.ResourceVersion
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(context.Background(), req.NamespacedName, got); err != nil || got.ResourceVersion != version {
		t.Errorf("an unchanged status was written again: resource version %s, was %s (%v)", got.ResourceVersion, version, err)
	}
	if reqs := scalerOf(context.Background(), set("x", "decode", 0)); len(reqs) != 1 || reqs[0].Name != "llm-decode" {
		t.Errorf("a decode managed resource maps to %v, want llm-decode", reqs)
	}
}

func TestReconcileOfAScalerGone(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{kube: fake.NewClientBuilder().WithScheme(scheme).Build()}
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Namespace: "ns", Name: "gone"}}); err != nil {
		t.Errorf("a deleted scaler: %v", err)
	}
}
