package dsplan

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// r is a replica count per role.
func r(n ...int32) []int32 { return n }

// surges is a budget per role with only a surge.
func surges(n ...int32) []Budget {
	b := make([]Budget, len(n))
	for i := range n {
		b[i] = Budget{MaxSurge: n[i]}
	}
	return b
}

// unavailable is a budget per role with only an unavailability.
func unavailable(n ...int32) []Budget {
	b := make([]Budget, len(n))
	for i := range n {
		b[i] = Budget{MaxUnavailable: n[i]}
	}
	return b
}

// defaults gives every role DefaultBudget when budgets is nil.
func defaults(budgets []Budget, roles int) []Budget {
	if budgets != nil {
		return budgets
	}
	b := make([]Budget, roles)
	for i := range b {
		b[i] = DefaultBudget
	}
	return b
}

// steps parses "old/new old/new ...", each side comma-separated per role.
func steps(t *testing.T, s string) []Step {
	t.Helper()
	counts := func(s string) []int32 {
		var out []int32
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				t.Fatalf("bad count %q: %v", f, err)
			}
			out = append(out, int32(n))
		}
		return out
	}
	var out []Step
	for _, f := range strings.Fields(s) {
		old, nw, ok := strings.Cut(f, "/")
		if !ok {
			t.Fatalf("bad step %q", f)
		}
		out = append(out, Step{Old: counts(old), New: counts(nw)})
	}
	return out
}

// show prints steps in the notation steps parses, for failure messages.
func show(ss []Step) string {
	join := func(a []int32) string {
		return strings.Trim(strings.ReplaceAll(fmt.Sprint(a), " ", ","), "[]")
	}
	var parts []string
	for _, s := range ss {
		parts = append(parts, join(s.Old)+"/"+join(s.New))
	}
	return strings.Join(parts, " ")
}

