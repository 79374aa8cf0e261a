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

	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// BenchmarkDisaggregatedSet measures a DisaggregatedSet of two roles of 16
// groups of 4 through the packaged product, from its creation to
// Available, and a rollout of both roles to Available at the new
// revision, each divided by the same two LeaderWorkerSets run alone (two
// claims created, then edited, at once) in the same run on the same
// cluster. A rollout of the roles is sequenced (no step before the new
// revision of every role is ready), the claims' are not. It also counts
// the composite reconciles core refused with a circuit breaker open
// during each rollout.
func BenchmarkDisaggregatedSet(b *testing.B) {
	const groups, size = 16, 4
	e, targets, x := packagedClusters(b, 1, testenv.Options{NodeAgent: nodeagent.Config{Pools: convergePools}})
	ctx := context.Background()
	var alone, ds [2]time.Duration  // create, rollout
	var breakerAlone, breakerDS int // core's reconciles refused by a breaker, during rollouts
	for i := range b.N {
		// The LeaderWorkerSets alone.
		names := []string{fmt.Sprintf("prefill-%d", i), fmt.Sprintf("decode-%d", i)}
		began := time.Now()
		for _, n := range names {
			c := claim(n, "image:v1")
			c.Object["spec"] = roleSpec("image:v1", groups, size)
			must(b, e.cp.Client.Create(ctx, c))
		}
		for _, n := range names {
			e.rolledOut(b, targets, n, "image:v1", groups*size)
		}
		alone[0] += time.Since(began)
		began = time.Now()
		before, _ := breakerOpen(b, x)
		for _, n := range names {
			e.setImage(b, n, "image:v2")
		}
		for _, n := range names {
			e.rolledOut(b, targets, n, "image:v2", groups*size)
		}
		alone[1] += time.Since(began)
		after, _ := breakerOpen(b, x)
		breakerAlone += after - before
		for _, n := range names {
			must(b, e.cp.Client.Delete(ctx, claim(n, "")))
		}
		e.noPodsLeft(b, targets)

		// The DisaggregatedSet.
		name := fmt.Sprintf("ds-%d", i)
		began = time.Now()
		must(b, e.cp.Client.Create(ctx, disaggregatedSet(name, "image:v1", groups, size)))
		e.lwsStatus(b, "DisaggregatedSet", name, "both roles available", rolesAvailable(groups))
		ds[0] += time.Since(began)
		rev := dsRevisionOf(b, e, name)
		began = time.Now()
		before, _ = breakerOpen(b, x)
		e.editLWS(b, "DisaggregatedSet", name, func(u *unstructured.Unstructured) error {
			roles, _, _ := unstructured.NestedSlice(u.Object, "spec", "roles")
			for _, r := range roles {
				r.(map[string]any)["spec"] = roleSpec("image:v2", groups, size)
			}
			return unstructured.SetNestedSlice(u.Object, roles, "spec", "roles")
		})
		e.lwsStatus(b, "DisaggregatedSet", name, "both roles available at the new revision", func(status map[string]any, conds map[string]map[string]any) error {
			if status["revision"] == rev {
				return fmt.Errorf("revision still %s", rev)
			}
			return rolesAvailable(groups)(status, conds)
		})
		ds[1] += time.Since(began)
		after, _ = breakerOpen(b, x)
		breakerDS += after - before
		must(b, e.cp.Client.Delete(ctx, disaggregatedSet(name, "", 0, 0)))
		e.noPodsLeft(b, targets)
	}
	n := float64(b.N)
	b.ReportMetric(alone[0].Seconds()/n, "s-create-alone")
	b.ReportMetric(ds[0].Seconds()/n, "s-create-ds")
	b.ReportMetric(ds[0].Seconds()/alone[0].Seconds(), "ratio-create")
	b.ReportMetric(alone[1].Seconds()/n, "s-rollout-alone")
	b.ReportMetric(ds[1].Seconds()/n, "s-rollout-ds")
	b.ReportMetric(ds[1].Seconds()/alone[1].Seconds(), "ratio-rollout")
	b.ReportMetric(float64(breakerAlone)/n, "breaker-open-alone")
	b.ReportMetric(float64(breakerDS)/n, "breaker-open-ds")
}

// noPodsLeft waits until the default namespace of every target has no pod.
func (e *env) noPodsLeft(b testing.TB, targets []*testenv.Cluster) {
	b.Helper()
	testenv.Eventually(b, 3*time.Minute, "no pods left", func(ctx context.Context) (bool, error) {
		for _, c := range targets {
			var l corev1.PodList
			if err := c.Client.List(ctx, &l, client.InNamespace("default")); err != nil {
				return false, err
			}
			if len(l.Items) > 0 {
				return false, testenv.Pendingf("cluster %s: %d pods", c.Name, len(l.Items))
			}
		}
		return true, nil
	})
}
