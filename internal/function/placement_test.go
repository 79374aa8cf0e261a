package function

import (
	"fmt"
	"strings"
	"testing"
	"time"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// twoClusters is an XR over clusters a and b, failing over and spilling
// after 60 s, of groups of 2 pods requesting 8 GPUs each.
const twoClusters = `{"apiVersion":"lws.crossplane.io/v1alpha1","kind":"XLeaderWorkerSet","metadata":{"name":"gpu","namespace":"default"},
  "spec":{"replicas":4,"placement":{"clusters":[{"name":"a"},{"name":"b"}],"failover":{"afterSeconds":60},"spill":{"afterSeconds":60}},
    "leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"containers":[{"name":"c","image":"%s","resources":{"requests":{"nvidia.com/gpu":"8"}}}]}}}}%s}`

func xrOf(image, status string) string { return fmt.Sprintf(twoClusters, image, status) }

// targetClusterJSON is a TargetCluster with free nodes of 8 GPUs,
// reachable or not since its last contact.
func targetClusterJSON(name string, free int, reachable bool, since time.Time) string {
	return occupiedJSON(name, free, 0, reachable, since)
}

// occupiedJSON is a TargetCluster with free nodes of 8 GPUs and own nodes
// that run the composite's pods.
func occupiedJSON(name string, free, own int, reachable bool, since time.Time) string {
	status := "True"
	if !reachable {
		status = "False"
	}
	return fmt.Sprintf(`{"apiVersion":"lws.crossplane.io/v1alpha1","kind":"TargetCluster","metadata":{"name":%q},
  "status":{"readyNodes":%d,"freeNodes":%d,"allocatable":{"nvidia.com/gpu":"%d"},"lastContactTime":%q,
    "occupants":[{"leaderWorkerSet":"default/gpu","nodes":%d,"allocatable":{"nvidia.com/gpu":"%d"}}],
    "conditions":[{"type":"Reachable","status":%q,"reason":"R","lastTransitionTime":%q}]}}`,
		name, free+own, free, 8*free, since.UTC().Format(metav1.RFC3339Micro), own, 8*own, status, since.UTC().Format(time.RFC3339))
}

func required(tcs ...string) map[string]*fnv1.Resources {
	out := map[string]*fnv1.Resources{}
	for i, tc := range tcs {
		out[RequiredPrefix+string(rune('a'+i))] = &fnv1.Resources{Items: []*fnv1.Resource{{Resource: resource.MustStructJSON(tc)}}}
	}
	return out
}

// observedIn is cluster's managed resource as composed for image, with its
// groups ready.
func observedIn(t *testing.T, cluster, image string) *fnv1.Resource {
	t.Helper()
	return observedWith(t, cluster, image, map[string]any{"replicas": 2, "readyReplicas": 2})
}

// observedWith is cluster's managed resource as composed for image, its
// provider reporting atProvider, synced.
func observedWith(t *testing.T, cluster, image string, atProvider map[string]any) *fnv1.Resource {
	t.Helper()
	rsp := run(t, &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(xrOf(image, ""))}}})
	mr := rsp.GetDesired().GetResources()["cluster-"+cluster].GetResource().AsMap()
	mr["status"] = map[string]any{"atProvider": atProvider, "conditions": []any{map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-12-03T12:00:00Z"}}}
	st, err := structpb.NewStruct(mr)
	if err != nil {
		t.Fatal(err)
	}
	return &fnv1.Resource{Resource: st}
}

func groupsOf(rsp *fnv1.RunFunctionResponse, cluster string) any {
	return rsp.GetDesired().GetResources()["cluster-"+cluster].GetResource().AsMap()["spec"].(map[string]any)["forProvider"].(map[string]any)["replicas"]
}

func TestRunFunctionRequiresTargetClusters(t *testing.T) {
	rsp := run(t, &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(xrOf("i", ""))}}})
	want := &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{
		"targetcluster-a": {ApiVersion: "lws.crossplane.io/v1alpha1", Kind: "TargetCluster", Match: &fnv1.ResourceSelector_MatchName{MatchName: "a"}},
		"targetcluster-b": {ApiVersion: "lws.crossplane.io/v1alpha1", Kind: "TargetCluster", Match: &fnv1.ResourceSelector_MatchName{MatchName: "b"}},
	}}
	if diff := cmp.Diff(want, rsp.GetRequirements(), protocmp.Transform()); diff != "" {
		t.Errorf("requirements: -want, +got:\n%s", diff)
	}
}

