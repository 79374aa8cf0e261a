package placement

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// unschedulableSince are the times groups became unschedulable, each ds
// ago.
func unschedulableSince(ds ...time.Duration) []metav1.Time {
	out := make([]metav1.Time, len(ds))
	for i, d := range ds {
		out[i] = metav1.NewTime(now.Add(-d))
	}
	return out
}

func TestSpill(t *testing.T) {
	type spilledShare struct {
		Cluster    string
		Groups     int32
		SpillLimit *int32
		Spilling   bool
	}
	s := spec(6, intstr.FromInt32(1), intstr.FromInt32(0), 0, v1alpha1.ClusterTarget{Name: "a"}, v1alpha1.ClusterTarget{Name: "b"}, v1alpha1.ClusterTarget{Name: "c"})
	s.Placement.Spill = &v1alpha1.Spill{AfterSeconds: ptr.To[int32](60)}
	running := func(n int32) Observed { return Observed{Room: occupied(0, 2*n), Share: n, Groups: n, Ready: n} }
	withFailover := *s.DeepCopy()
	withFailover.Placement.Failover = &v1alpha1.Failover{AfterSeconds: ptr.To[int32](60)}
	cases := map[string]struct {
		reason   string
		spec     *v1alpha1.LeaderWorkerSetSpec
		demand   Demand
		observed map[string]Observed
		want     []spilledShare
		spilled  int
		short    int
		lost     int
		recheck  time.Duration
	}{
		"StuckForLessThanAfterSecondsMovesNothing": {
			reason:   "A group unschedulable for 10 s of 60 stays; placement looks again when it falls due.",
			observed: map[string]Observed{"a": {Room: reachable(0), Share: 2, Groups: 2, Ready: 1, Unschedulable: unschedulableSince(10 * time.Second)}, "b": running(2), "c": running(2)},
			want:     []spilledShare{{Cluster: "a", Groups: 2}, {Cluster: "b", Groups: 2}, {Cluster: "c", Groups: 2}},
			recheck:  50 * time.Second,
		},
		"StuckGroupsMoveAndTheFullClusterHoldsThemUntilTheirReplacementsAreReady": {
			reason:   "A cluster with 1 group stuck for 2 minutes is held to 1; the group goes to b, and a keeps its 2 until b runs 3 ready.",
			observed: map[string]Observed{"a": {Room: reachable(0), Share: 2, Groups: 2, Ready: 1, Unschedulable: unschedulableSince(2 * time.Minute)}, "b": running(2), "c": running(2)},
			want:     []spilledShare{{Cluster: "a", Groups: 2, SpillLimit: ptr.To[int32](1), Spilling: true}, {Cluster: "b", Groups: 3}, {Cluster: "c", Groups: 2}},
			spilled:  1,
		},
		"ReplacementsReadyTheFullClusterIsCut": {
			reason:   "Once b runs its 3 groups ready, a drops to its limit.",
			observed: map[string]Observed{"a": {Room: reachable(0), Share: 2, Groups: 2, Ready: 1, Unschedulable: unschedulableSince(2 * time.Minute)}, "b": running(3), "c": running(2)},
			want:     []spilledShare{{Cluster: "a", Groups: 1, SpillLimit: ptr.To[int32](1)}, {Cluster: "b", Groups: 3}, {Cluster: "c", Groups: 2}},
			spilled:  1,
		},
		"TheLimitIsRememberedOnceNothingIsStuck": {
			reason:   "Cut to 1 and scheduling it, a stays at 1: the groups do not flap back.",
			observed: map[string]Observed{"a": {Room: reachable(0), Share: 1, Groups: 1, Ready: 1, SpillLimit: ptr.To[int32](1)}, "b": running(3), "c": running(2)},
			want:     []spilledShare{{Cluster: "a", Groups: 1, SpillLimit: ptr.To[int32](1)}, {Cluster: "b", Groups: 3}, {Cluster: "c", Groups: 2}},
			spilled:  1,
		},
		"TheLimitOnlyTightens": {
			reason:   "Held to 1 and its last group stuck too, a is held to none.",
			observed: map[string]Observed{"a": {Room: reachable(0), Share: 1, Groups: 1, SpillLimit: ptr.To[int32](1), Unschedulable: unschedulableSince(2 * time.Minute)}, "b": running(3), "c": running(2)},
			want:     []spilledShare{{Cluster: "a", Groups: 1, SpillLimit: ptr.To[int32](0), Spilling: true}, {Cluster: "b", Groups: 3}, {Cluster: "c", Groups: 3}},
			spilled:  1,
		},
		"TheLimitIsForgottenWhenRoomAppears": {
			reason:   "a's TargetCluster shows free room for another group of GPUs: the limit goes, and a gets its share back.",
			demand:   gpuGroups,
			observed: map[string]Observed{"a": {Room: occupied(2, 2), Share: 1, Groups: 1, Ready: 1, SpillLimit: ptr.To[int32](1)}, "b": running(3), "c": running(2)},
			want:     []spilledShare{{Cluster: "a", Groups: 2}, {Cluster: "b", Groups: 2}, {Cluster: "c", Groups: 2}},
		},
		"NoRoomElsewhereTheGroupsStayPending": {
			reason:   "When no other cluster has room, the stuck group stays where it is, reported short.",
			demand:   gpuGroups,
			observed: map[string]Observed{"a": {Room: occupied(0, 2), Share: 2, Groups: 2, Ready: 1, Unschedulable: unschedulableSince(2 * time.Minute)}, "b": running(2), "c": running(2)},
			want:     []spilledShare{{Cluster: "a", Groups: 2, SpillLimit: ptr.To[int32](1)}, {Cluster: "b", Groups: 2}, {Cluster: "c", Groups: 2}},
			spilled:  1,
			short:    1,
		},
		"ASpilledClusterTakesNoFailedOverGroups": {
			reason: "a is held to 1 by spill when b fails over: b's 2 groups go to c, not to a, and b keeps its managed resource.",
			spec:   &withFailover,
			observed: map[string]Observed{
				"a": {Room: reachable(0), Share: 1, Groups: 1, Ready: 1, SpillLimit: ptr.To[int32](1)},
				"b": {Room: unreachable(0), Share: 2, Groups: 2, LostSince: ago(time.Hour)},
				"c": running(3),
			},
			want:    []spilledShare{{Cluster: "a", Groups: 1, SpillLimit: ptr.To[int32](1)}, {Cluster: "b", Groups: 2}, {Cluster: "c", Groups: 5}},
			spilled: 1,
			lost:    1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := s
			if tc.spec != nil {
				spec = tc.spec
			}
			got, err := Place(spec, tc.demand, tc.observed, now)
			if err != nil {
				t.Fatal(err)
			}
			var shares []spilledShare
			for _, sh := range got.Shares {
				shares = append(shares, spilledShare{Cluster: sh.Cluster, Groups: sh.Groups, SpillLimit: sh.SpillLimit, Spilling: sh.Spilling})
			}
			if diff := cmp.Diff(tc.want, shares, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nPlace(...): -want, +got:\n%s", tc.reason, diff)
			}
			if len(got.Spilled) != tc.spilled || len(got.Short) != tc.short || len(got.Lost) != tc.lost || got.Recheck != tc.recheck {
				t.Errorf("%s\nPlace(...): spilled %q, short %q, lost %q, recheck %s; want %d spilled, %d short, %d lost, recheck %s",
					tc.reason, got.Spilled, got.Short, got.Lost, got.Recheck, tc.spilled, tc.short, tc.lost, tc.recheck)
			}
		})
	}
}
