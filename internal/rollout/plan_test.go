package rollout

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Group states, shorthand.
var (
	old     = Group{Ready: true}                // ready on the previous revision
	done    = Group{Ready: true, Updated: true} // ready on the current revision
	rolling = Group{Updated: true}              // recreated from the current revision, not ready yet
	broken  = Group{}                           // not ready, previous revision
)

func gs(g ...Group) []Group { return g }

func TestNext(t *testing.T) {
	type args struct {
		spec    Spec
		leader  *Leader
		changed bool
		groups  []Group
	}
	// The rollout-strategy page's nine stages: R 4, maxUnavailable 2, maxSurge 2.
	nine := Spec{Replicas: 4, MaxUnavailable: 2, MaxSurge: 2}
	def := Spec{Replicas: 4, MaxUnavailable: 1}
	cases := map[string]struct {
		reason string
		args   args
		want   Decision
	}{
		"NoStatefulSetYet": {
			reason: "Case 1: a new LeaderWorkerSet starts at partition 0 with R replicas.",
			args:   args{spec: nine},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"NoStatefulSetYetWithPartition": {
			reason: "The spec's partition is a floor for every decision.",
			args:   args{spec: Spec{Replicas: 6, Partition: 4, MaxUnavailable: 1}},
			want:   Decision{Partition: 4, Replicas: 6},
		},
		"NineStages/1Steady": {
			reason: "Stage 1: all four groups ready on the old revision.",
			args:   args{spec: nine, leader: &Leader{Replicas: 4, SpecReplicas: 4}, groups: gs(old, old, old, old)},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"NineStages/2TemplateChanged": {
			reason: "Stage 2: the template changes; every group is held and the surge goes to burst, creating R-4 and R-5 from the new template.",
			args:   args{spec: nine, leader: &Leader{Replicas: 4, SpecReplicas: 4}, changed: true, groups: gs(old, old, old, old)},
			want:   Decision{Partition: 4, Replicas: 6},
		},
		"NineStages/3SurgeNotReady": {
			reason: "Stage 3: step 2+2; R-2 and R-3 start rolling.",
			args:   args{spec: nine, leader: &Leader{Replicas: 6, Partition: 4, SpecReplicas: 4}, groups: gs(old, old, old, old, rolling, rolling)},
			want:   Decision{Partition: 2, Replicas: 6},
		},
		"NineStages/4OneSurgeReady": {
			reason: "Stage 4: R-5 not ready blocks the tail; nothing moves.",
			args:   args{spec: nine, leader: &Leader{Replicas: 6, Partition: 2, SpecReplicas: 4}, groups: gs(old, old, rolling, rolling, done, rolling)},
			want:   Decision{Partition: 2, Replicas: 6},
		},
		"NineStages/5BothSurgeReady": {
			reason: "Stage 5: the surge tail is ready; R-0 and R-1 start rolling.",
			args:   args{spec: nine, leader: &Leader{Replicas: 6, Partition: 2, SpecReplicas: 4}, groups: gs(old, old, rolling, rolling, done, done)},
			want:   Decision{Partition: 0, Replicas: 6},
		},
		"NineStages/6ReleaseSurge": {
			reason: "Stages 6-7: R-2 and R-3 ready, two groups unready within the surge: the surge groups are released.",
			args:   args{spec: nine, leader: &Leader{Replicas: 6, Partition: 0, SpecReplicas: 4}, groups: gs(rolling, rolling, done, done, done, done)},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"NineStages/8OneLeft": {
			reason: "Stage 8: R-1 ready, R-0 still rolling.",
			args:   args{spec: nine, leader: &Leader{Replicas: 4, Partition: 0, SpecReplicas: 4}, groups: gs(rolling, done, done, done)},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"NineStages/9Done": {
			reason: "Stage 9: every group ready on the new revision.",
			args:   args{spec: nine, leader: &Leader{Replicas: 4, Partition: 0, SpecReplicas: 4}, groups: gs(done, done, done, done)},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"Default/TemplateChanged": {
			reason: "The default strategy first holds all four groups.",
			args:   args{spec: def, leader: &Leader{Replicas: 4, SpecReplicas: 4}, changed: true, groups: gs(old, old, old, old)},
			want:   Decision{Partition: 4, Replicas: 4},
		},
		"Default/Start": {
			reason: "Then it rolls group 3 alone.",
			args:   args{spec: def, leader: &Leader{Replicas: 4, Partition: 4, SpecReplicas: 4}, groups: gs(old, old, old, old)},
			want:   Decision{Partition: 3, Replicas: 4},
		},
		"Default/Group3Ready": {
			reason: "Group 3 ready: group 2 rolls.",
			args:   args{spec: def, leader: &Leader{Replicas: 4, Partition: 3, SpecReplicas: 4}, groups: gs(old, old, old, done)},
			want:   Decision{Partition: 2, Replicas: 4},
		},
		"Default/Group3UnreadyAgain": {
			reason: "Group 3 unready again: the partition never moves back up.",
			args:   args{spec: def, leader: &Leader{Replicas: 4, Partition: 2, SpecReplicas: 4}, groups: gs(old, old, rolling, rolling)},
			want:   Decision{Partition: 2, Replicas: 4},
		},
		"MaxUnavailable10": {
			reason: "maxUnavailable above R rolls everything at once.",
			args:   args{spec: Spec{Replicas: 4, MaxUnavailable: 10}, leader: &Leader{Replicas: 4, Partition: 4, SpecReplicas: 4}, groups: gs(old, old, old, old)},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"ZeroUnavailableOneSurge/Start": {
			reason: "maxUnavailable 0, maxSurge 1: one surge group first.",
			args:   args{spec: Spec{Replicas: 4, MaxSurge: 1}, leader: &Leader{Replicas: 4, SpecReplicas: 4}, changed: true, groups: gs(old, old, old, old)},
			want:   Decision{Partition: 4, Replicas: 5},
		},
		"ZeroUnavailableOneSurge/SurgeReady": {
			reason: "Group 4 ready: group 3 rolls.",
			args:   args{spec: Spec{Replicas: 4, MaxSurge: 1}, leader: &Leader{Replicas: 5, Partition: 4, SpecReplicas: 4}, groups: gs(old, old, old, old, done)},
			want:   Decision{Partition: 3, Replicas: 5},
		},
		"ZeroUnavailableOneSurge/LastGroupReady": {
			reason: "Group 0 ready: the surge is released.",
			args:   args{spec: Spec{Replicas: 4, MaxSurge: 1}, leader: &Leader{Replicas: 5, Partition: 0, SpecReplicas: 4}, groups: gs(done, done, done, done, done)},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"OneSurgeOneUnavailable/Start": {
			reason: "maxSurge 1 with maxUnavailable 1: step 2 from (4, 5).",
			args:   args{spec: Spec{Replicas: 4, MaxUnavailable: 1, MaxSurge: 1}, leader: &Leader{Replicas: 5, Partition: 4, SpecReplicas: 4}, groups: gs(old, old, old, old, rolling)},
			want:   Decision{Partition: 3, Replicas: 5},
		},
		"OneSurgeOneUnavailable/ReleaseBeforeLast": {
			reason: "When group 1 is ready, one unready group is within maxUnavailable: replicas go to 4 before group 0 is ready.",
			args:   args{spec: Spec{Replicas: 4, MaxUnavailable: 1, MaxSurge: 1}, leader: &Leader{Replicas: 5, Partition: 0, SpecReplicas: 4}, groups: gs(rolling, done, done, done, done)},
			want:   Decision{Partition: 0, Replicas: 4},
		},
		"SurgeAboveReplicasCapped": {
			reason: "maxSurge 4 with R 2 is capped at 2 by the caller; with maxUnavailable 1 the StatefulSet starts at (1, 3).",
			args:   args{spec: Spec{Replicas: 2, MaxUnavailable: 1, MaxSurge: 2}, leader: &Leader{Replicas: 3, Partition: 2, SpecReplicas: 2}, groups: gs(old, old, rolling)},
			want:   Decision{Partition: 1, Replicas: 3},
		},
		"TemplateAndScaleUp": {
			reason: "Template change with replicas 4 to 6: scale up first, new groups at the new template.",
			args:   args{spec: Spec{Replicas: 6, MaxUnavailable: 1}, leader: &Leader{Replicas: 4, SpecReplicas: 4}, changed: true, groups: gs(old, old, old, old)},
			want:   Decision{Partition: 4, Replicas: 6},
		},
		"ScaleUpMidRollout": {
			reason: "Replicas 4 to 6 with the partition at 2: the partition stays.",
			args:   args{spec: Spec{Replicas: 6, MaxUnavailable: 1}, leader: &Leader{Replicas: 4, Partition: 2, SpecReplicas: 4}, groups: gs(old, old, rolling, done)},
			want:   Decision{Partition: 2, Replicas: 6},
		},
		"ScaleDownMidRollout": {
			reason: "Case 4: replicas 6 to 3 with the partition at 5 gives min(5, 3).",
			args:   args{spec: Spec{Replicas: 3, MaxUnavailable: 1}, leader: &Leader{Replicas: 6, Partition: 5, SpecReplicas: 6}, groups: gs(old, old, old, old, old, done)},
			want:   Decision{Partition: 3, Replicas: 3},
		},
		"ScaleDownMidRolloutNext": {
			reason: "The next reconcile, at S 3, gives 2.",
			args:   args{spec: Spec{Replicas: 3, MaxUnavailable: 1}, leader: &Leader{Replicas: 3, Partition: 3, SpecReplicas: 3}, groups: gs(old, old, old)},
			want:   Decision{Partition: 2, Replicas: 3},
		},
		"UnhealthyBelowPartitionLws488": {
			reason: "lws#488: with group 1 already unready, maxUnavailable 2 starts at 3, not 2.",
			args:   args{spec: Spec{Replicas: 4, MaxUnavailable: 2}, leader: &Leader{Replicas: 4, Partition: 4, SpecReplicas: 4}, groups: gs(old, broken, old, old)},
			want:   Decision{Partition: 3, Replicas: 4},
		},
		"NoReadyGroupsLws567": {
			reason: "lws#567: with no ready group, the partition still moves (to 1, as group 1 is broken anyway).",
			args:   args{spec: Spec{Replicas: 2, MaxUnavailable: 1}, leader: &Leader{Replicas: 2, Partition: 2, SpecReplicas: 2}, groups: gs(broken, broken)},
			want:   Decision{Partition: 1, Replicas: 2},
		},
		"NoReadyGroupsLws567Next": {
			reason: "lws#567: when group 1 is ready on the new revision, the partition reaches 0.",
			args:   args{spec: Spec{Replicas: 2, MaxUnavailable: 1}, leader: &Leader{Replicas: 2, Partition: 1, SpecReplicas: 2}, groups: gs(broken, done)},
			want:   Decision{Partition: 0, Replicas: 2},
		},
		"PartitionHoldsCanary": {
			reason: "With partition 4 of 6, the rollout stops at 4.",
			args:   args{spec: Spec{Replicas: 6, Partition: 4, MaxUnavailable: 1}, leader: &Leader{Replicas: 6, Partition: 5, SpecReplicas: 6}, groups: gs(old, old, old, old, old, done)},
			want:   Decision{Partition: 4, Replicas: 6},
		},
		"PartitionWithSurgeKeepsSurge": {
			reason: "Partition 2 with maxSurge 1 and R 3: the surge group stays while the partition holds.",
			args:   args{spec: Spec{Replicas: 3, Partition: 2, MaxSurge: 1}, leader: &Leader{Replicas: 4, Partition: 2, SpecReplicas: 3}, groups: gs(old, old, done, done)},
			want:   Decision{Partition: 2, Replicas: 4},
		},
		"ScaleUpNoSurgeLws778": {
			reason: "lws#778: scale-up 2 to 3 with maxSurge 1 and no template change creates no extra surge group.",
			args:   args{spec: Spec{Replicas: 3, MaxSurge: 1}, leader: &Leader{Replicas: 2, SpecReplicas: 2}, groups: gs(done, done)},
			want:   Decision{Partition: 0, Replicas: 3},
		},
		"ScaleUpWithTemplateChange": {
			reason: "The same scale-up with a template change holds the two existing groups.",
			args:   args{spec: Spec{Replicas: 3, MaxSurge: 1}, leader: &Leader{Replicas: 2, SpecReplicas: 2}, changed: true, groups: gs(done, done)},
			want:   Decision{Partition: 2, Replicas: 3},
		},
		"TemplateChangeSurgeTwoOfTwo": {
			reason: "R 2, maxUnavailable 1, maxSurge 2, template change at S 2: every group counts as unready, 2 ≤ surge, so R + (2-1).",
			args:   args{spec: Spec{Replicas: 2, MaxUnavailable: 1, MaxSurge: 2}, leader: &Leader{Replicas: 2, SpecReplicas: 2}, changed: true, groups: gs(old, old)},
			want:   Decision{Partition: 2, Replicas: 3},
		},
		"ZeroReplicas": {
			reason: "Scaling to zero.",
			args:   args{spec: Spec{Replicas: 0, MaxUnavailable: 1}, leader: &Leader{Replicas: 3, SpecReplicas: 3}, groups: gs(done, done, done)},
			want:   Decision{Partition: 0, Replicas: 0},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Next(tc.args.spec, tc.args.leader, tc.args.changed, tc.args.groups)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nNext(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestWantReplicas(t *testing.T) {
	cases := []struct{ r, surge, unavail, unready, want int32 }{
		{1, 1, 0, 1, 2},
		{4, 2, 1, 2, 5},
		{2, 2, 1, 2, 3},
		{1, 1, 0, 0, 1},
		{1, 1, 1, 1, 1},
		{3, 0, 0, 1, 3},
	}
	for _, tc := range cases {
		got := Spec{Replicas: tc.r, MaxSurge: tc.surge, MaxUnavailable: tc.unavail}.wantReplicas(tc.unready)
		if got != tc.want {
			t.Errorf("wantReplicas(R %d, surge %d, unavail %d, unready %d) = %d, want %d", tc.r, tc.surge, tc.unavail, tc.unready, got, tc.want)
		}
	}
}
