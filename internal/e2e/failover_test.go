//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// clusterStatus is one cluster's entry of a claim's status.clusters.
func clusterStatus(status map[string]any, name string) map[string]any {
	clusters, _ := status["clusters"].([]any)
	for _, c := range clusters {
		if m, ok := c.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return map[string]any{}
}

// failoverClaim creates a claim of 4 groups over both clusters that fails
// over after afterSeconds, waits until they are ready, and returns the
// UIDs of its leader pods in second.
func (e *env) failoverClaim(t *testing.T, second *testenv.Cluster, name string, afterSeconds int64) map[string]types.UID {
	t.Helper()
	c := claim(name, "image:v1")
	must(t, unstructured.SetNestedMap(c.Object, map[string]any{"afterSeconds": afterSeconds}, "spec", "placement", "failover"))
	must(t, e.cp.Client.Create(context.Background(), c))
	e.claimStatus(t, name, "4 groups ready over 2 clusters", groupsAre(4))
	_, leaders, err := groupsReadyIn(context.Background(), second, name)
	must(t, err)
	return leaders
}

// TestFailoverThroughCrossplane freezes the API server of one of two target
// clusters under a claim that fails over after 10 s: the claim says the
// cluster is lost, and once afterSeconds have passed the other cluster runs
// every group, ready, while nothing is deleted in the frozen one, though
// the provider and Crossplane core are killed in between and the function
// is down when the failover falls due. When the API server is back, the claim
// converges to its placement again, two groups per cluster, never with
// fewer than replicas − maxUnavailable groups ready over both clusters,
// and the frozen cluster's groups are the ones it had (failback, not a
// re-creation).
func TestFailoverThroughCrossplane(t *testing.T) {
	e, second := startWithCrossplane(t)
	ctx := context.Background()
	secondLeaders := e.failoverClaim(t, second, "failover", 10)

	resume := freeze(t, second)
	// The provider and core are killed while the cluster is lost, before
	// the failover: the provider's memory of the last contact goes (the
	// TargetCluster keeps it), and core's queues and circuit breakers.
	var due time.Time
	e.claimStatus(t, "failover", "the frozen cluster seen lost", func(status map[string]any, _ map[string]map[string]any) error {
		lostSince, _ := clusterStatus(status, "second")["lostSince"].(string)
		since, err := time.Parse(time.RFC3339Nano, lostSince)
		if err != nil {
			return fmt.Errorf("want second lost: %w", err)
		}
		due = since.Add(10 * time.Second)
		return nil
	})
	e.stop()
	e.stop = e.run(t)
	must(t, e.crossplane.RestartCore())
	// The function is down when the failover falls due; core, which waits
	// for a function to be ready, calls it once it is back on its endpoint.
	serve := e.crossplane.StopFunctions()
	<-time.After(time.Until(due))
	must(t, serve())
	e.claimStatus(t, "failover", "the frozen cluster lost, its groups failed over and ready in the other", func(status map[string]any, conds map[string]map[string]any) error {
		lost, kept := clusterStatus(status, "second"), clusterStatus(status, "default")
		if lost["failedOver"] != true || lost["reachable"] != "False" || kept["groups"] != int64(4) || kept["readyReplicas"] != int64(4) {
			return fmt.Errorf("want second failed over and default running 4 ready groups")
		}
		if conds["Placed"]["status"] != "False" || conds["Placed"]["reason"] != "ClusterLost" {
			return fmt.Errorf("want Placed False for ClusterLost, got %v", conds["Placed"])
		}
		return nil
	})
	ready, _, err := groupsReadyIn(ctx, e.target, "failover")
	must(t, err)
	if len(ready) != 4 {
		t.Fatalf("the reachable cluster has %d ready groups, want 4", len(ready))
	}

	// Back: sample the ready groups of both clusters until the claim is
	// placed as its spec says again.
	resume()
	sampler := sampleReady(t, "failover", e.target, second)
	e.claimStatus(t, "failover", "back to 2 groups per cluster, placed", func(status map[string]any, conds map[string]map[string]any) error {
		back, other := clusterStatus(status, "second"), clusterStatus(status, "default")
		if back["failedOver"] != nil || back["reachable"] != "True" || other["groups"] != int64(2) || status["readyReplicas"] != int64(4) || status["replicas"] != int64(4) {
			return fmt.Errorf("want second back and default at 2 groups, 4 ready in all")
		}
		if conds["Placed"]["status"] != "True" {
			return fmt.Errorf("want Placed True, got %v", conds["Placed"])
		}
		return nil
	})
	testenv.Eventually(t, time.Minute, "exactly 2 ready groups in each cluster", func(ctx context.Context) (bool, error) {
		a, _, err := groupsReadyIn(ctx, e.target, "failover")
		if err != nil {
			return false, err
		}
		b, leaders, err := groupsReadyIn(ctx, second, "failover")
		if err != nil {
			return false, err
		}
		if len(a) != 2 || len(b) != 2 || len(leaders) != 2 {
			return false, testenv.Pendingf("%d and %d ready groups, %d leaders in second", len(a), len(b), len(leaders))
		}
		for name, uid := range leaders {
			if secondLeaders[name] != uid {
				return false, fmt.Errorf("leader %s of the frozen cluster was replaced: nothing there may be deleted", name)
			}
		}
		return true, nil
	})
	// The claim's maxUnavailable defaults to 1 of 4 groups.
	sampler.done(t, 3, "the lost cluster returned")
}
