//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// step is a leader StatefulSet's rollout state.
type step struct{ partition, replicas int32 }

func (s step) String() string { return fmt.Sprintf("(%d, %d)", s.partition, s.replicas) }

// steps records every distinct (partition, replicas) a leader StatefulSet
// goes through, from a watch of the target cluster.
type steps struct {
	mu  sync.Mutex
	got []step
}

func (e *env) watchSteps(t *testing.T, name string) *steps {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := e.target.Clientset.AppsV1().StatefulSets("default").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		t.Fatal(err)
	}
	s := &steps{}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			sts, ok := ev.Object.(*appsv1.StatefulSet)
			if !ok {
				continue
			}
			st := step{ptr.Deref(sts.Spec.UpdateStrategy.RollingUpdate.Partition, 0), ptr.Deref(sts.Spec.Replicas, 1)}
			s.mu.Lock()
			if len(s.got) == 0 || s.got[len(s.got)-1] != st {
				s.got = append(s.got, st)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *steps) last() (step, []step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		return step{-1, -1}, nil
	}
	return s.got[len(s.got)-1], slices.Clone(s.got)
}

func (e *env) waitStep(t *testing.T, s *steps, want step, stage string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, stage+": leader StatefulSet at "+want.String(), func(context.Context) (bool, error) {
		if got, all := s.last(); got != want {
			return false, testenv.Pendingf("at %s, so far %v", got, all)
		}
		return true, nil
	})
}

// readyGroups waits until the managed resource reports n ready groups, so
// that the reconcile which saw them has run.
func (e *env) readyGroups(t *testing.T, mr *v1alpha1.RemoteLeaderWorkerSet, n int32) {
	t.Helper()
	testenv.Eventually(t, time.Minute, fmt.Sprintf("%d groups ready", n), func(ctx context.Context) (bool, error) {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got); err != nil {
			return false, err
		}
		if r := got.Status.AtProvider.ReadyReplicas; r != n {
			return false, testenv.Pendingf("%d ready", r)
		}
		return true, nil
	})
}

// TestNineStageRollout drives the rollout strategy documentation's
// 9-stage example (replicas 4, maxUnavailable 2, maxSurge 2; https://lws.sigs.k8s.io/docs/concepts/rollout-strategy/) on
// real clusters, releasing the new pods group by group so that every stage
// is reached, and asserts the leader StatefulSet's (partition, replicas) at
// each stage and the exact sequence of them.
func TestNineStageRollout(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	l := sample("nine", "image:v1", 4, 2)
	l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxUnavailable: intstr.FromInt32(2), MaxSurge: intstr.FromInt32(2)}
	mr := managed(t, l)
	s := e.watchSteps(t, "nine")
	evs := e.watchEvents(t, mr)
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 4, time.Minute)
	e.waitStep(t, s, step{0, 4}, "stage 1, steady")

	l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "image:v2"
	newKey := managed(t, l).Spec.ForProvider.Revision.Key
	held := map[int]func(){}
	for g := range 6 {
		held[g] = e.target.Nodes.NeverReady("default", labels.SelectorFromSet(labels.Set{
			lws.LabelName: "nine", lws.LabelGroupIndex: fmt.Sprint(g), lws.LabelRevisionKey: newKey}))
	}
	release := func(groups ...int) {
		for _, g := range groups {
			held[g]()
		}
	}
	e.update(t, mr, l)
	e.waitStep(t, s, step{2, 6}, "stages 2 and 3, surge created, groups 2 and 3 rolled")
	e.readyGroups(t, mr, 2)
	got := &v1alpha1.RemoteLeaderWorkerSet{}
	must(t, e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got))
	if c := got.GetCondition(xpv2.TypeReady); c.Status != corev1.ConditionTrue {
		t.Errorf("stage 3, 2 of 4 groups ready within maxUnavailable 2: want Ready (serving), got %s: %s", c.Status, c.Message)
	}

	release(4)
	e.readyGroups(t, mr, 3)
	if got, _ := s.last(); got != (step{2, 6}) {
		t.Errorf("stage 4, one surge group ready: want (2, 6) unchanged, got %s", got)
	}

	release(5)
	e.waitStep(t, s, step{0, 6}, "stage 5, both surge groups ready, groups 0 and 1 roll")

	release(2, 3)
	e.waitStep(t, s, step{0, 4}, "stages 6 and 7, surge released")
	evs.wait(t, "GroupsProgressing", "deleting surge replicas from nine-4 to nine-5")

	release(0, 1)
	e.groupsReady(t, mr, 4, time.Minute)
	testenv.Eventually(t, 30*time.Second, "stage 9: the old revision truncated", func(ctx context.Context) (bool, error) {
		var revs appsv1.ControllerRevisionList
		if err := e.target.Client.List(ctx, &revs, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: "nine"}); err != nil {
			return false, err
		}
		var ours []string
		for _, r := range revs.Items {
			if metav1.GetControllerOf(&r) == nil {
				ours = append(ours, r.Labels[lws.LabelRevisionKey])
			}
		}
		return slices.Equal(ours, []string{newKey}), testenv.Pendingf("revisions %v", ours)
	})
	if _, all := s.last(); !slices.Equal(all, []step{{0, 4}, {4, 6}, {2, 6}, {0, 6}, {0, 4}}) {
		t.Errorf("leader StatefulSet went through %v, want (0, 4) (4, 6) (2, 6) (0, 6) (0, 4)", all)
	}
}

// events records every (reason, message) the managed resource's events
// carry, from a watch: an event the recorder later combines with similar
// ones (client-go's correlator, after ten of one reason) keeps its message
// only in the version first written, which a list may no longer show.
type events struct {
	mu   sync.Mutex
	seen []string
}

// combinedPrefix is what client-go's event correlator puts before the
// message of an event it aggregates.
const combinedPrefix = "(combined from similar events): "

func (e *env) watchEvents(t *testing.T, mr *v1alpha1.RemoteLeaderWorkerSet) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := e.cp.Clientset.CoreV1().Events(mr.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", mr.Name).String()})
	if err != nil {
		t.Fatal(err)
	}
	evs := &events{}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(*corev1.Event); ok {
				evs.mu.Lock()
				evs.seen = append(evs.seen, o.Reason+": "+strings.TrimPrefix(o.Message, combinedPrefix))
				evs.mu.Unlock()
			}
		}
	}()
	return evs
}

// wait waits for an event with reason and message.
func (evs *events) wait(t *testing.T, reason, message string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("event %s %q", reason, message), func(context.Context) (bool, error) {
		evs.mu.Lock()
		defer evs.mu.Unlock()
		if slices.Contains(evs.seen, reason+": "+message) {
			return true, nil
		}
		return false, testenv.Pendingf("events: %s", strings.Join(evs.seen, "; "))
	})
}
