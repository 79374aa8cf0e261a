package rollout

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

var (
	reasons  = map[string]string{v1alpha1.ConditionAvailable: v1alpha1.ReasonAllGroupsReady, v1alpha1.ConditionProgressing: v1alpha1.ReasonGroupsProgressing, v1alpha1.ConditionUpdateInProgress: v1alpha1.ReasonGroupsUpdating}
	messages = map[string]string{v1alpha1.ConditionAvailable: v1alpha1.MessageAvailable, v1alpha1.ConditionProgressing: v1alpha1.MessageProgressing, v1alpha1.ConditionUpdateInProgress: v1alpha1.MessageUpdateInProgress}

	// exclusive pairs: one True turns the other False. Progressing and
	// UpdateInProgress may both be True.
	exclusive = map[string][]string{
		v1alpha1.ConditionAvailable:        {v1alpha1.ConditionProgressing, v1alpha1.ConditionUpdateInProgress},
		v1alpha1.ConditionProgressing:      {v1alpha1.ConditionAvailable},
		v1alpha1.ConditionUpdateInProgress: {v1alpha1.ConditionAvailable},
	}
)

// ReasonAndMessage are upstream's reason and message of a condition type.
func ReasonAndMessage(condition string) (reason, message string) {
	return reasons[condition], messages[condition]
}

// Active are the LeaderWorkerSet conditions that are True, the first
// naming the event reason when they change: an update in progress is
// Progressing too, and Available is neither. The provider decides it for
// a cluster from its groups; the composition function for all clusters,
// from theirs (updating when any is, available when all are).
func Active(updating, available bool) []string {
	switch {
	case updating:
		return []string{v1alpha1.ConditionUpdateInProgress, v1alpha1.ConditionProgressing}
	case available:
		return []string{v1alpha1.ConditionAvailable}
	default:
		return []string{v1alpha1.ConditionProgressing}
	}
}

// LeaderPod is one leader pod as the status sees it.
type LeaderPod struct {
	// Index is its group index.
	Index int32
	// HasWorkers: its worker StatefulSet exists (always true for size 1).
	HasWorkers bool
	// Ready and Updated as in Group.
	Ready, Updated bool
}

// Status is the LeaderWorkerSet status of one cluster.
type Status struct {
	ReadyReplicas   int32
	UpdatedReplicas int32
	// Active are the conditions that are True, the first one naming the
	// event reason when they change.
	Active []string
	// UpdateDone: every group up to R is updated and ready and no partition
	// holds any back, so old revisions may go.
	UpdateDone bool
}

// StatusOf computes the status from every leader pod, surge included
// (https://lws.sigs.k8s.io/docs/reference/leaderworkerset.v1/). A leader whose worker StatefulSet does not exist yet is not
// counted at all.
func StatusOf(spec Spec, leaders []LeaderPod) Status {
	var st Status
	var inWindow, updatedInWindow, readyNonBurst, updatedReadyInWindow int32
	for _, l := range leaders {
		if !l.HasWorkers {
			continue
		}
		window := l.Index < spec.Replicas && l.Index >= spec.Partition
		if window {
			inWindow++
		}
		if l.Ready {
			st.ReadyReplicas++
		}
		if l.Updated {
			st.UpdatedReplicas++
			if window {
				updatedInWindow++
			}
		}
		if l.Index < spec.Replicas && l.Ready {
			readyNonBurst++
			if l.Updated && window {
				updatedReadyInWindow++
			}
		}
	}
	st.Active = Active(updatedInWindow < inWindow, readyNonBurst == spec.Replicas && updatedReadyInWindow == inWindow)
	st.UpdateDone = spec.Partition == 0 && updatedReadyInWindow == spec.Replicas
	return st
}

// MergeConditions brings conditions up to date with the active types of a
// generation, and reports whether anything changed. An active type is set
// True (replaced when its status or generation differs); its exclusive
// counterparts that are True turn False, keeping their reason and message,
// as upstream's do; a type never set stays absent.
func MergeConditions(conditions []metav1.Condition, active []string, generation int64, now metav1.Time) ([]metav1.Condition, bool) {
	out := slices.Clone(conditions)
	changed := false
	find := func(t string) int {
		return slices.IndexFunc(out, func(c metav1.Condition) bool { return c.Type == t })
	}
	for _, t := range active {
		want := metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: reasons[t], Message: messages[t], ObservedGeneration: generation, LastTransitionTime: now}
		switch i := find(t); {
		case i < 0:
			out = append(out, want)
			changed = true
		case out[i].Status != metav1.ConditionTrue || out[i].ObservedGeneration != generation:
			out[i] = want
			changed = true
		}
		for _, x := range exclusive[t] {
			if i := find(x); i >= 0 && out[i].Status == metav1.ConditionTrue && !slices.Contains(active, x) {
				out[i].Status, out[i].LastTransitionTime, out[i].ObservedGeneration = metav1.ConditionFalse, now, generation
				changed = true
			}
		}
	}
	for i := range out {
		if out[i].ObservedGeneration != generation {
			out[i].ObservedGeneration = generation
			changed = true
		}
	}
	return out, changed
}