// TestRolloutSequences plays whole rollouts step by step and compares every
// step. The two-role rows are upstream v0.10.0's exact-sequence cases (old
// per role / new per role, the first being the start); the rows after them
// cover maxUnavailable, three roles and role changes, and were checked
// against upstream's planner.
func TestRolloutSequences(t *testing.T) {
	cases := []struct {
		name       string
		initialOld []int32
		target     []int32
		budgets    []Budget // nil: DefaultBudget for every role
		want       string
	}{
		{"1,1 to 1,1 surge 1", r(1, 1), r(1, 1), nil,
			"1,1/0,0 1,1/1,1 0,0/1,1"},
		{"2,2 to 2,2 surge 1", r(2, 2), r(2, 2), nil,
			"2,2/0,0 2,2/1,1 1,1/1,1 1,1/2,2 0,0/2,2"},
		{"3,3 to 3,3 surge 1", r(3, 3), r(3, 3), nil,
			"3,3/0,0 3,3/1,1 2,2/1,1 2,2/2,2 1,1/2,2 1,1/3,3 0,0/3,3"},
		{"6,2 to 6,2 surge 1", r(6, 2), r(6, 2), nil,
			"6,2/0,0 6,2/1,1 5,2/1,1 5,2/2,1 4,2/2,1 4,2/3,1 3,1/3,1 3,1/4,2 2,1/4,2 2,1/5,2 1,1/5,2 1,1/6,2 0,0/6,2"},
		{"6,2 to 6,2 surge 2", r(6, 2), r(6, 2), surges(2, 2),
			"6,2/0,0 6,2/2,1 4,2/2,1 4,2/4,2 2,1/4,2 2,1/6,2 0,0/6,2"},
		{"6,4 to 6,4 surge 2", r(6, 4), r(6, 4), surges(2, 2),
			"6,4/0,0 6,4/2,2 4,3/2,2 4,3/4,3 2,2/4,3 2,2/6,4 0,0/6,4"},
		{"10,1 to 10,1 surge 1", r(10, 1), r(10, 1), nil,
			"10,1/0,0 10,1/1,1 9,1/1,1 9,1/2,1 8,1/2,1 8,1/3,1 7,1/3,1 7,1/4,1 6,1/4,1 6,1/5,1 5,1/5,1 5,1/6,1 4,1/6,1 4,1/7,1 3,1/7,1 3,1/8,1 2,1/8,1 2,1/9,1 1,1/9,1 1,1/10,1 0,0/10,1"},
		{"1,10 to 1,10 surge 1", r(1, 10), r(1, 10), nil,
			"1,10/0,0 1,10/1,1 1,9/1,1 1,9/1,2 1,8/1,2 1,8/1,3 1,7/1,3 1,7/1,4 1,6/1,4 1,6/1,5 1,5/1,5 1,5/1,6 1,4/1,6 1,4/1,7 1,3/1,7 1,3/1,8 1,2/1,8 1,2/1,9 1,1/1,9 1,1/1,10 0,0/1,10"},
		{"10,10 to 10,10 surge 1", r(10, 10), r(10, 10), nil,
			"10,10/0,0 10,10/1,1 9,9/1,1 9,9/2,2 8,8/2,2 8,8/3,3 7,7/3,3 7,7/4,4 6,6/4,4 6,6/5,5 5,5/5,5 5,5/6,6 4,4/6,6 4,4/7,7 3,3/7,7 3,3/8,8 2,2/8,8 2,2/9,9 1,1/9,9 1,1/10,10 0,0/10,10"},
		{"10,10 to 10,10 surge 3", r(10, 10), r(10, 10), surges(3, 3),
			"10,10/0,0 10,10/3,3 8,8/3,3 8,8/5,5 5,5/8,8 3,3/8,8 3,3/10,10 0,0/10,10"},
		{"12,6 to 12,6 surge 2", r(12, 6), r(12, 6), surges(2, 2),
			"12,6/0,0 12,6/2,1 10,5/2,1 10,5/4,2 8,4/4,2 8,4/6,3 6,3/6,3 6,3/8,4 4,2/8,4 4,2/10,5 2,1/10,5 2,1/12,6 0,0/12,6"},
		{"1,1 to 3,3 surge 1", r(1, 1), r(3, 3), nil,
			"1,1/0,0 1,1/1,1 1,1/2,2 1,1/3,3 0,0/3,3"},
		{"4,4 to 6,6 surge 1", r(4, 4), r(6, 6), nil,
			"4,4/0,0 4,4/1,1 4,4/2,2 4,4/3,3 3,3/4,4 2,2/5,5 1,1/6,6 0,0/6,6"},
		{"5,5 to 2,2 surge 1", r(5, 5), r(2, 2), nil,
			"5,5/0,0 4,4/0,0 3,3/0,0 2,2/0,0 2,2/1,1 1,1/1,1 1,1/2,2 0,0/2,2"},
		{"3,5 to 5,3 surge 1", r(3, 5), r(5, 3), nil,
			"3,5/0,0 3,4/0,0 2,3/0,0 2,3/1,1 2,2/1,1 2,2/2,2 2,2/3,2 1,1/3,2 1,1/4,3 1,1/5,3 0,0/5,3"},
		{"2,4 to 4,2 surge 1", r(2, 4), r(4, 2), nil,
			"2,4/0,0 2,3/0,0 1,2/0,0 1,2/1,1 1,2/2,1 1,1/2,1 1,1/3,2 1,1/4,2 0,0/4,2"},
		{"3,5 to 4,2 surge 1", r(3, 5), r(4, 2), nil,
			"3,5/0,0 3,4/0,0 2,3/0,0 2,2/0,0 2,2/1,1 2,2/2,1 1,1/2,1 1,1/3,2 1,1/4,2 0,0/4,2"},
		{"4,4 to 4,4 surge 2", r(4, 4), r(4, 4), surges(2, 2),
			"4,4/0,0 4,4/2,2 2,2/2,2 2,2/4,4 0,0/4,4"},
		{"4,6 to 4,6 surge 2+3", r(4, 6), r(4, 6), surges(2, 3),
			"4,6/0,0 4,6/2,3 2,3/2,3 2,3/4,6 0,0/4,6"},
		{"5,3 to 5,3 surge 2", r(5, 3), r(5, 3), surges(2, 2),
			"5,3/0,0 5,3/2,1 4,2/2,1 3,2/2,1 3,2/4,2 2,1/4,2 2,1/5,3 0,0/5,3"},
		{"0,0 to 3,3 surge 1", r(0, 0), r(3, 3), nil,
			"0,0/0,0 0,0/1,1 0,0/2,2 0,0/3,3"},
		{"0,0 to 0,0 surge 1", r(0, 0), r(0, 0), nil,
			"0,0/0,0"},
		{"4,4 to 4,4 unavailable 1", r(4, 4), r(4, 4), unavailable(1, 1),
			"4,4/0,0 3,3/0,0 3,3/1,1 2,2/1,1 2,2/2,2 1,1/2,2 1,1/3,3 0,0/3,3 0,0/4,4"},
		{"6,6 to 6,6 unavailable 2", r(6, 6), r(6, 6), unavailable(2, 2),
			"6,6/0,0 4,4/0,0 4,4/2,2 2,2/2,2 2,2/4,4 0,0/4,4 0,0/6,6"},
		{"5,2 to 5,2 unavailable 1", r(5, 2), r(5, 2), unavailable(1, 1),
			"5,2/0,0 4,2/0,0 4,1/1,1 3,1/1,1 3,1/2,1 2,1/2,1 2,1/3,2 1,1/3,2 0,0/4,2 0,0/5,2"},
		{"4,4 to 4,4 surge 1 unavailable 1", r(4, 4), r(4, 4), []Budget{{1, 1}, {1, 1}},
			"4,4/0,0 4,4/1,1 3,3/1,1 3,3/2,2 2,2/2,2 2,2/3,3 1,1/3,3 1,1/4,4 0,0/4,4"},
		{"4,4 to 4,4 surge on one role, unavailable on the other", r(4, 4), r(4, 4), []Budget{{1, 0}, {0, 1}},
			"4,4/0,0 4,3/0,0 4,3/1,1 3,2/1,1 3,2/2,2 2,1/2,2 2,1/3,3 1,1/3,3 0,0/4,4"},
		{"4,4 to 2,2 unavailable 1", r(4, 4), r(2, 2), unavailable(1, 1),
			"4,4/0,0 3,3/0,0 2,2/0,0 1,1/0,0 1,1/1,1 0,0/1,1 0,0/2,2"},
		{"2,2 to 4,4 unavailable 1", r(2, 2), r(4, 4), unavailable(1, 1),
			"2,2/0,0 2,2/1,1 2,2/2,2 1,1/3,3 0,0/4,4"},
		{"10,2 to 6,8 surge 2", r(10, 2), r(6, 8), surges(2, 2),
			"10,2/0,0 8,2/0,0 6,2/0,0 6,2/2,2 4,1/2,2 4,1/3,4 4,1/4,5 2,1/4,5 2,1/5,7 2,1/6,8 0,0/6,8"},
		{"8,4 to 3,2 surge 1", r(8, 4), r(3, 2), nil,
			"8,4/0,0 7,4/0,0 6,3/0,0 5,3/0,0 4,2/0,0 3,2/0,0 3,2/1,1 2,1/1,1 2,1/2,1 2,1/2,2 1,1/2,2 1,1/3,2 0,0/3,2"},
		{"three roles 3,3,3 surge 1", r(3, 3, 3), r(3, 3, 3), nil,
			"3,3,3/0,0,0 3,3,3/1,1,1 2,2,2/1,1,1 2,2,2/2,2,2 1,1,1/2,2,2 1,1,1/3,3,3 0,0,0/3,3,3"},
		{"three roles 6,3,2 surge 2,1,1", r(6, 3, 2), r(6, 3, 2), surges(2, 1, 1),
			"6,3,2/0,0,0 6,3,2/2,1,1 4,2,2/2,1,1 4,2,1/2,1,1 4,2,1/4,2,2 2,1,1/4,2,2 2,1,1/6,3,2 0,0,0/6,3,2"},
		{"role added", r(4, 4, 0), r(4, 4, 4), nil,
			"4,4,0/0,0,0 4,4,0/1,1,1 3,3,0/1,1,1 3,3,0/2,2,2 2,2,0/2,2,2 2,2,0/3,3,3 1,1,0/3,3,3 1,1,0/4,4,4 0,0,0/4,4,4"},
		{"role removed", r(4, 4, 4), r(4, 4, 0), nil,
			"4,4,4/0,0,0 4,4,4/1,1,0 3,3,3/1,1,0 3,3,3/2,2,0 2,2,2/2,2,0 2,2,2/3,3,0 1,1,1/3,3,0 1,1,1/4,4,0 0,0,0/4,4,0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Rollout(tc.initialOld, tc.target, defaults(tc.budgets, len(tc.target)))
			if want := steps(t, tc.want); !cmp.Equal(got, want) {
				t.Errorf("Rollout:\n got %s\nwant %s", show(got), show(want))
			}
		})
	}
}

