package groups

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestMeasureRolloutDuration(t *testing.T) {
	began := metav1.NewTime(now.Add(-90 * time.Second))
	updating := func(s metav1.ConditionStatus) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionUpdateInProgress, Status: s, LastTransitionTime: began}}
	}
	cases := map[string]struct {
		reason        string
		before, after []metav1.Condition
		want          time.Duration
	}{
		"UpdateFinished": {
			reason: "UpdateInProgress turning False ends a rollout that began when it turned True.",
			before: updating(metav1.ConditionTrue), after: updating(metav1.ConditionFalse),
			want: 90 * time.Second,
		},
		"UpdateRunning": {
			reason: "A rollout still in progress has no duration yet.",
			before: updating(metav1.ConditionTrue), after: updating(metav1.ConditionTrue),
		},
		"UpdateFinishedEarlier": {
			reason: "A rollout is measured once, when it finishes, not at every later reconcile.",
			before: updating(metav1.ConditionFalse), after: updating(metav1.ConditionFalse),
		},
		"NoUpdateEver": {
			reason: "UpdateInProgress is not set on creation (as upstream's integration tests check).",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := measure(&State{}, tc.before, tc.after, now.Time).RolloutDuration
			if got != tc.want {
				t.Errorf("%s\nRolloutDuration: want %s, got %s", tc.reason, tc.want, got)
			}
		})
	}
}

// readyCluster is a converged cluster of 2 groups of 2 whose leaders were
// created at now-60s and whose pods became ready at now-60s+i seconds, in
// pod order.
func readyCluster(t *testing.T) *cluster {
	c := newCluster(t, params(t, 2, 2))
	c.converge()
	for i := range c.Pods {
		p := &c.Pods[i]
		p.CreationTimestamp = metav1.NewTime(now.Add(-60 * time.Second))
		p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(time.Duration(i-60) * time.Second))
	}
	return c
}

func TestMeasureReadyGroups(t *testing.T) {
	cases := map[string]struct {
		reason string
		edit   func(c *cluster)
		want   []types.UID
	}{
		"EveryGroupReady": {
			reason: "Each ready group is measured from its leader's creation to its last pod's readiness.",
			want:   []types.UID{"lws-0", "lws-1"},
		},
		"WorkerNotReady": {
			reason: "A group with a worker that is not ready is not ready.",
			edit: func(c *cluster) {
				c.pod("lws-1-1").Status.Conditions[0].Status = corev1.ConditionFalse
				c.worker("lws-1").Status.AvailableReplicas = 0
			},
			want: []types.UID{"lws-0"},
		},
		"LeaderBeingDeleted": {
			reason: "A group being recreated is not ready.",
			edit: func(c *cluster) {
				c.pod("lws-0").DeletionTimestamp = &now
			},
			want: []types.UID{"lws-1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := readyCluster(t)
			if tc.edit != nil {
				tc.edit(c)
			}
			var got []types.UID
			for _, g := range measure(&c.State, nil, nil, now.Time).Ready {
				got = append(got, g.Leader)
				if want := latestReady(c, string(g.Leader)).Sub(now.Add(-60 * time.Second)); g.After != want {
					t.Errorf("%s\ngroup %s: ready after %s, want %s", tc.reason, g.Leader, g.After, want)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nready groups: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// latestReady is the latest Ready transition of a leader and its workers.
func latestReady(c *cluster, leader string) time.Time {
	var at time.Time
	for _, p := range c.Pods {
		if p.Name == leader || (len(p.Name) > len(leader) && p.Name[:len(leader)+1] == leader+"-") {
			if lt := p.Status.Conditions[0].LastTransitionTime.Time; lt.After(at) {
				at = lt
			}
		}
	}
	return at
}

// measure measures s as Compute does, from an index of s as it is now.
func measure(s *State, before, after []metav1.Condition, now time.Time) Measures {
	s.reindex()
	return s.measure(before, after, now)
}
