package placement

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestAllot(t *testing.T) {
	// kept are the budgets Place gave, which a cluster that does not roll
	// keeps.
	kept := v1alpha1.RolloutBudget{MaxUnavailable: 7, MaxSurge: 7}
	cases := map[string]struct {
		reason         string
		loads          []Load
		keep           []bool
		unavail, surge int32
		want           []v1alpha1.RolloutBudget
	}{
		"NothingRollsNothingChanges": {
			reason:  "Without a rollout the budgets stay as placed.",
			loads:   []Load{{}, {Down: 1}},
			unavail: 2,
			want:    []v1alpha1.RolloutBudget{kept, kept},
		},
		"OneRollerTakesTheWholeBudget": {
			reason:  "The one cluster that rolls gets all of maxUnavailable and maxSurge, not a part in proportion to its groups.",
			loads:   []Load{{Pending: 4}, {}},
			unavail: 2, surge: 1,
			want: []v1alpha1.RolloutBudget{{MaxUnavailable: 2, MaxSurge: 1}, kept},
		},
		"BrokenGroupsElsewhereUseTheBudgetFirst": {
			reason:  "A cluster with a group down leaves the roller 1 of 2.",
			loads:   []Load{{Down: 1}, {Pending: 4}},
			unavail: 2,
			want:    []v1alpha1.RolloutBudget{kept, {MaxUnavailable: 1}},
		},
		"BrokenGroupsBeyondTheBudgetStopTheRollout": {
			reason:  "With more groups down elsewhere than maxUnavailable, the roller may take none down.",
			loads:   []Load{{Down: 3}, {Pending: 4}},
			unavail: 2,
			want:    []v1alpha1.RolloutBudget{kept, {}},
		},
		"ARollersOwnGroupsDownCountToo": {
			reason:  "A roller with a group down keeps it, and the other roller gets nothing of maxUnavailable 1.",
			loads:   []Load{{Pending: 2, Down: 1}, {Pending: 2}},
			unavail: 1,
			want:    []v1alpha1.RolloutBudget{{MaxUnavailable: 1}, {}},
		},
		"GroupsDownInEveryRollerDoNotWidenTheBudget": {
			reason:  "Chaos seed 4: three rollers with a group down each, maxUnavailable 2. Given 1 each, all three providers took a group down for the rollout once theirs came back up, before reporting: 3 unavailable. The parts add up to 2.",
			loads:   []Load{{Pending: 2, Down: 1}, {Pending: 2, Down: 1}, {Pending: 2, Down: 1}},
			unavail: 2,
			want:    []v1alpha1.RolloutBudget{{MaxUnavailable: 1}, {MaxUnavailable: 1}, {}},
		},
		"GroupsDownElsewhereBoundWhatRollersKeep": {
			reason:  "One group down in a cluster that does not roll leaves the two rollers, each with a group down, 1 of maxUnavailable 2.",
			loads:   []Load{{Down: 1}, {Pending: 2, Down: 1}, {Pending: 2, Down: 1}},
			unavail: 2,
			want:    []v1alpha1.RolloutBudget{kept, {MaxUnavailable: 1}, {}},
		},
		"ASmallBudgetGoesToTheFirstRoller": {
			reason:  "maxUnavailable 1 over two rollers: the first in list order rolls, the second waits its turn.",
			loads:   []Load{{Pending: 4}, {Pending: 4}},
			unavail: 1,
			want:    []v1alpha1.RolloutBudget{{MaxUnavailable: 1}, {}},
		},
		"ALargeBudgetIsSharedByPendingGroups": {
			reason:  "Rollers share by their pending groups, none given more than it has pending.",
			loads:   []Load{{Pending: 1}, {Pending: 3}},
			unavail: 6, surge: 4,
			want: []v1alpha1.RolloutBudget{{MaxUnavailable: 1, MaxSurge: 1}, {MaxUnavailable: 3, MaxSurge: 3}},
		},
		"AKeptClusterIsLeftAlone": {
			reason:  "A lost cluster's managed resource is not written; its groups, run elsewhere, count nowhere.",
			loads:   []Load{{Down: 2}, {Pending: 4}},
			keep:    []bool{true, false},
			unavail: 1,
			want:    []v1alpha1.RolloutBudget{kept, {MaxUnavailable: 1}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			shares := make([]Share, len(tc.loads))
			for i := range shares {
				shares[i].Rollout = kept
				shares[i].Keep = len(tc.keep) > i && tc.keep[i]
			}
			Allot(shares, tc.loads, tc.unavail, tc.surge)
			got := make([]v1alpha1.RolloutBudget, len(shares))
			for i, sh := range shares {
				got[i] = sh.Rollout
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nAllot(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
