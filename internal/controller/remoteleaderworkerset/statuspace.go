package remoteleaderworkerset

import (
	"slices"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// statusPace spaces the status writes of each managed resource. Crossplane
// reconciles a composite resource at every change of one of its managed
// resources, through a circuit breaker (by default a burst of 100 and 1 per
// second) that, once open, lets one change through every 30 s for 5
// minutes. A rolling update changes the ready and updated counts many times
// a second, and would leave the claim's status that far behind. So a change
// of the counts alone waits until interval has passed since the last
// written change; a transition that readers wait for (a condition's status,
// a new observed generation) is written at once.
type statusPace struct {
	interval time.Duration
	written  *times[types.UID]
}

func newStatusPace(interval time.Duration) *statusPace {
	return &statusPace{interval: interval, written: newTimes[types.UID](interval)}
}

// observed is the part of a managed resource's status the provider writes.
type observed struct {
	at    v1alpha1.RemoteLeaderWorkerSetObservation
	ready xpv2.Condition
}

func observedOf(mr *v1alpha1.RemoteLeaderWorkerSet) observed {
	return observed{at: *mr.Status.AtProvider.DeepCopy(), ready: mr.GetCondition(xpv2.TypeReady)}
}

// hold decides whether the change from before to mr's status may wait, and
// how long for. When it may, the caller keeps before and reconciles again
// then; when not, the change counts as written at now.
func (p *statusPace) hold(mr *v1alpha1.RemoteLeaderWorkerSet, before observed, now time.Time) (time.Duration, bool) {
	after := observedOf(mr)
	if p.interval <= 0 || same(before, after) {
		return 0, false
	}
	var wait time.Duration
	p.written.update(mr.UID, now, func(last time.Time) time.Time {
		if !last.IsZero() && !transition(before, after) {
			// Within the interval: times forgets older writes.
			wait = p.interval - now.Sub(last)
			return time.Time{}
		}
		return now
	})
	return wait, wait > 0
}

func same(a, b observed) bool {
	return a.ready.Equal(b.ready) && equality.Semantic.DeepEqual(a.at, b.at)
}

// transition: a condition changed its status, one came or went, the
// status is of another generation, or the restart history changed (the
// next recreation's backoff and budget are decided from it).
func transition(a, b observed) bool {
	if a.ready.Status != b.ready.Status || a.at.ObservedGeneration != b.at.ObservedGeneration || len(a.at.Conditions) != len(b.at.Conditions) ||
		!equality.Semantic.DeepEqual(a.at.GroupRestarts, b.at.GroupRestarts) {
		return true
	}
	return slices.ContainsFunc(b.at.Conditions, func(c metav1.Condition) bool {
		i := slices.IndexFunc(a.at.Conditions, func(o metav1.Condition) bool { return o.Type == c.Type })
		return i < 0 || a.at.Conditions[i].Status != c.Status
	})
}
