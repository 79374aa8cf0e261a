//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestPlacementThroughCrossplane places claims by what the TargetClusters
// observe, through Crossplane core, the function and the provider.
func TestPlacementThroughCrossplane(t *testing.T) {
	e, _ := startWithCrossplane(t)
	ctx := context.Background()

	// Each target cluster has two zones. A claim of groups that each need a
	// zone of their own, weighted 3 to 1, fits 2 groups in each cluster.
	t.Run("CapacityLimited", func(t *testing.T) {
		for _, name := range []string{"default", "second"} {
			tc := &v1alpha1.TargetCluster{ObjectMeta: metav1.ObjectMeta{Name: name}}
			testenv.EventuallyObject(t, e.cp, tc, &v1alpha1.TargetClusterList{}, time.Minute, name+" observed with two free zones", func(got *v1alpha1.TargetCluster) (bool, error) {
				free := 0
				for _, d := range got.Status.Domains {
					if d.Key == corev1.LabelTopologyZone && d.ReadyNodes > 0 && d.FreeNodes == d.ReadyNodes {
						free++
					}
				}
				return free == 2, nil
			})
		}
		// A namespaced composite: Crossplane does not copy a claim's
		// k8s.io annotations to its composite (see the README).
		c := lwsObject("XLeaderWorkerSet", "zones", "image:v1")
		c.SetAnnotations(map[string]string{lws.AnnotationExclusiveTopology: "topology.kubernetes.io/zone"})
		must(t, unstructured.SetNestedSlice(c.Object, []any{map[string]any{"name": "default", "weight": int64(3)}, map[string]any{"name": "second"}},
			"spec", "placement", "clusters"))
		must(t, e.cp.Client.Create(ctx, c))
		e.lwsStatus(t, "XLeaderWorkerSet", "zones", "2 groups in each cluster, each at its capacity, all ready", func(status map[string]any, conds map[string]map[string]any) error {
			for _, name := range []string{"default", "second"} {
				if cs := clusterStatus(status, name); cs["groups"] != int64(2) || cs["capacity"] != int64(2) || cs["readyReplicas"] != int64(2) {
					return fmt.Errorf("want cluster %s at 2 ready groups of capacity 2, got %v", name, cs)
				}
			}
			if conds["Placed"]["status"] != "True" {
				return fmt.Errorf("want Placed True, got %v", conds["Placed"])
			}
			return nil
		})
	})

	// One more group has no zone anywhere: it is kept where the placement
	// put it, pending, and the claim says so.
	t.Run("NoRoomIsReported", func(t *testing.T) {
		e.editLWS(t, "XLeaderWorkerSet", "zones", func(c *unstructured.Unstructured) error {
			return unstructured.SetNestedField(c.Object, int64(5), "spec", "replicas")
		})
		e.lwsStatus(t, "XLeaderWorkerSet", "zones", "Placed False for lack of room, 4 groups ready", func(status map[string]any, conds map[string]map[string]any) error {
			if conds["Placed"]["status"] != "False" || conds["Placed"]["reason"] != "InsufficientCapacity" {
				return fmt.Errorf("want Placed False for InsufficientCapacity, got %v", conds["Placed"])
			}
			// The pending group holds no zone, so no room.
			if full := clusterStatus(status, "default"); status["readyReplicas"] != int64(4) || full["groups"] != int64(3) || full["unschedulable"] != int64(1) {
				return fmt.Errorf("want the fifth group pending in default, its desired cluster, and 4 ready")
			}
			return nil
		})
	})
}

// TestBlinkThroughCrossplane freezes a cluster for less than
// failover.afterSeconds: it is reported lost, and nothing moves; when it is
// back its groups are the ones it had, and the other cluster never got any
// of them.
func TestBlinkThroughCrossplane(t *testing.T) {
	e, second := startWithCrossplane(t)
	ctx := context.Background()
	before := e.failoverClaim(t, second, "blink", 120)

	resume := freeze(t, second)
	stayed := func(status map[string]any) error {
		mr := &v1alpha1.RemoteLeaderWorkerSet{}
		if err := e.cp.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "blink-default"}, mr); err != nil {
			return err
		}
		if mr.Spec.ForProvider.Replicas != 2 || clusterStatus(status, "default")["groups"] != int64(2) {
			t.Fatalf("default was given %d groups while second blinked, want 2", mr.Spec.ForProvider.Replicas)
		}
		return nil
	}
	e.claimStatus(t, "blink", "second lost, nothing moved", func(status map[string]any, conds map[string]map[string]any) error {
		if err := stayed(status); err != nil {
			return err
		}
		if conds["Placed"]["reason"] != "ClusterLost" {
			return fmt.Errorf("want Placed False for ClusterLost, got %v", conds["Placed"])
		}
		return nil
	})
	resume()
	e.claimStatus(t, "blink", "second back, placed", func(status map[string]any, conds map[string]map[string]any) error {
		if err := stayed(status); err != nil {
			return err
		}
		if clusterStatus(status, "second")["reachable"] != "True" || conds["Placed"]["status"] != "True" || status["readyReplicas"] != int64(4) {
			return fmt.Errorf("want second reachable, Placed True and 4 groups ready")
		}
		return nil
	})
	_, after, err := groupsReadyIn(ctx, second, "blink")
	must(t, err)
	for name, uid := range before {
		if after[name] != uid {
			t.Errorf("leader %s of the cluster that blinked was replaced", name)
		}
	}
}
