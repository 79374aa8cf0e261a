package dscompose

import (
	"fmt"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
)

// newSet composes the managed resource of a set the rollout creates: the
// role's LeaderWorkerSet, named and labelled as the set, its pods labelled
// too and placed by the placement policy, in the cluster of its slice.
func newSet(d DisaggregatedSet, spec v1alpha1.DisaggregatedSetSpec, set disagg.Set, cluster disagg.Cluster, replicas int32) (*v1alpha1.RemoteLeaderWorkerSet, error) {
	var role *v1alpha1.DisaggregatedRoleSpec
	for i := range spec.Roles {
		if spec.Roles[i].Name == set.Role {
			role = &spec.Roles[i]
		}
	}
	if role == nil {
		return nil, fmt.Errorf("no role %q to create a LeaderWorkerSet of", set.Role)
	}
	ls := role.Spec.DeepCopy()
	ls.Replicas = &replicas
	ls.Placement = &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: cluster.Name, ProviderConfigRef: &cluster.ProviderConfig}}}
	t := &ls.LeaderWorkerTemplate
	t.WorkerTemplate.Labels = set.Merged(t.WorkerTemplate.Labels)
	if t.LeaderTemplate != nil {
		t.LeaderTemplate.Labels = set.Merged(t.LeaderTemplate.Labels)
	}
	disagg.PlaceSlice(t, d.Name, set.Slice, spec.PlacementPolicy)
	l := compose.LeaderWorkerSet{Name: set.Name(), Namespace: d.Namespace, Labels: set.Merged(role.Metadata.Labels), Annotations: role.Metadata.Annotations, Spec: *ls}
	targets, err := compose.Plan(l, nil)
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", set.Role, err)
	}
	mr := targets[0].Resource
	mr.Labels = set.ServiceSelector()
	mr.Labels[LabelCluster] = cluster.Name
	return mr, nil
}

// kept is an observed managed resource desired as it is: a set keeps the
// template it was created with, so a change of placement policy or role
// metadata reaches the next revision only, as upstream's. Its rollout
// memory, the initial-replicas annotation, is kept while it is not the
// current revision.
func kept(mr *v1alpha1.RemoteLeaderWorkerSet, current bool) *v1alpha1.RemoteLeaderWorkerSet {
	out := &v1alpha1.RemoteLeaderWorkerSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.RemoteLeaderWorkerSetKind},
		ObjectMeta: metav1.ObjectMeta{Name: mr.Name, Namespace: mr.Namespace, Labels: maps.Clone(mr.Labels)},
		Spec:       *mr.Spec.DeepCopy(),
	}
	if v, ok := mr.Annotations[disagg.AnnotationInitialReplicas]; ok && !current {
		out.Annotations = map[string]string{disagg.AnnotationInitialReplicas: v}
	}
	return out
}

// ReadSet tells the set of an observed managed resource from its labels;
// false if it is not one of a DisaggregatedSet's.
func ReadSet(mr *v1alpha1.RemoteLeaderWorkerSet) (Set, bool) {
	l := mr.Labels
	var slice int32
	if _, err := fmt.Sscan(l[disagg.LabelSlice], &slice); err != nil || l[disagg.LabelName] == "" || l[disagg.LabelRevision] == "" || l[disagg.LabelRole] == "" {
		return Set{}, false
	}
	return Set{
		Set:      disagg.Set{DS: l[disagg.LabelName], Slice: slice, Revision: l[disagg.LabelRevision], Role: l[disagg.LabelRole]},
		Cluster:  l[LabelCluster],
		Resource: mr,
	}, true
}
