package function

import (
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
)

// sequence holds back, in a Sequential rollout, the clusters whose turn has
// not come (placement.Sequence): their managed resources keep the revision
// they carry, template and all.
func sequence(p *compose.Placement, r *v1alpha1.PlacementRollout, mrs observedSet, mem map[string]v1alpha1.ClusterStatus, now time.Time) placement.Sequenced {
	if len(p.Targets) == 0 {
		return placement.Sequenced{}
	}
	key := p.Targets[0].Resource.Spec.ForProvider.Revision.Key
	rolled := make([]placement.Rolled, len(p.Targets))
	for i, t := range p.Targets {
		rolled[i] = placement.Rolled{Cluster: t.Cluster}
		mr, ok := mrs[t.Cluster]
		if !ok {
			continue
		}
		at := mr.Status.AtProvider
		rolled[i] = placement.Rolled{
			Cluster:  t.Cluster,
			Revision: mr.Spec.ForProvider.Revision.Key,
			Groups:   mr.Spec.ForProvider.Replicas,
			Updated:  at.UpdatedReplicas,
			Ready:    at.ReadyReplicas,
			Fresh:    at.ObservedGeneration == mr.Generation && mr.GetCondition(xpv2.TypeSynced).Status == corev1.ConditionTrue,
		}
		if cs, ok := mem[t.Cluster]; ok {
			rolled[i].ProgressTime, rolled[i].Updated0, rolled[i].Ready0 = cs.ProgressTime, cs.UpdatedReplicas, cs.ReadyReplicas
		}
	}
	seq := placement.Sequence(r, key, rolled, now)
	for i, step := range seq.Steps {
		if step.Hold {
			p.Targets[i].Resource.Spec.ForProvider.Revision = *mrs[p.Targets[i].Cluster].Spec.ForProvider.Revision.DeepCopy()
		}
	}
	return seq
}
