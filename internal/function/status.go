package function

import (
	"slices"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/response"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/rollout"
)

// status is the LeaderWorkerSet status summed over clusters.
type status struct {
	v1alpha1.LeaderWorkerSetStatus

	available, updating bool
}

// aggregate sums what each cluster's provider observed. A cluster counts as
// available only when its provider says so for the current generation of
// its managed resource; a cluster not observed yet is progressing.
func aggregate(targets []compose.Target, observed observedSet) status {
	st := status{available: true}
	for _, t := range targets {
		cs := v1alpha1.ClusterStatus{Name: t.Cluster, Groups: t.Groups}
		mr, ok := observed[t.Cluster]
		if !ok {
			st.available = false
			st.Clusters = append(st.Clusters, cs)
			continue
		}
		at := mr.Status.AtProvider
		cs.ReadyReplicas, cs.UpdatedReplicas, cs.Replicas = at.ReadyReplicas, at.UpdatedReplicas, at.Replicas
		ready, synced := mr.GetCondition(xpv2.TypeReady), mr.GetCondition(xpv2.TypeSynced)
		cs.Ready, cs.Synced = string(ready.Status), string(synced.Status)
		if synced.Status == corev1.ConditionFalse {
			cs.Message = synced.Message
		} else if ready.Status != corev1.ConditionTrue {
			cs.Message = ready.Message
		}
		fresh := at.ObservedGeneration == mr.Generation
		st.available = st.available && fresh && meta.IsStatusConditionTrue(at.Conditions, rollout.ConditionAvailable)
		st.updating = st.updating || meta.IsStatusConditionTrue(at.Conditions, rollout.ConditionUpdateInProgress)
		st.ReadyReplicas += cs.ReadyReplicas
		st.UpdatedReplicas += cs.UpdatedReplicas
		st.Replicas += cs.Replicas
		st.Clusters = append(st.Clusters, cs)
	}
	if len(targets) > 0 {
		st.HPAPodSelector = lws.LeaderPodSelector(targets[0].Input.Name)
	}
	return st
}

// object is the status as the composite resource's status field.
func (st status) object() map[string]any {
	clusters := make([]any, 0, len(st.Clusters))
	for _, c := range st.Clusters {
		m := map[string]any{"name": c.Name, "groups": int64(c.Groups), "readyReplicas": int64(c.ReadyReplicas), "updatedReplicas": int64(c.UpdatedReplicas), "replicas": int64(c.Replicas)}
		for k, v := range map[string]string{"ready": c.Ready, "synced": c.Synced, "message": c.Message} {
			if v != "" {
				m[k] = v
			}
		}
		clusters = append(clusters, m)
	}
	return map[string]any{
		"readyReplicas":   int64(st.ReadyReplicas),
		"updatedReplicas": int64(st.UpdatedReplicas),
		"replicas":        int64(st.Replicas),
		"hpaPodSelector":  st.HPAPodSelector,
		"clusters":        clusters,
	}
}

// conditions reports Available, Progressing and UpdateInProgress on the
// composite resource and its claim, with upstream's exclusivity: Available
// excludes the other two.
func (st status) conditions(rsp *fnv1.RunFunctionResponse) {
	var active []string
	switch {
	case st.updating:
		active = []string{rollout.ConditionUpdateInProgress, rollout.ConditionProgressing}
	case st.available:
		active = []string{rollout.ConditionAvailable}
	default:
		active = []string{rollout.ConditionProgressing}
	}
	for _, typ := range []string{rollout.ConditionAvailable, rollout.ConditionProgressing, rollout.ConditionUpdateInProgress} {
		set := response.ConditionFalse
		if slices.Contains(active, typ) {
			set = response.ConditionTrue
		}
		reason, message := rollout.ReasonAndMessage(typ)
		set(rsp, typ, reason).WithMessage(message).TargetCompositeAndClaim()
	}
}
