package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Checker holds the invariants of one LeaderWorkerSet over a run, fed with
// snapshots of every cluster (Observe) and told of the disruptions the run
// causes itself (Disrupted). It is not safe for concurrent use.
//
// A group is a (cluster, index) slot; its generations are the leaders seen
// in it. The invariants:
//   - a new generation needs a cause: a new template revision, a
//     rollout that released the previous generation (the leader
//     StatefulSet's partition reached its slot while it ran an older
//     template: it comes back on whatever revision the partition then
//     gives it), a disruption of the previous generation, or the slot
//     scaled away in between; one without is a group lost, and a second
//     one for one disruption a group recreated twice;
//   - a disruption recreates its group (checked by Unrecreated);
//   - all live pods of a group are of its leader's revision, and a leader
//     owns at most one live worker StatefulSet;
//   - at no moment are more than MaxUnavailable groups unavailable that
//     were ready before, are still wanted, and were not disrupted by the
//     run itself.
type Checker struct {
	MaxUnavailable int

	slots      map[slot]*history
	violations []string
	// Worst is the largest number of unavailable groups seen, and when.
	Worst   int
	WorstAt time.Time
	// Generations counts the new generations seen, by cause.
	Generations map[string]int

	// suspect is a moment over maxUnavailable not judged yet, and replicas
	// each cluster's leader StatefulSet's replicas as last observed: see
	// watchLag.
	suspect  *overBudget
	replicas map[string]int
}

// watchLag is how long a moment over maxUnavailable waits to be judged.
// Pods and StatefulSets come from two watches, and a scale-down's pod
// deletions can be seen before the replicas that ask for them (320 ms
// behind in chaos seed 2): a slot that the replicas seen within watchLag
// no longer want was scaled away, not made unavailable. After an API server
// restart a watch can lag by far more, as its reflector backs off (11 s in
// chaos seed 2): while Judging, the caller observes replicas read live.
const watchLag = time.Second

// Judging tells that a moment over maxUnavailable waits to be judged by the
// replicas observed next.
func (c *Checker) Judging() bool { return c.suspect != nil }

type overBudget struct {
	at    time.Time
	slots []slot
}

type slot struct {
	cluster string
	index   int
}

func (s slot) String() string { return fmt.Sprintf("%s/%d", s.cluster, s.index) }

type history struct {
	leader   types.UID
	revision string
	// established: the slot held a ready group since it was last wanted.
	established bool
	// scaledAway: the slot was not wanted since its leader appeared.
	scaledAway bool
	// released: a rollout released the slot's leader to be replaced.
	released bool
	// disrupted is the leader the run disrupted, until its slot is ready
	// with another one.
	disrupted types.UID
}

// NewChecker checks a LeaderWorkerSet rolled out with maxUnavailable.
func NewChecker(maxUnavailable int) *Checker {
	return &Checker{MaxUnavailable: maxUnavailable, slots: map[slot]*history{}, Generations: map[string]int{}, replicas: map[string]int{}}
}

// Disrupted tells that the run is about to restart or delete a pod of the
// group led by leader in cluster's slot index: its next generation has a
// cause, and it may be unavailable until then.
func (c *Checker) Disrupted(cluster string, index int, leader types.UID) {
	h := c.slot(slot{cluster, index})
	h.disrupted = leader
}

func (c *Checker) slot(s slot) *history {
	h := c.slots[s]
	if h == nil {
		h = &history{}
		c.slots[s] = h
	}
	return h
}

// Observe checks one moment of every cluster.
func (c *Checker) Observe(at time.Time, clusters []Cluster) {
	var unavailable []slot
	for _, cl := range clusters {
		c.replicas[cl.Name] = cl.Replicas
		live := map[int]Group{}
		for _, g := range cl.Groups {
			live[g.Index] = g
			c.group(at, cl, g)
		}
		for s, h := range c.slots {
			if s.cluster != cl.Name {
				continue
			}
			if s.index >= cl.Replicas {
				h.scaledAway, h.established = true, false
				continue
			}
			g, ok := live[s.index]
			switch {
			case ok && g.Ready:
				h.established = true
				if g.Leader != h.disrupted {
					h.disrupted = ""
				}
			case h.established && h.disrupted == "":
				unavailable = append(unavailable, s)
			}
		}
	}
	if c.suspect != nil && at.Sub(c.suspect.at) >= watchLag {
		c.judge()
	}
	if len(unavailable) <= c.MaxUnavailable {
		c.worst(at, len(unavailable))
	} else if c.suspect == nil {
		c.suspect = &overBudget{at, unavailable}
	}
}

