package function

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/response"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/rollout"
)

// status is the LeaderWorkerSet status summed over clusters.
type status struct {
	v1alpha1.LeaderWorkerSetStatus

	available, updating bool
	// budget: a cluster reports GroupRestartBudgetExhausted, True or
	// False; exhausted are the messages of those where it is True.
	budget    bool
	exhausted []string
	// lost, short and spilled are placement's words on lost clusters,
	// missing room and groups moved off full clusters; unsynced what the
	// provider says of clusters it could not bring to their share.
	lost, short, spilled, unsynced []string
	// moved are placement's words on groups moved for room or back from a
	// failover.
	moved []string
	// sequential: the rollout goes cluster by cluster; halted says which
	// cluster stopped it.
	sequential bool
	halted     string
}

// aggregate sums what each cluster's provider observed. A cluster counts as
// available only when its provider says so for the current generation of
// its managed resource; a cluster not observed yet is progressing.
//
// A cluster lost to a failover reports what placement knows of it, but its
// groups, which its provider cannot see, are neither counted nor waited for:
// the other clusters run them.
func aggregate(p planned, observed observedSet) status {
	targets := p.Targets
	st := status{available: true, lost: p.Lost, short: p.Short, spilled: p.Spilled, moved: p.Moved, sequential: p.sequential, halted: p.seq.Halted}
	for i, t := range targets {
		cs := v1alpha1.ClusterStatus{Name: t.Cluster, Groups: t.Groups, DesiredGroups: &t.Desired, LostSince: t.LostSince, FailedOver: t.FailedOver, Capacity: t.Capacity,
			Unschedulable: t.Unschedulable, SpillLimit: t.SpillLimit, Revision: t.Resource.Spec.ForProvider.Revision.Key}
		if i < len(p.seq.Steps) {
			cs.ProgressTime = p.seq.Steps[i].ProgressTime
		}
		if t.Reachable != metav1.ConditionUnknown {
			cs.Reachable = string(t.Reachable)
		}
		mr, ok := observed[t.Cluster]
		if !ok {
			st.available = false
			st.Clusters = append(st.Clusters, cs)
			continue
		}
		at := mr.Status.AtProvider
		cs.ReadyReplicas, cs.UpdatedReplicas, cs.Replicas = at.ReadyReplicas, at.UpdatedReplicas, at.Replicas
		if t.Keep {
			// Shown as last seen, counted nowhere.
			cs.Message = "unreachable; its counts are as last seen"
			st.Clusters = append(st.Clusters, cs)
			continue
		}
		ready, synced := mr.GetCondition(xpv2.TypeReady), mr.GetCondition(xpv2.TypeSynced)
		cs.Ready, cs.Synced = string(ready.Status), string(synced.Status)
		if synced.Status == corev1.ConditionFalse {
			cs.Message = synced.Message
			st.unsynced = append(st.unsynced, "cluster "+t.Cluster+": "+synced.Message)
		} else if ready.Status != corev1.ConditionTrue {
			cs.Message = ready.Message
		}
		fresh := at.ObservedGeneration == mr.Generation
		st.available = st.available && fresh && meta.IsStatusConditionTrue(at.Conditions, v1alpha1.ConditionAvailable)
		st.updating = st.updating || meta.IsStatusConditionTrue(at.Conditions, v1alpha1.ConditionUpdateInProgress)
		if c := meta.FindStatusCondition(at.Conditions, v1alpha1.ConditionGroupRestartBudgetExhausted); c != nil {
			st.budget = true
			if c.Status == metav1.ConditionTrue {
				st.exhausted = append(st.exhausted, "cluster "+t.Cluster+": "+c.Message)
			}
		}
		st.ReadyReplicas += cs.ReadyReplicas
		st.UpdatedReplicas += cs.UpdatedReplicas
		st.Replicas += cs.Replicas
		st.Clusters = append(st.Clusters, cs)
	}
	if len(targets) > 0 {
		st.HPAPodSelector = lws.LeaderPodSelector(targets[0].Resource.Spec.ForProvider.Name)
	}
	return st
}

// object is the status as the composite resource's status field.
func (st status) object() map[string]any {
	clusters := make([]any, 0, len(st.Clusters))
	for _, c := range st.Clusters {
		m := map[string]any{"name": c.Name, "groups": int64(c.Groups), "desiredGroups": int64(*c.DesiredGroups), "readyReplicas": int64(c.ReadyReplicas), "updatedReplicas": int64(c.UpdatedReplicas), "replicas": int64(c.Replicas)}
		for k, v := range map[string]string{"ready": c.Ready, "synced": c.Synced, "message": c.Message, "reachable": c.Reachable, "revision": c.Revision} {
			if v != "" {
				m[k] = v
			}
		}
		if c.LostSince != nil {
			m["lostSince"] = c.LostSince.UTC().Format(metav1.RFC3339Micro)
		}
		if c.ProgressTime != nil {
			m["progressTime"] = c.ProgressTime.UTC().Format(metav1.RFC3339Micro)
		}
		if c.FailedOver {
			m["failedOver"] = true
		}
		if c.Capacity != nil {
			m["capacity"] = int64(*c.Capacity)
		}
		if c.SpillLimit != nil {
			m["spillLimit"] = int64(*c.SpillLimit)
		}
		if c.Unschedulable > 0 {
			m["unschedulable"] = int64(c.Unschedulable)
		}
		clusters = append(clusters, m)
	}
	ready := 0
	for _, c := range st.Clusters {
		if c.Ready == string(corev1.ConditionTrue) {
			ready++
		}
	}
	return map[string]any{
		"clustersReady":   fmt.Sprintf("%d/%d", ready, len(st.Clusters)),
		"readyReplicas":   int64(st.ReadyReplicas),
		"updatedReplicas": int64(st.UpdatedReplicas),
		"replicas":        int64(st.Replicas),
		"hpaPodSelector":  st.HPAPodSelector,
		"clusters":        clusters,
	}
}

