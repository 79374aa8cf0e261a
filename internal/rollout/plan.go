// Package rollout decides how a LeaderWorkerSet's leader StatefulSet moves
// through a rolling update or a scale (https://lws.sigs.k8s.io/docs/concepts/rollout-strategy/), and what its status says
// (https://lws.sigs.k8s.io/docs/reference/leaderworkerset.v1/). It is pure: the provider gathers the state of a target
// cluster, asks this package for the next partition, replicas and
// conditions, and applies them.
//
// A rolling update lowers the leader StatefulSet's partition: the
// StatefulSet controller recreates the leaders at or above it from the new
// template, and each recreated leader gets a new worker StatefulSet. The
// partition only ever moves down within a rollout, by the configured
// maxUnavailable plus the surge in use, and only past groups that are ready
// and updated at the tail. Surge groups (indices R and above) are created
// with the new template and released, by lowering replicas, once enough
// groups are ready.
package rollout

// Spec is what the user asked for, resolved to group counts.
type Spec struct {
	// Replicas is the desired number of groups, R.
	Replicas int32
	// Partition is rollingUpdateConfiguration.partition: groups below it
	// keep their revision.
	Partition int32
	// MaxUnavailable is maxUnavailable resolved against R, rounded down.
	MaxUnavailable int32
	// MaxSurge is maxSurge resolved against R, rounded up, at most R.
	MaxSurge int32
}

// Leader is the leader StatefulSet as it exists.
type Leader struct {
	// Replicas is its spec.replicas, S.
	Replicas int32
	// Partition is its current partition.
	Partition int32
	// SpecReplicas is R when the StatefulSet was last written, which tells
	// a scale in the middle of a rollout from the rollout itself.
	SpecReplicas int32
}

// Group is the state of one group index of the leader StatefulSet.
type Group struct {
	// Ready: the leader is running and ready, and so is its worker
	// StatefulSet (when the group has workers).
	Ready bool
	// Updated: the leader and its worker StatefulSet carry the current
	// revision.
	Updated bool
}

// Decision is the leader StatefulSet's next partition and replicas.
type Decision struct {
	Partition int32
	Replicas  int32
}

// Next decides the leader StatefulSet's partition and replicas. leader is
// nil before the StatefulSet exists; templateChanged is true in the
// reconcile that first sees a new revision; groups holds the state of the
// indices 0..S-1 (missing indices count as neither ready nor updated).
func Next(spec Spec, leader *Leader, templateChanged bool, groups []Group) Decision {
	d := next(spec, leader, templateChanged, groups)
	d.Partition = max(d.Partition, spec.Partition)
	return d
}

func next(spec Spec, leader *Leader, templateChanged bool, groups []Group) Decision {
	r := spec.Replicas
	if leader == nil {
		return Decision{Partition: 0, Replicas: r}
	}
	s := leader.Replicas
	if templateChanged {
		// Hold every existing group at its revision; a scale-up comes first
		// so that new groups start at the new template.
		p := min(r, s)
		if s < r {
			return Decision{Partition: p, Replicas: r}
		}
		return Decision{Partition: p, Replicas: spec.wantReplicas(r)}
	}
	if leader.Partition == 0 && s == r {
		return Decision{Partition: 0, Replicas: r}
	}
	if s < r {
		return Decision{Partition: leader.Partition, Replicas: r}
	}
	unready := unreadyBelow(groups, r)
	if leader.SpecReplicas != r {
		return Decision{Partition: min(leader.Partition, r+spec.MaxSurge), Replicas: spec.wantReplicas(unready)}
	}
	step := spec.MaxUnavailable + (s - r)
	return Decision{Partition: partition(groups, s, step, leader.Partition), Replicas: spec.wantReplicas(unready)}
}

// wantReplicas is how many leaders to keep with unready groups below R: the
// surge covers unavailable groups beyond maxUnavailable, and all of it is
// kept while more groups are unready than the surge can cover.
func (spec Spec) wantReplicas(unready int32) int32 {
	if unready <= spec.MaxSurge {
		return spec.Replicas + max(0, unready-spec.MaxUnavailable)
	}
	return spec.Replicas + spec.MaxSurge
}

// unreadyBelow counts the indices below r that are not both ready and
// updated.
func unreadyBelow(groups []Group, r int32) int32 {
	var n int32
	for i := range r {
		if g := at(groups, i); !g.Ready || !g.Updated {
			n++
		}
	}
	return n
}

// partition lowers the partition by step past the ready, updated tail; it
// counts groups below the new partition that are already unavailable
// against the step (lws#488), and moves past groups that are broken or
// updated anyway, so a rollout of groups that never became ready does not
// stall (lws#567). It never raises the partition.
func partition(groups []Group, s, step, current int32) int32 {
	var tail int32
	for i := s - 1; i >= 0; i-- {
		g := at(groups, i)
		if !g.Ready || !g.Updated {
			break
		}
		tail++
	}
	base := max(0, s-tail-step)
	p := base
	for i := range base {
		if !at(groups, i).Ready {
			p++
		}
	}
	for i := min(p, s-1); i >= base; i-- {
		g := at(groups, i)
		if g.Ready && !g.Updated {
			break
		}
		p = i
	}
	return min(p, current)
}

func at(groups []Group, i int32) Group {
	if int(i) < len(groups) {
		return groups[i]
	}
	return Group{}
}
