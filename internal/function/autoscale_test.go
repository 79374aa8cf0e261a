package function

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
)

func TestAutoscaled(t *testing.T) {
	lws := func(annotated bool) compose.LeaderWorkerSet {
		l := compose.LeaderWorkerSet{Name: "a", Namespace: "ns", Spec: v1alpha1.LeaderWorkerSetSpec{
			Replicas:  ptr.To[int32](2),
			Placement: &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "us-east", Weight: ptr.To[int32](3)}, {Name: "eu-west"}}},
		}}
		if annotated {
			l.Annotations = map[string]string{AnnotationAutoscaled: "true"}
		}
		return l
	}
	withReplicas := func(n int32) *v1alpha1.RemoteLeaderWorkerSet {
		mr := &v1alpha1.RemoteLeaderWorkerSet{}
		mr.Spec.ForProvider.Replicas = n
		return mr
	}
	both := observedSet{"us-east": withReplicas(5), "eu-west": withReplicas(1)}
	remembered := func(groups, desired int32) v1alpha1.ClusterStatus {
		return v1alpha1.ClusterStatus{Groups: groups, DesiredGroups: ptr.To(desired)}
	}
	cases := map[string]struct {
		reason   string
		l        compose.LeaderWorkerSet
		observed observedSet
		mem      map[string]v1alpha1.ClusterStatus
		want     v1alpha1.LeaderWorkerSetSpec
	}{
		"KeepsWhatTheAutoscalersSet": {
			reason:   "Each cluster keeps its managed resource's groups, and the LeaderWorkerSet has their sum.",
			l:        lws(true),
			observed: both,
			want: v1alpha1.LeaderWorkerSetSpec{Replicas: ptr.To[int32](6), Placement: &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{
				{Name: "us-east", Groups: ptr.To[int32](5)}, {Name: "eu-west", Groups: ptr.To[int32](1)}}}},
		},
		"GroupsFailedOverIntoAClusterAreNotItsOwn": {
			reason:   "us-east runs eu-west's group while eu-west is lost: it owns 5 of its 6, and the LeaderWorkerSet stays at 6 rather than growing by the group at every compose.",
			l:        lws(true),
			observed: observedSet{"us-east": withReplicas(6), "eu-west": withReplicas(1)},
			mem:      map[string]v1alpha1.ClusterStatus{"us-east": remembered(6, 5), "eu-west": remembered(1, 1)},
			want: v1alpha1.LeaderWorkerSetSpec{Replicas: ptr.To[int32](6), Placement: &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{
				{Name: "us-east", Groups: ptr.To[int32](5)}, {Name: "eu-west", Groups: ptr.To[int32](1)}}}},
		},
		"GroupsSpilledOutOfAClusterAreStillItsOwn": {
			reason:   "us-east spilled 2 of its 5 groups into eu-west, which owns none: the autoscaler's 5 stay us-east's.",
			l:        lws(true),
			observed: observedSet{"us-east": withReplicas(3), "eu-west": withReplicas(2)},
			mem:      map[string]v1alpha1.ClusterStatus{"us-east": remembered(3, 5), "eu-west": remembered(2, 0)},
			want: v1alpha1.LeaderWorkerSetSpec{Replicas: ptr.To[int32](5), Placement: &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{
				{Name: "us-east", Groups: ptr.To[int32](5)}, {Name: "eu-west", Groups: ptr.To[int32](0)}}}},
		},
		"NotAnnotated": {
			reason:   "Without the annotation spec.replicas is asserted, as Crossplane does.",
			l:        lws(false),
			observed: both,
			want:     lws(false).Spec,
		},
		"FirstCompose": {
			reason:   "Until every cluster has its managed resource, spec.replicas gives the shares.",
			l:        lws(true),
			observed: observedSet{"us-east": withReplicas(5)},
			want:     lws(true).Spec,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, autoscaled(tc.l, tc.observed, tc.mem).Spec); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