// TestRolloutKeepsItsPromises plays rollouts of two to six roles and checks
// every step against the rules the planner is there to keep.
func TestRolloutKeepsItsPromises(t *testing.T) {
	cases := []struct {
		name       string
		initialOld []int32
		target     []int32
		budgets    []Budget
	}{
		{"three roles", r(3, 3, 3), r(3, 3, 3), nil},
		{"three roles, uneven", r(6, 3, 2), r(6, 3, 2), surges(2, 1, 1)},
		{"three roles, different surges", r(4, 4, 4), r(4, 4, 4), surges(2, 1, 3)},
		{"three roles scale up", r(2, 2, 2), r(4, 4, 4), nil},
		{"three roles scale down", r(4, 4, 4), r(2, 2, 2), nil},
		{"three roles from nothing", r(0, 0, 0), r(3, 3, 3), nil},
		{"three roles unavailable", r(4, 4, 4), r(4, 4, 4), unavailable(1, 1, 1)},
		{"three roles surge and unavailable mixed", r(4, 4, 4), r(4, 4, 4), []Budget{{1, 0}, {0, 1}, {2, 0}}},
		{"four roles", r(4, 4, 4, 4), r(4, 4, 4, 4), nil},
		{"four roles, uneven", r(8, 4, 2, 1), r(8, 4, 2, 1), surges(2, 2, 1, 1)},
		{"four roles scale up", r(1, 1, 1, 1), r(3, 3, 3, 3), nil},
		{"four roles scale down", r(5, 5, 5, 5), r(2, 2, 2, 2), nil},
		{"five roles, uneven", r(10, 5, 3, 2, 1), r(10, 5, 3, 2, 1), surges(2, 2, 1, 1, 1)},
		{"five roles scale down", r(6, 6, 6, 6, 6), r(3, 3, 3, 3, 3), nil},
		{"a sixth role added", r(2, 2, 2, 2, 2, 0), r(2, 2, 2, 2, 2, 2), nil},
		{"a fourth role removed", r(3, 3, 3, 3), r(3, 3, 3, 0), nil},
		{"a role renamed", r(10, 10, 10, 10, 0, 10), r(10, 10, 10, 10, 10, 0), nil},
		{"prefill shrinks, decode grows", r(10, 2), r(6, 8), surges(2, 2)},
		{"both shrink", r(10, 10), r(4, 4), surges(2, 2)},
		{"unavailable, uneven", r(5, 2), r(5, 2), unavailable(1, 1)},
		{"unavailable, uneven the other way", r(2, 5), r(2, 5), unavailable(1, 1)},
		{"unavailable 5 of 10", r(10, 10), r(10, 10), unavailable(5, 5)},
		{"surge on one role, unavailable on the other", r(8, 4), r(8, 4), []Budget{{1, 0}, {0, 1}}},
		{"unavailable, scale up", r(2, 2), r(4, 4), unavailable(1, 1)},
		{"unavailable, scale down", r(4, 4), r(2, 2), unavailable(1, 1)},
		{"unavailable, from nothing", r(0, 0), r(4, 4), unavailable(1, 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			budgets := defaults(tc.budgets, len(tc.target))
			got := Rollout(tc.initialOld, tc.target, budgets)
			last := got[len(got)-1]
			if !cmp.Equal(last, Step{Old: make([]int32, len(tc.target)), New: tc.target}) {
				t.Fatalf("rollout does not complete: %s", show(got))
			}
			for i := 1; i < len(got); i++ {
				prev, step := got[i-1], got[i]
				if err := checkStep(tc.initialOld, tc.target, budgets, prev, step); err != nil {
					t.Errorf("step %d (%s to %s): %v\nrollout: %s", i, show([]Step{prev}), show([]Step{step}), err, show(got))
				}
			}
		})
	}
}

