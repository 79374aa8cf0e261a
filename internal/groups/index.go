package groups

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// index finds a State's pods and worker StatefulSets in constant time. A
// plan looks up, for every pod, its leader, its group's workers and the
// other members of its group; by linear scans, planning 64 groups of 8 was
// quadratic and most of the provider's CPU while they converged.
type index struct {
	pods    map[string]*corev1.Pod
	workers map[string]*appsv1.StatefulSet
	// groups holds the pods by their group-index label ("" without one).
	groups map[string][]*corev1.Pod
	// owned holds the pods by the UID of their controller.
	owned map[types.UID][]*corev1.Pod
	// gangs holds the gang objects by name.
	gangs map[string]*metav1.PartialObjectMetadata
}

// reindex indexes s as it is now. Compute calls it first, so that a State
// changed between two plans is never planned from an old index.
func (s *State) reindex() {
	ix := &index{
		pods:    make(map[string]*corev1.Pod, len(s.Pods)),
		workers: make(map[string]*appsv1.StatefulSet, len(s.Workers)),
		groups:  map[string][]*corev1.Pod{},
		owned:   map[types.UID][]*corev1.Pod{},
		gangs:   make(map[string]*metav1.PartialObjectMetadata, len(s.Gangs)),
	}
	for i := range s.Gangs {
		ix.gangs[s.Gangs[i].Name] = &s.Gangs[i]
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		ix.pods[p.Name] = p
		g := p.Labels[lws.LabelGroupIndex]
		ix.groups[g] = append(ix.groups[g], p)
		if c := metav1.GetControllerOf(p); c != nil {
			ix.owned[c.UID] = append(ix.owned[c.UID], p)
		}
	}
	for i := range s.Workers {
		ix.workers[s.Workers[i].Name] = &s.Workers[i]
	}
	s.idx = ix
}
