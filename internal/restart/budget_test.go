package restart

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestPolicyOf(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     *v1alpha1.GroupRestart
		want   Policy
	}{
		"AbsentIsUpstream": {
			reason: "Without spec.groupRestart there is no backoff and no budget.",
			want:   Policy{Reset: 600 * time.Second},
		},
		"BudgetOnly": {
			reason: "A budget without a backoff counts in a row over the default 600s.",
			in:     &v1alpha1.GroupRestart{MaxRestarts: ptr.To[int32](3)},
			want:   Policy{Reset: 600 * time.Second, MaxRestarts: ptr.To[int32](3)},
		},
		"BackoffUnsetFieldsDefaulted": {
			reason: "A managed resource written by hand gets the same defaults as a composed one.",
			in:     &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{InitialSeconds: ptr.To[int32](1)}},
			want:   Policy{Initial: time.Second, Max: 300 * time.Second, Reset: 600 * time.Second},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PolicyOf(tc.in)); diff != "" {
				t.Errorf("%s\nPolicyOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestNext(t *testing.T) {
	t0 := time.Unix(10000, 0)
	backoff := Policy{Initial: 10 * time.Second, Max: 300 * time.Second, Reset: 600 * time.Second}
	budget := func(p Policy, n int32) Policy { p.MaxRestarts = ptr.To(n); return p }
	type args struct {
		policy  Policy
		history History
		now     time.Time
	}
	cases := map[string]struct {
		reason string
		args   args
		want   Verdict
	}{
		"UpstreamAlwaysAtOnce": {
			reason: "Without groupRestart, the 50th recreation in a row is as immediate as upstream's.",
			args:   args{policy: PolicyOf(nil), history: History{Count: 49, Last: t0}, now: t0.Add(time.Millisecond)},
			want:   Verdict{Action: RecreateNow, Count: 50},
		},
		"FirstRecreationImmediate": {
			reason: "lws#1048: the first recreation is immediate, as upstream's, so a single crash costs no delay.",
			args:   args{policy: backoff, now: t0},
			want:   Verdict{Action: RecreateNow, Count: 1},
		},
		"SecondWaitsInitialLws1048": {
			reason: "lws#1048: the second recreation in a row waits initialSeconds after the first.",
			args:   args{policy: backoff, history: History{Count: 1, Last: t0}, now: t0.Add(3 * time.Second)},
			want:   Verdict{Action: Wait, Count: 1, Delay: 10 * time.Second, At: t0.Add(10 * time.Second)},
		},
		"SecondDueAfterInitial": {
			reason: "Once the delay has elapsed the recreation is made, and counted.",
			args:   args{policy: backoff, history: History{Count: 1, Last: t0}, now: t0.Add(10 * time.Second)},
			want:   Verdict{Action: RecreateNow, Count: 2, Delay: 10 * time.Second},
		},
		"DelayDoubles": {
			reason: "Recreation 4 in a row waits initial·2².",
			args:   args{policy: backoff, history: History{Count: 3, Last: t0}, now: t0.Add(time.Second)},
			want:   Verdict{Action: Wait, Count: 3, Delay: 40 * time.Second, At: t0.Add(40 * time.Second)},
		},
		"DelayCapped": {
			reason: "The delay never exceeds maxSeconds, and a long streak does not overflow.",
			args:   args{policy: backoff, history: History{Count: 1000, Last: t0}, now: t0.Add(time.Second)},
			want:   Verdict{Action: Wait, Count: 1000, Delay: 300 * time.Second, At: t0.Add(300 * time.Second)},
		},
		"ResetStartsOver": {
			reason: "A group not recreated for resetSeconds starts over: immediate, counted as the first.",
			args:   args{policy: backoff, history: History{Count: 7, Last: t0}, now: t0.Add(600 * time.Second)},
			want:   Verdict{Action: RecreateNow, Count: 1},
		},
		"BudgetAllowsMaxRestartsLws877": {
			reason: "lws#877: with maxRestarts 2 the second recreation in a row is still allowed.",
			args:   args{policy: budget(backoff, 2), history: History{Count: 1, Last: t0}, now: t0.Add(10 * time.Second)},
			want:   Verdict{Action: RecreateNow, Count: 2, Delay: 10 * time.Second},
		},
		"BudgetExhaustedLws877": {
			reason: "lws#877: a group recreated maxRestarts times in a row that triggers again is not recreated.",
			args:   args{policy: budget(backoff, 2), history: History{Count: 2, Last: t0}, now: t0.Add(time.Second)},
			want:   Verdict{Action: Exhausted, Count: 2},
		},
		"BudgetWithoutBackoffLws820": {
			reason: "lws#820: a budget without a backoff recreates at once until it runs out.",
			args:   args{policy: budget(PolicyOf(nil), 3), history: History{Count: 3, Last: t0}, now: t0.Add(time.Second)},
			want:   Verdict{Action: Exhausted, Count: 3},
		},
		"ZeroBudgetNeverRecreates": {
			reason: "maxRestarts 0 fails fast: even the first recreation is refused.",
			args:   args{policy: budget(backoff, 0), now: t0},
			want:   Verdict{Action: Exhausted},
		},
		"ExhaustedIsNotClearedByTime": {
			reason: "An exhausted group stays exhausted long after resetSeconds: the terminal state is sticky.",
			args:   args{policy: budget(backoff, 2), history: History{Count: 2, Last: t0, Exhausted: true}, now: t0.Add(24 * time.Hour)},
			want:   Verdict{Action: Exhausted, Count: 2},
		},
		"BudgetStreakEndsWithReset": {
			reason: "A group that used its budget but then ran for resetSeconds without trouble starts over.",
			args:   args{policy: budget(backoff, 2), history: History{Count: 2, Last: t0}, now: t0.Add(time.Hour)},
			want:   Verdict{Action: RecreateNow, Count: 1},
		},
		"RaisedBudgetResumes": {
			reason: "Raising maxRestarts above the count lifts the exhaustion; the streak continues with its backoff.",
			args:   args{policy: budget(backoff, 5), history: History{Count: 2, Last: t0, Exhausted: true}, now: t0.Add(time.Second)},
			want:   Verdict{Action: Wait, Count: 2, Delay: 20 * time.Second, At: t0.Add(20 * time.Second)},
		},
		"RemovedBudgetResumes": {
			reason: "Removing maxRestarts lifts the exhaustion too.",
			args:   args{policy: backoff, history: History{Count: 2, Last: t0, Exhausted: true}, now: t0.Add(time.Hour)},
			want:   Verdict{Action: RecreateNow, Count: 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tc.args.policy.Next(tc.args.history, tc.args.now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nNext(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	t0 := time.Unix(10000, 0)
	p := Policy{Initial: time.Second, Max: 10 * time.Second, Reset: 60 * time.Second, MaxRestarts: ptr.To[int32](2)}
	cases := map[string]struct {
		reason  string
		history History
		now     time.Time
		want    bool
	}{
		"Recent": {
			reason:  "A recreation within resetSeconds is remembered.",
			history: History{Count: 1, Last: t0},
			now:     t0.Add(59 * time.Second),
		},
		"Old": {
			reason:  "After resetSeconds the history is forgotten.",
			history: History{Count: 1, Last: t0},
			now:     t0.Add(60 * time.Second),
			want:    true,
		},
		"ExhaustedKept": {
			reason:  "An exhausted group's history is kept however old: it is the terminal state.",
			history: History{Count: 2, Last: t0, Exhausted: true},
			now:     t0.Add(24 * time.Hour),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := p.Expired(tc.history, tc.now); got != tc.want {
				t.Errorf("%s\nExpired(...) = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}
