package function

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

const xr = `{
  "apiVersion": "lws.crossplane.io/v1alpha1",
  "kind": "XLeaderWorkerSet",
  "metadata": {"name": "test-sample", "namespace": "default", "generation": 1},
  "spec": {
    "replicas": 2,
    "leaderWorkerTemplate": {"size": 2, "workerTemplate": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
  }
}`

const invalidXR = `{
  "apiVersion": "lws.crossplane.io/v1alpha1",
  "kind": "XLeaderWorkerSet",
  "metadata": {"name": "test-sample", "namespace": "default"},
  "spec": {
    "replicas": 2,
    "rolloutStrategy": {"rollingUpdateConfiguration": {"maxUnavailable": 0, "maxSurge": 0}},
    "leaderWorkerTemplate": {"size": 2, "workerTemplate": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
  }
}`

// earlier is a resource an earlier pipeline step composed.
const earlier = `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-an-earlier-step"}}`

func TestRunFunctionInvalid(t *testing.T) {
	cases := map[string]struct {
		reason string
		req    *fnv1.RunFunctionRequest
		want   *fnv1.RunFunctionResponse
	}{
		"FatalNamesTheField": {
			reason: "An invalid spec is a fatal result naming the field, for the XR and its claim; the desired state of earlier steps is returned untouched.",
			req: &fnv1.RunFunctionRequest{
				Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(invalidXR)}},
				Desired:  &fnv1.State{Resources: map[string]*fnv1.Resource{"earlier": {Resource: resource.MustStructJSON(earlier)}}},
			},
			want: &fnv1.RunFunctionResponse{
				Meta:       &fnv1.ResponseMeta{Ttl: durationpb.New(time.Minute)},
				Desired:    &fnv1.State{Resources: map[string]*fnv1.Resource{"earlier": {Resource: resource.MustStructJSON(earlier)}}},
				Results:    invalidResults("spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: must not be 0 when maxSurge is 0"),
				Conditions: []*fnv1.Condition{invalidCondition("spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: must not be 0 when maxSurge is 0")},
			},
		},
		"NoSpec": {
			reason: "A composite resource without a spec is invalid.",
			req: &fnv1.RunFunctionRequest{
				Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(`{"apiVersion":"lws.crossplane.io/v1alpha1","kind":"XLeaderWorkerSet","metadata":{"name":"a"}}`)}},
			},
			want: &fnv1.RunFunctionResponse{
				Meta:       &fnv1.ResponseMeta{Ttl: durationpb.New(time.Minute)},
				Results:    invalidResults("spec: is required"),
				Conditions: []*fnv1.Condition{invalidCondition("spec: is required")},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := New(logging.NewNopLogger()).RunFunction(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("RunFunction(...): %v", err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nRunFunction(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func run(t *testing.T, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionResponse {
	t.Helper()
	rsp, err := New(logging.NewNopLogger()).RunFunction(context.Background(), req)
	if err != nil {
		t.Fatalf("RunFunction(...): %v", err)
	}
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			t.Fatalf("RunFunction(...): fatal result %q", r.GetMessage())
		}
	}
	return rsp
}

func TestRunFunctionComposes(t *testing.T) {
	rsp := run(t, &fnv1.RunFunctionRequest{
		Input:    resource.MustStructJSON(`{"apiVersion":"lws.crossplane.io/v1alpha1","kind":"FunctionInput","ttl":"15s"}`),
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(xr)}},
		Desired:  &fnv1.State{Resources: map[string]*fnv1.Resource{"earlier": {Resource: resource.MustStructJSON(earlier)}}},
	})
	if got := rsp.GetMeta().GetTtl().AsDuration(); got != 15*time.Second {
		t.Errorf("TTL: want the input's 15s, got %s", got)
	}
	res := rsp.GetDesired().GetResources()
	if _, ok := res["earlier"]; !ok {
		t.Errorf("desired resources of earlier steps must pass through; got %v", keys(res))
	}
	mr, ok := res["cluster-default"]
	if !ok {
		t.Fatalf("want a managed resource for the default cluster; got %v", keys(res))
	}
	if mr.GetReady() != fnv1.Ready_READY_FALSE {
		t.Errorf("a managed resource its provider has not reported on is not ready; got %v", mr.GetReady())
	}
	fp := mr.GetResource().AsMap()["spec"].(map[string]any)["forProvider"].(map[string]any)
	for k, want := range map[string]any{"name": "test-sample", "namespace": "default", "replicas": float64(2), "startupPolicy": "LeaderCreated"} {
		if diff := cmp.Diff(want, fp[k]); diff != "" {
			t.Errorf("forProvider.%s: -want, +got:\n%s", k, diff)
		}
	}
	st := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)
	if got := st["hpaPodSelector"]; got != "leaderworkerset.sigs.k8s.io/name=test-sample,leaderworkerset.sigs.k8s.io/worker-index=0" {
		t.Errorf("status.hpaPodSelector selects the leaders only; got %v", got)
	}
	if got := conditions(rsp); got["Progressing"] != fnv1.Status_STATUS_CONDITION_TRUE || got["Available"] != fnv1.Status_STATUS_CONDITION_FALSE {
		t.Errorf("a new LeaderWorkerSet is Progressing and not Available; got %v", got)
	}
}

