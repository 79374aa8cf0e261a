package function

import (
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
)

// allot makes the rolling update budget the LeaderWorkerSet's as a whole
// (placement.Allot), once sequence has decided which clusters roll.
//
// Each cluster's provider acts on the part it last observed, so budget
// moves from one cluster to another only once the one that gives it up has
// observed that it did: while a provider has not observed its managed
// resource's latest generation, and in a plan that lowers a cluster's
// part, no part grows. Otherwise the two could, for the seconds a report
// takes, both take groups down.
func allot(p *compose.Placement, mrs observedSet) {
	shares := make([]placement.Share, len(p.Targets))
	loads := make([]placement.Load, len(p.Targets))
	for i, t := range p.Targets {
		shares[i], loads[i] = t.Share, load(t, mrs[t.Cluster])
	}
	placement.Allot(shares, loads, p.MaxUnavailable, p.MaxSurge)
	settled := true
	for i, t := range p.Targets {
		if mr, ok := mrs[t.Cluster]; ok && !t.Keep {
			settled = settled && mr.Status.AtProvider.ObservedGeneration == mr.Generation &&
				shares[i].Rollout.MaxUnavailable >= mr.Spec.ForProvider.Rollout.MaxUnavailable
		}
	}
	for i := range p.Targets {
		t := &p.Targets[i]
		if t.Keep {
			continue
		}
		if mr, ok := mrs[t.Cluster]; ok && !settled {
			shares[i].Rollout.MaxUnavailable = min(shares[i].Rollout.MaxUnavailable, mr.Spec.ForProvider.Rollout.MaxUnavailable)
		}
		t.Rollout = shares[i].Rollout
		t.Resource.Spec.ForProvider.Rollout = shares[i].Rollout
	}
}

// load is where a cluster stands in a rollout, as its provider last
// reported: all its groups pending when its managed resource is to carry
// another revision, those not updated yet while its provider reports an
// update in progress. A cluster its provider does not reach counts as
// neither rolling nor down: what it runs is not known.
func load(t compose.Target, mr *v1alpha1.RemoteLeaderWorkerSet) placement.Load {
	if mr == nil || mr.GetCondition(xpv2.TypeSynced).Status != corev1.ConditionTrue {
		return placement.Load{}
	}
	at, want := mr.Status.AtProvider, t.Resource.Spec.ForProvider
	l := placement.Load{Down: max(0, mr.Spec.ForProvider.Replicas-at.ReadyReplicas)}
	switch {
	case mr.Spec.ForProvider.Revision.Key != want.Revision.Key:
		l.Pending = want.Replicas
	case meta.IsStatusConditionTrue(at.Conditions, v1alpha1.ConditionUpdateInProgress):
		l.Pending = max(0, want.Replicas-at.UpdatedReplicas)
	}
	return l
}
