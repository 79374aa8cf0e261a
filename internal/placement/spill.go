package placement

import (
	"fmt"
	"time"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// DefaultSpillAfter is spec.placement.spill.afterSeconds when unset: long
// enough for a cluster autoscaler to add nodes before groups move.
const DefaultSpillAfter = 300 * time.Second

// spillLimit is how many groups a cluster is held to under spill: the
// groups of its share that schedule once some have stayed unschedulable for
// spill.afterSeconds, or the limit remembered from before. The limit only
// tightens while groups stay stuck, and is forgotten once the cluster
// schedules all it runs and its observed room fits another group, so a
// cluster that was full once takes groups again when room appears, and
// never flaps in between. due is when the next unschedulable group falls
// due, zero if none.
func spillLimit(s *v1alpha1.Spill, o Observed, capacity *int32, now time.Time) (limit *int32, due time.Duration) {
	after := DefaultSpillAfter
	if s.AfterSeconds != nil {
		after = time.Duration(*s.AfterSeconds) * time.Second
	}
	n, due := stuck(o, after, now)
	limit = o.SpillLimit
	switch {
	case n > 0:
		if runs := max(0, o.Share-n); limit == nil || runs < *limit {
			limit = &runs
		}
	case len(o.Unschedulable) == 0 && capacity != nil && *capacity > o.Groups:
		limit = nil
	}
	return limit, due
}

// holdSpilled keeps, in each cluster being cut to its spill limit, the
// groups it has until every other cluster runs its share ready: a group is
// removed from the full cluster only once its replacement is ready.
func holdSpilled(shares []Share, observed map[string]Observed) {
	cut := func(sh *Share) bool { return sh.SpillLimit != nil && observed[sh.Cluster].Share > sh.Groups }
	for i := range shares {
		sh := &shares[i]
		if !sh.Keep && !cut(sh) && observed[sh.Cluster].Ready < sh.Groups {
			// A replacement is not ready yet: hold every cut.
			for j := range shares {
				if cut(&shares[j]) {
					shares[j].Groups, shares[j].Spilling = observed[shares[j].Cluster].Share, true
				}
			}
			return
		}
	}
}

// spilled says what spill decided of a cluster.
func spilled(sh Share) string {
	msg := fmt.Sprintf("cluster %s runs at most %d groups: the others it was given stayed unschedulable", sh.Cluster, *sh.SpillLimit)
	if sh.Spilling {
		msg += fmt.Sprintf("; it keeps its %d until their replacements elsewhere are ready", sh.Groups)
	}
	return msg
}

// atMost is the lower of two bounds, nil standing for none.
func atMost(a, b *int32) *int32 {
	if a == nil || (b != nil && *b < *a) {
		return b
	}
	return a
}

// spillOf is a spec's spill policy, nil without one.
func spillOf(s *v1alpha1.LeaderWorkerSetSpec) *v1alpha1.Spill {
	if s.Placement == nil {
		return nil
	}
	return s.Placement.Spill
}