// keptTogether is the one old replica by which the rule that old roles
// empty together may exceed the surge (as upstream's planner does, with
// maxSurge 0 in particular): it keeps a role's last old replica while the
// new ones grow.
func keptTogether(old int32) int32 {
	if old == 1 {
		return 1
	}
	return 0
}

// checkStep holds one step to the planner's rules.
func checkStep(initialOld, target []int32, budgets []Budget, prev, step Step) error {
	oldMoved, newMoved, oldEmpty, oldServing := false, false, false, false
	for i := range target {
		switch {
		case step.New[i] < prev.New[i]:
			return fmt.Errorf("role %d: new replicas went down", i)
		case step.Old[i] > prev.Old[i]:
			return fmt.Errorf("role %d: old replicas went up", i)
		case target[i] > 0 && step.New[i] > 0 && step.Old[i]+step.New[i] > target[i]+budgets[i].MaxSurge+keptTogether(step.Old[i]):
			return fmt.Errorf("role %d: old+new above target+maxSurge", i)
		case initialOld[i] >= target[i] && step.Old[i]+step.New[i] < target[i]-budgets[i].MaxUnavailable:
			return fmt.Errorf("role %d: old+new below target-maxUnavailable", i)
		}
		oldMoved = oldMoved || step.Old[i] != prev.Old[i]
		newMoved = newMoved || step.New[i] != prev.New[i]
		if initialOld[i] > 0 {
			oldEmpty = oldEmpty || step.Old[i] == 0
			oldServing = oldServing || step.Old[i] > 0
		}
	}
	if oldEmpty && oldServing {
		return fmt.Errorf("some old roles are empty, others not")
	}
	if oldMoved && newMoved {
		// Only when the surge had no room for the raise.
		for i := range target {
			if target[i] > 0 && prev.Old[i]+step.New[i] > target[i]+budgets[i].MaxSurge {
				return nil
			}
		}
		return fmt.Errorf("old and new moved together although the surge had room")
	}
	return nil
}

