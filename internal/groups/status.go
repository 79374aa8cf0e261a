package groups

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
	"github.com/lws-crossplane/lws-crossplane/internal/rollout"
)

// status computes the observation (https://lws.sigs.k8s.io/docs/reference/leaderworkerset.v1/) and, once an update is done,
// the old revisions to prune.
func (p *Plan) status(s *State, size int32, conditions []metav1.Condition, generation int64, now metav1.Time) {
	r := s.Params.Rollout
	spec := rollout.Spec{Replicas: s.Params.Replicas, Partition: r.Partition, MaxUnavailable: r.MaxUnavailable, MaxSurge: r.MaxSurge}
	var leaders []rollout.LeaderPod
	for i := range s.Pods {
		pod := &s.Pods[i]
		parent, index := podmeta.ParentNameAndOrdinal(pod.Name)
		if !isLeader(pod) || parent != s.Params.Name {
			continue
		}
		workers := s.worker(pod.Name)
		lp := rollout.LeaderPod{Index: int32(index), HasWorkers: size < 2 || workers != nil}
		if lp.HasWorkers {
			g := s.groupState(pod, workers, size)
			lp.Ready, lp.Updated = g.Ready, g.Updated
		}
		leaders = append(leaders, lp)
	}
	st := rollout.StatusOf(spec, leaders)
	conds, changed := rollout.MergeConditions(conditions, st.Active, generation, now)
	if changed {
		reason, message := rollout.ReasonAndMessage(st.Active[0])
		p.StatusEvent = &Event{Reason: reason, Message: fmt.Sprintf("%s, with %d groups ready of total %d groups", message, st.ReadyReplicas, s.Params.Replicas)}
	}
	p.Observation.ReadyReplicas, p.Observation.UpdatedReplicas = st.ReadyReplicas, st.UpdatedReplicas
	p.Observation.HPAPodSelector = lws.LeaderPodSelector(s.Params.Name)
	p.Observation.ObservedGeneration = generation
	p.Observation.Conditions = budgetCondition(conds, p.Observation.GroupRestarts, budget(s.Params.GroupRestart), generation, now)
	p.Observation.UnschedulableGroups = unschedulable(s)
	if s.Leader != nil {
		p.Observation.Replicas = s.Leader.Status.Replicas
	}
	p.Available = s.Leader != nil && st.Active[0] == v1alpha1.ConditionAvailable &&
		s.Leader.Status.ObservedGeneration >= s.Leader.Generation && !p.Changes()
	p.Serving = s.Leader != nil && st.ReadyReplicas >= s.Params.Replicas-r.MaxUnavailable
	if st.UpdateDone {
		for i := range s.Revisions {
			if s.Revisions[i].Labels[lws.LabelRevisionKey] != s.Params.Revision.Key {
				p.Prune = append(p.Prune, &s.Revisions[i])
			}
		}
	}
}
