//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// revisionWatch samples the managed resources of a claim in each cluster
// every 50 ms: when each first carried a revision key, and when each first
// reported every group updated to it and ready.
type revisionWatch struct {
	mu             sync.Mutex
	carried, ready map[string]time.Time // by "<cluster>/<key>"
	stop           func()
}

func (e *env) watchRevisions(t *testing.T, claim string, clusters ...string) *revisionWatch {
	w := &revisionWatch{carried: map[string]time.Time{}, ready: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w.stop = func() { cancel(); <-done }
	t.Cleanup(w.stop)
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for ; ctx.Err() == nil; <-tick.C {
			for _, c := range clusters {
				mr := &v1alpha1.RemoteLeaderWorkerSet{}
				if err := e.cp.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: claim + "-" + c}, mr); err != nil {
					continue
				}
				now, p, at := time.Now(), mr.Spec.ForProvider, mr.Status.AtProvider
				k := c + "/" + p.Revision.Key
				w.mu.Lock()
				if _, ok := w.carried[k]; !ok {
					w.carried[k] = now
				}
				if _, ok := w.ready[k]; !ok && at.ObservedGeneration == mr.Generation && at.UpdatedReplicas == p.Replicas && at.ReadyReplicas == p.Replicas {
					w.ready[k] = now
				}
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// carriedAt and readyAt are when a cluster's managed resource first carried
// a revision, and first had every group updated to it and ready; zero if
// never.
func (w *revisionWatch) carriedAt(cluster, key string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.carried[cluster+"/"+key]
}

func (w *revisionWatch) readyAt(cluster, key string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ready[cluster+"/"+key]
}

// revisionOf is the revision key a claim's status gives a cluster.
func revisionOf(status map[string]any, cluster string) any {
	return clusterStatus(status, cluster)["revision"]
}

// sequentialClaim creates a claim over "default" and "second" with a
// Sequential rollout whose progress deadline is 5 s, and waits until its
// groups are ready. Each scenario has a claim of its own: Crossplane's
// circuit breaker, per composite resource, would slow a second rollout of
// the same claim right after the first.
func (e *env) sequentialClaim(t *testing.T, name string) {
	t.Helper()
	c := claim(name, "image:v1")
	must(t, unstructured.SetNestedMap(c.Object, map[string]any{"strategy": "Sequential", "progressDeadlineSeconds": int64(5)}, "spec", "placement", "rollout"))
	must(t, e.cp.Client.Create(context.Background(), c))
	e.claimStatus(t, name, "4 groups ready over 2 clusters", groupsAre(4))
}

// TestSequentialRolloutThroughCrossplane: a claim over two clusters with a
// Sequential rollout gives a new template to "default" first, and to
// "second" only once every group of "default" is updated and ready. An
// edit while "default" cannot progress (its API server frozen) halts the
// sequence past the progress deadline, with RolloutHalted, and "second"
// keeps its template; once "default" is back the rollout goes on to the
// end.
func TestSequentialRolloutThroughCrossplane(t *testing.T) {
	e, second := startWithCrossplane(t)
	e.sequentialClaim(t, "sequential")
	w := e.watchRevisions(t, "sequential", "default", "second")
	e.setImage(t, "sequential", "image:v2")
	var v2 any
	e.claimStatus(t, "sequential", "rolled out to both clusters", func(status map[string]any, conds map[string]map[string]any) error {
		v2 = revisionOf(status, "default")
		if err := groupsAre(4)(status, conds); err != nil {
			return err
		}
		if revisionOf(status, "second") != v2 || conds["RolloutHalted"]["status"] != "False" {
			return fmt.Errorf("want both clusters on one revision, not halted")
		}
		return nil
	})
	e.rolledOut(t, []*testenv.Cluster{e.target, second}, "sequential", "image:v2", 4)
	key := fmt.Sprint(v2)
	if first, next := w.readyAt("default", key), w.carriedAt("second", key); first.IsZero() || next.IsZero() || next.Before(first) {
		t.Errorf("second got revision %s at %v, before default had every group updated and ready at %v", key, next, first)
	}

	t.Run("HaltedByABrokenCluster", func(t *testing.T) {
		e.sequentialClaim(t, "halted")
		var v1 any
		e.claimStatus(t, "halted", "its revision", func(status map[string]any, _ map[string]map[string]any) error {
			v1 = revisionOf(status, "second")
			return nil
		})
		resume := freeze(t, e.target)
		e.setImage(t, "halted", "image:v2")
		e.claimStatus(t, "halted", "halted at default, second on its template", func(status map[string]any, conds map[string]map[string]any) error {
			if conds["RolloutHalted"]["status"] != "True" || conds["RolloutHalted"]["reason"] != "ProgressDeadlineExceeded" {
				return fmt.Errorf("want RolloutHalted, got %v", conds["RolloutHalted"])
			}
			if revisionOf(status, "second") != v1 || revisionOf(status, "default") == v1 {
				return fmt.Errorf("want default on the new revision and second still on %v", v1)
			}
			return nil
		})
		resume()
		e.rolledOut(t, []*testenv.Cluster{e.target, second}, "halted", "image:v2", 4)
		e.claimStatus(t, "halted", "rolled out, no longer halted", func(status map[string]any, conds map[string]map[string]any) error {
			if conds["RolloutHalted"]["status"] != "False" || revisionOf(status, "second") != revisionOf(status, "default") {
				return fmt.Errorf("want both on one revision and RolloutHalted False")
			}
			return nil
		})
	})
}
