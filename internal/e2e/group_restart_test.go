//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/restart"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestGroupRestartBackoffAndBudgetLws1048Lws877 crash-loops a group on real
// clusters under spec.groupRestart (2s backoff, 2 recreations in a row):
// the first restart recreates it at once, the second only once the backoff
// has elapsed (lws#1048), the third not at all, reported by the
// GroupRestartBudgetExhausted condition (lws#877), which a new template
// clears by rolling the group out.
func TestGroupRestartBackoffAndBudgetLws1048Lws877(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	l := sample("crashloop", "image:v1", 1, 2)
	// Two seconds, so that the second crash comes within the backoff even on
	// a loaded machine, where a group takes over a second to come back.
	const backoff = 2 * time.Second
	l.Spec.GroupRestart = &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{InitialSeconds: ptr.To(int32(backoff / time.Second))}, MaxRestarts: ptr.To[int32](2)}
	mr := managed(t, l)
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 1, time.Minute)

	// crash restarts the leader's container once the leader of a new
	// generation of the group (not uid) runs it: the earliest a crash loop
	// can strike again, well within the backoff.
	crash := func(uid types.UID) (*corev1.Pod, time.Time) {
		t.Helper()
		var leader *corev1.Pod
		testenv.Eventually(t, 30*time.Second, "a running leader other than "+string(uid), func(ctx context.Context) (bool, error) {
			p := &corev1.Pod{}
			if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "crashloop-0"}, p); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			if p.UID == uid || p.DeletionTimestamp != nil || len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Running == nil {
				return false, testenv.Pendingf("leader %s: %s", p.UID, p.Status.Phase)
			}
			leader = p
			return true, nil
		})
		must(t, e.target.Nodes.RestartContainer(ctx, "default", leader.Name, "c"))
		return leader, time.Now()
	}
	// recreated waits until the group has a leader other than uid and the
	// history records count recreations in a row.
	recreated := func(uid types.UID, count int32) v1alpha1.GroupRestartStatus {
		t.Helper()
		var h v1alpha1.GroupRestartStatus
		testenv.Eventually(t, 30*time.Second, fmt.Sprintf("recreation %d recorded", count), func(ctx context.Context) (bool, error) {
			got, err := e.restartHistory(ctx, mr)
			if err != nil {
				return false, err
			}
			if len(got) != 1 || got[0].Count != count || got[0].LeaderUID != uid {
				return false, testenv.Pendingf("history %+v", got)
			}
			h = got[0]
			return true, nil
		})
		return h
	}

	first, crashed := crash("")
	h1 := recreated(first.UID, 1)
	if d := h1.LastRestartTime.Sub(crashed); d >= backoff {
		t.Errorf("lws#1048: the first recreation came %s after the crash: it must not wait", d)
	}

	second, crashed := crash(first.UID)
	h2 := recreated(second.UID, 2)
	gap := h2.LastRestartTime.Sub(h1.LastRestartTime.Time)
	t.Logf("the second crash came %s after the first recreation, the second recreation %s after it", crashed.Sub(h1.LastRestartTime.Time), gap)
	if gap < backoff {
		t.Errorf("lws#1048: the second recreation came %s after the first, within the %s backoff", gap, backoff)
	}
	// Once the new group has settled nothing in the cluster changes while
	// the recreation waits: only the provider's delayed requeue can bring
	// it this soon, long before the one-minute poll.
	if gap > 10*time.Second {
		t.Errorf("the second recreation came %s after the first: the delayed requeue did not fire", gap)
	}
	if crashed.Before(h1.LastRestartTime.Add(backoff)) {
		e.reasonEvent(t, mr, restart.EventBackoff)
	} else {
		t.Logf("the second crash came %s after the first recreation, past the backoff: the wait was not exercised", crashed.Sub(h1.LastRestartTime.Time))
	}

	third, _ := crash(second.UID)
	testenv.Eventually(t, 30*time.Second, "lws#877: the budget reported exhausted", func(ctx context.Context) (bool, error) {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(got.Status.AtProvider.Conditions, v1alpha1.ConditionGroupRestartBudgetExhausted)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonRestartBudgetExhausted || !strings.Contains(c.Message, "Group 0 ") {
			return false, testenv.Pendingf("condition %+v, history %+v", c, got.Status.AtProvider.GroupRestarts)
		}
		return true, nil
	})
	if h, err := e.restartHistory(ctx, mr); err != nil || len(h) != 1 || !h[0].Exhausted || h[0].Count != 2 {
		t.Errorf("history of an exhausted group: %+v (%v)", h, err)
	}
	e.reasonEvent(t, mr, restart.EventBudgetExhausted)
	now := &corev1.Pod{}
	must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "crashloop-0"}, now))
	if now.UID != third.UID || now.DeletionTimestamp != nil {
		t.Fatalf("an exhausted group is left as it is: leader %s (deleting %v), want %s", now.UID, now.DeletionTimestamp != nil, third.UID)
	}

	// The user fixes the image: the rollout moves the group to a new
	// revision, which starts it afresh.
	l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "image:v2"
	e.update(t, mr, l)
	e.groupsReady(t, mr, 1, time.Minute)
	testenv.Eventually(t, 30*time.Second, "the exhausted budget cleared by the new revision", func(ctx context.Context) (bool, error) {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got); err != nil {
			return false, err
		}
		if meta.IsStatusConditionTrue(got.Status.AtProvider.Conditions, v1alpha1.ConditionGroupRestartBudgetExhausted) || len(got.Status.AtProvider.GroupRestarts) > 0 {
			return false, testenv.Pendingf("conditions %+v, history %+v", got.Status.AtProvider.Conditions, got.Status.AtProvider.GroupRestarts)
		}
		return true, nil
	})
	for _, p := range e.pods(t, "crashloop") {
		if p.Labels[lws.LabelRevisionKey] != managed(t, l).Spec.ForProvider.Revision.Key {
			t.Errorf("pod %s is on revision %s after the rollout", p.Name, p.Labels[lws.LabelRevisionKey])
		}
	}
}

// restartHistory is the managed resource's status.atProvider.groupRestarts.
func (e *env) restartHistory(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) ([]v1alpha1.GroupRestartStatus, error) {
	got := &v1alpha1.RemoteLeaderWorkerSet{}
	if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got); err != nil {
		return nil, err
	}
	return got.Status.AtProvider.GroupRestarts, nil
}

// reasonEvent waits for an event with reason on the managed resource.
func (e *env) reasonEvent(t *testing.T, mr *v1alpha1.RemoteLeaderWorkerSet, reason string) {
	t.Helper()
	e.eventOn(t, mr.Namespace, mr.Name, reason)
}

// eventOn waits for an event with reason on the object named name whose
// events are in namespace ("default" for a cluster-scoped object).
func (e *env) eventOn(t *testing.T, namespace, name, reason string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "event "+reason+" on "+name, func(ctx context.Context) (bool, error) {
		var evs corev1.EventList
		if err := e.cp.Client.List(ctx, &evs, client.InNamespace(namespace)); err != nil {
			return false, err
		}
		var seen []string
		for _, ev := range evs.Items {
			if ev.InvolvedObject.Name == name && ev.Reason == reason {
				return true, nil
			}
			seen = append(seen, ev.Reason)
		}
		return false, testenv.Pendingf("events: %s", strings.Join(seen, ", "))
	})
}
