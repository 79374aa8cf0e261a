package dscompose

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
	"github.com/lws-crossplane/lws-crossplane/internal/dsplan"
)

func ds(image string, replicas ...int32) DisaggregatedSet {
	roles := []string{"prefill", "decode"}
	d := DisaggregatedSet{Name: "llm", Namespace: "ns", Spec: v1alpha1.DisaggregatedSetSpec{
		Slices:    ptr.To[int32](2),
		Placement: &v1alpha1.SlicePlacement{Clusters: []v1alpha1.SliceTarget{{Name: "a"}, {Name: "b"}}},
	}}
	for i, r := range roles {
		d.Spec.Roles = append(d.Spec.Roles, v1alpha1.DisaggregatedRoleSpec{
			Name:     r,
			Metadata: metav1.ObjectMeta{Labels: map[string]string{"team": "serving"}},
			Spec: v1alpha1.LeaderWorkerSetSpec{
				Replicas: ptr.To(replicas[i]),
				LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
					Size:           ptr.To[int32](2),
					WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: r, Image: image}}}},
				},
			},
		})
	}
	return d
}

// cluster is what Crossplane and the provider make of the managed
// resources: each as composed, created once, with every group ready as
// soon as it is asked for unless held.
type cluster struct {
	sets    map[string]*v1alpha1.RemoteLeaderWorkerSet
	created map[string]time.Time
	clock   time.Time
	// held: these managed resources report no ready group.
	held map[string]bool
	// scalers by role, as composed.
	scalers map[string]*v1alpha1.DisaggregatedSetRoleScaler
}

func newCluster() *cluster {
	return &cluster{sets: map[string]*v1alpha1.RemoteLeaderWorkerSet{}, created: map[string]time.Time{}, clock: time.Unix(1000, 0), held: map[string]bool{}}
}

func (c *cluster) apply(t *testing.T, composed Composed) {
	t.Helper()
	c.clock = c.clock.Add(time.Second)
	c.sets = map[string]*v1alpha1.RemoteLeaderWorkerSet{}
	for name, mr := range composed.Resources {
		if _, ok := c.created[name]; !ok {
			c.created[name] = c.clock
		}
		mr = mr.DeepCopy()
		mr.CreationTimestamp = metav1.NewTime(c.created[name])
		mr.Generation, mr.Status.AtProvider.ObservedGeneration = 1, 1
		n := mr.Spec.ForProvider.Replicas
		mr.Status.AtProvider.Replicas, mr.Status.AtProvider.UpdatedReplicas = n, n
		if !c.held[mr.Spec.ForProvider.Name] {
			mr.Status.AtProvider.ReadyReplicas = n
		}
		c.sets[name] = mr
	}
	c.scalers = map[string]*v1alpha1.DisaggregatedSetRoleScaler{}
	for _, s := range composed.Scalers {
		c.scalers[s.Labels[disagg.LabelRole]] = s.DeepCopy()
	}
}

func (c *cluster) observed(t *testing.T) []Set {
	t.Helper()
	var out []Set
	for _, name := range slices.Sorted(maps.Keys(c.sets)) {
		s, ok := ReadSet(c.sets[name])
		if !ok {
			t.Fatalf("managed resource %s does not tell its set: labels %v", name, c.sets[name].Labels)
		}
		out = append(out, s)
	}
	return out
}

func plan(t *testing.T, d DisaggregatedSet, c *cluster) Composed {
	t.Helper()
	composed, err := Plan(d, Observed{Sets: c.observed(t), Scalers: c.scalers})
	if err != nil {
		t.Fatal(err)
	}
	return composed
}

