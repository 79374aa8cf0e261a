package function

import (
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
)

// AnnotationAutoscaled opts a claim or composite resource into autoscaling:
// a HorizontalPodAutoscaler per cluster scales that cluster's managed
// resource through its scale subresource, and the function stops asserting
// spec.replicas, which would undo every change the autoscaler makes.
const AnnotationAutoscaled = "lws.crossplane.io/autoscaled"

// autoscaled is the LeaderWorkerSet to compose when it is autoscaled and
// every cluster has its managed resource: each cluster keeps the groups
// its managed resource has, and the LeaderWorkerSet has their sum, so that
// the rollout budget and partition are resolved against all groups as
// without autoscaling. Until then spec.replicas gives the first shares.
// Groups that placement moved into a cluster (a failover, a spill) are not
// its own, nor are those it moved out not: as the composite remembers them
// (desiredGroups against groups), they are taken back out of its count,
// which would otherwise grow by them at every compose.
func autoscaled(l compose.LeaderWorkerSet, observed observedSet, mem map[string]v1alpha1.ClusterStatus) compose.LeaderWorkerSet {
	if l.Annotations[AnnotationAutoscaled] != "true" {
		return l
	}
	targets := placement.Clusters(l.Spec.Placement)
	clusters := make([]v1alpha1.ClusterTarget, len(targets))
	var total int32
	for i, t := range targets {
		mr, ok := observed[t.Name]
		if !ok {
			return l
		}
		own := mr.Spec.ForProvider.Replicas
		if cs, ok := mem[t.Name]; ok && cs.DesiredGroups != nil {
			own = max(0, own-(cs.Groups-*cs.DesiredGroups))
		}
		t.Groups, t.Weight = ptr.To(own), nil
		total += own
		clusters[i] = t
	}
	spec := *l.Spec.DeepCopy()
	spec.Replicas = ptr.To(total)
	spec.Placement = l.Spec.Placement.DeepCopy()
	if spec.Placement == nil {
		spec.Placement = &v1alpha1.Placement{}
	}
	spec.Placement.Clusters = clusters
	l.Spec = spec
	return l
}
