// Package dsplan plans the rolling update of one slice of a
// DisaggregatedSet (upstream's KEP-766,
// https://github.com/kubernetes-sigs/lws/tree/main/keps/766-DisaggregatedSet):
// several roles (prefill, decode, ...), each one LeaderWorkerSet per
// revision, moved together from the old revisions to the current one so that the roles stay in proportion to each other the whole
// way.
//
// The package is pure. The planner (NextStep) works on replica counts, one
// entry per role; the executor (Plan) turns the observed LeaderWorkerSets of
// a slice into a Decision the caller applies: what to create, scale,
// annotate and delete, and which events to record. Nothing is remembered
// between calls except what the LeaderWorkerSets themselves carry: their
// replicas, their readiness, and the initial-replicas annotation written on
// every old LeaderWorkerSet when a rollout starts.
package dsplan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// Budget is how far one role may stray from its target during a rollout,
// in replicas: old plus new may exceed the target by MaxSurge, and may fall
// short of it by MaxUnavailable.
type Budget struct {
	MaxSurge       int32
	MaxUnavailable int32
}

// DefaultBudget is a role's budget when its template sets neither value (or
// sets both to zero): one surge replica, no unavailability, so capacity
// never dips below the target.
var DefaultBudget = Budget{MaxSurge: 1}

// ResolveBudget turns a role's rollingUpdateConfiguration into a Budget.
// Percentages are of the role's target, maxSurge rounded up and
// maxUnavailable rounded down, as for a Deployment. A maxUnavailable above
// zero takes both values as they are (maxSurge may then be 0); otherwise a
// maxSurge above zero replaces the default surge; otherwise the default
// stands. nil means unset.
func ResolveBudget(target int32, maxSurge, maxUnavailable *intstr.IntOrString) (Budget, error) {
	surge, err := scaled(maxSurge, target, true)
	if err != nil {
		return Budget{}, fmt.Errorf("maxSurge: %w", err)
	}
	unavailable, err := scaled(maxUnavailable, target, false)
	if err != nil {
		return Budget{}, fmt.Errorf("maxUnavailable: %w", err)
	}
	switch {
	case unavailable > 0:
		return Budget{MaxSurge: surge, MaxUnavailable: unavailable}, nil
	case surge > 0:
		return Budget{MaxSurge: surge}, nil
	default:
		return DefaultBudget, nil
	}
}

// scaled resolves v against total; unset is 0. Negative values are refused
// because every comparison below assumes a budget is never negative.
func scaled(v *intstr.IntOrString, total int32, roundUp bool) (int32, error) {
	if v == nil {
		return 0, nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, int(total), roundUp)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%s is negative", v.String())
	}
	return int32(n), nil
}

// stride is how many replicas a role moves per ideal step: its surge when
// it has one, else its unavailability, and at least one.
func (b Budget) stride() int64 {
	if b.MaxSurge > 0 {
		return int64(b.MaxSurge)
	}
	return max(1, int64(b.MaxUnavailable))
}

// State is the planner's view of a rollout, one entry per role in every
// slice (all of the same length). Old and InitialOld are summed over every
// old revision. A role that exists only in old revisions has Target 0 and
// New 0; a role that exists only in the current revision has InitialOld 0.
type State struct {
	// InitialOld is the old replicas when the rollout started.
	InitialOld []int32
	// Old is the old replicas now.
	Old []int32
	// New is the current revision's replicas now.
	New []int32
	// Target is the current revision's replicas wanted at the end.
	Target []int32
	// Budgets are the roles' surge and unavailability.
	Budgets []Budget
}

// Step is the replicas a rollout moves to next, one entry per role. Old is
// a total over the old revisions; the executor spreads it over them.
type Step struct {
	Old []int32
	New []int32
}

