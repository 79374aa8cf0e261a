package remoteleaderworkerset

import (
	"maps"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// batcher spaces the reconciles that changes in target clusters trigger, as
// the EndpointSlice controller batches pod updates: a group's pods change
// a few times each as they start, and every reconcile plans every group of
// its managed resource. The first change of a quiet resource reconciles it
// at once, so that a lone change (a container restart) is not delayed;
// changes that follow within period share one reconcile at its end.
// Without it the provider reconciled 64 groups of 8 about 500 times while
// they converged.
type batcher struct {
	period time.Duration
	mu     sync.Mutex
	// due is when each resource's latest reconcile was or is due.
	due map[types.NamespacedName]time.Time
}

func newBatcher(period time.Duration) *batcher {
	return &batcher{period: period, due: map[types.NamespacedName]time.Time{}}
}

// delay is how long a change of resource key at now waits for its
// reconcile.
func (b *batcher) delay(key types.NamespacedName, now time.Time) time.Duration {
	if b.period <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	forgetOlder(b.due, now, b.period)
	last, ok := b.due[key]
	switch {
	case ok && now.Before(last):
		// A reconcile is due already; the change shares it.
		return last.Sub(now)
	case ok && now.Before(last.Add(b.period)):
		b.due[key] = last.Add(b.period)
		return last.Add(b.period).Sub(now)
	default:
		b.due[key] = now
		return 0
	}
}

// forgetOlder drops the times of m more than 10 periods before now, which
// hold nothing back any more: without it m would keep every managed
// resource it ever saw.
func forgetOlder[K comparable](m map[K]time.Time, now time.Time, period time.Duration) {
	maps.DeleteFunc(m, func(_ K, t time.Time) bool { return now.Sub(t) > 10*period })
}
