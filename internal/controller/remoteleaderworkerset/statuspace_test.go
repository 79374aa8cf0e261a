package remoteleaderworkerset

import (
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestStatusPace(t *testing.T) {
	t0 := time.Unix(1000, 0)
	mrWith := func(ready, updated int32, edit ...func(*v1alpha1.RemoteLeaderWorkerSet)) *v1alpha1.RemoteLeaderWorkerSet {
		mr := &v1alpha1.RemoteLeaderWorkerSet{ObjectMeta: metav1.ObjectMeta{UID: "mr"}}
		mr.Status.AtProvider = v1alpha1.RemoteLeaderWorkerSetObservation{ReadyReplicas: ready, UpdatedReplicas: updated, ObservedGeneration: 1,
			Conditions: []metav1.Condition{{Type: "Progressing", Status: metav1.ConditionTrue}}}
		mr.SetConditions(xpv2.Unavailable())
		for _, e := range edit {
			e(mr)
		}
		return mr
	}
	cases := map[string]struct {
		reason   string
		interval time.Duration
		after    *v1alpha1.RemoteLeaderWorkerSet
		at       time.Duration
		wantWait time.Duration
		wantHold bool
	}{
		"CountsSoonAfterAWrite": {
			reason:   "A change of the counts alone waits for the rest of the interval.",
			interval: 2 * time.Second, after: mrWith(3, 1), at: 500 * time.Millisecond,
			wantWait: 1500 * time.Millisecond, wantHold: true,
		},
		"CountsAfterTheInterval": {
			reason:   "Once the interval has passed, the counts are written.",
			interval: 2 * time.Second, after: mrWith(3, 1), at: 2 * time.Second,
		},
		"ReadyTransition": {
			reason:   "Ready turning True is what readers wait for: written at once.",
			interval: 2 * time.Second, after: mrWith(4, 4, func(mr *v1alpha1.RemoteLeaderWorkerSet) { mr.SetConditions(xpv2.Available()) }), at: 100 * time.Millisecond,
		},
		"LWSConditionTransition": {
			reason:   "A LeaderWorkerSet condition changing its status is written at once.",
			interval: 2 * time.Second, at: 100 * time.Millisecond,
			after: mrWith(3, 1, func(mr *v1alpha1.RemoteLeaderWorkerSet) {
				mr.Status.AtProvider.Conditions[0].Status = metav1.ConditionFalse
			}),
		},
		"NewGeneration": {
			reason:   "The status of a new spec is written at once.",
			interval: 2 * time.Second, at: 100 * time.Millisecond,
			after: mrWith(3, 1, func(mr *v1alpha1.RemoteLeaderWorkerSet) { mr.Status.AtProvider.ObservedGeneration = 2 }),
		},
		"RestartHistory": {
			reason:   "A recreation recorded in the history is written at once: the next one's backoff is decided from it.",
			interval: 2 * time.Second, at: 100 * time.Millisecond,
			after: mrWith(3, 1, func(mr *v1alpha1.RemoteLeaderWorkerSet) {
				mr.Status.AtProvider.GroupRestarts = []v1alpha1.GroupRestartStatus{{Group: 1, Count: 1}}
			}),
		},
		"NoChange": {
			reason:   "An unchanged status costs no write and waits for nothing.",
			interval: 2 * time.Second, after: mrWith(2, 1), at: 100 * time.Millisecond,
		},
		"NoPacing": {
			reason: "An interval of 0 writes every change.",
			after:  mrWith(3, 1), at: 100 * time.Millisecond,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := newStatusPace(tc.interval)
			// A first write at t0, from nothing.
			if _, hold := p.hold(mrWith(2, 1), observed{}, t0); hold {
				t.Fatal("the first status is written at once")
			}
			wait, hold := p.hold(tc.after, observedOf(mrWith(2, 1)), t0.Add(tc.at))
			if wait != tc.wantWait || hold != tc.wantHold {
				t.Errorf("%s\nhold: want (%s, %v), got (%s, %v)", tc.reason, tc.wantWait, tc.wantHold, wait, hold)
			}
		})
	}
}
