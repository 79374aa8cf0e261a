package chaos

import (
	"fmt"
	"time"
)

// Timeline keeps what changed in the clusters from one snapshot to the
// next, and what the run notes beside (a managed resource's budget), so
// that a violation can be read against the moments before it. It keeps
// the last Max lines. It is not safe for concurrent use.
type Timeline struct {
	Max   int
	last  map[string]Cluster
	lines []string
}

// NewTimeline keeps the last max lines.
func NewTimeline(max int) *Timeline {
	return &Timeline{Max: max, last: map[string]Cluster{}}
}

// Observe notes each cluster's changes since its last snapshot: its leader
// StatefulSet's replicas and partition, and each group's leader, revision
// and readiness.
func (tl *Timeline) Observe(at time.Time, clusters []Cluster) {
	for _, c := range clusters {
		prev, seen := tl.last[c.Name]
		tl.last[c.Name] = c
		if !seen || prev.Replicas != c.Replicas || prev.Partition != c.Partition {
			tl.Note(at, "%s: leader StatefulSet replicas %d, partition %d", c.Name, c.Replicas, c.Partition)
		}
		before := map[int]Group{}
		for _, g := range prev.Groups {
			before[g.Index] = g
		}
		for _, g := range c.Groups {
			if b, ok := before[g.Index]; !ok || b.Leader != g.Leader || b.Revision != g.Revision || b.Ready != g.Ready {
				tl.Note(at, "%s/%d: leader %s, revision %s, %s", c.Name, g.Index, short(string(g.Leader)), short(g.Revision), readiness(g.Ready))
			}
			delete(before, g.Index)
		}
		for _, b := range before {
			tl.Note(at, "%s/%d: leader %s gone", c.Name, b.Index, short(string(b.Leader)))
		}
	}
}

// Note adds a line.
func (tl *Timeline) Note(at time.Time, format string, args ...any) {
	tl.lines = append(tl.lines, at.Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	if over := len(tl.lines) - tl.Max; over > 0 {
		tl.lines = tl.lines[over:]
	}
}

// Lines are the lines kept, oldest first.
func (tl *Timeline) Lines() []string { return tl.lines }

func readiness(ready bool) string {
	if ready {
		return "ready"
	}
	return "not ready"
}

// short is the first 8 characters of a UID or revision key, enough to tell
// them apart in a run.
func short(s string) string { return s[:min(len(s), 8)] }
