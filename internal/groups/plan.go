package groups

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
	"github.com/lws-crossplane/lws-crossplane/internal/rollout"
)

// Identity is what a gated pod is given before its gate is lifted.
type Identity struct {
	Pod         *corev1.Pod
	Labels      map[string]string
	Annotations map[string]string
	// NodeSelector and NodeAffinity place a subgroup's pod (Place):
	// nodeSelector entries to add, and required node affinity requirements.
	NodeSelector map[string]string
	NodeAffinity []corev1.NodeSelectorRequirement
}

// Reasons of the events a plan records: upstream's, where upstream records
// the same event, and ours for what only we do.
const (
	ReasonGroupsProgressing = v1alpha1.ReasonGroupsProgressing
	ReasonGroupsUpdating    = v1alpha1.ReasonGroupsUpdating
	ReasonRecreateGroup     = "RecreateGroup"
	ReasonFailedCreate      = "FailedCreate"
	// ReasonFailedPlacement: a subgroup found no topology domain (ours).
	ReasonFailedPlacement = "FailedPlacement"
)

// Event is an event to record on the managed resource, with upstream's
// reasons.
type Event struct {
	Warning bool
	Reason  string
	Message string
}

// Plan is every change a cluster needs, and the status it has.
type Plan struct {
	// Revision is a ControllerRevision to create for the current template.
	Revision *appsv1.ControllerRevision
	// Leader is the leader StatefulSet to apply, nil when it is up to date.
	Leader *appsv1.StatefulSet
	// Services and Workers are objects to create.
	Services []*corev1.Service
	Workers  []*appsv1.StatefulSet
	// StaleServices are role Services no longer asked for, to delete.
	StaleServices []*corev1.Service
	// EndpointSlices are leaders' EndpointSlices to create under
	// UniquePerReplica, and EndpointSliceUpdates existing ones to update.
	EndpointSlices       []*discoveryv1.EndpointSlice
	EndpointSliceUpdates []*discoveryv1.EndpointSlice
	// Identities are gated pods to label, annotate and release.
	Identities []Identity
	// Restarts are groups to recreate. Their events are not in Events:
	// the provider records one only for a recreation it makes, not for
	// one its fast path (RestartNow) made already.
	Restarts []Recreation
	// Prune are ControllerRevisions no group needs any more.
	Prune []*appsv1.ControllerRevision
	// StaleWorkers are worker StatefulSets of replaced leaders, to delete,
	// and StaleWorkerPods their pods, which the garbage collector has not
	// deleted yet, in the way of the new workers.
	StaleWorkers    []*appsv1.StatefulSet
	StaleWorkerPods []*corev1.Pod
	// Gangs are gang objects to create (gang.go), after deleting
	// StaleGangs, those of replaced leaders.
	Gangs      []GangObject
	StaleGangs []*metav1.PartialObjectMetadata
	// Readmit are gated leaders admitted without their gang's workload
	// reference, to delete so that their StatefulSet creates them again.
	Readmit []*corev1.Pod

	// Events describe the changes; StatusEvent, when set, the status.
	Events      []Event
	StatusEvent *Event
	// RestartEvents tell of recreations held back by their backoff or
	// refused by their budget. They change nothing in the cluster, so they
	// are recorded with the status, not after an apply.
	RestartEvents []Event
	// RequeueAfter, when not zero, is when the earliest recreation held back
	// by its backoff is due: the provider plans again then, rather than at
	// its next poll.
	RequeueAfter time.Duration

	// Observation is the status to report.
	Observation v1alpha1.RemoteLeaderWorkerSetObservation
	// Measures are what the provider's metrics record of this plan.
	Measures Measures
	// Available: every group is ready on the revision it should run.
	Available bool
	// Serving: no more groups are down than a rolling update may take down
	// (replicas − maxUnavailable ready), the availability that keeps a
	// Deployment Available through a rollout.
	Serving bool
}

// Ready is Crossplane's Ready of the managed resource, given whether it was
// Ready: the groups serve. It turns True when every group is ready
// (Available, so never early), and stays True while the LeaderWorkerSet is
// Serving, as a Deployment stays Available through a rollout: a rolling
// update does not flap the claim's Ready, and Crossplane's circuit breaker
// sees fewer changes. Upstream's own conditions are reported as they are.
func (p *Plan) Ready(wasReady bool) bool { return p.Available || (wasReady && p.Serving) }