// NextStep computes the next step of a rollout, or false when there is none:
// the rollout is complete (no old replicas, every role at or above its
// target) or nothing can move.
//
// The rollout follows two ideal curves over K steps, where K is the largest
// number of strides any role needs: the new replicas of step i are
// ceil(i*target/K) and the old ones initialOld - floor(i*initialOld/K). Being
// stateless, the planner finds where each curve stands from the counts it
// is given (the least advanced role for the new curve, the most advanced
// for the old one) and proposes the following point. In order, it
//  1. clamps old replicas that someone raised above InitialOld (even when
//     there is nothing else to do, so that they do not linger);
//  2. drops every old replica once every role's new replicas reach target;
//  3. raises new replicas to the next point if no role would exceed target
//     plus surge;
//  4. otherwise lowers old replicas to the next point, keeping target minus
//     unavailability served where the old revision could serve it;
//  5. otherwise lowers old replicas just enough to make room for the raise
//     of 3, which then happens in the same step.
//
// Steps 3 and 4 change only one side, so new replicas get ready before old
// ones go; only 5 moves both, when the surge is too small to raise first.
// Whenever a lowering would empty some roles of the old revisions but not
// all, it empties all of them (if the new replicas can carry the load) or
// keeps one replica in each: an old prefill without its decode serves
// nobody.
func NextStep(s State) (Step, bool) {
	if s.complete() {
		return Step{}, false
	}
	if old, ok := s.clampToInitial(); ok {
		return Step{Old: old, New: clone(s.New)}, true
	}
	k := s.stepsNeeded()
	if k == 0 {
		return Step{}, false
	}
	if atLeast(s.New, s.Target) {
		return Step{Old: make([]int32, len(s.Old)), New: clone(s.New)}, true
	}
	up := s.nextNew(k)
	if grows(up, s.New) && s.surgeAllows(up) {
		return Step{Old: clone(s.Old), New: up}, true
	}
	if old, ok := s.followOldCurve(k); ok {
		return Step{Old: old, New: clone(s.New)}, true
	}
	if old, ok := s.makeRoom(up); ok {
		return Step{Old: old, New: up}, true
	}
	return Step{}, false
}

// Rollout plays a whole rollout from initialOld old replicas and no new
// ones, applying each step as if it took effect at once. The first element
// is the starting point. It stops after a bounded number of steps, so a
// plan that never completes shows as a last step that is not complete.
func Rollout(initialOld, target []int32, budgets []Budget) []Step {
	s := State{
		InitialOld: initialOld,
		Old:        clone(initialOld),
		New:        make([]int32, len(initialOld)),
		Target:     target,
		Budgets:    budgets,
	}
	steps := []Step{{Old: clone(s.Old), New: clone(s.New)}}
	var largest int32
	for i := range initialOld {
		largest = max(largest, initialOld[i], target[i])
	}
	for range 2*int(largest) + 10 {
		next, ok := NextStep(s)
		if !ok {
			break
		}
		steps = append(steps, next)
		s.Old, s.New = clone(next.Old), clone(next.New)
	}
	return steps
}

func (s State) complete() bool {
	for i := range s.Old {
		if s.Old[i] != 0 {
			return false
		}
	}
	return atLeast(s.New, s.Target)
}

// stepsNeeded is K: the most strides any role needs to cover the larger of
// its old and new sizes.
func (s State) stepsNeeded() int64 {
	var k int64
	for i := range s.Old {
		size := int64(max(s.InitialOld[i], s.Target[i], 0))
		stride := s.Budgets[i].stride()
		k = max(k, (size+stride-1)/stride)
	}
	return k
}

// clampToInitial lowers old replicas that exceed InitialOld (someone scaled
// an old LeaderWorkerSet up mid-rollout): the curves are anchored there.
func (s State) clampToInitial() ([]int32, bool) {
	old := clone(s.Old)
	changed := false
	for i := range old {
		if old[i] > s.InitialOld[i] {
			old[i] = s.InitialOld[i]
			changed = true
		}
	}
	return old, changed
}

// nextNew is the new curve's next point, never below what already runs.
// The curve's position is that of the least advanced role, so a role that
// lags (not yet ready when others moved) is caught up first.
func (s State) nextNew(k int64) []int32 {
	at := k
	for i := range s.New {
		if s.Target[i] > 0 {
			at = min(at, int64(s.New[i])*k/int64(s.Target[i]))
		}
	}
	next := at + 1
	up := make([]int32, len(s.New))
	for i := range up {
		t := int64(s.Target[i])
		point := min(ceilDiv(next*t, k), t)
		up[i] = max(int32(point), s.New[i])
	}
	return up
}