// observedMR is a cluster's managed resource as Crossplane observes it once
// the provider reported ready groups.
const observedMR = `{
  "apiVersion": "lws.crossplane.io/v1alpha1",
  "kind": "RemoteLeaderWorkerSet",
  "metadata": {"name": "test-sample-default", "namespace": "default", "generation": 3},
  "spec": {"forProvider": {"name": "test-sample", "namespace": "default", "replicas": 2, "startupPolicy": "LeaderCreated",
    "rollout": {"maxUnavailable": 1},
    "revision": {"key": "x", "payload": {"leaderWorkerTemplate": {"size": 2, "subGroupPolicy": {"subGroupPolicyType": "LeaderWorker", "subGroupSize": 1}, "workerTemplate": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}}},
    "leaderStatefulSet": {}}},
  "status": {
    "conditions": [{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                   {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
    "atProvider": {"readyReplicas": 2, "updatedReplicas": 2, "replicas": 2, "observedGeneration": 3,
      "conditions": [{"type": "Available", "status": "True", "reason": "AllGroupsReady", "message": "All replicas are ready", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
  }
}`

// withSubGroups is the XR that observedMR was composed from.
const withSubGroups = `{"apiVersion":"lws.crossplane.io/v1alpha1","kind":"XLeaderWorkerSet","metadata":{"name":"test-sample","namespace":"default"},
  "spec":{"replicas":2,"leaderWorkerTemplate":{"size":2,"subGroupPolicy":{"subGroupSize":1},"workerTemplate":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}}`

func TestRunFunctionReadsStatusBack(t *testing.T) {
	rsp := run(t, &fnv1.RunFunctionRequest{
		Observed: &fnv1.State{
			Composite: &fnv1.Resource{Resource: resource.MustStructJSON(withSubGroups)},
			Resources: map[string]*fnv1.Resource{"cluster-default": {Resource: resource.MustStructJSON(observedMR)}},
		},
	})
	if got := rsp.GetDesired().GetResources()["cluster-default"].GetReady(); got != fnv1.Ready_READY_TRUE {
		t.Errorf("a managed resource whose provider reports Ready is ready; got %v", got)
	}
	st := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)
	mr := rsp.GetDesired().GetResources()["cluster-default"].GetResource().AsMap()
	key := mr["spec"].(map[string]any)["forProvider"].(map[string]any)["revision"].(map[string]any)["key"]
	want := map[string]any{
		"readyReplicas": float64(2), "updatedReplicas": float64(2), "replicas": float64(2), "clustersReady": "1/1",
		"hpaPodSelector": "leaderworkerset.sigs.k8s.io/name=test-sample,leaderworkerset.sigs.k8s.io/worker-index=0",
		"clusters": []any{map[string]any{"name": "default", "groups": float64(2), "desiredGroups": float64(2), "readyReplicas": float64(2), "updatedReplicas": float64(2), "replicas": float64(2), "ready": "True", "synced": "True",
			"revision": key}},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status: -want, +got:\n%s", diff)
	}
	if got := conditions(rsp); got["Available"] != fnv1.Status_STATUS_CONDITION_TRUE || got["Progressing"] != fnv1.Status_STATUS_CONDITION_FALSE {
		t.Errorf("all groups ready: Available and not Progressing; got %v", got)
	}
}

