package function

import (
	"encoding/json"
	"fmt"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
)

// RequiredPrefix starts the name under which the function requires a
// cluster's TargetCluster from Crossplane: "targetcluster-<cluster>".
// Crossplane runs the composite again when one of them changes, which is
// how a lost cluster or a change of room reaches placement.
const RequiredPrefix = "targetcluster-"

// requirements asks Crossplane for the TargetCluster of each cluster of the
// placement that a ClusterProviderConfig reaches; the provider keeps one
// per ClusterProviderConfig, named after it. Clusters reached through a
// namespaced ProviderConfig have none, and are placed unobserved.
func requirements(l compose.LeaderWorkerSet) *fnv1.Requirements {
	r := &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{}}
	for _, t := range placement.Clusters(l.Spec.Placement) {
		pc := placement.ProviderConfig(t)
		if pc.Kind != v1alpha1.ClusterProviderConfigKind {
			continue
		}
		r.Resources[RequiredPrefix+t.Name] = &fnv1.ResourceSelector{
			ApiVersion: v1alpha1.SchemeGroupVersion.String(),
			Kind:       v1alpha1.TargetClusterKind,
			Match:      &fnv1.ResourceSelector_MatchName{MatchName: pc.Name},
		}
	}
	return r
}

// observations are what placement knows of each cluster: its TargetCluster
// as Crossplane supplied it, its groups as its managed resource reports
// them, and what the composite's status remembers of it.
func observations(req *fnv1.RunFunctionRequest, l compose.LeaderWorkerSet, mrs observedSet, remembered map[string]v1alpha1.ClusterStatus) (map[string]placement.Observed, error) {
	out := map[string]placement.Observed{}
	for _, t := range placement.Clusters(l.Spec.Placement) {
		o := placement.Observed{}
		if mr, ok := mrs[t.Name]; ok {
			o.Groups, o.Share = mr.Status.AtProvider.Replicas, mr.Spec.ForProvider.Replicas
			for _, u := range mr.Status.AtProvider.UnschedulableGroups {
				o.Unschedulable = append(o.Unschedulable, u.Since)
			}
			// Ready groups count only as last seen by a provider that
			// reached the cluster: a lost cluster's are stale.
			if mr.GetCondition(xpv2.TypeSynced).Status == corev1.ConditionTrue {
				o.Ready = mr.Status.AtProvider.ReadyReplicas
			}
		}
		if cs, ok := remembered[t.Name]; ok {
			o.LostSince, o.FailedOver, o.SpillLimit = cs.LostSince, cs.FailedOver, cs.SpillLimit
		}
		room, err := targetCluster(req, t.Name)
		if err != nil {
			return nil, err
		}
		o.Room = room
		out[t.Name] = o
	}
	return out, nil
}

// targetCluster is the status of a cluster's required TargetCluster, nil
// when Crossplane found none (or was not asked yet).
func targetCluster(req *fnv1.RunFunctionRequest, cluster string) (*v1alpha1.TargetClusterStatus, error) {
	items := req.GetRequiredResources()[RequiredPrefix+cluster].GetItems()
	if len(items) == 0 {
		return nil, nil
	}
	// Straight from the protobuf struct: through JSON it took most of a
	// RunFunction with three clusters of 1,000 nodes.
	tc := &v1alpha1.TargetCluster{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(items[0].GetResource().AsMap(), tc); err != nil {
		return nil, fmt.Errorf("cannot read TargetCluster of cluster %s: %w", cluster, err)
	}
	return &tc.Status, nil
}

// remembered is what the composite's status says of each cluster.
func remembered(xr map[string]any) (map[string]v1alpha1.ClusterStatus, error) {
	st, _ := xr["status"].(map[string]any)
	clusters, ok := st["clusters"]
	if !ok {
		return nil, nil
	}
	b, err := json.Marshal(clusters)
	if err != nil {
		return nil, fmt.Errorf("cannot read status.clusters: %w", err)
	}
	var list []v1alpha1.ClusterStatus
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("cannot read status.clusters: %w", err)
	}
	out := make(map[string]v1alpha1.ClusterStatus, len(list))
	for _, cs := range list {
		out[cs.Name] = cs
	}
	return out, nil
}