func TestNextStep(t *testing.T) {
	def := surges(1, 1)
	cases := []struct {
		name   string
		state  State
		want   Step
		wantOK bool
	}{
		{
			name:  "Complete",
			state: State{InitialOld: r(3, 6), Old: r(0, 0), New: r(3, 6), Target: r(3, 6), Budgets: def},
		},
		{
			name:  "CompleteAboveTarget",
			state: State{InitialOld: r(3, 6), Old: r(0, 0), New: r(4, 7), Target: r(3, 6), Budgets: def},
		},
		{
			name:   "OldRaisedAboveInitialIsClampedFirst",
			state:  State{InitialOld: r(4, 4), Old: r(5, 5), New: r(2, 2), Target: r(4, 4), Budgets: def},
			want:   Step{Old: r(4, 4), New: r(2, 2)},
			wantOK: true,
		},
		{
			name:   "OldRaisedWithNothingToRollIsClamped",
			state:  State{InitialOld: r(0, 0), Old: r(2, 1), New: r(0, 0), Target: r(0, 0), Budgets: def},
			want:   Step{Old: r(0, 0), New: r(0, 0)},
			wantOK: true,
		},
		{
			name:   "NewAtTargetDropsAllOld",
			state:  State{InitialOld: r(4, 4), Old: r(3, 1), New: r(4, 4), Target: r(4, 4), Budgets: def},
			want:   Step{Old: r(0, 0), New: r(4, 4)},
			wantOK: true,
		},
		{
			name:   "FirstStepRaisesNew",
			state:  State{InitialOld: r(4, 4), Old: r(4, 4), New: r(0, 0), Target: r(4, 4), Budgets: def},
			want:   Step{Old: r(4, 4), New: r(1, 1)},
			wantOK: true,
		},
		{
			name:   "LaggingRoleCaughtUpFirst",
			state:  State{InitialOld: r(4, 4), Old: r(3, 3), New: r(2, 1), Target: r(4, 4), Budgets: def},
			want:   Step{Old: r(3, 3), New: r(2, 2)},
			wantOK: true,
		},
		{
			name:   "SurgeFullDrainsProportionally",
			state:  State{InitialOld: r(4, 4), Old: r(4, 4), New: r(1, 1), Target: r(4, 4), Budgets: def},
			want:   Step{Old: r(3, 3), New: r(1, 1)},
			wantOK: true,
		},
		{
			// The old curve's next point empties prefill but keeps a decode
			// the single new decode cannot replace.
			name:   "OldRolesKeepOneEachWhenNewCannotCarry",
			state:  State{InitialOld: r(2, 2), Old: r(2, 1), New: r(2, 1), Target: r(2, 2), Budgets: def},
			want:   Step{Old: r(1, 1), New: r(2, 1)},
			wantOK: true,
		},
		{
			// Making room for new replicas empties one old role; the new
			// replicas are within maxUnavailable of target, so all old go.
			name:   "OldRolesEmptyTogetherWhenNewCarries",
			state:  State{InitialOld: r(3, 2), Old: r(1, 1), New: r(1, 1), Target: r(3, 2), Budgets: unavailable(1, 1)},
			want:   Step{Old: r(0, 0), New: r(2, 2)},
			wantOK: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NextStep(tc.state)
			if ok != tc.wantOK || !cmp.Equal(got, tc.want) {
				t.Errorf("NextStep(%+v) = %s, %v; want %s, %v", tc.state, show([]Step{got}), ok, show([]Step{tc.want}), tc.wantOK)
			}
		})
	}
}

