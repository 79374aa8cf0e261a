package dscompose

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
	"github.com/lws-crossplane/lws-crossplane/internal/dsplan"
)

// LabelCluster names, on a DisaggregatedSet's managed resource, the target
// cluster of its slice (as in spec.placement), which its provider config
// reference alone does not tell.
const LabelCluster = "lws.crossplane.io/cluster"

// Set is one observed managed resource of a DisaggregatedSet.
type Set struct {
	disagg.Set
	Cluster  string
	Resource *v1alpha1.RemoteLeaderWorkerSet
}

// Composed is what a DisaggregatedSet becomes now.
type Composed struct {
	// Resources are the managed resources to keep or create, by their
	// name in the pipeline; the others are deleted.
	Resources map[string]*v1alpha1.RemoteLeaderWorkerSet
	// Status is the DisaggregatedSet's status, summed over slices.
	Status v1alpha1.DisaggregatedSetStatus
	// Available: every role has every group ready at the revision.
	Available bool
	// Events tell what this step changed, with upstream's reasons.
	Events []dsplan.Event
	// Requeue, when not zero, is when to plan again though nothing
	// observed changes: a rollout that started waits for nothing else.
	Requeue time.Duration
	// Scalers are the DisaggregatedSetRoleScalers of the External roles, by
	// their name in the pipeline (ScalerResourceName).
	Scalers map[string]*v1alpha1.DisaggregatedSetRoleScaler
	// Warnings are what the spec asks for that is ignored.
	Warnings []string
}

// Observed is what Crossplane observed of a DisaggregatedSet's composed
// resources.
type Observed struct {
	Sets []Set
	// Scalers are the role scalers, by role.
	Scalers map[string]*v1alpha1.DisaggregatedSetRoleScaler
}

// ResourceName is the pipeline name of a set's managed resource.
func ResourceName(s disagg.Set) string {
	return fmt.Sprintf("%d-%s-%s", s.Slice, s.Revision, s.Role)
}

// Plan composes a DisaggregatedSet from its spec and the resources observed
// of it.
func Plan(d DisaggregatedSet, o Observed) (Composed, error) {
	spec := d.Spec
	if spec.Slices == nil {
		spec.Slices = ptr.To[int32](1)
	}
	if err := disagg.Validate(d.Name, &spec); err != nil {
		return Composed{}, err
	}
	rev, err := disagg.Revision(spec.Roles)
	if err != nil {
		return Composed{}, err
	}
	clusters, weights := disagg.Clusters(spec.Placement)
	bySlice := map[int32][]Set{}
	running := map[int32]int{}
	for _, s := range o.Sets {
		bySlice[s.Slice] = append(bySlice[s.Slice], s)
		if i := slices.IndexFunc(clusters, func(c disagg.Cluster) bool { return c.Name == s.Cluster }); i >= 0 {
			running[s.Slice] = i
		}
	}
	placed := disagg.PlaceSlices(weights, *spec.Slices, running)

	c := Composed{Resources: map[string]*v1alpha1.RemoteLeaderWorkerSet{}, Status: v1alpha1.DisaggregatedSetStatus{Revision: rev}, Warnings: disagg.Warnings(&spec)}
	targets := c.scale(d, spec, o)
	roles := rolesOf(spec.Roles, targets)
	// The managed resources of slices past spec.slices are left out:
	// Crossplane deletes them.
	for slice := range *spec.Slices {
		if placed[slice] < 0 {
			return Composed{}, fmt.Errorf("spec.placement.clusters: no cluster has weight for slice %d", slice)
		}
		given := clusters[placed[slice]]
		if err := c.slice(d, spec, slice, rev, roles, bySlice[slice], given); err != nil {
			return Composed{}, err
		}
		c.Status.Slices = append(c.Status.Slices, v1alpha1.SliceStatus{Slice: slice, Cluster: sliceCluster(bySlice[slice], given.Name)})
	}
	c.Status.RoleStatuses, c.Available = roleStatuses(spec, rev, targets, o.Sets)
	for _, r := range spec.Roles {
		if _, ok := o.Scalers[r.Name]; disagg.External(&r) && !ok {
			c.Available = false // Its scaler is not there yet.
		}
	}
	return c, nil
}