func TestPlanCreatesEverySetInItsSliceCluster(t *testing.T) {
	composed := plan(t, ds("v1", 2, 3), newCluster())
	rev := composed.Status.Revision
	if len(composed.Resources) != 4 {
		t.Fatalf("%d managed resources, want one per slice and role", len(composed.Resources))
	}
	for slice, cluster := range []string{"a", "b"} {
		for role, replicas := range map[string]int32{"prefill": 2, "decode": 3} {
			set := disagg.Set{DS: "llm", Slice: int32(slice), Revision: rev, Role: role}
			mr := composed.Resources[ResourceName(set)]
			if mr == nil {
				t.Fatalf("no managed resource for %s", set.Name())
			}
			p := mr.Spec.ForProvider
			if p.Name != set.Name() || p.Replicas != replicas || mr.Spec.ProviderConfigReference.Name != cluster {
				t.Errorf("%s: name %s, replicas %d, cluster %s; want %s, %d, %s", set.Name(), p.Name, p.Replicas, mr.Spec.ProviderConfigReference.Name, set.Name(), replicas, cluster)
			}
			if p.Metadata.Labels["team"] != "serving" || p.Metadata.Labels[disagg.LabelSlice] != strconv.Itoa(slice) || p.Metadata.Labels["app"] != fmt.Sprintf("llm-%d-%s", slice, role) {
				t.Errorf("%s: LeaderWorkerSet labels %v: the role's, with the set's over them", set.Name(), p.Metadata.Labels)
			}
			if p.RoleService != nil {
				t.Errorf("%s: a role Service before any group is ready", set.Name())
			}
		}
	}
	want := []v1alpha1.SliceStatus{{Slice: 0, Cluster: "a"}, {Slice: 1, Cluster: "b"}}
	if diff := cmp.Diff(want, composed.Status.Slices); diff != "" {
		t.Errorf("slices (-want +got):\n%s", diff)
	}
	if composed.Available {
		t.Error("available before any managed resource exists")
	}
}

func TestRoleServicesOnceEveryRoleHasAReadyGroup(t *testing.T) {
	d := ds("v1", 2, 2)
	c := newCluster()
	composed := plan(t, d, c)
	rev := composed.Status.Revision
	c.held[disagg.Set{DS: "llm", Slice: 1, Revision: rev, Role: "decode"}.Name()] = true
	c.apply(t, composed)
	composed = plan(t, d, c)
	for slice, want := range []bool{true, false} {
		for _, role := range []string{"prefill", "decode"} {
			set := disagg.Set{DS: "llm", Slice: int32(slice), Revision: rev, Role: role}
			rs := composed.Resources[ResourceName(set)].Spec.ForProvider.RoleService
			if (rs != nil) != want {
				t.Errorf("%s: role Service %v, want one: %v", set.Name(), rs, want)
			}
			if rs != nil && (rs.Name != set.ServiceName() || rs.Selector[disagg.LabelRevision] != rev) {
				t.Errorf("%s: role Service %+v", set.Name(), rs)
			}
		}
	}
	if composed.Available {
		t.Error("available with a role of slice 1 not ready")
	}
}

// TestRolloutOfTwoRolesStepByStep drives a template edit to its end
// through the planner, observing after each step, and checks each slice's
// sequence of [old]/[new] replicas of [prefill, decode].
func TestRolloutOfTwoRolesStepByStep(t *testing.T) {
	c := newCluster()
	c.apply(t, plan(t, ds("v1", 2, 2), c))
	c.apply(t, plan(t, ds("v1", 2, 2), c))
	old := plan(t, ds("v1", 2, 2), c)
	if !old.Available {
		t.Fatalf("not available before the rollout: %+v", old.Status)
	}

	d := ds("v2", 2, 2)
	var events []string
	seq := map[int32][]string{}
	for range 20 {
		composed := plan(t, d, c)
		for _, e := range composed.Events {
			events = append(events, e.Reason)
		}
		c.apply(t, composed)
		for slice, s := range counts(c, old.Status.Revision) {
			if n := len(seq[slice]); n == 0 || seq[slice][n-1] != s {
				seq[slice] = append(seq[slice], s)
			}
		}
		if composed.Available && composed.Status.Revision != old.Status.Revision {
			break
		}
	}
	want := []string{"2,2/0,0", "2,2/1,1", "1,1/1,1", "1,1/2,2", "0,0/2,2"}
	for slice := range int32(2) {
		if diff := cmp.Diff(want, seq[slice]); diff != "" {
			t.Errorf("slice %d (-want +got):\n%s", slice, diff)
		}
	}
	for _, reason := range []string{"RollingUpdateStarted", "ScalingUp", "ScalingDown", "RollingUpdateCompleted"} {
		if !slices.Contains(events, reason) {
			t.Errorf("no %s event in %v", reason, events)
		}
	}
	for name := range c.sets {
		if _, ok := c.sets[name].Annotations[disagg.AnnotationInitialReplicas]; ok {
			t.Errorf("%s keeps its initial-replicas annotation after the rollout", name)
		}
	}
}

