package restart

import (
	"time"

	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Event reasons of the restart backoff and budget (their condition is
// v1alpha1.ConditionGroupRestartBudgetExhausted).
const (
	EventBackoff         = "GroupRestartBackoff"
	EventBudgetExhausted = "GroupRestartBudgetExhausted"
)

// Policy is spec.groupRestart in the terms of the decision.
type Policy struct {
	// Initial and Max are the backoff's delay before the second recreation
	// in a row and its cap. A zero Initial is no backoff.
	Initial, Max time.Duration
	// Reset: a group not recreated for this long starts over.
	Reset time.Duration
	// MaxRestarts is the budget of recreations in a row; nil is unlimited.
	MaxRestarts *int32
}

// PolicyOf reads spec.groupRestart. nil, upstream's behaviour, recreates at
// once and without limit. Unset fields get lws's defaults, so that a managed
// resource written by hand behaves like a composed one.
func PolicyOf(g *v1alpha1.GroupRestart) Policy {
	p := Policy{Reset: lws.DefaultResetSeconds * time.Second}
	if g == nil {
		return p
	}
	p.MaxRestarts = g.MaxRestarts
	if b := g.Backoff; b != nil {
		p.Initial = seconds(b.InitialSeconds, lws.DefaultInitialSeconds)
		p.Max = seconds(b.MaxSeconds, lws.DefaultMaxSeconds)
		p.Reset = seconds(b.ResetSeconds, lws.DefaultResetSeconds)
	}
	return p
}

func seconds(v *int32, def int32) time.Duration {
	return time.Duration(ptr.Deref(v, def)) * time.Second
}

// History is what is known of a group's earlier recreations.
type History struct {
	// Count is the number of recreations in a row; Last the latest.
	Count int32
	Last  time.Time
	// Exhausted: the group ran out of budget.
	Exhausted bool
}

// Action is what a triggered recreation comes to.
type Action int

// Actions.
const (
	// RecreateNow: delete the leader.
	RecreateNow Action = iota
	// Wait: the backoff holds the recreation until Verdict.At.
	Wait
	// Exhausted: the group is not recreated.
	Exhausted
)

// Verdict is the decision on one triggered recreation.
type Verdict struct {
	Action Action
	// Count is the number of recreations in a row, the one decided
	// included when it is made now.
	Count int32
	// Delay is the backoff of this recreation; At, while waiting, when it
	// is due.
	Delay time.Duration
	At    time.Time
}

// Next decides a recreation that Decide asked for, at now, given the
// group's history. The first recreation in a row is immediate; recreation
// n ≥ 2 is due at Last + min(Initial·2^(n-2), Max); a recreation beyond the
// budget is refused, and keeps being refused however long the group waits
// (see Exhausted).
func (p Policy) Next(h History, now time.Time) Verdict {
	if p.Exhausted(h) {
		return Verdict{Action: Exhausted, Count: h.Count}
	}
	n := int32(1)
	if h.Count > 0 && now.Sub(h.Last) < p.Reset {
		n = h.Count + 1
	}
	if p.MaxRestarts != nil && n > *p.MaxRestarts {
		return Verdict{Action: Exhausted, Count: n - 1}
	}
	if n == 1 {
		return Verdict{Action: RecreateNow, Count: 1}
	}
	d := p.delay(n)
	at := h.Last.Add(d)
	if now.Before(at) {
		return Verdict{Action: Wait, Count: h.Count, Delay: d, At: at}
	}
	return Verdict{Action: RecreateNow, Count: n, Delay: d}
}

// delay is the backoff of recreation n ≥ 2 in a row, doubling from Initial
// without overflowing past Max.
func (p Policy) delay(n int32) time.Duration {
	d := p.Initial
	for i := int32(2); i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Exhausted tells whether a group stays exhausted: time does not clear it,
// only a budget raised above its count or removed (a new revision drops the
// history altogether).
func (p Policy) Exhausted(h History) bool {
	return h.Exhausted && p.MaxRestarts != nil && h.Count >= *p.MaxRestarts
}

// Expired tells whether a history no longer matters: the group was not
// recreated for Reset, so its next recreation starts over anyway.
func (p Policy) Expired(h History, now time.Time) bool {
	return !p.Exhausted(h) && now.Sub(h.Last) >= p.Reset
}
