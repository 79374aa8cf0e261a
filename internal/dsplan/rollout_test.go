package dsplan

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// fakeSlice is one slice's LeaderWorkerSets, changed by applying Decisions
// the way a caller would, for playing whole rollouts through Plan.
type fakeSlice struct {
	sets map[string]LWS
	// created counts the Decisions that created something; it orders
	// revisions.
	created int
}

func newFakeSlice(sets ...LWS) *fakeSlice {
	f := &fakeSlice{sets: map[string]LWS{}}
	for _, l := range sets {
		f.sets[l.Name] = l
	}
	return f
}

func (f *fakeSlice) observed() []LWS {
	return slices.SortedFunc(maps.Values(f.sets), func(a, b LWS) int {
		return strings.Compare(a.Name, b.Name)
	})
}

func (f *fakeSlice) apply(revision string, d Decision) {
	if len(d.Create) > 0 {
		f.created++
	}
	for _, c := range d.Create {
		f.sets[name(revision, c.Role)] = LWS{Name: name(revision, c.Role), Revision: revision, Role: c.Role, Replicas: c.Replicas, Order: f.created}
	}
	for n, v := range d.Scale {
		l := f.sets[n]
		l.Replicas = v
		f.sets[n] = l
	}
	for n, v := range d.Annotate {
		l := f.sets[n]
		l.InitialReplicas = ptr.To(v)
		f.sets[n] = l
	}
	for _, n := range d.Delete {
		delete(f.sets, n)
	}
}

// readyAll makes every LeaderWorkerSet ready, as if its pods came up.
func (f *fakeSlice) readyAll() {
	for n, l := range f.sets {
		l.ReadyReplicas = l.Replicas
		f.sets[n] = l
	}
}

// counts is old (summed over old revisions) and new replicas per role.
func (f *fakeSlice) counts(revision string, roles []Role) Step {
	s := Step{Old: make([]int32, len(roles)), New: make([]int32, len(roles))}
	for _, l := range f.sets {
		for i, r := range roles {
			switch {
			case l.Role != r.Name:
			case l.Revision == revision:
				s.New[i] += l.Replicas
			default:
				s.Old[i] += l.Replicas
			}
		}
	}
	return s
}

// play reconciles the slice until a Decision changes nothing, making
// everything ready after each one, and calls each with the slice before
// and after. It returns the distinct counts the slice went through and the
// events.
func (f *fakeSlice) play(t *testing.T, revision string, roles []Role, each func(before, after []LWS)) ([]Step, []Event) {
	t.Helper()
	trace := []Step{f.counts(revision, roles)}
	var events []Event
	for range 200 {
		before := f.observed()
		d, err := Plan(revision, roles, before)
		if err != nil {
			t.Fatalf("Plan: %v", err)
		}
		events = append(events, d.Events...)
		f.apply(revision, d)
		if each != nil {
			each(before, f.observed())
		}
		f.readyAll()
		if c := f.counts(revision, roles); !cmp.Equal(c, trace[len(trace)-1]) {
			trace = append(trace, c)
		}
		if !d.RollingUpdate && len(d.Create)+len(d.Scale)+len(d.Delete)+len(d.Annotate) == 0 {
			return trace, events
		}
	}
	t.Fatalf("no steady state after 200 reconciles; went through %s", show(trace))
	return nil, nil
}

// TestPlanPlaysThePlannersRollout: reconciling one old revision to the
// current one goes through exactly the planner's steps, then the old
// revision is deleted and only the current one is left, at target.
func TestPlanPlaysThePlannersRollout(t *testing.T) {
	cases := []struct {
		name       string
		initialOld []int32
		roles      []Role
	}{
		{"2,2 surge 1", r(2, 2), roles(2)},
		{"3,3 surge 1", r(3, 3), roles(3)},
		{"6,2 surge 1", r(6, 2), []Role{{Name: "prefill", Target: 6}, {Name: "decode", Target: 2}}},
		{"10,10 surge 3", r(10, 10), withBudget(roles(10), 3, 0)},
		{"5,5 to 2,2", r(5, 5), roles(2)},
		{"3,5 to 5,3", r(3, 5), []Role{{Name: "prefill", Target: 5}, {Name: "decode", Target: 3}}},
		{"5,2 unavailable 1", r(5, 2), withBudget([]Role{{Name: "prefill", Target: 5}, {Name: "decode", Target: 2}}, 0, 1)},
		{"4,4 unavailable 1", r(4, 4), withBudget(roles(4), 0, 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var old []LWS
			var target []int32
			var budgets []Budget
			for i, r := range tc.roles {
				old = append(old, lws("a", r.Name, tc.initialOld[i]))
				target = append(target, r.Target)
				b, err := ResolveBudget(r.Target, r.MaxSurge, r.MaxUnavailable)
				if err != nil {
					t.Fatal(err)
				}
				budgets = append(budgets, b)
			}
			f := newFakeSlice(old...)
			got, events := f.play(t, rev, tc.roles, nil)
			if want := Rollout(tc.initialOld, target, budgets); !cmp.Equal(got, want) {
				t.Errorf("went through\n %s\nwant\n %s", show(got), show(want))
			}
			for _, l := range f.observed() {
				if l.Revision != rev {
					t.Errorf("old LeaderWorkerSet %s left behind", l.Name)
				}
			}
			if n := countReason(events, ReasonRollingUpdateStarted); n != 1 {
				t.Errorf("%d RollingUpdateStarted events, want 1", n)
			}
			if n := countReason(events, ReasonRollingUpdateCompleted); n != 1 || events[len(events)-1].Reason != ReasonRollingUpdateCompleted {
				t.Errorf("want one RollingUpdateCompleted event, last; got %v", events)
			}
		})
	}
}

