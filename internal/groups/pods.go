package groups

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
	"github.com/lws-crossplane/lws-crossplane/internal/restart"
)

// pod plans what one pod needs: its identity while it is gated or, for a
// worker that did not wait for it (render's workersWait), until it has its
// labels; its group's restart; and for a leader its group's Service and
// workers.
func (p *Plan) pod(s *State, revs revisions, r *restarts, pod *corev1.Pod) error {
	rev := revs[pod.Labels[lws.LabelRevisionKey]]
	if rev == nil {
		// A pod of a revision this cluster no longer knows cannot be
		// identified; the rollout replaces it.
		return nil
	}
	if isLeader(pod) && p.admittedOutsideGang(rev.in, pod) {
		return nil
	}
	if pod.DeletionTimestamp == nil && (gated(pod) || !labelled(pod)) {
		labels, annotations, err := rev.in.PodIdentity(pod)
		if err != nil {
			return err
		}
		p.Identities = append(p.Identities, Identity{Pod: pod, Labels: labels, Annotations: annotations})
	}
	if gated(pod) && pod.DeletionTimestamp == nil {
		if isLeader(pod) {
			// Workers of an exclusive group wait for the leader's node;
			// others may start at once.
			return p.workers(s, rev, pod)
		}
		return nil
	}
	p.restart(s, revs, r, rev, pod)
	if isLeader(pod) {
		return p.workers(s, rev, pod)
	}
	return nil
}

// labelled: the pod has its identity labels. Leaders carry worker-index 0
// from their template; a worker gets its worker-index with the rest.
func labelled(pod *corev1.Pod) bool { return pod.Labels[lws.LabelWorkerIndex] != "" }

func gated(pod *corev1.Pod) bool {
	return slices.ContainsFunc(pod.Spec.SchedulingGates, lws.IsSchedulingGate)
}

// workers plans a leader's group Service, its EndpointSlice, and its
// worker StatefulSet (upstream's KEP-135, startup policy).
func (p *Plan) workers(s *State, rev *template, leader *corev1.Pod) error {
	if leader.DeletionTimestamp != nil {
		return nil
	}
	if leader.Annotations[lws.AnnotationLeaderName] != "" {
		// A worker that looks like a leader: the cluster lacks
		// StatefulSetStartOrdinal, and creating workers would recurse (lws#394).
		p.Events = append(p.Events, Event{Warning: true, Reason: ReasonFailedCreate, Message: fmt.Sprintf(
			"Pod %s is a leader carrying the %s annotation: the cluster needs Kubernetes v1.27 or later (or StatefulSetStartOrdinal)", leader.Name, lws.AnnotationLeaderName)})
		return nil
	}
	parent, group := podmeta.ParentNameAndOrdinal(leader.Name)
	if parent != s.Params.Name {
		return nil
	}
	in := rev.in
	if in.UniquePerReplica() && !s.service(leader.Name) {
		svc := in.GroupService(group)
		svc.OwnerReferences = []metav1.OwnerReference{ownedBy(leader)}
		p.Services = append(p.Services, svc)
	}
	p.leaderEndpoints(s, in, group, leader)
	if err := p.gang(s, in, group, leader); err != nil {
		return err
	}
	if in.Size() < 2 {
		return nil
	}
	if w := s.worker(leader.Name); w != nil {
		// Workers of the leader this one replaced: the garbage collector
		// deletes them in its own time, and the new workers, of the same
		// name, wait for that. Deleting them now saves a rollout step
		// that wait.
		switch {
		case controlledBy(w, leader.UID):
			p.staleWorkerPods(s, group, w, in.Size())
		case w.DeletionTimestamp == nil:
			p.StaleWorkers = append(p.StaleWorkers, w)
		}
		return nil
	}
	if s.Params.StartupPolicy == v1alpha1.LeaderReadyStartupPolicy && !podReady(leader) {
		return nil
	}
	topology := ""
	if key := in.Annotations[lws.AnnotationExclusiveTopology]; key != "" {
		if leader.Spec.NodeName == "" {
			return nil
		}
		node := s.Nodes[leader.Spec.NodeName]
		if node == nil || node.Labels[key] == "" {
			p.Events = append(p.Events, Event{Warning: true, Reason: ReasonFailedCreate, Message: fmt.Sprintf(
				"Node %s of leader pod %s has no topology label %s", leader.Spec.NodeName, leader.Name, key)})
			return nil
		}
		topology = node.Labels[key]
	}
	w, err := in.WorkerStatefulSet(group, topology)
	if err != nil {
		return err
	}
	w.OwnerReferences = []metav1.OwnerReference{ownedBy(leader)}
	p.Workers = append(p.Workers, w)
	p.Events = append(p.Events, Event{Reason: ReasonGroupsProgressing, Message: "Created worker statefulset for leader pod " + leader.Name})
	return nil
}

func ownedBy(pod *corev1.Pod) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: &t, BlockOwnerDeletion: &t}
}

// restart plans a group restart triggered by one of its pods (https://lws.sigs.k8s.io/docs/concepts/failure-handling/),
// under spec.groupRestart.
func (p *Plan) restart(s *State, revs revisions, r *restarts, rev *template, pod *corev1.Pod) {
	leaderName := LeaderOf(pod)
	leader := s.pod(leaderName)
	if leader != nil {
		if lr := revs[leader.Labels[lws.LabelRevisionKey]]; lr != nil {
			rev = lr
		}
	}
	g := Group{Leader: leader, Workers: s.worker(leaderName), Pods: s.idx.groups[pod.Labels[lws.LabelGroupIndex]]}
	if restart.Decide(pod, restartGroup(rev.in, s.Params.Metadata.Annotations, g)) == restart.Recreate {
		p.recreate(r, pod, leader)
	}
}

// staleWorkerPods plans the deletion of the pods in the slots of the
// leader's worker StatefulSet w that another StatefulSet created: those of
// the leader it replaced, whose StatefulSet is gone (no two of one name
// live at once) but whose pods the garbage collector has yet to delete.
// Until they are gone w cannot create its own ("already exists"), and a
// garbage collector that lags its watches after an API server restart left
// a group down for minutes (chaos seed 5).
func (p *Plan) staleWorkerPods(s *State, group int, w *appsv1.StatefulSet, size int32) {
	for i := 1; i < int(size); i++ {
		pod := s.pod(lws.WorkerPodName(s.Params.Name, group, i))
		if pod != nil && pod.DeletionTimestamp == nil && !controlledBy(pod, w.UID) {
			p.StaleWorkerPods = append(p.StaleWorkerPods, pod)
		}
	}
}