// Changes tells whether the plan writes anything to the cluster.
func (p *Plan) Changes() bool {
	return p.Revision != nil || p.Leader != nil || len(p.Services) > 0 || len(p.StaleServices) > 0 || len(p.Workers) > 0 ||
		len(p.EndpointSlices) > 0 || len(p.EndpointSliceUpdates) > 0 ||
		len(p.Identities) > 0 || len(p.Restarts) > 0 || len(p.Prune) > 0 || len(p.StaleWorkers) > 0 || len(p.StaleWorkerPods) > 0 ||
		len(p.Gangs) > 0 || len(p.StaleGangs) > 0 || len(p.Readmit) > 0
}

// Compute plans a cluster. conditions are the LeaderWorkerSet conditions
// reported so far, and s.History the group restarts; generation is the
// managed resource's.
func Compute(s *State, conditions []metav1.Condition, generation int64, now metav1.Time) (*Plan, error) {
	s.reindex()
	revs, err := s.revisions()
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	key := s.Params.Revision.Key
	cur := revs[key]
	if !slices.ContainsFunc(s.Revisions, func(r appsv1.ControllerRevision) bool { return r.Labels[lws.LabelRevisionKey] == key }) {
		p.Revision = s.newRevision()
	}
	if err := p.leader(s, cur); err != nil {
		return nil, err
	}
	for _, svc := range cur.in.Services() {
		if !s.service(svc.Name) {
			p.Services = append(p.Services, svc)
		}
	}
	p.roleService(s, cur.in)
	r := newRestarts(s, now.Time)
	for i := range s.Pods {
		pod := &s.Pods[i]
		if err := p.pod(s, revs, r, pod); err != nil {
			return nil, err
		}
	}
	p.placeSubGroups(s)
	p.Observation.GroupRestarts = r.entries()
	p.status(s, cur.in.Size(), conditions, generation, now)
	p.Measures = s.measure(conditions, p.Observation.Conditions, now.Time)
	return p, nil
}

// newRevision records the current template in the cluster, so that groups
// still on it can be rebuilt from it after it stops being current.
func (s *State) newRevision() *appsv1.ControllerRevision {
	var highest int64
	for _, r := range s.Revisions {
		highest = max(highest, r.Revision)
	}
	name := s.Params.Name
	if len(name) > 220 {
		name = name[:220]
	}
	key := s.Params.Revision.Key
	return &appsv1.ControllerRevision{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s-%s-%d", name, key, highest+1),
			Namespace: s.Params.Namespace,
			Labels:    map[string]string{lws.LabelName: s.Params.Name, lws.LabelRevisionKey: key},
		},
		Data:     runtime.RawExtension{Raw: s.Params.Revision.Payload.Raw},
		Revision: highest + 1,
	}
}

// leader plans the leader StatefulSet's rollout step and whether it must be
// applied.
func (p *Plan) leader(s *State, cur *template) error {
	desired, err := LeaderStatefulSet(cur.in, s.Params.Rollout)
	if err != nil {
		return err
	}
	r := s.Params.Rollout
	spec := rollout.Spec{Replicas: s.Params.Replicas, Partition: r.Partition, MaxUnavailable: r.MaxUnavailable, MaxSurge: min(r.MaxSurge, s.Params.Replicas)}
	var observed *rollout.Leader
	changed := false
	if l := s.Leader; l != nil {
		prev, err := strconv.ParseInt(l.Annotations[lws.AnnotationReplicas], 10, 32)
		if err != nil {
			return fmt.Errorf("leader StatefulSet %s: annotation %s: %w", l.Name, lws.AnnotationReplicas, err)
		}
		observed = &rollout.Leader{Replicas: ptr.Deref(l.Spec.Replicas, 1), Partition: partitionOf(l), SpecReplicas: int32(prev)}
		changed = !s.rendered(l.Labels)
	}
	d := rollout.Next(spec, observed, changed, s.groupStates(observed, cur.in.Size()))
	desired.Spec.Replicas = &d.Replicas
	desired.Spec.UpdateStrategy.RollingUpdate.Partition = &d.Partition
	if s.Leader != nil && upToDate(desired, s.Leader) {
		return nil
	}
	p.Leader = desired
	switch {
	case s.Leader == nil:
		p.Events = append(p.Events, Event{Reason: ReasonGroupsProgressing, Message: "Created leader statefulset " + desired.Name})
	case !changed && d.Partition < observed.Partition:
		p.Events = append(p.Events, Event{Reason: ReasonGroupsUpdating, Message: updatingMessage(d.Partition, observed.Partition)})
	}
	if observed != nil && d.Replicas < observed.Replicas {
		p.Events = append(p.Events, Event{Reason: ReasonGroupsProgressing, Message: surgeMessage(s.Params.Name, d.Replicas, observed.Replicas)})
	}
	return nil
}

