package chaos

import (
	"strings"
	"testing"
	"time"
)

// ready is a ready group of one worker at revision r, led by leader.
func ready(index int, leader, r string) Group {
	return Group{Index: index, Leader: uid(leader), Revision: r, Ready: true, Current: true, WorkerRevisions: []string{r}, WorkerSets: 1}
}

// stale is g running a template other than the one last set.
func stale(g Group) Group {
	g.Current = false
	return g
}

func starting(index int, leader, r string) Group {
	g := ready(index, leader, r)
	g.Ready, g.WorkerRevisions, g.WorkerSets = false, nil, 0
	return g
}

// moment is one snapshot of cluster "a", or a disruption before it.
type moment struct {
	replicas, partition int
	groups              []Group
	disrupt             *disruption
}

type disruption struct {
	index  int
	leader string
}

func TestChecker(t *testing.T) {
	cases := map[string]struct {
		maxUnavailable int
		moments        []moment
		want           []string // substrings of the violations, in order
		unrecreated    int
	}{
		"a rollout within maxUnavailable": {
			maxUnavailable: 1,
			moments: []moment{
				{replicas: 2, groups: []Group{ready(0, "a", "r1"), ready(1, "b", "r1")}},
				{replicas: 2, groups: []Group{ready(0, "a", "r1"), starting(1, "c", "r2")}},
				{replicas: 2, groups: []Group{ready(0, "a", "r1"), ready(1, "c", "r2")}},
				{replicas: 2, groups: []Group{ready(1, "c", "r2")}},
				{replicas: 2, groups: []Group{ready(0, "d", "r2"), ready(1, "c", "r2")}},
			},
		},
		"a rollout beyond maxUnavailable": {
			maxUnavailable: 1,
			moments: []moment{
				{replicas: 2, groups: []Group{ready(0, "a", "r1"), ready(1, "b", "r1")}},
				{replicas: 2, groups: []Group{starting(0, "c", "r2"), starting(1, "d", "r2")}},
			},
			want: []string{"2 groups unavailable (a/0, a/1), more than maxUnavailable 1"},
		},
		"a disrupted group is not counted unavailable until it is ready again": {
			maxUnavailable: 0,
			moments: []moment{
				{replicas: 1, groups: []Group{ready(0, "a", "r1")}},
				{disrupt: &disruption{0, "a"}, replicas: 1, groups: []Group{ready(0, "a", "r1")}},
				{replicas: 1},
				{replicas: 1, groups: []Group{starting(0, "b", "r1")}},
				{replicas: 1, groups: []Group{ready(0, "b", "r1")}},
			},
		},
		"the group of a disruption recreated twice (lws: leader only restarted once during a rolling update)": {
			moments: []moment{
				{replicas: 1, groups: []Group{ready(0, "a", "r1")}},
				{disrupt: &disruption{0, "a"}, replicas: 1, groups: []Group{starting(0, "b", "r1")}},
				{replicas: 1, groups: []Group{starting(0, "c", "r1")}},
			},
			want: []string{"group a/0 recreated without a cause: leader b replaced by c"},
		},
		"a group recreated without a cause is lost": {
			maxUnavailable: 1,
			moments: []moment{
				{replicas: 1, groups: []Group{ready(0, "a", "r1")}},
				{replicas: 1},
				{replicas: 1, groups: []Group{ready(0, "b", "r1")}},
			},
			want: []string{"group a/0 recreated without a cause: leader a replaced by b"},
		},
		"a group a rollout released comes back on the revision the partition gives it (chaos seed 2)": {
			maxUnavailable: 1,
			moments: []moment{
				{replicas: 1, partition: 1, groups: []Group{stale(ready(0, "a", "r1"))}},
				// The partition releases it to the rollout to r2 ...
				{replicas: 1, partition: 0, groups: []Group{stale(ready(0, "a", "r1"))}},
				{replicas: 1, partition: 0},
				// ... which a rollout to r3 holds again before the StatefulSet
				// controller recreates it: on r1, the StatefulSet's current
				// revision.
				{replicas: 1, partition: 1, groups: []Group{stale(starting(0, "b", "r1"))}},
			},
		},
		"a scale-down's pod deletions seen before its replicas are not unavailable (chaos seed 2)": {
			maxUnavailable: 1,
			moments: []moment{
				{replicas: 3, groups: []Group{ready(0, "a", "r1"), ready(1, "b", "r1"), ready(2, "c", "r1")}},
				{replicas: 3, groups: []Group{ready(0, "a", "r1")}},
				{replicas: 1, groups: []Group{ready(0, "a", "r1")}},
			},
		},
		"a slot scaled away and back is a new group, not a lost one": {
			maxUnavailable: 0,
			moments: []moment{
				{replicas: 2, groups: []Group{ready(0, "a", "r1"), ready(1, "b", "r1")}},
				{replicas: 1, groups: []Group{ready(0, "a", "r1")}},
				{replicas: 2, groups: []Group{ready(0, "a", "r1"), starting(1, "c", "r1")}},
				{replicas: 2, groups: []Group{ready(0, "a", "r1"), ready(1, "c", "r1")}},
			},
		},
		"a disruption that recreates nothing": {
			moments: []moment{
				{replicas: 1, groups: []Group{ready(0, "a", "r1")}},
				{disrupt: &disruption{0, "a"}, replicas: 1, groups: []Group{ready(0, "a", "r1")}},
			},
			unrecreated: 1,
		},
		"a group of mixed revisions": {
			maxUnavailable: 1,
			moments: []moment{
				{replicas: 1, groups: []Group{{Index: 0, Leader: "a", Revision: "r2", WorkerRevisions: []string{"r1"}, WorkerSets: 1}}},
			},
			want: []string{"group a/0 (leader a) runs revisions r2 and r1"},
		},
		"a leader owning two worker StatefulSets": {
			maxUnavailable: 1,
			moments: []moment{
				{replicas: 1, groups: []Group{{Index: 0, Leader: "a", Revision: "r1", WorkerSets: 2}}},
			},
			want: []string{"owns 2 worker StatefulSets"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := NewChecker(tc.maxUnavailable)
			at := time.Unix(0, 0)
			for _, m := range tc.moments {
				if d := m.disrupt; d != nil {
					c.Disrupted("a", d.index, uid(d.leader))
				}
				at = at.Add(time.Second)
				c.Observe(at, []Cluster{{Name: "a", Replicas: m.replicas, Partition: m.partition, Groups: m.groups}})
			}
			got := c.Violations()
			if len(got) != len(tc.want) {
				t.Fatalf("violations %q, want %d: %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %d = %q, want it to say %q", i, got[i], w)
				}
			}
			if n := len(c.Unrecreated()); n != tc.unrecreated {
				t.Errorf("unrecreated disruptions %q, want %d", c.Unrecreated(), tc.unrecreated)
			}
		})
	}
}

