package groups

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/internal/admission"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// ReasonFailedGang: a leader was admitted without its gang's workload
// reference, and is deleted to be admitted again (ours).
const ReasonFailedGang = "FailedGang"

// GangObject is a group's gang object to create: a Workload or a Volcano
// PodGroup.
type GangObject interface {
	metav1.Object
	runtime.Object
}

// gang plans the gang object of a leader's group (render.Input.Workload,
// VolcanoPodGroup): created once the leader exists, owned by it, so that it
// goes with the leader and a new leader of the group gets a new one. One of
// a replaced leader is deleted and made again at once: nothing in the
// cluster would trigger another plan once it is gone.
func (p *Plan) gang(s *State, in render.Input, group int, leader *corev1.Pod) error {
	if in.Gang == "" {
		return nil
	}
	name := lws.GangName(in.Name, group, in.RevisionKey)
	if o := s.gangObject(name); o != nil {
		if controlledBy(o, leader.UID) || o.DeletionTimestamp != nil {
			return nil
		}
		p.StaleGangs = append(p.StaleGangs, o)
	}
	var obj GangObject
	switch in.Gang {
	case lws.GangWorkload:
		obj = in.Workload(group)
	case lws.GangVolcano:
		pg, err := in.VolcanoPodGroup(group)
		if err != nil {
			return err
		}
		obj = pg
	default:
		return fmt.Errorf("unknown gang scheduler %q", in.Gang)
	}
	obj.SetOwnerReferences([]metav1.OwnerReference{ownedBy(leader)})
	p.Gangs = append(p.Gangs, obj)
	return nil
}

// admittedOutsideGang: a gated leader that should carry its Workload's
// reference and does not, created before the admission policy took effect
// (admission.LeaderWorkloadPolicy). The reference is immutable, so the
// leader is deleted, and its StatefulSet creates it again.
func (p *Plan) admittedOutsideGang(in render.Input, leader *corev1.Pod) bool {
	if in.Gang != lws.GangWorkload || !gated(leader) || leader.DeletionTimestamp != nil {
		return false
	}
	_, group := podmeta.ParentNameAndOrdinal(leader.Name)
	want := lws.GangName(in.Name, group, in.RevisionKey)
	if ref := leader.Spec.WorkloadRef; ref != nil && ref.Name == want && ref.PodGroup == render.GangPodGroup {
		return false
	}
	p.Readmit = append(p.Readmit, leader)
	p.Events = append(p.Events, Event{Warning: true, Reason: ReasonFailedGang, Message: fmt.Sprintf(
		"Leader pod %s was created without a workload reference to %s (MutatingAdmissionPolicy %s not in effect): deleting it to be created again",
		leader.Name, want, admission.WorkloadPolicyName)})
	return true
}

// gangObject is the observed gang object of that name, nil if none.
func (s *State) gangObject(name string) *metav1.PartialObjectMetadata {
	return s.idx.gangs[name]
}
