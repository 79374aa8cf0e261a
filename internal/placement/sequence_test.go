package placement

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestSequence(t *testing.T) {
	sequential := &v1alpha1.PlacementRollout{Strategy: v1alpha1.RolloutSequential, ProgressDeadlineSeconds: ptr.To[int32](60)}
	doneOn := func(name, key string) Rolled {
		return Rolled{Cluster: name, Revision: key, Groups: 2, Updated: 2, Ready: 2, Fresh: true}
	}
	cases := map[string]struct {
		reason   string
		rollout  *v1alpha1.PlacementRollout
		clusters []Rolled
		hold     []bool
		halted   bool
		recheck  time.Duration
	}{
		"ParallelHoldsNothing": {
			reason:   "A Parallel rollout gives every cluster the new revision at once.",
			clusters: []Rolled{doneOn("a", "old"), doneOn("b", "old")},
			hold:     []bool{false, false},
		},
		"FirstClusterFirst": {
			reason:   "A Sequential rollout starts with the first cluster; the others keep their revision.",
			rollout:  sequential,
			clusters: []Rolled{doneOn("a", "old"), doneOn("b", "old"), doneOn("c", "old")},
			hold:     []bool{false, true, true},
			recheck:  time.Minute,
		},
		"NextOnceEveryGroupIsUpdatedAndReady": {
			reason:   "The second cluster starts once the first has every group updated and ready.",
			rollout:  sequential,
			clusters: []Rolled{doneOn("a", "new"), doneOn("b", "old"), doneOn("c", "old")},
			hold:     []bool{false, false, true},
			recheck:  time.Minute,
		},
		"NotReadyYetHolds": {
			reason:   "A cluster on the new revision with a group not ready holds the next.",
			rollout:  sequential,
			clusters: []Rolled{{Cluster: "a", Revision: "new", Groups: 2, Updated: 2, Ready: 1, Fresh: true}, doneOn("b", "old")},
			hold:     []bool{false, true},
			recheck:  time.Minute,
		},
		"StaleReportHolds": {
			reason:   "A report for an older generation of the managed resource is not taken as done.",
			rollout:  sequential,
			clusters: []Rolled{{Cluster: "a", Revision: "new", Groups: 2, Updated: 2, Ready: 2}, doneOn("b", "old")},
			hold:     []bool{false, true},
			recheck:  time.Minute,
		},
		"NewClustersDoNotWait": {
			reason:   "A cluster without a managed resource yet starts on the new revision.",
			rollout:  sequential,
			clusters: []Rolled{doneOn("a", "old"), {Cluster: "b"}},
			hold:     []bool{false, false},
			recheck:  time.Minute,
		},
		"HaltedWithoutProgress": {
			reason:  "A cluster whose counts did not move since the remembered progress time, past the deadline, halts the sequence.",
			rollout: sequential,
			clusters: []Rolled{{Cluster: "a", Revision: "new", Groups: 2, Updated: 1, Ready: 1, Fresh: true, ProgressTime: ago(2 * time.Minute), Updated0: 1, Ready0: 1},
				doneOn("b", "old")},
			hold:   []bool{false, true},
			halted: true,
		},
		"ProgressResetsTheClock": {
			reason:  "A cluster whose counts moved since the remembered time progresses now.",
			rollout: sequential,
			clusters: []Rolled{{Cluster: "a", Revision: "new", Groups: 2, Updated: 2, Ready: 1, Fresh: true, ProgressTime: ago(2 * time.Minute), Updated0: 1, Ready0: 1},
				doneOn("b", "old")},
			hold:    []bool{false, true},
			recheck: time.Minute,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Sequence(tc.rollout, "new", tc.clusters, now)
			hold := make([]bool, len(got.Steps))
			for i, s := range got.Steps {
				hold[i] = s.Hold
			}
			if diff := cmp.Diff(tc.hold, hold); diff != "" {
				t.Errorf("%s\nheld: -want, +got:\n%s", tc.reason, diff)
			}
			if (got.Halted != "") != tc.halted || got.Recheck != tc.recheck {
				t.Errorf("%s\nhalted %q, recheck %s; want halted %v, recheck %s", tc.reason, got.Halted, got.Recheck, tc.halted, tc.recheck)
			}
		})
	}
}
