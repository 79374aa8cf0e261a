package rollout

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestStatusOf(t *testing.T) {
	lp := func(i int32, ready, updated bool) LeaderPod {
		return LeaderPod{Index: i, HasWorkers: true, Ready: ready, Updated: updated}
	}
	cases := map[string]struct {
		reason  string
		spec    Spec
		leaders []LeaderPod
		want    Status
	}{
		"NewLeaderWorkerSetProgressing": {
			reason:  "A new LeaderWorkerSet is Progressing, never UpdateInProgress: its groups are on the current revision.",
			spec:    Spec{Replicas: 2},
			leaders: []LeaderPod{lp(0, false, true), lp(1, false, true)},
			want:    Status{UpdatedReplicas: 2, Active: []string{v1alpha1.ConditionProgressing}},
		},
		"AllReadyAvailable": {
			reason:  "All groups ready and updated: Available, and the update is done.",
			spec:    Spec{Replicas: 2},
			leaders: []LeaderPod{lp(0, true, true), lp(1, true, true)},
			want:    Status{ReadyReplicas: 2, UpdatedReplicas: 2, Active: []string{v1alpha1.ConditionAvailable}, UpdateDone: true},
		},
		"TemplateUpdated": {
			reason:  "Groups on an old revision in the window: UpdateInProgress and Progressing.",
			spec:    Spec{Replicas: 2},
			leaders: []LeaderPod{lp(0, true, false), lp(1, true, true)},
			want:    Status{ReadyReplicas: 2, UpdatedReplicas: 1, Active: []string{v1alpha1.ConditionUpdateInProgress, v1alpha1.ConditionProgressing}},
		},
		"WorkersMissingNotCounted": {
			reason:  "A leader without its worker StatefulSet is skipped entirely.",
			spec:    Spec{Replicas: 2},
			leaders: []LeaderPod{lp(0, true, true), {Index: 1, Ready: true, Updated: true}},
			want:    Status{ReadyReplicas: 1, UpdatedReplicas: 1, Active: []string{v1alpha1.ConditionProgressing}},
		},
		"SurgeCountsInReadyReplicas": {
			reason:  "Surge groups count in readyReplicas but not towards availability.",
			spec:    Spec{Replicas: 1, MaxSurge: 1},
			leaders: []LeaderPod{lp(0, true, true), lp(1, true, true)},
			want:    Status{ReadyReplicas: 2, UpdatedReplicas: 2, Active: []string{v1alpha1.ConditionAvailable}, UpdateDone: true},
		},
		"PartitionHoldsAvailable": {
			reason:  "With partition 4 of 6, groups 4 and 5 updated and all ready: Available with updatedReplicas 2, not done.",
			spec:    Spec{Replicas: 6, Partition: 4},
			leaders: []LeaderPod{lp(0, true, false), lp(1, true, false), lp(2, true, false), lp(3, true, false), lp(4, true, true), lp(5, true, true)},
			want:    Status{ReadyReplicas: 6, UpdatedReplicas: 2, Active: []string{v1alpha1.ConditionAvailable}},
		},
		"ZeroReplicas": {
			reason: "Zero replicas is immediately Available and done.",
			spec:   Spec{},
			want:   Status{Active: []string{v1alpha1.ConditionAvailable}, UpdateDone: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, StatusOf(tc.spec, tc.leaders)); diff != "" {
				t.Errorf("%s\nStatusOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMergeConditions(t *testing.T) {
	t0, t1 := metav1.NewTime(time.Unix(0, 0)), metav1.NewTime(time.Unix(60, 0))
	cond := func(typ string, s metav1.ConditionStatus, gen int64, at metav1.Time) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Reason: reasons[typ], Message: messages[typ], ObservedGeneration: gen, LastTransitionTime: at}
	}
	cases := map[string]struct {
		reason      string
		existing    []metav1.Condition
		active      []string
		generation  int64
		want        []metav1.Condition
		wantChanged bool
	}{
		"EmptyList": {
			reason: "An empty list gains the active condition.",
			active: []string{v1alpha1.ConditionProgressing}, generation: 1,
			want:        []metav1.Condition{cond(v1alpha1.ConditionProgressing, metav1.ConditionTrue, 1, t1)},
			wantChanged: true,
		},
		"Unchanged": {
			reason:   "The same status and generation change nothing.",
			existing: []metav1.Condition{cond(v1alpha1.ConditionProgressing, metav1.ConditionTrue, 1, t0)},
			active:   []string{v1alpha1.ConditionProgressing}, generation: 1,
			want: []metav1.Condition{cond(v1alpha1.ConditionProgressing, metav1.ConditionTrue, 1, t0)},
		},
		"AvailableTurnsProgressingFalse": {
			reason:   "Available and Progressing exclude each other; the False one keeps its reason and message.",
			existing: []metav1.Condition{cond(v1alpha1.ConditionProgressing, metav1.ConditionTrue, 1, t0)},
			active:   []string{v1alpha1.ConditionAvailable}, generation: 1,
			want: []metav1.Condition{
				cond(v1alpha1.ConditionProgressing, metav1.ConditionFalse, 1, t1),
				cond(v1alpha1.ConditionAvailable, metav1.ConditionTrue, 1, t1),
			},
			wantChanged: true,
		},
		"UpdateKeepsProgressing": {
			reason:   "UpdateInProgress and Progressing are not exclusive; Available turns False.",
			existing: []metav1.Condition{cond(v1alpha1.ConditionAvailable, metav1.ConditionTrue, 1, t0)},
			active:   []string{v1alpha1.ConditionUpdateInProgress, v1alpha1.ConditionProgressing}, generation: 2,
			want: []metav1.Condition{
				cond(v1alpha1.ConditionAvailable, metav1.ConditionFalse, 2, t1),
				cond(v1alpha1.ConditionUpdateInProgress, metav1.ConditionTrue, 2, t1),
				cond(v1alpha1.ConditionProgressing, metav1.ConditionTrue, 2, t1),
			},
			wantChanged: true,
		},
		"NewGeneration": {
			reason:   "A new generation refreshes the condition.",
			existing: []metav1.Condition{cond(v1alpha1.ConditionAvailable, metav1.ConditionTrue, 1, t0)},
			active:   []string{v1alpha1.ConditionAvailable}, generation: 2,
			want:        []metav1.Condition{cond(v1alpha1.ConditionAvailable, metav1.ConditionTrue, 2, t1)},
			wantChanged: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, changed := MergeConditions(tc.existing, tc.active, tc.generation, t1)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nMergeConditions(...): -want, +got:\n%s", tc.reason, diff)
			}
			if changed != tc.wantChanged {
				t.Errorf("%s\nchanged: want %t, got %t", tc.reason, tc.wantChanged, changed)
			}
		})
	}
}

func TestActive(t *testing.T) {
	cases := map[string]struct {
		updating, available bool
		want                []string
	}{
		"UpdatingIsProgressingToo":  {updating: true, want: []string{v1alpha1.ConditionUpdateInProgress, v1alpha1.ConditionProgressing}},
		"UpdatingOutranksAvailable": {updating: true, available: true, want: []string{v1alpha1.ConditionUpdateInProgress, v1alpha1.ConditionProgressing}},
		"AvailableAlone":            {available: true, want: []string{v1alpha1.ConditionAvailable}},
		"NeitherIsProgressing":      {want: []string{v1alpha1.ConditionProgressing}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Active(tc.updating, tc.available); !slices.Equal(got, tc.want) {
				t.Errorf("Active(%v, %v) = %v, want %v", tc.updating, tc.available, got, tc.want)
			}
		})
	}
}