func updatingMessage(p, old int32) string {
	if old-1 == p {
		return fmt.Sprintf("Updating replica %d", p)
	}
	return fmt.Sprintf("Updating replicas %d to %d (inclusive)", p, old-1)
}

func surgeMessage(name string, want, had int32) string {
	if want == had-1 {
		return fmt.Sprintf("deleting surge replica %s-%d", name, want)
	}
	return fmt.Sprintf("deleting surge replicas from %s-%d to %s-%d", name, want, name, had-1)
}

func partitionOf(sts *appsv1.StatefulSet) int32 {
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return *ru.Partition
	}
	return 0
}

// upToDate: every field the rendered StatefulSet sets has that value in the
// cluster. Fields the API server defaults are not compared, so a steady
// cluster costs no write.
func upToDate(desired, observed *appsv1.StatefulSet) bool {
	return equality.Semantic.DeepDerivative(desired.Spec, observed.Spec) &&
		equality.Semantic.DeepDerivative(desired.Labels, observed.Labels) &&
		equality.Semantic.DeepDerivative(desired.Annotations, observed.Annotations)
}

// groupStates are the states of indices 0..S-1 for the rollout (https://lws.sigs.k8s.io/docs/concepts/rollout-strategy/).
func (s *State) groupStates(l *rollout.Leader, size int32) []rollout.Group {
	if l == nil {
		return nil
	}
	out := make([]rollout.Group, l.Replicas)
	for i := range out {
		name := lws.LeaderPodName(s.Params.Name, i)
		pod := s.pod(name)
		workers := s.worker(name)
		if pod == nil || (size > 1 && workers == nil) {
			continue
		}
		out[i] = s.groupState(pod, workers, size)
	}
	return out
}

func (s *State) groupState(pod *corev1.Pod, workers *appsv1.StatefulSet, size int32) rollout.Group {
	g := rollout.Group{Ready: podReady(pod), Updated: s.rendered(pod.Labels)}
	if size > 1 {
		g.Ready = g.Ready && s.workersReady(pod, workers)
		g.Updated = g.Updated && s.rendered(workers.Labels)
	}
	return g
}

func podReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
		return false
	}
	c := readyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// workersReady: the leader's own worker StatefulSet (not that of a leader it
// replaced, which the garbage collector or the plan has yet to delete) has
// every worker, 1 to size-1 by the leader's size annotation, as a pod Ready
// and labelled.
// Upstream reads the StatefulSet's availableReplicas instead; that counts the
// same pods (worker StatefulSets have no minReadySeconds and are never
// updated in place, so their pods are all of one revision), but the
// StatefulSet controller writes it 0.3 to 0.6 s after the last pod turned
// Ready on a busy cluster, at every step of a rolling update. The labels make
// a ready group's pods carry upstream's labels, also those of workers that
// started before the provider labelled them.
func (s *State) workersReady(leader *corev1.Pod, sts *appsv1.StatefulSet) bool {
	size, err := strconv.ParseInt(leader.Annotations[lws.AnnotationSize], 10, 32)
	if err != nil || sts == nil || sts.DeletionTimestamp != nil || !controlledBy(sts, leader.UID) {
		return false
	}
	for w := 1; w < int(size); w++ {
		p := s.pod(fmt.Sprintf("%s-%d", leader.Name, w))
		if p == nil || !controlledBy(p, sts.UID) || !podReady(p) || !labelled(p) {
			return false
		}
	}
	return true
}

func isLeader(pod *corev1.Pod) bool { return podmeta.IsLeader(pod) }
