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
	cases := map[string]struct {
		reason   string
		l        compose.LeaderWorkerSet
		observed observedSet
		want     v1alpha1.LeaderWorkerSetSpec
	}{
		"KeepsWhatTheAutoscalersSet": {
			reason:   "Each cluster keeps its managed resource's groups, and the LeaderWorkerSet has their sum.",
			l:        lws(true),
			observed: both,
			want: v1alpha1.LeaderWorkerSetSpec{Replicas: ptr.To[int32](6), Placement: &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{
				{Name: "us-east", Groups: ptr.To[int32](5)}, {Name: "eu-west", Groups: ptr.To[int32](1)}}}},
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
			if diff := cmp.Diff(tc.want, autoscaled(tc.l, tc.observed).Spec); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