func withBudget(rs []Role, surge, unavailable int) []Role {
	for i := range rs {
		rs[i].MaxSurge, rs[i].MaxUnavailable = ptr.To(intstr.FromInt(surge)), ptr.To(intstr.FromInt(unavailable))
	}
	return rs
}

func countReason(events []Event, reason string) int {
	n := 0
	for _, e := range events {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

// TestPlanRecordsEachMove pins the events of the smallest two-role rollout.
func TestPlanRecordsEachMove(t *testing.T) {
	f := newFakeSlice(lws("a", "prefill", 2), lws("a", "decode", 2))
	_, events := f.play(t, rev, roles(2), nil)
	want := []Event{
		ev(ReasonRollingUpdateStarted, "Started rolling update to revision c"),
		up("prefill", 0, 1), up("decode", 0, 1),
		down("a", "prefill", 2, 1), down("a", "decode", 2, 1),
		up("prefill", 1, 2), up("decode", 1, 2),
		down("a", "prefill", 1, 0), down("a", "decode", 1, 0),
		ev(ReasonLWSDeleted, "Deleted drained LWS ds-0-a-decode"),
		ev(ReasonLWSDeleted, "Deleted drained LWS ds-0-a-prefill"),
		ev(ReasonRollingUpdateCompleted, "Completed rolling update to revision c"),
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestPlanNeverOrphansAnOldRole: a template changed twice (a to b while a
// rollout to b was under way, now b to c) leaves two old revisions of
// uneven sizes. At no point may one role of an old revision be at 0 while
// another still serves, and the rollout must end at target.
func TestPlanNeverOrphansAnOldRole(t *testing.T) {
	cases := []struct {
		name  string
		a, b  []int32 // prefill, decode
		roles []Role
	}{
		{
			name: "uneven old revisions",
			a:    r(1, 2), b: r(3, 1),
			roles: []Role{
				{Name: "prefill", Target: 4, MaxSurge: ptr.To(intstr.FromInt(1))},
				{Name: "decode", Target: 3, MaxSurge: ptr.To(intstr.FromInt(2))},
			},
		},
		{
			name: "two halves of a rollout",
			a:    r(1, 2), b: r(1, 2),
			roles: []Role{{Name: "prefill", Target: 2}, {Name: "decode", Target: 4}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSlice(
				lws("a", "prefill", tc.a[0]), lws("a", "decode", tc.a[1]),
				lws("b", "prefill", tc.b[0]).order(1), lws("b", "decode", tc.b[1]).order(1),
			)
			f.created = 1
			_, _ = f.play(t, rev, tc.roles, noOrphans(t))
			if got, want := f.counts(rev, tc.roles), (Step{Old: r(0, 0), New: []int32{tc.roles[0].Target, tc.roles[1].Target}}); !cmp.Equal(got, want) {
				t.Errorf("ended at %s, want %s", show([]Step{got}), show([]Step{want}))
			}
			if len(f.sets) != 2 {
				t.Errorf("left %v, want only the current revision", f.observed())
			}
		})
	}
}

// noOrphans fails the test when, after a Decision, an old revision has a
// role at 0 and another above.
func noOrphans(t *testing.T) func(_, after []LWS) {
	return func(_, after []LWS) {
		byRevision := map[string][]int32{}
		for _, l := range after {
			if l.Revision != rev {
				byRevision[l.Revision] = append(byRevision[l.Revision], l.Replicas)
			}
		}
		for rv, counts := range byRevision {
			if slices.Contains(counts, 0) && slices.ContainsFunc(counts, func(n int32) bool { return n > 0 }) {
				t.Errorf("revision %s orphaned: %v", rv, counts)
			}
		}
	}
}

// TestPlanDrainsARemovedRoleWithItsRevision: a role dropped from the
// DisaggregatedSet goes when its revision goes, in step with the others.
func TestPlanDrainsARemovedRoleWithItsRevision(t *testing.T) {
	f := newFakeSlice(lws("a", "prefill", 2), lws("a", "decode", 2), lws("a", "encode", 2))
	all := append(roles(2), Role{Name: "encode"})
	_, _ = f.play(t, rev, roles(2), noOrphans(t))
	if len(f.sets) != 2 {
		t.Errorf("left %v, want only the current revision", f.observed())
	}
	got := f.counts(rev, all)
	if want := (Step{Old: r(0, 0, 0), New: r(2, 2, 0)}); !cmp.Equal(got, want) {
		t.Errorf("ended at %s, want %s", show([]Step{got}), show([]Step{want}))
	}
}
