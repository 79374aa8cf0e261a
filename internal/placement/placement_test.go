package placement

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func spec(replicas int32, unavail, surge intstr.IntOrString, partition int32, cs ...v1alpha1.ClusterTarget) *v1alpha1.LeaderWorkerSetSpec {
	s := lws.Default(&v1alpha1.LeaderWorkerSetSpec{Replicas: &replicas})
	s.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{
		Partition: &partition, MaxUnavailable: unavail, MaxSurge: surge,
	}
	if len(cs) > 0 {
		s.Placement = &v1alpha1.Placement{Clusters: cs}
	}
	return s
}

func cpc(name string) v1alpha1.ProviderConfigReference {
	return v1alpha1.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: name}
}

// TestSplit: without observations, Place shares the groups and the rolling
// update budget as the placement says.
func TestSplit(t *testing.T) {
	one, two := intstr.FromInt32(1), intstr.FromInt32(2)
	zero := intstr.FromInt32(0)
	cases := map[string]struct {
		reason string
		spec   *v1alpha1.LeaderWorkerSetSpec
		want   []Share
	}{
		"DefaultCluster": {
			reason: "Without a placement every group goes to the default ClusterProviderConfig.",
			spec:   spec(3, one, zero, 0),
			want: []Share{{Cluster: "default", ProviderConfig: cpc("default"), Groups: 3,
				Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1}}},
		},
		"EvenWeights": {
			reason: "Equal weights split evenly; the remainder goes to the cluster listed first.",
			spec:   spec(5, two, zero, 0, v1alpha1.ClusterTarget{Name: "a"}, v1alpha1.ClusterTarget{Name: "b"}),
			want: []Share{
				{Cluster: "a", ProviderConfig: cpc("a"), Groups: 3, Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1}},
				{Cluster: "b", ProviderConfig: cpc("b"), Groups: 2, Offset: 3, Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1}},
			},
		},
		"ExplicitThenWeights": {
			reason: "Explicit counts are served first, the rest by weight.",
			spec: spec(6, two, zero, 0,
				v1alpha1.ClusterTarget{Name: "a", Groups: ptr.To[int32](2)},
				v1alpha1.ClusterTarget{Name: "b", Weight: ptr.To[int32](3)},
				v1alpha1.ClusterTarget{Name: "c", Weight: ptr.To[int32](1)},
				v1alpha1.ClusterTarget{Name: "d", ProviderConfigRef: &v1alpha1.ProviderConfigReference{Kind: "ProviderConfig", Name: "pc"}, Weight: ptr.To[int32](0)},
			),
			want: []Share{
				{Cluster: "a", ProviderConfig: cpc("a"), Groups: 2, Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1}},
				{Cluster: "b", ProviderConfig: cpc("b"), Groups: 3, Offset: 2, Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1}},
				{Cluster: "c", ProviderConfig: cpc("c"), Groups: 1, Offset: 5, Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1}},
				{Cluster: "d", ProviderConfig: v1alpha1.ProviderConfigReference{Kind: "ProviderConfig", Name: "pc"}, Offset: 6},
			},
		},
		"PartitionThroughOffsets": {
			reason: "The global partition 5 leaves cluster a (groups 0-3) whole below it and cluster b's first group too.",
			spec:   spec(8, two, zero, 5, v1alpha1.ClusterTarget{Name: "a"}, v1alpha1.ClusterTarget{Name: "b"}),
			want: []Share{
				{Cluster: "a", ProviderConfig: cpc("a"), Groups: 4, Rollout: v1alpha1.RolloutBudget{Partition: 5, MaxUnavailable: 1}},
				{Cluster: "b", ProviderConfig: cpc("b"), Groups: 4, Offset: 4, Rollout: v1alpha1.RolloutBudget{Partition: 1, MaxUnavailable: 1}},
			},
		},
		"BudgetFloorIsSurgeWhenAllowed": {
			reason: "A cluster whose share of the budget rounds to nothing gets one surge group when the spec allows surge.",
			spec:   spec(4, zero, one, 0, v1alpha1.ClusterTarget{Name: "a"}, v1alpha1.ClusterTarget{Name: "b"}),
			want: []Share{
				{Cluster: "a", ProviderConfig: cpc("a"), Groups: 2, Rollout: v1alpha1.RolloutBudget{MaxSurge: 1}},
				{Cluster: "b", ProviderConfig: cpc("b"), Groups: 2, Offset: 2, Rollout: v1alpha1.RolloutBudget{MaxSurge: 1}},
			},
		},
		"PercentagesAgainstTotal": {
			reason: "Percentages resolve against all replicas (50% of 4 = 2 unavailable, 25% surge = 1) before the split.",
			spec:   spec(4, intstr.FromString("50%"), intstr.FromString("25%"), 0, v1alpha1.ClusterTarget{Name: "a"}, v1alpha1.ClusterTarget{Name: "b"}),
			want: []Share{
				{Cluster: "a", ProviderConfig: cpc("a"), Groups: 2, Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1, MaxSurge: 1}},
				{Cluster: "b", ProviderConfig: cpc("b"), Groups: 2, Offset: 2, Rollout: v1alpha1.RolloutBudget{MaxUnavailable: 1}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			placed, err := Place(tc.spec, Demand{}, nil, time.Time{})
			if err != nil {
				t.Fatalf("Place(...): %v", err)
			}
			got := placed.Shares
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Share{}, "Reachable", "Desired")); diff != "" {
				t.Errorf("%s\nPlace(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestProportional(t *testing.T) {
	cases := map[string]struct {
		total   int32
		weights []int64
		want    []int32
	}{
		"NoWeight":          {total: 3, weights: []int64{0, 0}, want: []int32{0, 0}},
		"LargestRemainder":  {total: 10, weights: []int64{1, 1, 1}, want: []int32{4, 3, 3}},
		"Weighted":          {total: 7, weights: []int64{2, 5}, want: []int32{2, 5}},
		"TieToFirstListed":  {total: 1, weights: []int64{1, 1}, want: []int32{1, 0}},
		"RemainderToLarger": {total: 3, weights: []int64{1, 3}, want: []int32{1, 2}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, proportional(tc.total, tc.weights)); diff != "" {
				t.Errorf("proportional(%d, %v): -want, +got:\n%s", tc.total, tc.weights, diff)
			}
		})
	}
}
