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
// are given; maxSurge is shared the same way. The parts of the rollers add
// up to no more than maxUnavailable (less the groups down elsewhere),
// however stale the reports they are made from: whichever groups come back
// up, the groups a rollout takes down over all clusters stay within it.
// A budget smaller than the clusters that
// roll goes to the first in list order: they roll one after another rather
// than each within a sliver. Clusters that do not roll keep the share
// Place gave them, which only decides when they count as serving; a kept
// (lost) cluster is left as it is, its groups run elsewhere. loads go by
// the shares' index.
func Allot(shares []Share, loads []Load, maxUnavailable, maxSurge int32) {
	free := maxUnavailable
	// own is what rollers may keep of their own groups down: maxUnavailable
	// less the groups down in clusters that do not roll.
	own := maxUnavailable
	pending := make([]int64, len(shares))
	for i, sh := range shares {
		if sh.Keep {
			continue
		}
		free -= loads[i].Down
		pending[i] = int64(loads[i].Pending)
		if pending[i] == 0 {
			own -= loads[i].Down
		}
	}
	own = max(own, 0)
	unavails, surges := proportional(max(free, 0), pending), proportional(maxSurge, pending)
	for i := range shares {
		if pending[i] == 0 {
			continue
		}
		// A roller's groups down count within its part, so that its
		// provider waits for them; but once they are back up it may take
		// as many others down for the rollout before the next report. So
		// the groups down a part keeps are bounded too, in list order:
		// otherwise three rollers with a group down each would be given
		// three of maxUnavailable 2 (chaos seed 4).
		kept := min(loads[i].Down, own)
		own -= kept
		shares[i].Rollout.MaxUnavailable = kept + min(unavails[i], loads[i].Pending)
		shares[i].Rollout.MaxSurge = min(surges[i], loads[i].Pending)
	}
}