// judge decides the suspect moment by the replicas seen since.
func (c *Checker) judge() {
	o := c.suspect
	c.suspect = nil
	var names []string
	for _, s := range o.slots {
		if s.index < c.replicas[s.cluster] {
			names = append(names, s.String())
		}
	}
	c.worst(o.at, len(names))
	if len(names) > c.MaxUnavailable {
		slices.Sort(names)
		c.violate(o.at, "%d groups unavailable (%s), more than maxUnavailable %d", len(names), strings.Join(names, ", "), c.MaxUnavailable)
	}
}

func (c *Checker) worst(at time.Time, n int) {
	if n > c.Worst {
		c.Worst, c.WorstAt = n, at
	}
}

// group checks one live group of cl against its slot's history.
func (c *Checker) group(at time.Time, cl Cluster, g Group) {
	s := slot{cl.Name, g.Index}
	h := c.slot(s)
	for _, r := range g.WorkerRevisions {
		if r != g.Revision {
			c.violate(at, "group %s (leader %s) runs revisions %s and %s", s, g.Leader, g.Revision, r)
			break
		}
	}
	if g.WorkerSets > 1 {
		c.violate(at, "group %s (leader %s) owns %d worker StatefulSets", s, g.Leader, g.WorkerSets)
	}
	// The partition releases a leader on an older template to the
	// StatefulSet controller.
	released := g.Index >= cl.Partition && !g.Current
	if g.Leader == h.leader {
		h.released = h.released || released
		return
	}
	if h.leader != "" {
		cause := ""
		switch {
		case h.disrupted == h.leader:
			cause = "disruption"
		case g.Revision != h.revision || h.released:
			cause = "rollout"
		case h.scaledAway:
			cause = "scale"
		default:
			c.violate(at, "group %s recreated without a cause: leader %s replaced by %s at the same revision %s (lost, or recreated twice for one disruption)", s, h.leader, g.Leader, g.Revision)
			cause = "none"
		}
		c.Generations[cause]++
	}
	h.leader, h.revision, h.scaledAway = g.Leader, g.Revision, false
	h.released = released
}

// Unrecreated are the disruptions whose group still has the leader that
// was disrupted: the run's restarts that did not recreate their group.
func (c *Checker) Unrecreated() []string {
	var out []string
	for s, h := range c.slots {
		if h.disrupted != "" && h.disrupted == h.leader && !h.scaledAway {
			out = append(out, fmt.Sprintf("group %s: leader %s disrupted, never recreated", s, h.leader))
		}
	}
	slices.Sort(out)
	return out
}

// Violations are the invariants broken so far, each once, with when.
func (c *Checker) Violations() []string {
	if c.suspect != nil {
		c.judge()
	}
	return c.violations
}

func (c *Checker) violate(at time.Time, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, v := range c.violations {
		if strings.HasSuffix(v, msg) {
			return
		}
	}
	c.violations = append(c.violations, at.Format("15:04:05.000")+": "+msg)
}

// Converged tells whether the clusters run replicas groups in all, each
// cluster the groups 0..Replicas-1 once, every one ready and current.
func Converged(clusters []Cluster, replicas int) error {
	var problems []string
	total := 0
	for _, cl := range clusters {
		total += cl.Replicas
		seen := map[int]bool{}
		for _, g := range cl.Groups {
			switch {
			case g.Index >= cl.Replicas:
				problems = append(problems, fmt.Sprintf("%s/%d is left over (%d wanted there)", cl.Name, g.Index, cl.Replicas))
			case !g.Ready || !g.Current:
				problems = append(problems, fmt.Sprintf("%s/%d ready %t, current %t", cl.Name, g.Index, g.Ready, g.Current))
			}
			seen[g.Index] = true
		}
		for i := range cl.Replicas {
			if !seen[i] {
				problems = append(problems, fmt.Sprintf("%s/%d has no leader", cl.Name, i))
			}
		}
	}
	if total != replicas {
		problems = append(problems, fmt.Sprintf("%d groups wanted over the clusters, %d in the spec", total, replicas))
	}
	if len(problems) > 0 {
		return fmt.Errorf("not converged: %s", strings.Join(problems, "; "))
	}
	return nil
}
