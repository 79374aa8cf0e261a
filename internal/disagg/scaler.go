package disagg

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// The role scaler's condition, upstream's.
const (
	ConditionReady = "Ready"
	ReasonBound    = "Bound"
	ReasonUnbound  = "Unbound"
)

// ScalerStatus is the status of a role scaler: the groups of the role's
// LeaderWorkerSets (every revision and slice) as their provider reported
// them, and the selector of the role's leader pods. A scaler without the
// labels of a role is Unbound. now stamps a condition that changes.
func ScalerStatus(s *v1alpha1.DisaggregatedSetRoleScaler, sets []v1alpha1.RemoteLeaderWorkerSet, now metav1.Time) v1alpha1.DisaggregatedSetRoleScalerStatus {
	st := v1alpha1.DisaggregatedSetRoleScalerStatus{ObservedGeneration: s.Generation, Conditions: append([]metav1.Condition(nil), s.Status.Conditions...)}
	ds, role := s.Labels[LabelName], s.Labels[LabelRole]
	cond := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonBound, Message: "Scales role " + role + " of DisaggregatedSet " + ds, ObservedGeneration: s.Generation, LastTransitionTime: now}
	if ds == "" || role == "" {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, ReasonUnbound, "Has no "+LabelName+" and "+LabelRole+" labels: scales no role"
	} else {
		st.Selector = ScalerSelector(ds, role)
		for _, mr := range sets {
			if mr.Labels[LabelName] == ds && mr.Labels[LabelRole] == role {
				st.Replicas += mr.Status.AtProvider.Replicas
			}
		}
	}
	meta.SetStatusCondition(&st.Conditions, cond)
	return st
}
