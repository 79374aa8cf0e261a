package remoteleaderworkerset

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	mu sync.Mutex
	// released pods by UID, and created objects by kind, name and owner
	// (a recreated group's worker StatefulSet has its name, but another
	// owner): when they were written. The plan asks for them again only
	// while the cache does not show the write.
	released map[types.UID]time.Time
	created  map[string]time.Time
}

// inFlights are the inFlight of each target cluster: names repeat across
// clusters.
type inFlights struct {
	mu       sync.Mutex
	clusters map[string]*inFlight
}

func (fs *inFlights) of(cluster string) *inFlight {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.clusters == nil {
		fs.clusters = map[string]*inFlight{}
	}
	f := fs.clusters[cluster]
	if f == nil {
		f = &inFlight{released: map[types.UID]time.Time{}, created: map[string]time.Time{}}
		fs.clusters[cluster] = f
	}
	return f
}

// releasing tells whether pod was given its identity recently enough
// that the cache may not show it yet.
func (f *inFlight) releasing(pod *corev1.Pod, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.released[pod.UID]
	return ok && now.Sub(at) < inFlightTTL
}

func (f *inFlight) release(pod *corev1.Pod, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released[pod.UID] = now
}

// creating tells whether obj was created already, recently enough that
// the cache may not have it yet.
func (f *inFlight) creating(kind string, obj metav1.Object, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.created[createdKey(kind, obj)]
	return ok && now.Sub(at) < inFlightTTL
}

func (f *inFlight) create(kind string, obj metav1.Object, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created[createdKey(kind, obj)] = now
}

// expire forgets what is older than inFlightTTL: by then the cache has it,
// or the write is to be made again.
func (f *inFlight) expire(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, at := range f.released {
		if now.Sub(at) >= inFlightTTL {
			delete(f.released, k)
		}
	}
	for k, at := range f.created {
		if now.Sub(at) >= inFlightTTL {
			delete(f.created, k)
		}
	}
}

func createdKey(kind string, obj metav1.Object) string {
	owner := ""
	if refs := obj.GetOwnerReferences(); len(refs) > 0 {
		owner = string(refs[0].UID)
	}
	return kind + "/" + obj.GetNamespace() + "/" + obj.GetName() + "/" + owner
}
