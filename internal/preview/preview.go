// Package preview shows what a LeaderWorkerSet becomes without a cluster:
// the composed resources the composition function returns, or the objects
// that will exist in each target cluster.
package preview

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/dscompose"
	"github.com/lws-crossplane/lws-crossplane/internal/function"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// ControlPlane stands for the cluster of an object composed into the
// control plane rather than carried to a target cluster.
const ControlPlane = "(control plane)"

// ClusterObject is an object and the target cluster it goes to.
type ClusterObject struct {
	Cluster string         `json:"cluster"`
	Object  map[string]any `json:"object"`
}

// Composed runs the composition function in process on a claim or composite
// resource and returns the resources it composes, by cluster name.
func Composed(obj map[string]any) ([]ClusterObject, error) {
	if disaggregatedClaim(obj) {
		// Crossplane gives the function the claim's composite resource.
		obj = maps.Clone(obj)
		obj["kind"] = function.KindXDisaggregatedSet
	}
	s, err := structpb.NewStruct(obj)
	if err != nil {
		return nil, fmt.Errorf("cannot encode input: %w", err)
	}
	req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: s}}}
	rsp, err := function.New(logging.NewNopLogger()).RunFunction(context.Background(), req)
	if err != nil {
		return nil, err
	}
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			return nil, errors.New(r.GetMessage())
		}
	}
	res := rsp.GetDesired().GetResources()
	out := make([]ClusterObject, 0, len(res))
	for _, name := range slices.Sorted(maps.Keys(res)) {
		cluster, _ := strings.CutPrefix(name, function.ResourcePrefix)
		if c := res[name].GetResource().AsMap(); c != nil {
			// A DisaggregatedSet's managed resources name their cluster;
			// its role scalers stay in the control plane.
			labels, _ := c["metadata"].(map[string]any)["labels"].(map[string]any)
			switch {
			case c["kind"] == v1alpha1.DisaggregatedSetRoleScalerKind:
				cluster = ControlPlane
			case labels[dscompose.LabelCluster] != nil:
				cluster, _ = labels[dscompose.LabelCluster].(string)
			}
		}
		out = append(out, ClusterObject{Cluster: cluster, Object: res[name].GetResource().AsMap()})
	}
	return out, nil
}

// Objects returns the Kubernetes objects a claim or composite resource runs
// as in each target cluster, as the provider plans them for an empty cluster
// whose pods all start (groups.Simulation): the template revision, the
// leader StatefulSet, the Services, every group's worker StatefulSet and,
// with gang scheduling, its gang object (Auto shown as the Workload API).
// Exclusive placement's nodeSelector on workers depends on where the leader
// is scheduled, so it does not show here.
func Objects(obj map[string]any) ([]ClusterObject, error) {
	if kind, _ := obj["kind"].(string); function.IsDisaggregated(kind) || disaggregatedClaim(obj) {
		return disaggregatedObjects(obj)
	}
	l, err := compose.Read(obj)
	if err != nil {
		return nil, err
	}
	targets, err := compose.Plan(l, nil)
	if err != nil {
		return nil, err
	}
	var out []ClusterObject
	for _, t := range targets {
		objs, err := simulated(t.Cluster, t.Resource.Spec.ForProvider)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// simulated are the objects a cluster holds of one managed resource once
// every pod started.
func simulated(cluster string, p v1alpha1.RemoteLeaderWorkerSetParameters) ([]ClusterObject, error) {
	c := groups.NewSimulation(p)
	var err error
	if c.Gang, err = previewGang(p.Metadata.Annotations); err != nil {
		return nil, err
	}
	if _, err := c.Converge(metav1.Now()); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cluster, err)
	}
	objs := []any{}
	for i := range c.Revisions {
		objs = append(objs, &c.Revisions[i])
	}
	if c.Leader != nil {
		objs = append(objs, c.Leader)
	}
	for i := range c.Services {
		objs = append(objs, &c.Services[i])
	}
	for i := range c.Workers {
		objs = append(objs, &c.Workers[i])
	}
	for _, g := range c.GangObjects {
		objs = append(objs, g)
	}
	out := make([]ClusterObject, 0, len(objs))
	for _, o := range objs {
		m, err := kube.ToMap(o)
		if err != nil {
			return nil, err
		}
		out = append(out, ClusterObject{Cluster: cluster, Object: asPlanned(m)})
	}
	return out, nil
}

// previewGang is the gang scheduler a cluster would resolve the
// LeaderWorkerSet's to: Auto as one that serves the Workload API.
func previewGang(annotations map[string]string) (lws.GangScheduler, error) {
	g, err := lws.GangOf(annotations)
	if g == lws.GangAuto {
		g = lws.GangWorkload
	}
	return g, err
}

// asPlanned drops what the simulated cluster, not the provider, gave an
// object: its UID, its owners' UIDs and its status.
func asPlanned(m map[string]any) map[string]any {
	delete(m, "status")
	meta, _ := m["metadata"].(map[string]any)
	delete(meta, "uid")
	owners, _ := meta["ownerReferences"].([]any)
	for _, o := range owners {
		delete(o.(map[string]any), "uid")
	}
	return m
}