// TestCheckerJudgingWhileAMomentOverBudgetWaits: a moment over budget is
// held for a watch lag, and told of by Judging, so that the run can observe
// replicas read live meanwhile (chaos seed 2: a scale-down seen by its pod
// deletions 11 s before its replicas, after an API server restart).
func TestCheckerJudgingWhileAMomentOverBudgetWaits(t *testing.T) {
	c := NewChecker(1)
	at := time.Unix(0, 0)
	observe := func(after time.Duration, replicas int, groups ...Group) {
		at = at.Add(after)
		c.Observe(at, []Cluster{{Name: "a", Replicas: replicas, Groups: groups}})
	}
	observe(0, 3, ready(0, "a", "r1"), ready(1, "b", "r1"), ready(2, "c", "r1"))
	if c.Judging() {
		t.Fatal("judging with every group ready")
	}
	observe(20*time.Millisecond, 3, ready(0, "a", "r1"))
	if !c.Judging() {
		t.Fatal("not judging a moment with two groups down of maxUnavailable 1")
	}
	observe(500*time.Millisecond, 3, ready(0, "a", "r1"))
	if !c.Judging() {
		t.Fatal("judged before the watch lag passed")
	}
	observe(500*time.Millisecond, 2, ready(0, "a", "r1"))
	if c.Judging() {
		t.Fatal("still judging after the watch lag passed")
	}
	if v := c.Violations(); len(v) != 0 {
		t.Errorf("a slot the live replicas no longer want was scaled away, got %q", v)
	}
}

func TestConverged(t *testing.T) {
	cases := map[string]struct {
		clusters []Cluster
		replicas int
		want     string
	}{
		"every group ready and current": {
			clusters: []Cluster{{Name: "a", Replicas: 1, Groups: []Group{ready(0, "x", "r")}}, {Name: "b", Replicas: 1, Groups: []Group{ready(0, "y", "r")}}},
			replicas: 2,
		},
		"a group at an old template": {
			clusters: []Cluster{{Name: "a", Replicas: 1, Groups: []Group{{Index: 0, Leader: "x", Ready: true}}}},
			replicas: 1,
			want:     "a/0 ready true, current false",
		},
		"a missing group": {
			clusters: []Cluster{{Name: "a", Replicas: 2, Groups: []Group{ready(0, "x", "r")}}},
			replicas: 2,
			want:     "a/1 has no leader",
		},
		"a group left over past the cluster's replicas": {
			clusters: []Cluster{{Name: "a", Replicas: 1, Groups: []Group{ready(0, "x", "r"), ready(1, "y", "r")}}},
			replicas: 1,
			want:     "a/1 is left over",
		},
		"clusters that do not add up to the spec": {
			clusters: []Cluster{{Name: "a", Replicas: 1, Groups: []Group{ready(0, "x", "r")}}},
			replicas: 3,
			want:     "1 groups wanted over the clusters, 3 in the spec",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := Converged(tc.clusters, tc.replicas)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Converged() = %v, want it to say %q", err, tc.want)
			}
		})
	}
}
