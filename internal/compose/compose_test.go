package compose

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func TestPlanGroupRestart(t *testing.T) {
	base := func(g *v1alpha1.GroupRestart) LeaderWorkerSet {
		return LeaderWorkerSet{Name: "lws", Namespace: "ns", Spec: v1alpha1.LeaderWorkerSetSpec{
			Replicas: ptr.To[int32](4),
			LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
				Size:           ptr.To[int32](2),
				WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
			},
			Placement:    &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "a"}, {Name: "b"}}},
			GroupRestart: g,
		}}
	}
	cases := map[string]struct {
		reason string
		in     *v1alpha1.GroupRestart
		want   *v1alpha1.GroupRestart
	}{
		"AbsentStaysAbsent": {
			reason: "Without spec.groupRestart the provider keeps upstream's behaviour.",
		},
		"CopiedDefaultedToEveryCluster": {
			reason: "lws#1048: every cluster's managed resource carries the defaulted backoff and the budget.",
			in:     &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{InitialSeconds: ptr.To[int32](1)}, MaxRestarts: ptr.To[int32](2)},
			want: &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{
				InitialSeconds: ptr.To[int32](1), MaxSeconds: ptr.To[int32](300), ResetSeconds: ptr.To[int32](600),
			}, MaxRestarts: ptr.To[int32](2)},
		},
	}
	plain, err := Plan(base(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			targets, err := Plan(base(tc.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, tg := range targets {
				fp := tg.Resource.Spec.ForProvider
				if diff := cmp.Diff(tc.want, fp.GroupRestart); diff != "" {
					t.Errorf("%s\ncluster %s: forProvider.groupRestart: -want, +got:\n%s", tc.reason, tg.Cluster, diff)
				}
				// Not part of the revision: setting or changing it starts
				// no rollout.
				if want := plain[i].Resource.Spec.ForProvider.Revision.Key; fp.Revision.Key != want {
					t.Errorf("cluster %s: revision key %s, want %s as without groupRestart", tg.Cluster, fp.Revision.Key, want)
				}
			}
		})
	}
}

// TestUserKeys: what of a claim's annotations each cluster's managed
// resource carries.
func TestUserKeys(t *testing.T) {
	in := map[string]string{
		"crossplane.io/composition-resource-name":        "x",
		"kubectl.kubernetes.io/last-applied":             "{}",
		"leaderworkerset.sigs.k8s.io/exclusive-topology": "zone",
		lws.AnnotationGangScheduling:                     "Auto",
	}
	want := map[string]string{"leaderworkerset.sigs.k8s.io/exclusive-topology": "zone", lws.AnnotationGangScheduling: "Auto"}
	if diff := cmp.Diff(want, userKeys(in)); diff != "" {
		t.Errorf("Crossplane's and kubectl's keys are dropped; the user's, and our gang-scheduling annotation, kept: -want +got:\n%s", diff)
	}
}
