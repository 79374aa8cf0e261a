package remoteleaderworkerset

import (
	"maps"
	"sync"
	"time"
)

// times is a time per key: the one store behind the controller's pacing
// (batcher, statusPace) and its writes in flight (inFlight). It is safe for
// concurrent use, and forgets a key once its time is horizon old, so that
// it keeps nothing of managed resources, pods or objects it no longer
// hears of. Every method takes the time from its caller, which is how the
// tests set the clock.
type times[K comparable] struct {
	horizon time.Duration
	mu      sync.Mutex
	at      map[K]time.Time
}

func newTimes[K comparable](horizon time.Duration) *times[K] {
	return &times[K]{horizon: horizon, at: map[K]time.Time{}}
}

// update forgets what is horizon old, then calls fn with k's time (zero
// when there is none) and stores the time it returns, unless that is zero.
// The lock is held throughout, so fn decides on a time no one else moves.
func (t *times[K]) update(k K, now time.Time, fn func(last time.Time) time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.forgetLocked(now)
	if next := fn(t.at[k]); !next.IsZero() {
		t.at[k] = next
	}
}

// set stores k's time.
func (t *times[K]) set(k K, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.at[k] = at
}

// within tells whether k has a time less than d before now.
func (t *times[K]) within(k K, now time.Time, d time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.at[k]
	return ok && now.Sub(at) < d
}

// retain forgets the keys want does not want.
func (t *times[K]) retain(want func(K) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	maps.DeleteFunc(t.at, func(k K, _ time.Time) bool { return !want(k) })
}

// oldest is the earliest time held, zero when there is none.
func (t *times[K]) oldest() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var oldest time.Time
	for _, at := range t.at {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	return oldest
}

// forget drops the times that are horizon old at now.
func (t *times[K]) forget(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.forgetLocked(now)
}

func (t *times[K]) forgetLocked(now time.Time) {
	maps.DeleteFunc(t.at, func(_ K, at time.Time) bool { return now.Sub(at) >= t.horizon })
}