// conditions reports Valid, and Available, Progressing and UpdateInProgress
// on the composite resource and its claim, with upstream's exclusivity: Available
// excludes the other two; and GroupRestartBudgetExhausted, naming each
// cluster's exhausted groups.
func (st status) conditions(rsp *fnv1.RunFunctionResponse) {
	active := rollout.Active(st.updating, st.available)
	response.ConditionTrue(rsp, v1alpha1.ConditionValid, v1alpha1.ReasonValidSpec).TargetCompositeAndClaim()
	for _, typ := range []string{v1alpha1.ConditionAvailable, v1alpha1.ConditionProgressing, v1alpha1.ConditionUpdateInProgress} {
		set := response.ConditionFalse
		if slices.Contains(active, typ) {
			set = response.ConditionTrue
		}
		reason, message := rollout.ReasonAndMessage(typ)
		set(rsp, typ, reason).WithMessage(message).TargetCompositeAndClaim()
	}
	st.placed(rsp)
	st.synced(rsp)
	st.rolloutHalted(rsp)
	// Reported whenever a cluster reports it, True or False, so that the
	// XR's condition is refreshed once the budget is no longer exhausted
	// rather than left as it last was.
	switch {
	case len(st.exhausted) > 0:
		response.ConditionTrue(rsp, v1alpha1.ConditionGroupRestartBudgetExhausted, v1alpha1.ReasonRestartBudgetExhausted).
			WithMessage(strings.Join(st.exhausted, "; ")).TargetCompositeAndClaim()
	case st.budget:
		response.ConditionFalse(rsp, v1alpha1.ConditionGroupRestartBudgetExhausted, v1alpha1.ReasonRestartBudgetAvailable).
			WithMessage("No group has exhausted its restart budget").TargetCompositeAndClaim()
	}
}

// placed reports the Placed condition, and each lost cluster and missing
// room as a warning event: their messages are stable while the situation
// is, so that repeated reconciles count one event rather than add many.
func (st status) placed(rsp *fnv1.RunFunctionResponse) {
	all := slices.Concat(st.lost, st.short, st.spilled)
	for _, msg := range all {
		response.Warning(rsp, errors.New(msg)).TargetCompositeAndClaim()
	}
	for _, msg := range st.moved {
		response.Normal(rsp, msg).TargetCompositeAndClaim()
	}
	switch {
	case len(st.lost) > 0:
		response.ConditionFalse(rsp, v1alpha1.ConditionPlaced, v1alpha1.ReasonClusterLost).WithMessage(strings.Join(all, "; ")).TargetCompositeAndClaim()
	case len(st.short) > 0:
		response.ConditionFalse(rsp, v1alpha1.ConditionPlaced, v1alpha1.ReasonInsufficientCapacity).WithMessage(strings.Join(st.short, "; ")).TargetCompositeAndClaim()
	case len(st.spilled) > 0:
		// Placed still: every group has a place, some not where the
		// placement put them.
		response.ConditionTrue(rsp, v1alpha1.ConditionPlaced, v1alpha1.ReasonGroupsSpilled).WithMessage(strings.Join(st.spilled, "; ")).TargetCompositeAndClaim()
	default:
		response.ConditionTrue(rsp, v1alpha1.ConditionPlaced, v1alpha1.ReasonPlaced).WithMessage("Every group is placed in a reachable cluster with room").TargetCompositeAndClaim()
	}
}

// synced reports TargetsSynced, naming each cluster the provider could not
// sync, and why (a missing namespace, refused credentials).
func (st status) synced(rsp *fnv1.RunFunctionResponse) {
	if len(st.unsynced) > 0 {
		response.ConditionFalse(rsp, v1alpha1.ConditionTargetsSynced, v1alpha1.ReasonTargetNotSynced).WithMessage(strings.Join(st.unsynced, "; ")).TargetCompositeAndClaim()
		return
	}
	response.ConditionTrue(rsp, v1alpha1.ConditionTargetsSynced, v1alpha1.ReasonTargetsSynced).WithMessage("Every reachable cluster is synced").TargetCompositeAndClaim()
}

// rolloutHalted reports RolloutHalted for a Sequential rollout.
func (st status) rolloutHalted(rsp *fnv1.RunFunctionResponse) {
	switch {
	case !st.sequential:
	case st.halted != "":
		response.Warning(rsp, errors.New(st.halted)).TargetCompositeAndClaim()
		response.ConditionTrue(rsp, v1alpha1.ConditionRolloutHalted, v1alpha1.ReasonProgressDeadlineExceeded).WithMessage(st.halted).TargetCompositeAndClaim()
	default:
		response.ConditionFalse(rsp, v1alpha1.ConditionRolloutHalted, v1alpha1.ReasonRolloutProgressing).WithMessage("No cluster is past its progress deadline").TargetCompositeAndClaim()
	}
}
