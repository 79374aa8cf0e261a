package preview

import (
	"maps"
	"slices"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
	"github.com/lws-crossplane/lws-crossplane/internal/dscompose"
)

// disaggregatedClaim tells whether obj is a DisaggregatedSet claim.
func disaggregatedClaim(obj map[string]any) bool {
	kind, _ := obj["kind"].(string)
	return kind == "DisaggregatedSet"
}

// disaggregatedObjects are the objects a DisaggregatedSet runs as in each
// target cluster once every role is ready: its LeaderWorkerSets' objects
// and its role Services, which wait for ready groups. It plans twice: once
// from nothing, and once with every set reporting its groups ready.
func disaggregatedObjects(obj map[string]any) ([]ClusterObject, error) {
	d, err := dscompose.Read(obj)
	if err != nil {
		return nil, err
	}
	composed, err := dscompose.Plan(d, dscompose.Observed{})
	if err != nil {
		return nil, err
	}
	ready := dscompose.Observed{Scalers: map[string]*v1alpha1.DisaggregatedSetRoleScaler{}}
	for _, s := range composed.Scalers {
		ready.Scalers[s.Labels[disagg.LabelRole]] = s
	}
	for _, mr := range composed.Resources {
		mr = mr.DeepCopy()
		n := mr.Spec.ForProvider.Replicas
		mr.Status.AtProvider.Replicas, mr.Status.AtProvider.ReadyReplicas, mr.Status.AtProvider.UpdatedReplicas = n, n, n
		if s, ok := dscompose.ReadSet(mr); ok {
			ready.Sets = append(ready.Sets, s)
		}
	}
	if composed, err = dscompose.Plan(d, ready); err != nil {
		return nil, err
	}
	var out []ClusterObject
	for _, name := range slices.Sorted(maps.Keys(composed.Resources)) {
		mr := composed.Resources[name]
		objs, err := simulated(mr.Labels[dscompose.LabelCluster], mr.Spec.ForProvider)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}