func TestRunFunctionPlacesByObservation(t *testing.T) {
	now := time.Now()
	cases := map[string]struct {
		reason   string
		xr       string
		required map[string]*fnv1.Resources
		observed func(t *testing.T) map[string]*fnv1.Resource
		groups   map[string]any
		image    string // of cluster a's managed resource
		placed   fnv1.Status
		ttl      time.Duration
		// spillLimit is cluster a's in the composite's status.
		spillLimit any
		// readyA and ready are cluster a's ready groups in the
		// composite's status, and the composite's, when set.
		readyA, ready any
	}{
		"Capacity": {
			reason:   "A cluster with room for one group gets one; the other goes where there is room.",
			xr:       xrOf("i", ""),
			required: required(targetClusterJSON("a", 2, true, now), targetClusterJSON("b", 8, true, now)),
			groups:   map[string]any{"a": float64(1), "b": float64(3)},
			image:    "i",
			placed:   fnv1.Status_STATUS_CONDITION_TRUE,
			ttl:      time.Minute,
		},
		"Blink": {
			reason:   "A cluster lost for 10 s moves nothing; the function is called again halfway to its failover.",
			xr:       xrOf("i", ""),
			required: required(targetClusterJSON("a", 8, false, now.Add(-10*time.Second)), targetClusterJSON("b", 8, true, now)),
			groups:   map[string]any{"a": float64(2), "b": float64(2)},
			image:    "i",
			placed:   fnv1.Status_STATUS_CONDITION_FALSE,
			ttl:      25 * time.Second,
		},
		"Failover": {
			reason:   "A cluster lost since longer than afterSeconds (as the composite remembers) keeps its managed resource as it was, though the template changed, and the other cluster runs every group.",
			xr:       xrOf("new", fmt.Sprintf(`,"status":{"clusters":[{"name":"a","lostSince":%q}]}`, now.Add(-2*time.Minute).UTC().Format(metav1.RFC3339Micro))),
			required: required(targetClusterJSON("a", 8, false, now.Add(-10*time.Second)), targetClusterJSON("b", 8, true, now)),
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				return map[string]*fnv1.Resource{"cluster-a": observedIn(t, "a", "old"), "cluster-b": observedIn(t, "b", "old")}
			},
			groups: map[string]any{"a": float64(2), "b": float64(4)},
			image:  "old",
			placed: fnv1.Status_STATUS_CONDITION_FALSE,
			ttl:    time.Minute,
			// a's groups, as last seen, are shown and not counted.
			readyA: float64(2),
			ready:  float64(2),
		},
		"Spill": {
			reason:   "A group of a unschedulable for 2 minutes goes to b; a keeps it until b runs 3 ready, and the composite remembers a's limit.",
			xr:       xrOf("i", ""),
			required: required(occupiedJSON("a", 0, 2, true, now), occupiedJSON("b", 4, 4, true, now)),
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				stuck := []any{map[string]any{"group": 1, "since": now.Add(-2 * time.Minute).UTC().Format(time.RFC3339)}}
				return map[string]*fnv1.Resource{
					"cluster-a": observedWith(t, "a", "i", map[string]any{"replicas": 2, "readyReplicas": 1, "unschedulableGroups": stuck}),
					"cluster-b": observedWith(t, "b", "i", map[string]any{"replicas": 2, "readyReplicas": 2}),
				}
			},
			groups:     map[string]any{"a": float64(2), "b": float64(3)},
			image:      "i",
			placed:     fnv1.Status_STATUS_CONDITION_TRUE,
			ttl:        time.Minute,
			spillLimit: float64(1),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(tc.xr)}}, RequiredResources: tc.required}
			if tc.observed != nil {
				req.Observed.Resources = tc.observed(t)
			}
			rsp := run(t, req)
			got := map[string]any{"a": groupsOf(rsp, "a"), "b": groupsOf(rsp, "b")}
			if diff := cmp.Diff(tc.groups, got); diff != "" {
				t.Errorf("%s\ngroups: -want, +got:\n%s", tc.reason, diff)
			}
			fp := rsp.GetDesired().GetResources()["cluster-a"].GetResource().AsMap()["spec"].(map[string]any)["forProvider"].(map[string]any)
			payload := fp["revision"].(map[string]any)["payload"].(map[string]any)
			image := payload["leaderWorkerTemplate"].(map[string]any)["workerTemplate"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"]
			if image != tc.image {
				t.Errorf("%s\ncluster a's managed resource runs %v, want %s", tc.reason, image, tc.image)
			}
			if got := conditions(rsp)[v1alpha1.ConditionPlaced]; got != tc.placed {
				t.Errorf("%s\nPlaced is %v, want %v", tc.reason, got, tc.placed)
			}
			st := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)
			if got := clusterStatusOf(st, "a")["spillLimit"]; got != tc.spillLimit {
				t.Errorf("%s\ncluster a's spillLimit %v, want %v", tc.reason, got, tc.spillLimit)
			}
			if tc.ready != nil && (clusterStatusOf(st, "a")["readyReplicas"] != tc.readyA || st["readyReplicas"] != tc.ready) {
				t.Errorf("%s\ncluster a shows %v ready groups, the composite %v; want %v and %v", tc.reason, clusterStatusOf(st, "a")["readyReplicas"], st["readyReplicas"], tc.readyA, tc.ready)
			}
			if got := rsp.GetMeta().GetTtl().AsDuration(); got.Round(time.Second) != tc.ttl {
				t.Errorf("%s\nTTL %s, want %s", tc.reason, got, tc.ttl)
			}
		})
	}
}

