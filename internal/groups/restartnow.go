package groups

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
	"github.com/lws-crossplane/lws-crossplane/internal/restart"
)

// Recreation is a group to recreate: its leader pod, to delete in the
// foreground, and the event that tells of it, nil when an earlier plan
// told of it already.
type Recreation struct {
	Leader *corev1.Pod
	Event  *Event
}

// Group is one group's objects as a cache shows them: what a restart is
// decided from.
type Group struct {
	// Leader is the group's leader pod; Workers its worker StatefulSet.
	Leader  *corev1.Pod
	Workers *appsv1.StatefulSet
	// Pods are every pod with the group's name and group-index labels.
	Pods []*corev1.Pod
}

// LeaderOf is the name of the leader pod of a pod's group.
func LeaderOf(pod *corev1.Pod) string {
	if isLeader(pod) {
		return pod.Name
	}
	name, _ := podmeta.ParentNameAndOrdinal(pod.Name)
	return name
}

// RestartNow decides from one pod's change, and its group alone, whether
// the group is recreated now: the reaction of upstream's pod controller,
// without planning the whole LeaderWorkerSet. It decides only what needs
// nothing else and returns nil for the rest, which the reconcile the same
// change triggers decides: under spec.groupRestart, whose backoff and
// budget live in the managed resource's status, and for a leader of
// another revision than the current one, whose restart policy is in its
// ControllerRevision.
func RestartNow(p *v1alpha1.RemoteLeaderWorkerSetParameters, pod *corev1.Pod, g Group) (*Recreation, error) {
	if p.GroupRestart != nil || g.Leader == nil || g.Leader.Labels[lws.LabelRevisionKey] != p.Revision.Key {
		return nil, nil
	}
	in, err := CurrentInput(p)
	if err != nil {
		return nil, err
	}
	if restart.Decide(pod, restartGroup(in, p.Metadata.Annotations, g)) != restart.Recreate {
		return nil, nil
	}
	return &Recreation{Leader: g.Leader, Event: recreateEvent(pod, g.Leader)}, nil
}

// restartGroup is a group in the terms of package restart, on the
// revision rendered by in.
func restartGroup(in render.Input, annotations map[string]string, g Group) restart.Group {
	_, afterStart := annotations[lws.AnnotationRecreateGroupAfterStart]
	return restart.Group{
		Policy:               in.Spec.LeaderWorkerTemplate.RestartPolicy,
		AfterStartAnnotation: afterStart,
		Size:                 int(in.Size()),
		Leader:               g.Leader,
		Workers:              g.Workers,
		Pods:                 g.Pods,
	}
}

// recreateEvent tells of a group recreated because pod restarted, with
// upstream's reason and message.
func recreateEvent(pod, leader *corev1.Pod) *Event {
	_, group := podmeta.ParentNameAndOrdinal(leader.Name)
	return &Event{Reason: ReasonRecreateGroup, Message: fmt.Sprintf(
		"Worker pod %s failed, deleted leader pod %s to recreate group %d", pod.Name, leader.Name, group)}
}
