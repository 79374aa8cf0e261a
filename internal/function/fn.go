// Package function is the composition function: it reads a LeaderWorkerSet
// claim or composite resource, plans it with package compose, and answers
// Crossplane with one RemoteLeaderWorkerSet per target cluster and the status
// the provider reported back.
package function

import (
	"context"
	"errors"
	"time"

	xpapiextv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composite"
	"github.com/crossplane/function-sdk-go/response"
	"google.golang.org/protobuf/types/known/durationpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
)

// Function answers RunFunction requests.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log logging.Logger
}

// New returns a Function that logs to log.
func New(log logging.Logger) *Function {
	return &Function{log: log}
}

// RunFunction composes a LeaderWorkerSet. Invalid input is a fatal result
// that names the field: Crossplane then keeps every resource it composed
// before, so a bad edit loses nothing.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	in := &v1alpha1.FunctionInput{}
	if req.GetInput() != nil {
		if err := request.GetInput(req, in); err != nil {
			rsp := response.To(req, response.DefaultTTL)
			response.Fatal(rsp, errors.Join(errors.New("cannot read function input"), err))
			return rsp, nil
		}
	}
	rsp := response.To(req, ttl(in))

	oxr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		response.Fatal(rsp, errors.Join(errors.New("cannot get observed composite resource"), err))
		return rsp, nil
	}
	log := f.log.WithValues("xr-apiversion", oxr.Resource.GetAPIVersion(), "xr-kind", oxr.Resource.GetKind(), "xr-name", oxr.Resource.GetName())

	observed, err := request.GetObservedComposedResources(req)
	if err != nil {
		response.Fatal(rsp, errors.Join(errors.New("cannot get observed composed resources"), err))
		return rsp, nil
	}
	if IsDisaggregated(oxr.Resource.GetKind()) {
		if err := composeDisaggregated(req, rsp, observed); err != nil {
			log.Info("Cannot compose DisaggregatedSet", "error", err)
			invalid(rsp, err)
		}
		return rsp, nil
	}
	clusters, err := observedClusters(observed)
	if err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}

	l, err := compose.Read(oxr.Resource.Object)
	if err == nil {
		var p planned
		if p, err = plan(req, oxr.Resource.Object, l, clusters); err == nil {
			rsp.Requirements = requirements(l)
			if due := p.due(); due > 0 {
				rsp.Meta.Ttl = durationpb.New(min(recheck(due), ttl(in)))
			}
			if circuitOpen(oxr.Resource) {
				rsp.Meta.Ttl = durationpb.New(min(rsp.GetMeta().GetTtl().AsDuration(), CircuitOpenTTL))
			}
			err = f.respond(req, rsp, p, clusters)
		}
	}
	if err != nil {
		log.Info("Cannot compose LeaderWorkerSet", "error", err)
		invalid(rsp, err)
	}
	return rsp, nil
}

// planned is a LeaderWorkerSet placed, and sequenced over its clusters.
type planned struct {
	compose.Placement
	seq        placement.Sequenced
	sequential bool
}

// due is when a decision falls due that no change announces, zero if none.
func (p planned) due() time.Duration {
	if p.Recheck > 0 && (p.seq.Recheck == 0 || p.Recheck < p.seq.Recheck) {
		return p.Recheck
	}
	return p.seq.Recheck
}

// plan places the LeaderWorkerSet by what is observed of its clusters now,
// and holds back the clusters whose turn in a Sequential rollout has not
// come.
func plan(req *fnv1.RunFunctionRequest, xr map[string]any, l compose.LeaderWorkerSet, clusters observedSet) (planned, error) {
	mem, err := remembered(xr)
	if err != nil {
		return planned{}, err
	}
	obs, err := observations(req, l, clusters, mem)
	if err != nil {
		return planned{}, err
	}
	now := time.Now()
	p, err := compose.PlanObserved(autoscaled(l, clusters, mem), clusters.template(), obs, now)
	if err != nil {
		return planned{}, err
	}
	var r *v1alpha1.PlacementRollout
	if l.Spec.Placement != nil {
		r = l.Spec.Placement.Rollout
	}
	keepLost(&p, clusters)
	seq := sequence(&p, r, clusters, mem, now)
	allot(&p, clusters)
	return planned{Placement: p, seq: seq, sequential: r != nil && r.Strategy == v1alpha1.RolloutSequential}, nil
}

