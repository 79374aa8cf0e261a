//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// readySampler counts a LeaderWorkerSet's ready groups over clusters every
// 50 ms, from start until done is called.
type readySampler struct {
	mu      sync.Mutex
	fewest  int
	samples int
	stop    func()
}

func sampleReady(t *testing.T, name string, clusters ...*testenv.Cluster) *readySampler {
	s := &readySampler{fewest: 1 << 30}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.stop = func() { cancel(); <-done }
	t.Cleanup(s.stop)
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for ; ctx.Err() == nil; <-tick.C {
			n, ok := 0, true
			for _, c := range clusters {
				ready, _, err := groupsReadyIn(ctx, c, name)
				ok = ok && err == nil
				n += len(ready)
			}
			if ok {
				s.mu.Lock()
				s.fewest, s.samples = min(s.fewest, n), s.samples+1
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// done stops sampling and fails t if the ready groups ever fell below
// least.
func (s *readySampler) done(t *testing.T, least int, while string) {
	t.Helper()
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.samples == 0 || s.fewest < least {
		t.Errorf("ready groups over all clusters fell to %d (of %d samples) while %s; want at least %d", s.fewest, s.samples, while, least)
	}
}

// TestOneBudgetThroughCrossplane rolls a claim of 4 groups over two
// clusters with maxUnavailable 1 while one group of the second cluster is
// not ready: that group uses the whole budget, so no cluster takes another
// group down until it is ready again; then the rollout completes. The ready
// groups over both clusters, sampled throughout, never fall below 3.
func TestOneBudgetThroughCrossplane(t *testing.T) {
	e, second := startWithCrossplane(t)
	ctx := context.Background()
	must(t, e.cp.Client.Create(ctx, claim("budget", "image:v1")))
	e.claimStatus(t, "budget", "4 groups ready over 2 clusters", groupsAre(4))

	undo := second.Nodes.NeverReady("default", labels.SelectorFromSet(labels.Set{lws.LabelName: "budget", lws.LabelGroupIndex: "1"}))
	e.claimStatus(t, "budget", "3 groups ready", func(status map[string]any, _ map[string]map[string]any) error {
		if status["readyReplicas"] != int64(3) {
			return fmt.Errorf("%v groups ready, want 3", status["readyReplicas"])
		}
		return nil
	})
	sampler := sampleReady(t, "budget", e.target, second)
	e.setImage(t, "budget", "image:v2")
	testenv.Eventually(t, time.Minute, "the broken group holds the whole budget", func(ctx context.Context) (bool, error) {
		got := map[string]int32{}
		for _, cluster := range []string{"default", "second"} {
			mr := &v1alpha1.RemoteLeaderWorkerSet{}
			if err := e.cp.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "budget-" + cluster}, mr); err != nil {
				return false, err
			}
			got[cluster] = mr.Spec.ForProvider.Rollout.MaxUnavailable + mr.Spec.ForProvider.Rollout.MaxSurge
		}
		if got["default"] != 0 || got["second"] != 1 {
			return false, testenv.Pendingf("budgets %v, want default 0 and second 1", got)
		}
		return true, nil
	})
	undo()
	e.rolledOut(t, []*testenv.Cluster{e.target, second}, "budget", "image:v2", 4)
	e.claimStatus(t, "budget", "4 groups ready and updated", groupsAre(4))
	sampler.done(t, 3, "a rollout met a broken group")
}
