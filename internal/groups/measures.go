package groups

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
)

// Measures are the facts about a cluster that the provider's metrics record
// (lws#87). They come from the cluster's own timestamps, so they are the
// same whichever reconcile, or provider process, computes them.
type Measures struct {
	// RolloutDuration is how long an update that has just finished took,
	// from UpdateInProgress turning True to it turning False; zero when no
	// update finished.
	RolloutDuration time.Duration
	// Ready are the groups that are ready.
	Ready []ReadyGroup
}

// ReadyGroup is a ready group, named by its leader pod.
type ReadyGroup struct {
	Leader types.UID
	// At is when its last pod became ready.
	At time.Time
	// After is how long that was after its leader pod was created.
	After time.Duration
}

// measure computes the measures of a plan computed from s, given the
// conditions reported before the plan and those it reports. It reads the
// index the plan was computed with.
func (s *State) measure(before, after []metav1.Condition, now time.Time) Measures {
	var m Measures
	if b, a := meta.FindStatusCondition(before, v1alpha1.ConditionUpdateInProgress), meta.FindStatusCondition(after, v1alpha1.ConditionUpdateInProgress); b != nil && a != nil &&
		b.Status == metav1.ConditionTrue && a.Status == metav1.ConditionFalse {
		m.RolloutDuration = now.Sub(b.LastTransitionTime.Time)
	}
	for i := range s.Pods {
		leader := &s.Pods[i]
		if parent, _ := podmeta.ParentNameAndOrdinal(leader.Name); !isLeader(leader) || parent != s.Params.Name {
			continue
		}
		if at, ok := s.readyAt(leader); ok {
			m.Ready = append(m.Ready, ReadyGroup{Leader: leader.UID, At: at, After: at.Sub(leader.CreationTimestamp.Time)})
		}
	}
	return m
}

// readyAt is when the group of a leader pod became ready: the latest Ready
// transition of the leader and of the pods of its worker StatefulSet, once
// the group is ready as the rollout counts it.
func (s *State) readyAt(leader *corev1.Pod) (time.Time, bool) {
	if !podReady(leader) {
		return time.Time{}, false
	}
	at := readyCondition(leader).LastTransitionTime.Time
	if leader.Annotations[lws.AnnotationSize] == "1" {
		return at, true
	}
	workers := s.worker(leader.Name)
	if !s.workersReady(leader, workers) {
		return time.Time{}, false
	}
	for _, p := range s.idx.owned[workers.UID] {
		if c := readyCondition(p); c != nil && c.LastTransitionTime.After(at) {
			at = c.LastTransitionTime.Time
		}
	}
	return at, true
}

func controlledBy(obj metav1.Object, uid types.UID) bool {
	owner := metav1.GetControllerOf(obj)
	return owner != nil && owner.UID == uid
}

func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
