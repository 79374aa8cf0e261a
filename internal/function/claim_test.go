package function

import (
	"testing"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/utils/ptr"
)

// claimedXR is the legacy composite resource of claim "inference" in
// namespace "team-a": Crossplane dropped the claim's exclusive-topology
// annotation, and kept the other.
const claimedXR = `{"apiVersion":"lws.crossplane.io/v1alpha1","kind":"CompositeLeaderWorkerSet",
  "metadata":{"name":"inference-x7k2p","labels":{"crossplane.io/claim-name":"inference","crossplane.io/claim-namespace":"team-a"},"annotations":{"team":"a"}},
  "spec":{"replicas":2,"leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}}`

const theClaim = `{"apiVersion":"lws.crossplane.io/v1alpha1","kind":"LeaderWorkerSet",
  "metadata":{"name":"inference","namespace":"team-a","annotations":{"team":"a","leaderworkerset.sigs.k8s.io/exclusive-topology":"cloud.google.com/gke-nodepool"}}}`

// TestRunFunctionReadsUpstreamAnnotationsFromTheClaim: Crossplane does not
// copy a claim's k8s.io annotations to its composite, so the function
// requires the claim and takes them from it.
func TestRunFunctionReadsUpstreamAnnotationsFromTheClaim(t *testing.T) {
	req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(claimedXR)}}}
	rsp := run(t, req)
	want := &fnv1.ResourceSelector{ApiVersion: "lws.crossplane.io/v1alpha1", Kind: "LeaderWorkerSet", Match: &fnv1.ResourceSelector_MatchName{MatchName: "inference"}, Namespace: ptr.To("team-a")}
	if diff := cmp.Diff(want, rsp.GetRequirements().GetResources()[RequiredClaim], protocmp.Transform()); diff != "" {
		t.Fatalf("the claim's requirement: -want, +got:\n%s", diff)
	}

	req.RequiredResources = map[string]*fnv1.Resources{RequiredClaim: {Items: []*fnv1.Resource{{Resource: resource.MustStructJSON(theClaim)}}}}
	rsp = run(t, req)
	mr := rsp.GetDesired().GetResources()["cluster-default"].GetResource().AsMap()
	got := mr["spec"].(map[string]any)["forProvider"].(map[string]any)["metadata"].(map[string]any)["annotations"]
	wantAnnotations := map[string]any{"team": "a", "leaderworkerset.sigs.k8s.io/exclusive-topology": "cloud.google.com/gke-nodepool"}
	if diff := cmp.Diff(wantAnnotations, got); diff != "" {
		t.Errorf("the managed resource's annotations: -want, +got:\n%s", diff)
	}
}
