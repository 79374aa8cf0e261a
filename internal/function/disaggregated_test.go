package function

import (
	"context"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// xds is a DisaggregatedSet composite of a Static and an External role.
const xds = `{
  "apiVersion": "lws.crossplane.io/v1alpha1",
  "kind": "XDisaggregatedSet",
  "metadata": {"name": "llm", "namespace": "default", "generation": 2},
  "spec": {"roles": [
    {"name": "prefill", "spec": {"replicas": 2, "leaderWorkerTemplate": {"size": 2, "workerTemplate": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}}},
    {"name": "decode", "scaling": {"mode": "External"}, "spec": {"leaderWorkerTemplate": {"size": 2, "workerTemplate": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}}}
  ]}
}`

func TestRunFunctionComposesADisaggregatedSet(t *testing.T) {
	rsp := run(t, &fnv1.RunFunctionRequest{
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(xds)}},
		Desired:  &fnv1.State{Resources: map[string]*fnv1.Resource{"earlier": {Resource: resource.MustStructJSON(earlier)}}},
	})
	res := rsp.GetDesired().GetResources()
	var sets []string
	for name, r := range res {
		switch kind := r.GetResource().AsMap()["kind"]; {
		case name == "earlier":
		case kind == "RemoteLeaderWorkerSet" && strings.HasPrefix(name, "0-"):
			sets = append(sets, name)
		case kind == "DisaggregatedSetRoleScaler" && name == "scaler-decode":
		default:
			t.Errorf("unexpected desired resource %s of kind %v", name, kind)
		}
	}
	if len(sets) != 2 {
		t.Errorf("want one managed resource per role of slice 0, got %v", keys(res))
	}
	st := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)
	if st["revision"] == "" || st["observedGeneration"] != float64(2) || len(st["roleStatuses"].([]any)) != 2 {
		t.Errorf("status %v: want the revision, the generation and a status per role", st)
	}
	if got := conditions(rsp); got["Valid"] != fnv1.Status_STATUS_CONDITION_TRUE || got["Available"] != fnv1.Status_STATUS_CONDITION_FALSE || got["Progressing"] != fnv1.Status_STATUS_CONDITION_TRUE {
		t.Errorf("a new DisaggregatedSet is Valid, Progressing and not Available; got %v", got)
	}
	var created bool
	for _, r := range rsp.GetResults() {
		created = created || r.GetReason() == "ScalerCreated"
	}
	if !created {
		t.Errorf("no ScalerCreated event in %v", rsp.GetResults())
	}
}

func TestRunFunctionRefusesAnInvalidDisaggregatedSet(t *testing.T) {
	invalid := strings.Replace(xds, `"name": "decode", "scaling"`, `"name": "prefill", "scaling"`, 1)
	rsp, err := New(logging.NewNopLogger()).RunFunction(context.Background(), &fnv1.RunFunctionRequest{
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(invalid)}},
		Desired:  &fnv1.State{Resources: map[string]*fnv1.Resource{"earlier": {Resource: resource.MustStructJSON(earlier)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(rsp.GetDesired().GetResources()); len(got) != 1 {
		t.Errorf("an invalid DisaggregatedSet composed %v", got)
	}
	var fatal string
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			fatal = r.GetMessage()
		}
	}
	if !strings.Contains(fatal, "spec.roles[1].name: duplicate role") {
		t.Errorf("fatal result %q, want one naming spec.roles[1].name", fatal)
	}
}
