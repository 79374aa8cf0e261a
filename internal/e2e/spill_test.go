//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestSpillThroughCrossplane gives one cluster 5 groups of 2 pods that
// request 5 CPUs each, where its 8 nodes of 8 CPUs hold 4 groups at most,
// and an overflow cluster with groups: 0. The groups the full cluster
// leaves unschedulable for spill.afterSeconds are created in the overflow
// cluster, and removed from the full one once they run there: the claim
// ends with its 5 groups ready and no pod pending, the full cluster held
// to the groups it runs.
func TestSpillThroughCrossplane(t *testing.T) {
	e, second := startWithCrossplane(t)
	ctx := context.Background()
	c := claim("spill", "image:v1")
	spec := c.Object["spec"].(map[string]any)
	spec["replicas"] = int64(5)
	spec["placement"] = map[string]any{
		"clusters": []any{map[string]any{"name": "default", "groups": int64(5)}, map[string]any{"name": "second", "groups": int64(0)}},
		"spill":    map[string]any{"afterSeconds": int64(5)},
	}
	container := map[string]any{"name": "c", "image": "image:v1", "resources": map[string]any{"requests": map[string]any{"cpu": "5"}}}
	must(t, unstructured.SetNestedSlice(c.Object, []any{container}, "spec", "leaderWorkerTemplate", "workerTemplate", "spec", "containers"))
	must(t, e.cp.Client.Create(ctx, c))

	e.claimStatus(t, "spill", "5 groups ready, the full cluster held to the groups it runs", func(status map[string]any, conds map[string]map[string]any) error {
		full, overflow := clusterStatus(status, "default"), clusterStatus(status, "second")
		if status["readyReplicas"] != int64(5) || status["replicas"] != int64(5) {
			return fmt.Errorf("%v of %v groups ready, want 5 of 5", status["readyReplicas"], status["replicas"])
		}
		if full["spillLimit"] == nil || full["spillLimit"] != full["groups"] || overflow["groups"] == int64(0) {
			return fmt.Errorf("want default held to its spillLimit and the rest in second, got default %v, second %v", full, overflow)
		}
		if conds["Placed"]["status"] != "True" || conds["Placed"]["reason"] != "GroupsSpilled" {
			return fmt.Errorf("want Placed True for GroupsSpilled, got %v", conds["Placed"])
		}
		return nil
	})
	testenv.Eventually(t, time.Minute, "every pod scheduled, 5 ready groups over both clusters", func(ctx context.Context) (bool, error) {
		ready := 0
		for _, cl := range []*testenv.Cluster{e.target, second} {
			var pods corev1.PodList
			if err := cl.Client.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: "spill"}); err != nil {
				return false, err
			}
			for _, p := range pods.Items {
				if p.Spec.NodeName == "" {
					return false, testenv.Pendingf("pod %s of cluster %s is not scheduled", p.Name, cl.Name)
				}
			}
			groups, _, err := groupsReadyIn(ctx, cl, "spill")
			if err != nil {
				return false, err
			}
			ready += len(groups)
		}
		if ready != 5 {
			return false, testenv.Pendingf("%d ready groups", ready)
		}
		return true, nil
	})
}