func TestResolveBudget(t *testing.T) {
	i := func(n int) *intstr.IntOrString { v := intstr.FromInt(n); return &v }
	s := func(p string) *intstr.IntOrString { v := intstr.FromString(p); return &v }
	cases := []struct {
		name               string
		target             int32
		surge, unavailable *intstr.IntOrString
		want               Budget
		wantErr            bool
	}{
		{name: "UnsetIsDefault", target: 3, want: Budget{MaxSurge: 1}},
		{name: "BothZeroIsDefault", target: 3, surge: i(0), unavailable: i(0), want: Budget{MaxSurge: 1}},
		{name: "SurgeOnly", target: 3, surge: i(5), unavailable: i(0), want: Budget{MaxSurge: 5}},
		{name: "UnavailableTakesBoth", target: 3, surge: i(3), unavailable: i(1), want: Budget{MaxSurge: 3, MaxUnavailable: 1}},
		{name: "UnavailableWithoutSurge", target: 3, surge: i(0), unavailable: i(4), want: Budget{MaxUnavailable: 4}},
		{name: "UnavailableWithUnsetSurge", target: 3, unavailable: i(2), want: Budget{MaxUnavailable: 2}},
		{name: "SurgePercent", target: 4, surge: s("50%"), unavailable: i(0), want: Budget{MaxSurge: 2}},
		{name: "UnavailablePercent", target: 4, surge: i(0), unavailable: s("25%"), want: Budget{MaxUnavailable: 1}},
		{name: "SurgeRoundsUpUnavailableDown", target: 10, surge: s("25%"), unavailable: s("25%"), want: Budget{MaxSurge: 3, MaxUnavailable: 2}},
		{name: "WholeTargetSurge", target: 5, surge: s("100%"), want: Budget{MaxSurge: 5}},
		{name: "PercentOfNothingIsDefault", target: 0, surge: s("50%"), unavailable: s("50%"), want: Budget{MaxSurge: 1}},
		{name: "MalformedPercent", target: 4, surge: s("half"), wantErr: true},
		{name: "Negative", target: 4, unavailable: i(-1), wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveBudget(tc.target, tc.surge, tc.unavailable)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ResolveBudget: error %v, want error: %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ResolveBudget = %+v, want %+v", got, tc.want)
			}
		})
	}
}
