package remoteleaderworkerset

import (
	"testing"
	"time"
)

func TestTimes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	keep := func(last time.Time) time.Time { return time.Time{} }
	cases := map[string]struct {
		reason string
		do     func(ts *times[string]) any
		want   any
	}{
		"UpdateSeesNoTimeForANewKey": {
			reason: "fn is given the zero time for a key never set.",
			do: func(ts *times[string]) any {
				var seen time.Time
				ts.update("a", at(0), func(last time.Time) time.Time { seen = last; return at(0) })
				return seen.IsZero()
			},
			want: true,
		},
		"UpdateStoresWhatFnReturns": {
			reason: "The time fn returns is k's next time.",
			do: func(ts *times[string]) any {
				ts.update("a", at(0), func(time.Time) time.Time { return at(3) })
				return ts.oldest()
			},
			want: at(3),
		},
		"UpdateKeepsTheTimeOnZero": {
			reason: "fn returning zero leaves k's time as it was.",
			do: func(ts *times[string]) any {
				ts.set("a", at(1))
				ts.update("a", at(2), keep)
				return ts.oldest()
			},
			want: at(1),
		},
		"UpdateForgetsTimesHorizonOld": {
			reason: "A time 10 s old is gone before fn sees it.",
			do: func(ts *times[string]) any {
				ts.set("a", at(0))
				var seen time.Time
				ts.update("a", at(10), func(last time.Time) time.Time { seen = last; return time.Time{} })
				return seen.IsZero()
			},
			want: true,
		},
		"WithinIsStrict": {
			reason: "A time exactly d before now is not within d.",
			do: func(ts *times[string]) any {
				ts.set("a", at(0))
				return [2]bool{ts.within("a", at(4), 5*time.Second), ts.within("a", at(5), 5*time.Second)}
			},
			want: [2]bool{true, false},
		},
		"RetainForgetsTheUnwanted": {
			reason: "Only the keys retain wants stay.",
			do: func(ts *times[string]) any {
				ts.set("a", at(0))
				ts.set("b", at(1))
				ts.retain(func(k string) bool { return k == "b" })
				return ts.oldest()
			},
			want: at(1),
		},
		"OldestOfNoneIsZero": {
			reason: "An empty store has no oldest time.",
			do:     func(ts *times[string]) any { return ts.oldest().IsZero() },
			want:   true,
		},
		"ForgetDropsOnlyTheOld": {
			reason: "forget at 12 s drops the time of 0 s, horizon old, and keeps that of 5 s.",
			do: func(ts *times[string]) any {
				ts.set("a", at(0))
				ts.set("b", at(5))
				ts.forget(at(12))
				return len(ts.at)
			},
			want: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.do(newTimes[string](10 * time.Second)); got != tc.want {
				t.Errorf("%s\ngot %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}
