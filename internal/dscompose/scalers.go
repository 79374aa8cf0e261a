package dscompose

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
	"github.com/lws-crossplane/lws-crossplane/internal/dsplan"
)

// Events of the role scalers, upstream's reasons.
const (
	ReasonScalerCreated = "ScalerCreated"
	ReasonScalerDeleted = "ScalerDeleted"
)

// ScalerResourceName is the pipeline name of a role's scaler.
func ScalerResourceName(role string) string { return "scaler-" + role }

// scale resolves each role's target replicas per slice and composes the
// scalers of the External roles. A Static role's come from its spec. An
// External role's come from its scaler's spec, which an autoscaler sets;
// until the scaler exists they are the role's groups now (all revisions),
// or 1 for a new role, and the scaler is created with them. The scaler's
// spec is composed as observed, so that the function never undoes the
// autoscaler.
func (c *Composed) scale(d DisaggregatedSet, spec v1alpha1.DisaggregatedSetSpec, o Observed) map[string]int32 {
	targets := map[string]int32{}
	c.Scalers = map[string]*v1alpha1.DisaggregatedSetRoleScaler{}
	for i := range spec.Roles {
		r := &spec.Roles[i]
		if !disagg.External(r) {
			targets[r.Name] = 1
			if r.Spec.Replicas != nil {
				targets[r.Name] = *r.Spec.Replicas
			}
			if _, ok := o.Scalers[r.Name]; ok {
				c.Events = append(c.Events, dsplan.Event{Type: dsplan.EventTypeNormal, Reason: ReasonScalerDeleted, Message: "Deleted DisaggregatedSetRoleScaler " + disagg.ScalerName(d.Name, r.Name) + ": role " + r.Name + " is no longer External"})
			}
			continue
		}
		replicas := int32(0)
		if s, ok := o.Scalers[r.Name]; ok {
			replicas = s.Spec.Replicas
		} else {
			for _, set := range o.Sets {
				if set.Role == r.Name {
					replicas += set.Resource.Spec.ForProvider.Replicas
				}
			}
			if replicas == 0 {
				replicas = 1
			}
			c.Events = append(c.Events, dsplan.Event{Type: dsplan.EventTypeNormal, Reason: ReasonScalerCreated, Message: "Created DisaggregatedSetRoleScaler " + disagg.ScalerName(d.Name, r.Name) + " for External role " + r.Name})
		}
		targets[r.Name] = replicas
		c.Scalers[ScalerResourceName(r.Name)] = &v1alpha1.DisaggregatedSetRoleScaler{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.DisaggregatedSetRoleScalerKind},
			ObjectMeta: metav1.ObjectMeta{Name: disagg.ScalerName(d.Name, r.Name), Namespace: d.Namespace, Labels: disagg.ScalerLabels(d.Name, r.Name)},
			Spec:       v1alpha1.DisaggregatedSetRoleScalerSpec{Replicas: replicas},
		}
	}
	return targets
}