func TestRunFunctionReportsRestartBudgetLws877(t *testing.T) {
	exhausted := `{"type": "GroupRestartBudgetExhausted", "status": "True", "reason": "RestartBudgetExhausted", "message": "Group 1 exhausted its restart budget", "lastTransitionTime": "2026-01-01T00:00:00Z"}`
	available := `{"type": "GroupRestartBudgetExhausted", "status": "False", "reason": "RestartBudgetAvailable", "message": "No group has exhausted its restart budget", "lastTransitionTime": "2026-01-01T00:00:00Z"}`
	cases := map[string]struct {
		reason    string
		condition string
		want      *fnv1.Condition
	}{
		"NeverExhausted": {
			reason: "A LeaderWorkerSet whose clusters never exhausted a budget has no such condition.",
		},
		"ExhaustedNamesClusterAndGroups": {
			reason:    "lws#877: the terminal condition reaches the XR and its claim, naming the cluster and its message.",
			condition: exhausted,
			want: &fnv1.Condition{Type: "GroupRestartBudgetExhausted", Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: "RestartBudgetExhausted",
				Message: ptr.To("cluster default: Group 1 exhausted its restart budget"), Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum()},
		},
		"ClearedTurnsFalse": {
			reason:    "Once no group is exhausted any more, the XR's condition turns False rather than staying True.",
			condition: available,
			want: &fnv1.Condition{Type: "GroupRestartBudgetExhausted", Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: "RestartBudgetAvailable",
				Message: ptr.To("No group has exhausted its restart budget"), Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum()},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mr := observedMR
			if tc.condition != "" {
				mr = strings.Replace(mr, `"conditions": [{"type": "Available"`, `"conditions": [`+tc.condition+`, {"type": "Available"`, 1)
			}
			rsp := run(t, &fnv1.RunFunctionRequest{
				Observed: &fnv1.State{
					Composite: &fnv1.Resource{Resource: resource.MustStructJSON(withSubGroups)},
					Resources: map[string]*fnv1.Resource{"cluster-default": {Resource: resource.MustStructJSON(mr)}},
				},
			})
			var got *fnv1.Condition
			for _, c := range rsp.GetConditions() {
				if c.GetType() == "GroupRestartBudgetExhausted" {
					got = c
				}
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nGroupRestartBudgetExhausted: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRunFunctionUpdateRules(t *testing.T) {
	// The observed revision has a subgroup policy; the XR no longer does.
	rsp, err := New(logging.NewNopLogger()).RunFunction(context.Background(), &fnv1.RunFunctionRequest{
		Observed: &fnv1.State{
			Composite: &fnv1.Resource{Resource: resource.MustStructJSON(xr)},
			Resources: map[string]*fnv1.Resource{"cluster-default": {Resource: resource.MustStructJSON(observedMR)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "spec.leaderWorkerTemplate.subGroupPolicy: cannot remove subGroupSize after it is enabled"
	if diff := cmp.Diff(invalidResults(want), rsp.GetResults(), protocmp.Transform()); diff != "" {
		t.Errorf("removing the subgroup policy: want a warning and a fatal result %q: -want, +got:\n%s", want, diff)
	}
	if len(rsp.GetDesired().GetResources()) != 0 {
		t.Errorf("a rejected update composes nothing new; got %v", keys(rsp.GetDesired().GetResources()))
	}
}

// invalidResults are an invalid spec's results: a warning, which Crossplane
// records as an event on the claim too, and the fatal result that stops
// the pipeline.
func invalidResults(msg string) []*fnv1.Result {
	var out []*fnv1.Result
	for _, sev := range []fnv1.Severity{fnv1.Severity_SEVERITY_WARNING, fnv1.Severity_SEVERITY_FATAL} {
		out = append(out, &fnv1.Result{Severity: sev, Message: msg, Reason: ptr.To(v1alpha1.ReasonInvalidSpec), Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum()})
	}
	return out
}

func invalidCondition(msg string) *fnv1.Condition {
	return &fnv1.Condition{Type: v1alpha1.ConditionValid, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: v1alpha1.ReasonInvalidSpec,
		Message: ptr.To(msg), Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum()}
}

func conditions(rsp *fnv1.RunFunctionResponse) map[string]fnv1.Status {
	out := map[string]fnv1.Status{}
	for _, c := range rsp.GetConditions() {
		out[c.GetType()] = c.GetStatus()
	}
	return out
}

func keys(m map[string]*fnv1.Resource) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRunFunctionTTLWhileCircuitOpen: while core reports the composite's
// circuit breaker open, and drops its watch events (a claim edit
// included), the function asks to be called again within CircuitOpenTTL,
// so that an edit still reaches the clusters that soon.
func TestRunFunctionTTLWhileCircuitOpen(t *testing.T) {
	withResponsive := func(status, reason string) string {
		return strings.Replace(xr, `"spec":`, `"status": {"conditions": [{"type": "Responsive", "status": "`+status+`", "reason": "`+reason+`", "lastTransitionTime": "2026-12-04T00:00:00Z"}]}, "spec":`, 1)
	}
	cases := map[string]struct {
		xr   string
		want time.Duration
	}{
		"CircuitOpen":   {xr: withResponsive("False", "WatchCircuitOpen"), want: CircuitOpenTTL},
		"CircuitClosed": {xr: withResponsive("True", "WatchCircuitClosed"), want: time.Minute},
		"NotReported":   {xr: xr, want: time.Minute},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := run(t, &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(tc.xr)}}})
			if got := rsp.GetMeta().GetTtl().AsDuration(); got != tc.want {
				t.Errorf("TTL %s, want %s", got, tc.want)
			}
		})
	}
}
