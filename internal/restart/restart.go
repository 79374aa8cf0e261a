// Package restart decides when a group is recreated as a whole (https://lws.sigs.k8s.io/docs/concepts/failure-handling/):
// the provider deletes the group's leader pod, and with it, through
// ownership, the group's workers. It is pure; the provider gathers the pods
// and applies the decision.
//
// # Backoff and budget
//
// Upstream recreates a group every time one of its pods restarts, at once
// and without end: a crashing init container turns into dozens of
// recreations a minute, each resetting the kubelet's CrashLoopBackOff
// (lws#1048), with no point at which the group is given up (lws#820,
// lws#877). spec.groupRestart, our extension, adds both; without it Policy
// changes nothing.
//
//   - Recreations are in a row while each comes within resetSeconds of the
//     previous one (600 s by default, also without a backoff).
//   - The first recreation in a row is immediate. Recreation n ≥ 2 waits
//     until the previous one + min(initialSeconds·2^(n-2), maxSeconds);
//     meanwhile the group is left as it is.
//   - With maxRestarts, a group that triggers after maxRestarts recreations
//     in a row is exhausted: never recreated again, whatever the time, until
//     it moves to another revision (its history is then dropped) or the
//     budget is raised above its count or removed.
//
// Decide says whether a pod's state asks for a recreation; Policy.Next says
// whether that recreation happens now, later, or not at all.
package restart

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
)

// Group is what the decision needs to know about a pod's group.
type Group struct {
	// Policy is the restart policy of the group's revision.
	Policy v1alpha1.RestartPolicyType
	// AfterStartAnnotation is the legacy annotation that, like
	// RecreateGroupAfterStart, holds restarts while a pod is pending.
	AfterStartAnnotation bool
	// Size is the group size of the group's revision.
	Size int
	// Leader is the group's leader pod, nil when there is none.
	Leader *corev1.Pod
	// Workers is the leader's current worker StatefulSet, nil when there is
	// none.
	Workers *appsv1.StatefulSet
	// Pods are every pod with the group's name and group-index labels.
	Pods []*corev1.Pod
}

// Outcome of a decision.
type Outcome int

// Outcomes.
const (
	// Nothing to do: no trigger, or the policy is None.
	Nothing Outcome = iota
	// Held: a trigger, but a pod of the group is pending and the policy
	// waits for the group to start.
	Held
	// Stale: the pod belongs to a previous generation of the group (an old
	// revision, or workers of a replaced leader) that is going away anyway.
	Stale
	// Deleting: the leader is already being deleted; deleting it again
	// would restart the new group (lws#804).
	Deleting
	// Recreate the group: delete its leader, in the foreground.
	Recreate
)

// Decide tells what a pod's state means for its group. A trigger is a
// container or init container restart of a running or pending pod, or a
// pod being deleted.
func Decide(pod *corev1.Pod, g Group) Outcome {
	if g.Policy == v1alpha1.NoneRestartPolicy || g.Policy == v1alpha1.DefaultRestartPolicy || !triggered(pod) {
		return Nothing
	}
	if (g.Policy == v1alpha1.RecreateGroupAfterStart || g.AfterStartAnnotation) && pending(g) {
		return Held
	}
	if g.Leader == nil {
		return Nothing
	}
	if pod.Name != g.Leader.Name && !currentWorker(pod, g) {
		return Stale
	}
	if g.Leader.DeletionTimestamp != nil {
		return Deleting
	}
	return Recreate
}

// triggered: a restarted container in a running or pending pod, or a pod
// being deleted. Failed and succeeded pods do not count their restarts.
func triggered(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp != nil || ContainerRestarted(pod)
}

// ContainerRestarted: a container or init container of a running or
// pending pod that is not being deleted has restarted, the trigger a
// kubelet reports.
func ContainerRestarted(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning && pod.Status.Phase != corev1.PodPending {
		return false
	}
	for _, cs := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for _, c := range cs {
			if c.RestartCount > 0 {
				return true
			}
		}
	}
	return false
}

// pending: the group does not have all its pods, or one is pending.
func pending(g Group) bool {
	if len(g.Pods) != g.Size {
		return true
	}
	for _, p := range g.Pods {
		if p.Status.Phase == corev1.PodPending {
			return true
		}
	}
	return false
}

// currentWorker: a worker of the leader's current generation: on the
// leader's revision, and controlled by the leader's current worker
// StatefulSet (same UID, itself controlled by this leader) or by the leader
// itself. Workers of a replaced leader, still being deleted in the
// background, must not restart the new group (lws#804, lws#998).
func currentWorker(pod *corev1.Pod, g Group) bool {
	if pod.Labels[lws.LabelRevisionKey] != g.Leader.Labels[lws.LabelRevisionKey] {
		return false
	}
	if parent, _ := podmeta.ParentNameAndOrdinal(pod.Name); parent != g.Leader.Name {
		return false
	}
	owner := metav1.GetControllerOf(pod)
	if owner == nil {
		return false
	}
	if owner.Kind == "Pod" {
		return owner.UID == g.Leader.UID
	}
	if g.Workers == nil || owner.Kind != "StatefulSet" || owner.UID != g.Workers.UID {
		return false
	}
	stsOwner := metav1.GetControllerOf(g.Workers)
	return stsOwner != nil && stsOwner.UID == g.Leader.UID
}
