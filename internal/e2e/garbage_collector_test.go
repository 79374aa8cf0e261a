//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestRolloutWithoutGarbageCollector rolls a LeaderWorkerSet out on a
// cluster whose kube-controller-manager runs no garbage collector, the
// extreme of one that lags its watches after an API server restart (chaos
// seed 5 saw a group down for minutes). A replaced leader's worker pods,
// which the garbage collector would delete, hold the names of the new
// leader's workers: the provider deletes them itself, and the rollout
// completes.
func TestRolloutWithoutGarbageCollector(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", Controllers: []string{"*", "-garbage-collector-controller"}})
	ctx := context.Background()
	mr := managed(t, sample("nogc", "image:v1", 2, 3))
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 2, 60*time.Second)

	got := &v1alpha1.RemoteLeaderWorkerSet{}
	must(t, e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got))
	got.Spec.ForProvider = managed(t, sample("nogc", "image:v2", 2, 3)).Spec.ForProvider
	must(t, e.cp.Client.Update(ctx, got))
	e.groupsReady(t, mr, 2, 90*time.Second)
	pods := e.pods(t, "nogc")
	if len(pods) != 6 {
		t.Errorf("want the 6 pods of 2 groups of 3, got %d", len(pods))
	}
	for _, p := range pods {
		if p.Spec.Containers[0].Image != "image:v2" {
			t.Errorf("pod %s runs %s, want image:v2", p.Name, p.Spec.Containers[0].Image)
		}
	}
}
