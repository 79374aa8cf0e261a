package placement

// Load is where one cluster stands in a rolling update now, as its
// provider last reported it.
type Load struct {
	// Pending are its groups not yet on the revision it is given: the
	// cluster rolls while there are any.
	Pending int32
	// Down are its groups that are not ready.
	Down int32
}

// Allot makes the rolling update budget the LeaderWorkerSet's as a whole,
// not each cluster's fixed part of it. Groups down anywhere use
// maxUnavailable up first; the clusters that roll now share what is left
// by their pending groups (each given no more than it has pending), on top
// of their own groups down, which their providers count against what they
// are given; maxSurge is shared the same way. So the groups down over all
// clusters stay within maxUnavailable, give or take what happened since
// the providers last reported, and a budget smaller than the clusters that
// roll goes to the first in list order: they roll one after another rather
// than each within a sliver. Clusters that do not roll keep the share
// Place gave them, which only decides when they count as serving; a kept
// (lost) cluster is left as it is, its groups run elsewhere. loads go by
// the shares' index.
func Allot(shares []Share, loads []Load, maxUnavailable, maxSurge int32) {
	free := maxUnavailable
	pending := make([]int64, len(shares))
	for i, sh := range shares {
		if sh.Keep {
			continue
		}
		free -= loads[i].Down
		pending[i] = int64(loads[i].Pending)
	}
	unavails, surges := proportional(max(free, 0), pending), proportional(maxSurge, pending)
	for i := range shares {
		if pending[i] == 0 {
			continue
		}
		shares[i].Rollout.MaxUnavailable = loads[i].Down + min(unavails[i], loads[i].Pending)
		shares[i].Rollout.MaxSurge = min(surges[i], loads[i].Pending)
	}
}