// slice composes one slice: its sets as the rollout decides, those it
// creates in the cluster given to the slice.
func (c *Composed) slice(d DisaggregatedSet, spec v1alpha1.DisaggregatedSetSpec, slice int32, rev string, roles []dsplan.Role, sets []Set, given disagg.Cluster) error {
	decision, err := dsplan.Plan(rev, roles, lwsOf(sets))
	if err != nil {
		return fmt.Errorf("slice %d: %w", slice, err)
	}
	c.Events = append(c.Events, decision.Events...)
	if after := decision.RequeueAfter; after > 0 && (c.Requeue == 0 || after < c.Requeue) {
		c.Requeue = after
	}
	services := serviceRevisions(rev, roles, sets)
	for _, s := range sets {
		if slices.Contains(decision.Delete, s.Name()) {
			continue
		}
		mr := kept(s.Resource, s.Revision == rev)
		if n, ok := decision.Scale[s.Name()]; ok {
			mr.Spec.ForProvider.Replicas = n
		}
		if n, ok := decision.Annotate[s.Name()]; ok {
			mr.Annotations = map[string]string{disagg.AnnotationInitialReplicas: strconv.Itoa(int(n))}
		}
		roleService(mr, s.Set, services)
		c.Resources[ResourceName(s.Set)] = mr
	}
	for _, create := range decision.Create {
		set := disagg.Set{DS: d.Name, Slice: slice, Revision: rev, Role: create.Role}
		mr, err := newSet(d, spec, set, given, create.Replicas)
		if err != nil {
			return err
		}
		c.Resources[ResourceName(set)] = mr
	}
	return nil
}

// rolesOf are the roles as the rollout sees them: their target replicas
// per slice (targets) and their rollout limits as the user wrote them, since an
// unset limit and a zero one differ to the planner.
func rolesOf(roles []v1alpha1.DisaggregatedRoleSpec, targets map[string]int32) []dsplan.Role {
	out := make([]dsplan.Role, len(roles))
	for i, r := range roles {
		out[i] = dsplan.Role{Name: r.Name, Target: targets[r.Name]}
		if c := r.Spec.RolloutStrategy.RollingUpdateConfiguration; c != nil {
			out[i].MaxSurge, out[i].MaxUnavailable = ptr.To(c.MaxSurge), ptr.To(c.MaxUnavailable)
		}
	}
	return out
}

// lwsOf are a slice's managed resources as the rollout sees them. A
// managed resource whose provider has not reported its generation yet has
// no ready group to the rollout, which waits for it.
func lwsOf(sets []Set) []dsplan.LWS {
	out := make([]dsplan.LWS, len(sets))
	for i, s := range sets {
		mr := s.Resource
		out[i] = dsplan.LWS{Name: s.Name(), Revision: s.Revision, Role: s.Role, Replicas: mr.Spec.ForProvider.Replicas, Order: revisionOrder(sets, s.Revision)}
		if at := mr.Status.AtProvider; at.ObservedGeneration >= mr.Generation {
			out[i].ReadyReplicas = at.ReadyReplicas
		}
		if v, err := strconv.ParseInt(mr.Annotations[disagg.AnnotationInitialReplicas], 10, 32); err == nil {
			out[i].InitialReplicas = ptr.To(int32(v))
		}
	}
	return out
}

// revisionOrder ranks a revision among a slice's by when its first managed
// resource was created: newer revisions rank higher.
func revisionOrder(sets []Set, rev string) int {
	first := map[string]time.Time{}
	for _, s := range sets {
		t := s.Resource.CreationTimestamp.Time
		if f, ok := first[s.Revision]; !ok || t.Before(f) {
			first[s.Revision] = t
		}
	}
	revs := slices.Collect(maps.Keys(first))
	slices.SortFunc(revs, func(a, b string) int {
		return cmp.Or(first[a].Compare(first[b]), cmp.Compare(a, b))
	})
	return slices.Index(revs, rev)
}
