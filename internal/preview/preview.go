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

	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/function"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
)

// ClusterObject is an object and the target cluster it goes to.
type ClusterObject struct {
	Cluster string         `json:"cluster"`
	Object  map[string]any `json:"object"`
}

// Composed runs the composition function in process on a claim or composite
// resource and returns the resources it composes, by cluster name.
func Composed(obj map[string]any) ([]ClusterObject, error) {
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
		out = append(out, ClusterObject{Cluster: cluster, Object: res[name].GetResource().AsMap()})
	}
	return out, nil
}

// Objects returns the Kubernetes objects a claim or composite resource runs
// as in each target cluster: the leader StatefulSet, the Services and every
// group's worker StatefulSet, as created before any rollout. Exclusive
// placement's nodeSelector on workers depends on where the leader is
// scheduled, so it does not show here.
func Objects(obj map[string]any) ([]ClusterObject, error) {
	l, err := compose.Read(obj)
	if err != nil {
		return nil, err
	}
	targets, err := compose.Plan(l, nil)
	if err != nil {
		return nil, err
	}
	var out []ClusterObject
	add := func(cluster string, o any) error {
		m, err := kube.ToMap(o)
		if err != nil {
			return err
		}
		out = append(out, ClusterObject{Cluster: cluster, Object: m})
		return nil
	}
	for _, t := range targets {
		in := t.Input
		leader, err := in.LeaderStatefulSet(t.Rollout())
		if err != nil {
			return nil, err
		}
		if err := add(t.Cluster, leader); err != nil {
			return nil, err
		}
		for _, svc := range in.Services() {
			if err := add(t.Cluster, svc); err != nil {
				return nil, err
			}
		}
		for g := range int(t.Groups) {
			if in.UniquePerReplica() {
				if err := add(t.Cluster, in.GroupService(g)); err != nil {
					return nil, err
				}
			}
			if in.Size() < 2 {
				continue
			}
			w, err := in.WorkerStatefulSet(g, "")
			if err != nil {
				return nil, err
			}
			if err := add(t.Cluster, w); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
