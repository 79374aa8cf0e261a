package remoteleaderworkerset

import (
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// batcher spaces the reconciles that changes in target clusters trigger, as
// the EndpointSlice controller batches pod updates: a group's pods change
// a few times each as they start, and every reconcile plans every group of
// its managed resource. The first change of a quiet resource reconciles it
// at once, so that a lone change is not delayed; changes that follow
// within period share one reconcile at its end. (A restarted container
// does not ask: Enqueuer.Changed reconciles at once for it.)
// Without it the provider reconciled 64 groups of 8 about 500 times while
// they converged.
type batcher struct {
	period time.Duration
	// due is when each resource's latest reconcile was or is due.
	due *times[types.NamespacedName]
}

func newBatcher(period time.Duration) *batcher {
	// Ten periods on, a time holds nothing back any more.
	return &batcher{period: period, due: newTimes[types.NamespacedName](10 * period)}
}

// delay is how long a change of resource key at now waits for its
// reconcile.
func (b *batcher) delay(key types.NamespacedName, now time.Time) time.Duration {
	if b.period <= 0 {
		return 0
	}
	var wait time.Duration
	b.due.update(key, now, func(last time.Time) time.Time {
		switch {
		case !last.IsZero() && now.Before(last):
			// A reconcile is due already; the change shares it.
			wait = last.Sub(now)
			return time.Time{}
		case !last.IsZero() && now.Before(last.Add(b.period)):
			wait = last.Add(b.period).Sub(now)
			return last.Add(b.period)
		default:
			return now
		}
	})
	return wait
}