// counts are each slice's old and new replicas of [prefill, decode].
func counts(c *cluster, old string) map[int32]string {
	type oldNew struct{ old, new [2]int32 }
	by := map[int32]*oldNew{}
	for _, mr := range c.sets {
		s, _ := ReadSet(mr)
		if by[s.Slice] == nil {
			by[s.Slice] = &oldNew{}
		}
		role := 0
		if s.Role == "decode" {
			role = 1
		}
		if s.Revision == old {
			by[s.Slice].old[role] = mr.Spec.ForProvider.Replicas
		} else {
			by[s.Slice].new[role] = mr.Spec.ForProvider.Replicas
		}
	}
	out := map[int32]string{}
	for slice, c := range by {
		out[slice] = fmt.Sprintf("%d,%d/%d,%d", c.old[0], c.old[1], c.new[0], c.new[1])
	}
	return out
}

func TestPlacementPolicyReachesNewSetsOnly(t *testing.T) {
	c := newCluster()
	d := ds("v1", 1, 1)
	c.apply(t, plan(t, d, c))
	d.Spec.PlacementPolicy = &v1alpha1.DisaggregatedPlacementPolicy{Type: v1alpha1.PlacementExclusiveSlice, Topology: "rack"}
	composed := plan(t, d, c)
	for name, mr := range composed.Resources {
		if !slices.Equal(mr.Spec.ForProvider.Revision.Payload.Raw, c.sets[name].Spec.ForProvider.Revision.Payload.Raw) {
			t.Errorf("%s: a placement policy change rendered a running set again", name)
		}
	}
}

func TestPlanRefusesInvalidSpec(t *testing.T) {
	d := ds("v1", 1, 1)
	d.Spec.Roles[1].Spec.LeaderWorkerTemplate.Size = ptr.To[int32](0)
	_, err := Plan(d, Observed{})
	if err == nil || !strings.Contains(err.Error(), "spec.roles[1].spec.leaderWorkerTemplate.size") {
		t.Errorf("error %v, want one naming spec.roles[1].spec.leaderWorkerTemplate.size", err)
	}
}

func TestExternalRoleFollowsItsScaler(t *testing.T) {
	d := ds("v1", 2, 5)
	d.Spec.Slices = ptr.To[int32](1)
	d.Spec.Roles[1].Scaling = &v1alpha1.RoleScaling{Mode: v1alpha1.RoleScalingExternal}
	c := newCluster()
	composed := plan(t, d, c)
	rev := composed.Status.Revision
	decode := disagg.Set{DS: "llm", Slice: 0, Revision: rev, Role: "decode"}
	if got := composed.Resources[ResourceName(decode)].Spec.ForProvider.Replicas; got != 1 {
		t.Errorf("a new External role starts at %d groups, want 1 (its spec.replicas 5 is ignored)", got)
	}
	s := composed.Scalers[ScalerResourceName("decode")]
	if s == nil || s.Name != "llm-decode" || s.Spec.Replicas != 1 || s.Labels[disagg.LabelRole] != "decode" {
		t.Fatalf("scaler %+v, want llm-decode seeded with 1", s)
	}
	if len(composed.Scalers) != 1 {
		t.Errorf("%d scalers, want one for the one External role", len(composed.Scalers))
	}
	c.apply(t, composed)
	if composed = plan(t, d, c); !composed.Available {
		t.Errorf("not available with every group ready and the scaler there: %+v", composed.Status.RoleStatuses)
	}

	c.scalers["decode"].Spec.Replicas = 3 // An autoscaler scales the role.
	composed = plan(t, d, c)
	if got := composed.Resources[ResourceName(decode)].Spec.ForProvider.Replicas; got != 3 {
		t.Errorf("decode has %d groups after its scaler asked for 3", got)
	}
	if got := composed.Scalers[ScalerResourceName("decode")].Spec.Replicas; got != 3 {
		t.Errorf("the scaler is composed with %d replicas, undoing the autoscaler's 3", got)
	}

	d.Spec.Roles[1].Scaling = nil
	composed = plan(t, d, c)
	if len(composed.Scalers) != 0 || !slices.ContainsFunc(composed.Events, func(e dsplan.Event) bool { return e.Reason == ReasonScalerDeleted }) {
		t.Errorf("a role made Static keeps its scaler: %v, events %v", composed.Scalers, composed.Events)
	}
	if got := composed.Resources[ResourceName(decode)].Spec.ForProvider.Replicas; got != 5 {
		t.Errorf("decode has %d groups once Static, want its spec.replicas 5", got)
	}
}
