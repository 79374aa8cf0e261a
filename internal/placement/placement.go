// Package placement splits a LeaderWorkerSet's groups, and its rolling update
// budget, over the target clusters of its placement. A group never spans
// clusters: each cluster runs its share as a LeaderWorkerSet of its own.
package placement

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// DefaultCluster is the cluster every group goes to without a placement: the
// one reached through the ClusterProviderConfig named "default", which is
// also Crossplane's default provider config reference.
const DefaultCluster = "default"

// Share is one cluster's part of a LeaderWorkerSet.
type Share struct {
	// Cluster is the cluster's name in the placement.
	Cluster string
	// ProviderConfig reaches the cluster.
	ProviderConfig v1alpha1.ProviderConfigReference
	// Groups is the number of groups the cluster runs.
	Groups int32
	// Desired is its share before observations moved groups.
	Desired int32
	// Offset is the index, over all clusters in placement order, of the
	// cluster's first group.
	Offset int32
	// Rollout is the cluster's share of the rolling update budget.
	Rollout v1alpha1.RolloutBudget

	// What Place observed and decided (Split leaves them zero).
	// Reachable is the cluster's TargetCluster condition, Unknown without
	// one; LostSince when it was first seen unreachable.
	Reachable metav1.ConditionStatus
	LostSince *metav1.MicroTime
	// Capacity is how many groups the cluster can run, nil if unbounded.
	Capacity *int32
	// FailedOver: the cluster's groups were created in the others because
	// it was lost, and have not come back yet.
	FailedOver bool
	// Keep: the cluster is lost; its managed resource stays as it was.
	Keep bool
	// Unschedulable is how many of its groups cannot be scheduled now.
	Unschedulable int32
	// SpillLimit is the groups spill holds it to, nil if none; Spilling:
	// it keeps more until their replacements are ready elsewhere.
	SpillLimit *int32
	Spilling   bool
}

// desired are the shares a defaulted, validated spec asks for, before
// observations and budgets. Explicit group counts are served first; the
// remaining groups are shared in proportion to the weights (default 1), by
// largest remainder, ties going to the cluster listed first, so the split
// is stable.
func desired(s *v1alpha1.LeaderWorkerSetSpec) []Share {
	targets := Clusters(s.Placement)
	shares := make([]Share, len(targets))
	var explicit int32
	weights := make([]int64, len(targets))
	for i, t := range targets {
		shares[i] = Share{Cluster: t.Name, ProviderConfig: ProviderConfig(t)}
		if t.Groups != nil {
			shares[i].Groups = *t.Groups
			explicit += *t.Groups
		} else {
			weights[i] = weight(t)
		}
	}
	for i, n := range proportional(max(*s.Replicas-explicit, 0), weights) {
		shares[i].Groups += n
		shares[i].Desired = shares[i].Groups
	}
	return shares
}

func weight(t v1alpha1.ClusterTarget) int64 {
	if t.Weight != nil {
		return int64(*t.Weight)
	}
	return 1
}

// budget gives each share its offset and its part of the rolling update
// budget, in proportion to its groups, and returns the budget in groups,
// for Allot.
func budget(s *v1alpha1.LeaderWorkerSetSpec, shares []Share) (unavail, surge int32, err error) {
	replicas := *s.Replicas
	c := s.RolloutStrategy.RollingUpdateConfiguration
	if unavail, err = lws.MaxUnavailable(c.MaxUnavailable, replicas); err != nil {
		return 0, 0, err
	}
	if surge, err = lws.MaxSurge(c.MaxSurge, replicas); err != nil {
		return 0, 0, err
	}
	groups := make([]int64, len(shares))
	for i := range shares {
		if !shares[i].Keep {
			groups[i] = int64(shares[i].Groups)
		}
	}
	unavails, surges := proportional(unavail, groups), proportional(surge, groups)
	var offset int32
	for i := range shares {
		sh := &shares[i]
		if sh.Keep {
			continue // Its managed resource is not written.
		}
		sh.Offset = offset
		offset += sh.Groups
		sh.Rollout = v1alpha1.RolloutBudget{
			Partition:      max(0, *c.Partition-sh.Offset),
			MaxUnavailable: unavails[i],
			MaxSurge:       surges[i],
		}
		// This split is what a cluster keeps while it does not roll (Allot
		// gives the rolling ones theirs), and it decides when the cluster
		// counts as serving: with no budget at all, a single group down
		// would make it not ready. So it gets one group, of surge if the
		// spec allows surge, else of unavailability.
		if sh.Groups > 0 && sh.Rollout.MaxUnavailable+sh.Rollout.MaxSurge == 0 {
			if surge > 0 {
				sh.Rollout.MaxSurge = 1
			} else {
				sh.Rollout.MaxUnavailable = 1
			}
		}
	}
	return unavail, surge, nil
}

// Clusters are a placement's target clusters: the default cluster when it
// names none.
func Clusters(p *v1alpha1.Placement) []v1alpha1.ClusterTarget {
	if p == nil || len(p.Clusters) == 0 {
		return []v1alpha1.ClusterTarget{{Name: DefaultCluster}}
	}
	return p.Clusters
}

// ProviderConfig is the provider config that reaches a cluster: its
// providerConfigRef, by default the ClusterProviderConfig of its name.
func ProviderConfig(t v1alpha1.ClusterTarget) v1alpha1.ProviderConfigReference {
	if t.ProviderConfigRef == nil {
		return v1alpha1.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: t.Name}
	}
	ref := *t.ProviderConfigRef
	if ref.Kind == "" {
		ref.Kind = v1alpha1.ClusterProviderConfigKind
	}
	return ref
}

// proportional splits total in proportion to weights by largest remainder.
// Ties go to the lower index. With no weight at all, nothing is given out.
func proportional(total int32, weights []int64) []int32 {
	out := make([]int32, len(weights))
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 || total <= 0 {
		return out
	}
	type rem struct {
		i int
		r int64
	}
	rems := make([]rem, len(weights))
	var given int32
	for i, w := range weights {
		q := int64(total) * w
		out[i] = int32(q / sum)
		given += out[i]
		rems[i] = rem{i, q % sum}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
	for j := 0; given < total; j++ {
		out[rems[j].i]++
		given++
	}
	return out
}
