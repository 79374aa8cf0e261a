package function

import (
	"encoding/json"
	"errors"
	"fmt"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/crossplane/function-sdk-go/response"
	"google.golang.org/protobuf/types/known/durationpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
	"github.com/lws-crossplane/lws-crossplane/internal/dscompose"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
)

// Kinds of a DisaggregatedSet's composite resources: the namespaced one and
// the legacy one behind its claim.
const (
	KindXDisaggregatedSet         = "XDisaggregatedSet"
	KindCompositeDisaggregatedSet = "CompositeDisaggregatedSet"
)

// IsDisaggregated tells whether a composite kind is a DisaggregatedSet's.
func IsDisaggregated(kind string) bool {
	return kind == KindXDisaggregatedSet || kind == KindCompositeDisaggregatedSet
}

// The DisaggregatedSet's conditions and reasons, upstream's.
const (
	ReasonAllRolesReady     = "AllRolesReady"
	ReasonRolloutInProgress = "RolloutInProgress"
)

// composeDisaggregated answers for a DisaggregatedSet: its managed
// resources (package dscompose), its status, conditions and events.
func composeDisaggregated(req *fnv1.RunFunctionRequest, rsp *fnv1.RunFunctionResponse, observed map[resource.Name]resource.ObservedComposed) error {
	oxr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		return errors.Join(errors.New("cannot get observed composite resource"), err)
	}
	d, err := dscompose.Read(oxr.Resource.Object)
	if err != nil {
		return err
	}
	o, ready, err := observedDisaggregated(observed)
	if err != nil {
		return err
	}
	c, err := dscompose.Plan(d, o)
	if err != nil {
		return err
	}

	desired, err := request.GetDesiredComposedResources(req)
	if err != nil {
		return errors.Join(errors.New("cannot get desired composed resources"), err)
	}
	objects := map[string]any{}
	for name, mr := range c.Resources {
		objects[name] = mr
	}
	for name, s := range c.Scalers {
		objects[name] = s
		ready[name] = true // Nothing to wait for: the role's groups are.
	}
	for name, obj := range objects {
		m, err := kube.ToMap(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		dcd := &resource.DesiredComposed{Resource: &composed.Unstructured{}, Ready: resource.ReadyFalse}
		dcd.Resource.SetUnstructuredContent(m)
		if ready[name] {
			dcd.Ready = resource.ReadyTrue
		}
		desired[resource.Name(name)] = dcd
	}
	if err := response.SetDesiredComposedResources(rsp, desired); err != nil {
		return errors.Join(errors.New("cannot set desired composed resources"), err)
	}

	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		return errors.Join(errors.New("cannot get desired composite resource"), err)
	}
	// Through the object's JSON numbers: GetGeneration reads int64 only.
	c.Status.ObservedGeneration, _ = oxr.Resource.GetInteger("metadata.generation")
	st, err := kube.ToMap(c.Status)
	if err != nil {
		return err
	}
	if err := dxr.Resource.SetValue("status", st); err != nil {
		return errors.Join(errors.New("cannot set composite resource status"), err)
	}
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		return errors.Join(errors.New("cannot set desired composite resource"), err)
	}

	response.ConditionTrue(rsp, v1alpha1.ConditionValid, v1alpha1.ReasonValidSpec).TargetCompositeAndClaim()
	// Available and Progressing exclude each other; the False one takes
	// the True one's reason and message, as upstream's.
	reason, msg := ReasonRolloutInProgress, "Roles are being created, scaled or rolled out"
	available, progressing := response.ConditionFalse, response.ConditionTrue
	if c.Available {
		reason, msg = ReasonAllRolesReady, "Every role has all its groups ready at the current revision"
		available, progressing = response.ConditionTrue, response.ConditionFalse
	}
	available(rsp, v1alpha1.ConditionAvailable, reason).WithMessage(msg).TargetCompositeAndClaim()
	progressing(rsp, v1alpha1.ConditionProgressing, reason).WithMessage(msg).TargetCompositeAndClaim()
	for _, w := range c.Warnings {
		response.Warning(rsp, errors.New(w)).TargetCompositeAndClaim()
	}
	for _, e := range c.Events {
		response.Normal(rsp, e.Message).WithReason(e.Reason).TargetCompositeAndClaim()
	}
	if c.Requeue > 0 {
		rsp.Meta.Ttl = durationpb.New(min(c.Requeue, rsp.GetMeta().GetTtl().AsDuration()))
	}
	if circuitOpen(oxr.Resource) {
		rsp.Meta.Ttl = durationpb.New(min(rsp.GetMeta().GetTtl().AsDuration(), CircuitOpenTTL))
	}
	return nil
}

// observedDisaggregated reads the managed resources and role scalers
// Crossplane observed of a DisaggregatedSet, and which managed resources
// are Ready, by pipeline name.
func observedDisaggregated(observed map[resource.Name]resource.ObservedComposed) (dscompose.Observed, map[string]bool, error) {
	o := dscompose.Observed{Scalers: map[string]*v1alpha1.DisaggregatedSetRoleScaler{}}
	ready := map[string]bool{}
	for name, oc := range observed {
		var into any
		switch oc.Resource.GetKind() {
		case v1alpha1.RemoteLeaderWorkerSetKind:
			into = &v1alpha1.RemoteLeaderWorkerSet{}
		case v1alpha1.DisaggregatedSetRoleScalerKind:
			into = &v1alpha1.DisaggregatedSetRoleScaler{}
		default:
			continue
		}
		b, err := json.Marshal(oc.Resource.Object)
		if err == nil {
			err = json.Unmarshal(b, into)
		}
		if err != nil {
			return o, nil, fmt.Errorf("cannot read observed %s: %w", name, err)
		}
		switch obj := into.(type) {
		case *v1alpha1.RemoteLeaderWorkerSet:
			if s, ok := dscompose.ReadSet(obj); ok {
				o.Sets = append(o.Sets, s)
				ready[string(name)] = obj.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue
			}
		case *v1alpha1.DisaggregatedSetRoleScaler:
			o.Scalers[obj.Labels[disagg.LabelRole]] = obj
		}
	}
	return o, ready, nil
}