// keepLost desires the managed resource of a cluster lost to a failover as
// it was observed: nothing is deleted or changed there while it cannot be
// read.
func keepLost(p *compose.Placement, mrs observedSet) {
	for i, t := range p.Targets {
		if mr, ok := mrs[t.Cluster]; ok && t.Keep {
			p.Targets[i].Resource = kept(mr)
		}
	}
}

// respond sets the desired managed resources, passing through those of
// earlier pipeline steps, and the composite resource's status.
func (f *Function) respond(req *fnv1.RunFunctionRequest, rsp *fnv1.RunFunctionResponse, p planned, clusters observedSet) error {
	targets := p.Targets
	desired, err := request.GetDesiredComposedResources(req)
	if err != nil {
		return errors.Join(errors.New("cannot get desired composed resources"), err)
	}
	for _, t := range targets {
		if _, ok := clusters[t.Cluster]; t.Keep && !ok {
			continue // Lost before it was ever created: nothing to keep.
		}
		dcd, err := desiredComposed(t, clusters)
		if err != nil {
			return err
		}
		desired[ResourceName(t.Cluster)] = dcd
	}
	if err := response.SetDesiredComposedResources(rsp, desired); err != nil {
		return errors.Join(errors.New("cannot set desired composed resources"), err)
	}

	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		return errors.Join(errors.New("cannot get desired composite resource"), err)
	}
	st := aggregate(p, clusters)
	if err := dxr.Resource.SetValue("status", st.object()); err != nil {
		return errors.Join(errors.New("cannot set composite resource status"), err)
	}
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		return errors.Join(errors.New("cannot set desired composite resource"), err)
	}
	st.conditions(rsp)
	return nil
}

// invalid reports input the function cannot compose, on the composite
// resource and on its claim.
func invalid(rsp *fnv1.RunFunctionResponse, err error) {
	reason := v1alpha1.ReasonInvalidSpec
	var fe lws.FieldErrors
	if !errors.As(err, &fe) {
		reason = "ComposeFailed"
	}
	// Crossplane turns a fatal result into the composite resource's Synced
	// condition only; the condition and the warning before it, an event,
	// reach the claim too.
	response.ConditionFalse(rsp, v1alpha1.ConditionValid, reason).WithMessage(err.Error()).TargetCompositeAndClaim()
	for _, sev := range []fnv1.Severity{fnv1.Severity_SEVERITY_WARNING, fnv1.Severity_SEVERITY_FATAL} {
		rsp.Results = append(rsp.Results, &fnv1.Result{
			Severity: sev,
			Message:  err.Error(),
			Reason:   &reason,
			Target:   fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum(),
		})
	}
}

// recheck is the TTL that has Crossplane call the function again when a
// decision falls due, instead of at the next poll. Crossplane requeues a
// composite after its TTL give or take 10%, so a decision is looked at
// again halfway until it is near, and then just after it: the jitter of a
// TTL that short is a few milliseconds, and a failover is late by less
// than a twentieth of a second. (With a near time of one second it was
// late by 0.1 to 0.2 s, a tenth of the failover benchmark's floor.)
func recheck(due time.Duration) time.Duration {
	const near = 200 * time.Millisecond
	if due > near {
		return due / 2
	}
	return due.Truncate(time.Millisecond) + 20*time.Millisecond
}

// CircuitOpenTTL is the TTL while the composite resource's circuit
// breaker is open. Crossplane core then drops the composite's watch events
// but one per 30 s for 5 minutes, a user's edit of its claim included;
// the requeue a TTL asks for is not a watch event, so the composite is
// still reconciled this often and an edit reaches its clusters within it.
// A reconcile that finds nothing changed writes nothing, so this costs a
// function call per composite whose breaker is open, not more events.
const CircuitOpenTTL = 500 * time.Millisecond

// circuitOpen tells whether core reports the composite's circuit breaker
// open (its Responsive condition).
func circuitOpen(xr *composite.Unstructured) bool {
	c := xr.GetCondition(xpapiextv1.TypeResponsive)
	return c.Status == corev1.ConditionFalse && c.Reason == xpapiextv1.ReasonWatchCircuitOpen
}

func ttl(in *v1alpha1.FunctionInput) time.Duration {
	if in.TTL == nil {
		return response.DefaultTTL
	}
	return in.TTL.Duration
}

// ResourcePrefix starts the pipeline name of each cluster's managed resource.
const ResourcePrefix = "cluster-"

// ResourceName is the pipeline name of a cluster's managed resource.
func ResourceName(cluster string) resource.Name {
	return resource.Name(ResourcePrefix + cluster)
}
