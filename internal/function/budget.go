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
	unreached := make([]bool, len(p.Targets))
	for i, t := range p.Targets {
		shares[i] = t.Share
		loads[i], unreached[i] = load(t, mrs[t.Cluster])
	}
	placement.Allot(shares, loads, p.MaxUnavailable, p.MaxSurge)
	settled := true
	for i, t := range p.Targets {
		if mr, ok := mrs[t.Cluster]; ok && !t.Keep {
			if unreached[i] {
				shares[i].Rollout = mr.Spec.ForProvider.Rollout
			}
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
			shares[i].Rollout.MaxUnavailable = min(shares[i].Rollout.MaxUnavailable, inUse(*t, mr))
		}
		t.Rollout = shares[i].Rollout
		t.Resource.Spec.ForProvider.Rollout = shares[i].Rollout
	}
}

// inUse is the part of maxUnavailable a cluster's provider may be using:
// its managed resource's, unless it starts a rollout now. Then the part it
// had was a resting cluster's, which only decides when it counts as
// serving (placement.Place) and no roller counted on; taking it into the
// new rollout at once let three clusters have 3 groups down of 2 while a
// fourth gave its part up (chaos seed 2).
func inUse(t compose.Target, mr *v1alpha1.RemoteLeaderWorkerSet) int32 {
	starts := mr.Spec.ForProvider.Revision.Key != t.Resource.Spec.ForProvider.Revision.Key &&
		!meta.IsStatusConditionTrue(mr.Status.AtProvider.Conditions, v1alpha1.ConditionUpdateInProgress)
	if starts {
		return 0
	}
	return mr.Spec.ForProvider.Rollout.MaxUnavailable
}

// load is where a cluster stands in a rollout, as its provider last
// reported: all its groups pending when its managed resource is to carry
// another revision, those not updated yet while its provider reports an
// update in progress.
//
// A cluster its provider does not reach now (not Synced) is unreached: it
// keeps the budget its managed resource has, and counts as down by what
// it last reported or, if it was rolling, by all of its part, which its
// provider may have used before it lost the cluster. maxUnavailable holds
// over all clusters, seen or not; counting such a cluster as running
// nothing let the others take its part too (chaos seed 2).
func load(t compose.Target, mr *v1alpha1.RemoteLeaderWorkerSet) (l placement.Load, unreached bool) {
	if mr == nil {
		return placement.Load{}, false
	}
	at, want := mr.Status.AtProvider, t.Resource.Spec.ForProvider
	l.Down = max(0, mr.Spec.ForProvider.Replicas-at.ReadyReplicas)
	rolling := meta.IsStatusConditionTrue(at.Conditions, v1alpha1.ConditionUpdateInProgress)
	if mr.GetCondition(xpv2.TypeSynced).Status != corev1.ConditionTrue {
		if rolling || at.ObservedGeneration != mr.Generation {
			l.Down = max(l.Down, mr.Spec.ForProvider.Rollout.MaxUnavailable)
		}
		return l, true
	}
	switch {
	case mr.Spec.ForProvider.Revision.Key != want.Revision.Key:
		l.Pending = want.Replicas
	case rolling:
		l.Pending = max(0, want.Replicas-at.UpdatedReplicas)
	}
	return l, false
}
