//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/admission"
	"github.com/lws-crossplane/lws-crossplane/internal/controller/config"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestWorkerLabelsByAdmissionPolicy: a cluster that serves
// MutatingAdmissionPolicies, its provider config left at WorkerLabels Auto,
// labels workers as they are created, and the provider patches only the
// leaders; a cluster that does not, its provider config switched to
// AdmissionPolicy while in use, still gets every label, by patch, and its
// provider config says why.
func TestWorkerLabelsByAdmissionPolicy(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", MutatingAdmissionPolicies: true})
	second := testenv.Start(t, testenv.Options{Name: "second"})
	e.addConfig(t, "second", second)
	ctx := context.Background()

	// The provider-config controller applies the policy where the cluster
	// serves it. The API server takes a moment to start using it, so the
	// pods are counted from a second LeaderWorkerSet, created once a dry
	// run shows the policy at work.
	e.twoClusterLWS(t, "first", 1, 2)
	var evs corev1.EventList
	must(t, e.cp.Client.List(ctx, &evs, client.InNamespace("default")))
	for _, ev := range evs.Items {
		if ev.InvolvedObject.Name == "second" && ev.Reason == string(config.ReasonWorkerLabelsByPatch) {
			t.Errorf("cluster second, left at Auto, warned that it labels workers by patch: %s", ev.Message)
		}
	}
	e.setWorkerLabels(t, "second", v1alpha1.WorkerLabelsAdmissionPolicy)
	e.policyAdmits(t, e.target)
	patchesBefore, err := e.target.Requests(ctx, "PATCH", "pods", "")
	must(t, err)
	const groupsEach = 2
	e.twoClusterLWS(t, "admitted", groupsEach, 4)

	t.Run("WorkersLabelledAtCreation", func(t *testing.T) {
		workerLabelsAreUpstreams(t, pods(t, e.target, "admitted"))
		patches, err := e.target.Requests(ctx, "PATCH", "pods", "")
		must(t, err)
		if got := patches - patchesBefore; got != groupsEach {
			t.Errorf("pod patches: got %v, want %d (the leaders)", got, groupsEach)
		}
	})
	t.Run("ClusterWithoutTheAPIPatches", func(t *testing.T) {
		workerLabelsAreUpstreams(t, pods(t, second, "admitted"))
		e.eventOn(t, "default", "second", string(config.ReasonWorkerLabelsByPatch))
		gvk := schema.GroupVersionKind{Group: admission.Group, Version: "v1beta1", Kind: "MutatingAdmissionPolicyList"}
		var l unstructured.UnstructuredList
		l.SetGroupVersionKind(gvk)
		if err := second.Client.List(ctx, &l); err == nil {
			t.Errorf("cluster second serves MutatingAdmissionPolicies; the test needs one that does not")
		}
	})
}

// twoClusterLWS creates a LeaderWorkerSet of groupsEach groups of size in
// each of the clusters "default" and "second", and waits for them.
func (e *env) twoClusterLWS(t testing.TB, name string, groupsEach, size int32) []*v1alpha1.RemoteLeaderWorkerSet {
	t.Helper()
	l := sample(name, "image:v1", 2*groupsEach, size)
	l.Spec.Placement = &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "default"}, {Name: "second"}}}
	mrs := plan(t, l)
	for _, mr := range mrs {
		must(t, e.cp.Client.Create(context.Background(), mr))
	}
	for _, mr := range mrs {
		e.groupsReady(t, mr, groupsEach, time.Minute)
	}
	return mrs
}

// policyAdmits waits until the API server of c labels a worker by the
// policy, seen in a dry run of its creation.
func (e *env) policyAdmits(t testing.TB, c *testenv.Cluster) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "the worker-index policy at work", func(ctx context.Context) (bool, error) {
		probe := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe-1", Labels: map[string]string{lws.LabelGroupKey: "probe", "apps.kubernetes.io/pod-index": "1"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "probe"}}},
		}
		if err := c.Client.Create(ctx, probe, client.DryRunAll); err != nil {
			return false, err
		}
		if probe.Labels[lws.LabelWorkerIndex] != "1" {
			return false, testenv.Pendingf("labels %v", probe.Labels)
		}
		return true, nil
	})
}

// workerLabelsAreUpstreams: every pod has upstream's worker-index, its
// StatefulSet ordinal.
func workerLabelsAreUpstreams(t *testing.T, ps []corev1.Pod) {
	t.Helper()
	if len(ps) == 0 {
		t.Fatal("no pods")
	}
	for _, p := range ps {
		want := p.Labels["apps.kubernetes.io/pod-index"]
		if p.Labels[lws.LabelWorkerIndex] == "0" {
			continue // a leader
		}
		if got := p.Labels[lws.LabelWorkerIndex]; got != want {
			t.Errorf("pod %s: worker-index %q, want %q", p.Name, got, want)
		}
	}
}

// setWorkerLabels sets a ClusterProviderConfig's WorkerLabels.
func (e *env) setWorkerLabels(t testing.TB, name string, p v1alpha1.WorkerLabelsPolicy) {
	t.Helper()
	e.editConfig(t, name, func(s *v1alpha1.ProviderConfigSpec) { s.WorkerLabels = p })
}

// editConfig edits the spec of a ClusterProviderConfig.
func (e *env) editConfig(t testing.TB, name string, edit func(*v1alpha1.ProviderConfigSpec)) {
	t.Helper()
	pc := &v1alpha1.ClusterProviderConfig{}
	must(t, e.cp.Client.Get(context.Background(), client.ObjectKey{Name: name}, pc))
	// A merge patch: the provider's config controller updates the config
	// too (its finalizer and status), which would fail an update.
	base := pc.DeepCopy()
	edit(&pc.Spec)
	must(t, e.cp.Client.Patch(context.Background(), pc, client.MergeFrom(base)))
}