// surgeAllows: raising new replicas to up keeps every role that is wanted
// at all within target plus surge, counting the old replicas still there.
// A role on its way out (target 0) is not held to it.
func (s State) surgeAllows(up []int32) bool {
	for i := range up {
		if s.Target[i] == 0 {
			continue
		}
		if int64(s.Old[i])+int64(up[i]) > int64(s.Target[i])+int64(s.Budgets[i].MaxSurge) {
			return false
		}
	}
	return true
}

// followOldCurve lowers old replicas to the old curve's next point. The
// curve's position is that of the most drained role, so every role is
// brought to the same point. A role that is not growing (initialOld at or
// above target) keeps enough old replicas that old plus new stays at target
// minus unavailability.
func (s State) followOldCurve(k int64) ([]int32, bool) {
	var at int64
	for i := range s.Old {
		if s.InitialOld[i] > 0 {
			gone := int64(s.InitialOld[i] - s.Old[i])
			at = max(at, gone*k/int64(s.InitialOld[i]))
		}
	}
	next := at + 1
	old := make([]int32, len(s.Old))
	for i := range old {
		initial := int64(s.InitialOld[i])
		point := max(0, initial-next*initial/k)
		old[i] = min(int32(point), s.Old[i])
		old[i] = max(old[i], s.keepServing(i, s.New[i]))
	}
	s.keepRolesTogether(old, s.New)
	return old, shrinks(old, s.Old)
}

// makeRoom lowers old replicas so that raising new replicas to up fits
// within target plus surge, without going below what keepServing asks.
func (s State) makeRoom(up []int32) ([]int32, bool) {
	old := make([]int32, len(s.Old))
	for i := range old {
		room := int64(s.Target[i]) + int64(s.Budgets[i].MaxSurge) - int64(up[i])
		old[i] = int32(max(0, min(int64(s.Old[i]), room)))
		old[i] = max(old[i], s.keepServing(i, up[i]))
	}
	if !shrinks(old, s.Old) {
		return nil, false
	}
	s.keepRolesTogether(old, up)
	return old, true
}

// keepServing is the fewest old replicas role i must keep, given newCount
// new ones, to stay within its unavailability. A role that grows in this
// rollout (initialOld below target) never had its target's worth to lose,
// so it has no such floor.
func (s State) keepServing(i int, newCount int32) int32 {
	if s.InitialOld[i] < s.Target[i] {
		return 0
	}
	return max(0, s.Target[i]-s.Budgets[i].MaxUnavailable-newCount)
}

// keepRolesTogether applies the rule that old roles empty together. If old
// empties some of the roles that had old replicas but not all of them: when
// every non-growing role's newCount already covers target minus
// unavailability, old is emptied entirely; otherwise each emptied role keeps
// one replica.
func (s State) keepRolesTogether(old, newCount []int32) {
	someEmpty, allEmpty := false, true
	for i := range old {
		if s.InitialOld[i] == 0 {
			continue
		}
		if old[i] == 0 {
			someEmpty = true
		} else {
			allEmpty = false
		}
	}
	if !someEmpty || allEmpty {
		return
	}
	if s.newCarries(newCount) {
		clear(old)
		return
	}
	for i := range old {
		if old[i] == 0 && s.InitialOld[i] > 0 {
			old[i] = 1
		}
	}
}

// newCarries: with newCount new replicas, every role that is not growing
// is within its unavailability without any old replica.
func (s State) newCarries(newCount []int32) bool {
	for i := range newCount {
		if s.InitialOld[i] >= s.Target[i] && newCount[i] < s.Target[i]-s.Budgets[i].MaxUnavailable {
			return false
		}
	}
	return true
}

func atLeast(a, b []int32) bool {
	for i := range a {
		if a[i] < b[i] {
			return false
		}
	}
	return true
}

func grows(next, now []int32) bool {
	for i := range next {
		if next[i] > now[i] {
			return true
		}
	}
	return false
}

func shrinks(next, now []int32) bool {
	for i := range next {
		if next[i] < now[i] {
			return true
		}
	}
	return false
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func clone(a []int32) []int32 { return append([]int32(nil), a...) }
