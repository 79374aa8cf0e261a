package groups

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
	"github.com/lws-crossplane/lws-crossplane/internal/restart"
)

// restarts plans group recreations under spec.groupRestart (package
// restart's Policy), from the history the managed resource reported.
type restarts struct {
	policy restart.Policy
	now    time.Time
	// history by group: the reported one, minus what no longer applies,
	// plus this plan's decisions.
	history map[int32]v1alpha1.GroupRestartStatus
	// decided are the groups this plan decided on, once each however many
	// of their pods triggered.
	decided map[int32]bool
	// track: a history is kept, under spec.groupRestart only.
	track bool
}

// newRestarts keeps the reported history that still applies. Without
// spec.groupRestart there is none, so that upstream's behaviour leaves no
// trace in the status and a budget set later starts afresh.
func newRestarts(s *State, now time.Time) *restarts {
	r := &restarts{policy: restart.PolicyOf(s.Params.GroupRestart), now: now, track: s.Params.GroupRestart != nil,
		history: map[int32]v1alpha1.GroupRestartStatus{}, decided: map[int32]bool{}}
	if !r.track || s.Leader == nil {
		return r
	}
	groups := ptr.Deref(s.Leader.Spec.Replicas, 1)
	for _, h := range s.History {
		if h.Group < 0 || h.Group >= groups {
			continue // The group is gone.
		}
		// A missing leader is being recreated: its history stays. A leader
		// on another revision starts afresh, which is how a fixed template
		// clears an exhausted group.
		if l := s.pod(lws.LeaderPodName(s.Params.Name, int(h.Group))); l != nil && l.Labels[lws.LabelRevisionKey] != h.Revision {
			continue
		}
		rh := history(h)
		if r.policy.Expired(rh, now) {
			continue
		}
		h.Exhausted = r.policy.Exhausted(rh)
		r.history[h.Group] = h
	}
	return r
}

func history(h v1alpha1.GroupRestartStatus) restart.History {
	out := restart.History{Count: h.Count, Exhausted: h.Exhausted}
	if h.LastRestartTime != nil {
		out.Last = h.LastRestartTime.Time
	}
	return out
}

// entries is the history to report, by group.
func (r *restarts) entries() []v1alpha1.GroupRestartStatus {
	if len(r.history) == 0 {
		return nil
	}
	out := make([]v1alpha1.GroupRestartStatus, 0, len(r.history))
	for _, h := range r.history {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b v1alpha1.GroupRestartStatus) int { return int(a.Group - b.Group) })
	return out
}

// recreate decides a recreation of leader's group that pod triggered:
// now, after a backoff, or not at all.
func (p *Plan) recreate(r *restarts, pod, leader *corev1.Pod) {
	_, ordinal := podmeta.ParentNameAndOrdinal(leader.Name)
	group := int32(ordinal)
	if r.decided[group] {
		return
	}
	r.decided[group] = true
	h, known := r.history[group]
	if known && h.LeaderUID == leader.UID {
		// An earlier plan recreated this group already: its deletion
		// failed, or the cache has not seen it yet. Deleting again is
		// harmless (it is preconditioned on the UID); counting it again
		// would spend the budget twice on one restart.
		p.Restarts = append(p.Restarts, Recreation{Leader: leader})
		return
	}
	v := r.policy.Next(history(h), r.now)
	switch v.Action {
	case restart.RecreateNow:
		p.Restarts = append(p.Restarts, Recreation{Leader: leader, Event: recreateEvent(pod, leader)})
		if r.track {
			r.history[group] = v1alpha1.GroupRestartStatus{Group: group, Revision: leader.Labels[lws.LabelRevisionKey], Count: v.Count,
				LastRestartTime: ptr.To(metav1.NewMicroTime(r.now)), LeaderUID: leader.UID}
		}
	case restart.Wait:
		if wait := v.At.Sub(r.now); p.RequeueAfter == 0 || wait < p.RequeueAfter {
			p.RequeueAfter = wait
		}
		// The message names the delay and the deadline, not what is left
		// nor which pod, so that every plan of one wait repeats the same
		// event, which the recorder folds into one.
		p.RestartEvents = append(p.RestartEvents, Event{Reason: restart.EventBackoff, Message: fmt.Sprintf(
			"Recreation %d in a row of group %d waits %s, until %s", v.Count+1, group, v.Delay, v.At.UTC().Format(time.RFC3339))})
	case restart.Exhausted:
		if h.Exhausted {
			return // Reported when it ran out.
		}
		h.Group, h.Revision, h.Count, h.Exhausted = group, leader.Labels[lws.LabelRevisionKey], v.Count, true
		r.history[group] = h
		p.RestartEvents = append(p.RestartEvents, Event{Warning: true, Reason: restart.EventBudgetExhausted, Message: fmt.Sprintf(
			"Pod %s restarted after group %d was recreated %d times in a row, its budget (spec.groupRestart.maxRestarts): the group is left as it is until it moves to another revision or the budget is raised",
			pod.Name, group, v.Count)})
	}
}

// budgetCondition reports the groups that exhausted their budget: True while
// there are any, False once none is left. A LeaderWorkerSet that never
// exhausted one does not have the condition.
func budgetCondition(conds []metav1.Condition, history []v1alpha1.GroupRestartStatus, budget int32, generation int64, now metav1.Time) []metav1.Condition {
	var exhausted []string
	for _, h := range history {
		if h.Exhausted {
			exhausted = append(exhausted, strconv.Itoa(int(h.Group)))
		}
	}
	c := metav1.Condition{Type: v1alpha1.ConditionGroupRestartBudgetExhausted, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonRestartBudgetAvailable,
		Message: "No group has exhausted its restart budget", ObservedGeneration: generation, LastTransitionTime: now}
	switch {
	case len(exhausted) == 1:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonRestartBudgetExhausted
		c.Message = fmt.Sprintf("Group %s exhausted its restart budget of %d recreations in a row (spec.groupRestart.maxRestarts): it is left as it is until it moves to another revision or the budget is raised",
			exhausted[0], budget)
	case len(exhausted) > 1:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonRestartBudgetExhausted
		c.Message = fmt.Sprintf("Groups %s exhausted their restart budget of %d recreations in a row (spec.groupRestart.maxRestarts): they are left as they are until they move to another revision or the budget is raised",
			strings.Join(exhausted, ", "), budget)
	case meta.FindStatusCondition(conds, c.Type) == nil:
		return conds
	}
	meta.SetStatusCondition(&conds, c)
	return conds
}

// budget is spec.groupRestart.maxRestarts, for the condition's message.
func budget(g *v1alpha1.GroupRestart) int32 {
	if g == nil {
		return 0
	}
	return ptr.Deref(g.MaxRestarts, 0)
}