func clusterStatusOf(status map[string]any, name string) map[string]any {
	for _, c := range status["clusters"].([]any) {
		if m := c.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

func TestRecheck(t *testing.T) {
	for due, want := range map[time.Duration]time.Duration{
		60 * time.Second:        30 * time.Second,
		2 * time.Second:         time.Second,
		345 * time.Millisecond:  172500 * time.Microsecond,
		200 * time.Millisecond:  220 * time.Millisecond,
		3456 * time.Microsecond: 23 * time.Millisecond,
	} {
		if got := recheck(due); got != want {
			t.Errorf("recheck(%s) = %s, want %s: halfway while far, just after once near", due, got, want)
		}
	}
}

func TestRunFunctionNamesUnsyncedClusters(t *testing.T) {
	mr := strings.Replace(observedMR, `{"type": "Synced", "status": "True", "reason": "ReconcileSuccess"`,
		`{"type": "Synced", "status": "False", "reason": "ReconcileError", "message": "namespace \"team-x\" does not exist in cluster default"`, 1)
	rsp := run(t, &fnv1.RunFunctionRequest{Observed: &fnv1.State{
		Composite: &fnv1.Resource{Resource: resource.MustStructJSON(withSubGroups)},
		Resources: map[string]*fnv1.Resource{"cluster-default": {Resource: resource.MustStructJSON(mr)}},
	}})
	for _, c := range rsp.GetConditions() {
		if c.GetType() == v1alpha1.ConditionTargetsSynced {
			if c.GetStatus() != fnv1.Status_STATUS_CONDITION_FALSE || !strings.Contains(c.GetMessage(), `cluster default: namespace "team-x"`) {
				t.Errorf("TargetsSynced %v: %q; want False naming the cluster and the namespace", c.GetStatus(), c.GetMessage())
			}
			return
		}
	}
	t.Error("no TargetsSynced condition")
}
