package groups

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/restart"
)

// restartOutcome is what a plan decides about group restarts.
type restartOutcome struct {
	Restarts      []string
	RequeueAfter  time.Duration
	History       []v1alpha1.GroupRestartStatus
	RestartEvents []Event
	Condition     *metav1.Condition
}

func TestRestartBackoffAndBudget(t *testing.T) {
	t0 := now.Time
	at := func(d time.Duration) *metav1.MicroTime { return ptr.To(metav1.NewMicroTime(t0.Add(d))) }
	policy := func(maxRestarts *int32) *v1alpha1.GroupRestart {
		return &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{InitialSeconds: ptr.To[int32](10)}, MaxRestarts: maxRestarts}
	}
	// Conditions that change are stamped with the plan's time, t0.
	exhaustedTrue := &metav1.Condition{Type: v1alpha1.ConditionGroupRestartBudgetExhausted, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonRestartBudgetExhausted, ObservedGeneration: 1, LastTransitionTime: now,
		Message: "Group 1 exhausted its restart budget of 2 recreations in a row (spec.groupRestart.maxRestarts): it is left as it is until it moves to another revision or the budget is raised"}
	exhaustedFalse := &metav1.Condition{Type: v1alpha1.ConditionGroupRestartBudgetExhausted, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonRestartBudgetAvailable, ObservedGeneration: 1, LastTransitionTime: now,
		Message: "No group has exhausted its restart budget"}
	// rev stands for the current revision key, filled in per cluster.
	const rev = "<current>"
	type args struct {
		groupRestart *v1alpha1.GroupRestart
		history      []v1alpha1.GroupRestartStatus
		conditions   []metav1.Condition
		// triggered: worker lws-1-1 has restarted.
		triggered bool
		// after is how long after t0 the plan is computed.
		after time.Duration
	}
	cases := map[string]struct {
		reason string
		args   args
		want   restartOutcome
	}{
		"UpstreamWithoutGroupRestart": {
			reason: "Without spec.groupRestart every recreation is immediate, and no history is kept, even one left over.",
			args:   args{history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 5, LastRestartTime: at(-time.Second), LeaderUID: "old"}}, triggered: true},
			want:   restartOutcome{Restarts: []string{"lws-1"}},
		},
		"FirstRecreationImmediateLws1048": {
			reason: "lws#1048: the first recreation is immediate and starts the history.",
			args:   args{groupRestart: policy(nil), triggered: true},
			want: restartOutcome{Restarts: []string{"lws-1"}, History: []v1alpha1.GroupRestartStatus{
				{Group: 1, Revision: rev, Count: 1, LastRestartTime: at(0), LeaderUID: "lws-1"}}},
		},
		"SecondRecreationWaitsLws1048": {
			reason: "lws#1048: a restart 3s after the first recreation waits out the 10s backoff: nothing is deleted, the plan asks to be run again when it is due.",
			args: args{groupRestart: policy(nil), triggered: true, after: 3 * time.Second,
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 1, LastRestartTime: at(0), LeaderUID: "old"}}},
			want: restartOutcome{RequeueAfter: 7 * time.Second,
				History:       []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 1, LastRestartTime: at(0), LeaderUID: "old"}},
				RestartEvents: []Event{{Reason: restart.EventBackoff, Message: "Recreation 2 in a row of group 1 waits 10s, until 1970-01-01T00:16:50Z"}}},
		},
		"SecondRecreationOnceDue": {
			reason: "Once the backoff has elapsed the group is recreated and the streak counted.",
			args: args{groupRestart: policy(nil), triggered: true, after: 10 * time.Second,
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 1, LastRestartTime: at(0), LeaderUID: "old"}}},
			want: restartOutcome{Restarts: []string{"lws-1"}, History: []v1alpha1.GroupRestartStatus{
				{Group: 1, Revision: rev, Count: 2, LastRestartTime: at(10 * time.Second), LeaderUID: "lws-1"}}},
		},
		"RepeatOfOneRecreationNotCounted": {
			reason: "A plan that still sees the leader the last recreation deleted (a failed delete, a cache behind) deletes it again without spending budget.",
			args: args{groupRestart: policy(ptr.To[int32](1)), triggered: true, after: time.Millisecond,
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 1, LastRestartTime: at(0), LeaderUID: "lws-1"}}},
			want: restartOutcome{Restarts: []string{"lws-1"},
				History: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 1, LastRestartTime: at(0), LeaderUID: "lws-1"}}},
		},
		"BudgetExhaustedLws877": {
			reason: "lws#877: after maxRestarts recreations in a row the group is left as it is, marked exhausted, with a warning and the condition.",
			args: args{groupRestart: policy(ptr.To[int32](2)), triggered: true,
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 2, LastRestartTime: at(0), LeaderUID: "old"}}},
			want: restartOutcome{
				History: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 2, LastRestartTime: at(0), LeaderUID: "old", Exhausted: true}},
				RestartEvents: []Event{{Warning: true, Reason: restart.EventBudgetExhausted, Message: "Pod lws-1-1 restarted after group 1 was recreated 2 times in a row, " +
					"its budget (spec.groupRestart.maxRestarts): the group is left as it is until it moves to another revision or the budget is raised"}},
				Condition: exhaustedTrue},
		},
		"ExhaustedIsStickyAndQuietLws820": {
			reason: "lws#820: an exhausted group is not recreated an hour later either, and is not reported again.",
			args: args{groupRestart: policy(ptr.To[int32](2)), triggered: true, after: time.Hour, conditions: []metav1.Condition{*exhaustedTrue},
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 2, LastRestartTime: at(0), LeaderUID: "old", Exhausted: true}}},
			want: restartOutcome{
				History:   []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 2, LastRestartTime: at(0), LeaderUID: "old", Exhausted: true}},
				Condition: exhaustedTrue},
		},
		"NewRevisionClearsExhausted": {
			reason: "A group that moved to another revision (a fixed template) starts afresh: its history goes and the condition turns False.",
			args: args{groupRestart: policy(ptr.To[int32](2)), conditions: []metav1.Condition{*exhaustedTrue},
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: "old-revision", Count: 2, LastRestartTime: at(0), LeaderUID: "old", Exhausted: true}}},
			want: restartOutcome{Condition: exhaustedFalse},
		},
		"RaisedBudgetClearsExhausted": {
			reason: "Raising maxRestarts above the count lifts the exhaustion at once, without waiting for a restart.",
			args: args{groupRestart: policy(ptr.To[int32](5)), conditions: []metav1.Condition{*exhaustedTrue},
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 2, LastRestartTime: at(0), LeaderUID: "old", Exhausted: true}}},
			want: restartOutcome{
				History:   []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 2, LastRestartTime: at(0), LeaderUID: "old"}},
				Condition: exhaustedFalse},
		},
		"GoneGroupDropped": {
			reason: "The history of a group scaled away goes with it.",
			args: args{groupRestart: policy(nil),
				history: []v1alpha1.GroupRestartStatus{{Group: 5, Revision: rev, Count: 1, LastRestartTime: at(0), LeaderUID: "old"}}},
		},
		"QuietGroupStartsOver": {
			reason: "A group not recreated for resetSeconds is forgotten: its next recreation is the first again.",
			args: args{groupRestart: policy(nil), after: 600 * time.Second,
				history: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Count: 3, LastRestartTime: at(0), LeaderUID: "old"}}},
		},
		"ZeroBudgetFailsFast": {
			reason: "lws#820: maxRestarts 0 never recreates a group, not even the first time.",
			args:   args{groupRestart: &v1alpha1.GroupRestart{MaxRestarts: ptr.To[int32](0)}, triggered: true},
			want: restartOutcome{
				History: []v1alpha1.GroupRestartStatus{{Group: 1, Revision: rev, Exhausted: true}},
				RestartEvents: []Event{{Warning: true, Reason: restart.EventBudgetExhausted, Message: "Pod lws-1-1 restarted after group 1 was recreated 0 times in a row, " +
					"its budget (spec.groupRestart.maxRestarts): the group is left as it is until it moves to another revision or the budget is raised"}},
				Condition: func() *metav1.Condition {
					c := *exhaustedTrue
					c.Message = "Group 1 exhausted its restart budget of 0 recreations in a row (spec.groupRestart.maxRestarts): it is left as it is until it moves to another revision or the budget is raised"
					return &c
				}()},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, params(t, 2, 2, func(l *compose.LeaderWorkerSet) { l.Spec.GroupRestart = tc.args.groupRestart }))
			c.converge()
			key := c.Params.Revision.Key
			current := func(hs []v1alpha1.GroupRestartStatus) []v1alpha1.GroupRestartStatus {
				for i := range hs {
					if hs[i].Revision == rev {
						hs[i].Revision = key
					}
				}
				return hs
			}
			c.History = current(tc.args.history)
			if tc.args.triggered {
				c.pod("lws-1-1").Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 1}}
			}
			p, err := Compute(&c.State, tc.args.conditions, 1, metav1.NewTime(t0.Add(tc.args.after)))
			if err != nil {
				t.Fatal(err)
			}
			got := restartOutcome{RequeueAfter: p.RequeueAfter, History: p.Observation.GroupRestarts, RestartEvents: p.RestartEvents,
				Condition: meta.FindStatusCondition(p.Observation.Conditions, v1alpha1.ConditionGroupRestartBudgetExhausted)}
			for _, r := range p.Restarts {
				got.Restarts = append(got.Restarts, r.Leader.Name)
			}
			want := tc.want
			want.History = current(want.History)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nCompute(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestRestartHistorySurvivesRecreation plays a crash-looping group through
// the cluster simulator: the history reported by one plan, fed to the next
// as the provider feeds it from the managed resource's status, backs off
// the second recreation and refuses the third.
func TestRestartHistorySurvivesRecreation(t *testing.T) {
	c := newCluster(t, params(t, 1, 2, func(l *compose.LeaderWorkerSet) {
		l.Spec.GroupRestart = &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{InitialSeconds: ptr.To[int32](1)}, MaxRestarts: ptr.To[int32](2)}
	}))
	c.converge()
	generation := 0
	crash := func(after time.Duration) *Plan {
		t.Helper()
		c.pod("lws-0-1").Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 1}}
		p, err := Compute(&c.State, nil, 1, metav1.NewTime(now.Add(after)))
		if err != nil {
			t.Fatal(err)
		}
		c.History = p.Observation.GroupRestarts
		if len(p.Restarts) == 1 {
			// The leader and its workers go; the StatefulSet controller
			// brings a new generation of the group.
			generation++
			c.Pods, c.Workers = nil, nil
			c.syncLeaderPods()
			c.pod("lws-0").UID = types.UID("lws-0-" + itoa(generation))
			c.converge()
		}
		return p
	}
	if p := crash(0); len(p.Restarts) != 1 {
		t.Fatalf("first restart: recreated at once, got %d restarts", len(p.Restarts))
	}
	if p := crash(500 * time.Millisecond); len(p.Restarts) != 0 || p.RequeueAfter != 500*time.Millisecond {
		t.Fatalf("second restart 0.5s later: held for the remaining 0.5s of the 1s backoff, got %d restarts, requeue after %s", len(p.Restarts), p.RequeueAfter)
	}
	if p := crash(time.Second); len(p.Restarts) != 1 {
		t.Fatalf("second restart, due: recreated, got %d restarts", len(p.Restarts))
	}
	p := crash(5 * time.Second)
	if len(p.Restarts) != 0 || !meta.IsStatusConditionTrue(p.Observation.Conditions, v1alpha1.ConditionGroupRestartBudgetExhausted) {
		t.Fatalf("third restart: refused and reported, got %d restarts, conditions %v", len(p.Restarts), p.Observation.Conditions)
	}
	if diff := cmp.Diff([]v1alpha1.GroupRestartStatus{{Group: 0, Revision: c.Params.Revision.Key, Count: 2,
		LastRestartTime: ptr.To(metav1.NewMicroTime(now.Add(time.Second))), LeaderUID: "lws-0-1", Exhausted: true}}, p.Observation.GroupRestarts); diff != "" {
		t.Errorf("history: -want, +got:\n%s", diff)
	}
}
