package placement

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// DefaultFailoverAfter is spec.placement.failover.afterSeconds when unset.
const DefaultFailoverAfter = 60 * time.Second

// Observed is what placement knows of one cluster beyond the spec.
type Observed struct {
	// Room is the cluster's TargetCluster status; nil when it has none (a
	// namespaced ProviderConfig, or a provider that has not observed it
	// yet): such a cluster counts as reachable, with unbounded room.
	Room *v1alpha1.TargetClusterStatus

	// Groups are the LeaderWorkerSet's groups in the cluster now, and
	// Ready those of them that are ready.
	Groups, Ready int32

	// Share is the groups its managed resource gives the cluster now, and
	// Unschedulable since when each of them that cannot be scheduled is so.
	Share         int32
	Unschedulable []metav1.Time

	// LostSince, FailedOver and SpillLimit are what the composite's status
	// remembers of the cluster (v1alpha1.ClusterStatus).
	LostSince  *metav1.MicroTime
	FailedOver bool
	SpillLimit *int32
}

// Reachable is the cluster's TargetCluster condition: True, False, or
// Unknown when it has none.
func (o Observed) Reachable() metav1.ConditionStatus {
	if o.Room == nil {
		return metav1.ConditionUnknown
	}
	if c := meta.FindStatusCondition(o.Room.Conditions, v1alpha1.ConditionReachable); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

// lostSince is when an unreachable cluster was lost: as the composite
// remembers it, else its TargetCluster's last contact, else now.
func (o Observed) lostSince(now time.Time) *metav1.MicroTime {
	switch {
	case o.LostSince != nil:
		return o.LostSince.DeepCopy()
	case o.Room.LastContactTime != nil && o.Room.LastContactTime.Time.Before(now):
		return o.Room.LastContactTime.DeepCopy()
	}
	return &metav1.MicroTime{Time: now}
}

// Placed is where a LeaderWorkerSet's groups go, and why some are not where
// its placement asks.
type Placed struct {
	Shares []Share
	// Lost says, per unreachable cluster, what was decided.
	Lost []string
	// Short says which clusters lack room, and how much.
	Short []string
	// Spilled says which clusters are held to fewer groups by spill.
	Spilled []string
	// Moved says which groups moved for room or come back from a
	// failover, for events.
	Moved []string
	// Recheck, when not zero, is when a decision falls due that no change
	// of an observation announces: a lost cluster's failover, a stuck
	// group's spill.
	Recheck time.Duration
	// MaxUnavailable and MaxSurge are the LeaderWorkerSet's rolling update
	// budget in groups, which Allot shares among the clusters that roll.
	MaxUnavailable, MaxSurge int32
}

// Place shares the groups of a defaulted, validated spec among its clusters
// as Split does, then moves them by what is observed of each cluster
// (observed, by cluster name; a cluster missing there is unobserved):
//
//   - Capacity: a cluster is given no more groups than it can run; the rest
//     go to the other clusters with room, by their weights. What no cluster
//     has room for stays where the placement put it, reported Short.
//   - Failover: a cluster unreachable for failover.afterSeconds is Kept (its
//     managed resource stays as it was: nothing is deleted while it cannot
//     be read) and its share is created in the others, within their room.
//     Until then, and without failover, it is only reported Lost, so a
//     cluster that blinks moves nothing.
//   - Failback: a cluster back from a failover gets its share again, and
//     the groups created for it elsewhere stay until its own are ready, so
//     the LeaderWorkerSet never has fewer ready groups than during the
//     failover.
//   - Spill: a cluster that leaves groups unschedulable for
//     spill.afterSeconds is held to the groups it schedules (spillLimit),
//     the rest going to the others as for capacity; it keeps them until
//     the others run their shares ready.
//
// The rolling update budget is then split over the groups as placed.
func Place(s *v1alpha1.LeaderWorkerSetSpec, d Demand, observed map[string]Observed, now time.Time) (_ Placed, err error) {
	want := desired(s)
	shares := make([]Share, len(want))
	copy(shares, want)
	targets := Clusters(s.Placement)
	var failover *v1alpha1.Failover
	if s.Placement != nil {
		failover = s.Placement.Failover
	}
	spill := spillOf(s)
	out := Placed{}
	var moving int32
	for i := range shares {
		sh := &shares[i]
		o := observed[sh.Cluster]
		sh.Reachable, sh.Capacity = o.Reachable(), Capacity(o, d)
		if sh.Reachable == metav1.ConditionFalse {
			sh.LostSince = o.lostSince(now)
		}
		switch {
		case sh.LostSince == nil:
			if failover != nil && o.FailedOver && o.Ready < sh.Groups {
				// Back, its groups not all ready: those made for it
				// elsewhere stay meanwhile.
				sh.FailedOver = true
				moving += sh.Groups - o.Ready
				out.Moved = append(out.Moved, fmt.Sprintf("cluster %s is back from a failover: it runs its %d groups again, and those made for it elsewhere go once they are ready", sh.Cluster, sh.Groups))
			}
		case failover == nil:
			out.Lost = append(out.Lost, fmt.Sprintf("cluster %s unreachable since %s", sh.Cluster, stamp(sh.LostSince.Time)))
		case o.FailedOver || !now.Before(failsOver(failover, sh.LostSince)):
			sh.FailedOver, sh.Keep = true, true
			moving += sh.Groups
			out.Lost = append(out.Lost, fmt.Sprintf("cluster %s unreachable since %s, its %d groups failed over", sh.Cluster, stamp(sh.LostSince.Time), sh.Groups))
		default:
			at := failsOver(failover, sh.LostSince)
			out.Recheck = minPositive(out.Recheck, at.Sub(now))
			out.Lost = append(out.Lost, fmt.Sprintf("cluster %s unreachable since %s, its groups fail over at %s", sh.Cluster, stamp(sh.LostSince.Time), stamp(at)))
		}
		sh.Unschedulable = int32(len(o.Unschedulable))
		if spill != nil && !sh.Keep {
			limit, due := spillLimit(spill, o, sh.Capacity, now)
			sh.SpillLimit, sh.Capacity = limit, atMost(sh.Capacity, limit)
			out.Recheck = minPositive(out.Recheck, due)
		}
		if !sh.Keep && sh.Capacity != nil && sh.Groups > *sh.Capacity {
			moving += sh.Groups - *sh.Capacity
			sh.Groups = *sh.Capacity
		}
	}
	left := spread(shares, targets, moving)
	for i := range shares {
		sh := &shares[i]
		if sh.Keep || sh.FailedOver || sh.Groups >= want[i].Groups {
			continue
		}
		// Cut to its room, and nowhere else to go: pending where the
		// placement put them.
		back := min(left, want[i].Groups-sh.Groups)
		sh.Groups += back
		left -= back
		if back > 0 {
			out.Short = append(out.Short, fmt.Sprintf("cluster %s has room for %d of its %d groups and no other cluster has room for the rest", sh.Cluster, *sh.Capacity, sh.Groups))
		} else if sh.SpillLimit == nil {
			out.Moved = append(out.Moved, fmt.Sprintf("cluster %s has room for %d of its %d groups; the others run in clusters with room", sh.Cluster, sh.Groups, want[i].Groups))
		}
	}
	if left > 0 {
		out.Short = append(out.Short, fmt.Sprintf("no cluster has room for %d groups of lost clusters", left))
	}
	holdSpilled(shares, observed)
	for _, sh := range shares {
		if sh.SpillLimit != nil {
			out.Spilled = append(out.Spilled, spilled(sh))
		}
	}
	if out.MaxUnavailable, out.MaxSurge, err = budget(s, shares); err != nil {
		return Placed{}, err
	}
	out.Shares = shares
	return out, nil
}

// spread gives n groups to the clusters that can take them (reachable or
// unobserved, not failed over, with room) by their weights, each within its
// room, and returns what did not fit.
func spread(shares []Share, targets []v1alpha1.ClusterTarget, n int32) int32 {
	for n > 0 {
		weights := make([]int64, len(shares))
		first := -1
		for i := range shares {
			sh := &shares[i]
			if sh.Keep || sh.FailedOver || sh.Reachable == metav1.ConditionFalse || room(sh) == 0 {
				continue
			}
			weights[i] = max(weight(targets[i]), 1)
			if first < 0 {
				first = i
			}
		}
		if first < 0 {
			return n
		}
		var given int32
		for i, k := range proportional(n, weights) {
			k = min(k, room(&shares[i]))
			shares[i].Groups += k
			given += k
		}
		if given == 0 {
			// Rounded to nothing each: the first taker gets one.
			shares[first].Groups++
			given = 1
		}
		n -= given
	}
	return 0
}

// room is how many more groups a share can take.
func room(sh *Share) int32 {
	if sh.Capacity == nil {
		return 1 << 30
	}
	return max(0, *sh.Capacity-sh.Groups)
}

// failsOver is when a cluster lost since then fails over.
func failsOver(f *v1alpha1.Failover, since *metav1.MicroTime) time.Time {
	after := DefaultFailoverAfter
	if f.AfterSeconds != nil {
		after = time.Duration(*f.AfterSeconds) * time.Second
	}
	return since.Add(after)
}

// minPositive is the sooner of two due times, zero standing for none.
func minPositive(a, b time.Duration) time.Duration {
	if b > 0 && (a == 0 || b < a) {
		return b
	}
	return a
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
