package remoteleaderworkerset

import (
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// inFlightTTL bounds how long a write is trusted to show up in the cache.
// Past it the write is planned, and made, again.
const inFlightTTL = 30 * time.Second

// inFlight remembers the writes that reconciles made and the target
// cluster's cache may not show yet, so that the next reconcile, planned
// from that cache, does not make them again. While 64 groups start, a
// reconcile follows every watch event; without this, each would patch
// again the pods that the one before released, and fail on a conflict.
// It plays the part of the expectations of Kubernetes' own controllers.
type inFlight struct {
	// released pods by UID, and created objects by kind, name and owner
	// (a recreated group's worker StatefulSet has its name, but another
	// owner): when they were written. The plan asks for them again only
	// while the cache does not show the write.
	released *times[types.UID]
	created  *times[string]
	// recreated are leaders, by UID, deleted to recreate their groups,
	// by a plan or by the fast path (restartnow.go): each is deleted, and
	// told of, once.
	recreated *times[types.UID]
}

// inFlights are the inFlight of each managed resource.
type inFlights struct {
	mu  sync.Mutex
	mrs map[types.UID]*inFlight
}

func (fs *inFlights) of(mr types.UID) *inFlight {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.mrs == nil {
		fs.mrs = map[types.UID]*inFlight{}
	}
	f := fs.mrs[mr]
	if f == nil {
		f = &inFlight{released: newTimes[types.UID](inFlightTTL), created: newTimes[string](inFlightTTL), recreated: newTimes[types.UID](inFlightTTL)}
		fs.mrs[mr] = f
	}
	return f
}

func (fs *inFlights) forget(mr types.UID) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.mrs, mr)
}

// retain forgets the writes that a plan no longer asks for: the cache shows
// them. A worker StatefulSet deleted later is then created again at once.
func (f *inFlight) retain(p *groups.Plan) {
	want := map[string]bool{}
	for _, w := range p.Workers {
		want[createdKey("StatefulSet", w)] = true
	}
	for _, svc := range p.Services {
		want[createdKey("Service", svc)] = true
	}
	f.created.retain(func(k string) bool { return want[k] })
	pods := map[types.UID]bool{}
	for _, id := range p.Identities {
		pods[id.Pod.UID] = true
	}
	f.released.retain(func(uid types.UID) bool { return pods[uid] })
}

// due is when the earliest write skipped as in flight is to be made again,
// if the cache never shows it; zero when none is.
func (f *inFlight) due(now time.Time) time.Duration {
	oldest := f.created.oldest()
	if r := f.released.oldest(); oldest.IsZero() || (!r.IsZero() && r.Before(oldest)) {
		oldest = r
	}
	if oldest.IsZero() {
		return 0
	}
	return max(inFlightTTL-now.Sub(oldest), 0)
}

// releasing tells whether pod was given its identity recently enough
// that the cache may not show it yet.
func (f *inFlight) releasing(pod *corev1.Pod, now time.Time) bool {
	return f.released.within(pod.UID, now, inFlightTTL)
}

func (f *inFlight) release(pod *corev1.Pod, now time.Time) { f.released.set(pod.UID, now) }

// releasingIn are the pods, by UID, still gated in the cache and released
// recently enough that it may not show it yet: planning must know that
// their release is made (groups.State.Releasing).
func (f *inFlight) releasingIn(pods []corev1.Pod, now time.Time) map[types.UID]bool {
	var out map[types.UID]bool
	for i := range pods {
		p := &pods[i]
		if !slices.ContainsFunc(p.Spec.SchedulingGates, lws.IsSchedulingGate) || !f.releasing(p, now) {
			continue
		}
		if out == nil {
			out = map[types.UID]bool{}
		}
		out[p.UID] = true
	}
	return out
}

// creating tells whether obj was created already, recently enough that
// the cache may not have it yet.
func (f *inFlight) creating(kind string, obj metav1.Object, now time.Time) bool {
	return f.created.within(createdKey(kind, obj), now, inFlightTTL)
}

func (f *inFlight) create(kind string, obj metav1.Object, now time.Time) {
	f.created.set(createdKey(kind, obj), now)
}

// recreate claims the recreation of leader's group: false when it is
// claimed already, by a plan or the fast path, within inFlightTTL.
func (f *inFlight) recreate(leader *corev1.Pod, now time.Time) bool {
	claimed := false
	f.recreated.update(leader.UID, now, func(last time.Time) time.Time {
		if !last.IsZero() {
			return time.Time{}
		}
		claimed = true
		return now
	})
	return claimed
}

// unclaim gives up a claimed recreation whose deletion failed, so that the
// next plan makes it.
func (f *inFlight) unclaim(leader *corev1.Pod) {
	f.recreated.retain(func(uid types.UID) bool { return uid != leader.UID })
}

// expire forgets what is older than inFlightTTL: by then the cache has it,
// or the write is to be made again.
func (f *inFlight) expire(now time.Time) {
	f.released.forget(now)
	f.created.forget(now)
	f.recreated.forget(now)
}

func createdKey(kind string, obj metav1.Object) string {
	owner := ""
	if refs := obj.GetOwnerReferences(); len(refs) > 0 {
		owner = string(refs[0].UID)
	}
	return kind + "/" + obj.GetNamespace() + "/" + obj.GetName() + "/" + owner
}
