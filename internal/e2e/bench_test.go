//go:build e2e

package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// BenchmarkRestartReaction measures how fast a container restart in a
// target cluster leads to its group's recreation: from the restart count's
// bump (written by the node agent, as a kubelet would) to the deletion of
// the group's leader, seen through a watch of the target cluster. It reports
// the median and the 99th percentile over 50 restarts.
func BenchmarkRestartReaction(b *testing.B) {
	const groups, restarts = 10, 50
	e := start(b)
	ctx := context.Background()
	mr := managed(b, sample("reaction", "image:v1", groups, 2))
	must(b, e.cp.Client.Create(ctx, mr))
	e.groupsReady(b, mr, groups, 2*time.Minute)

	var latencies []time.Duration
	for b.Loop() {
		latencies = latencies[:0]
		for i := range restarts {
			leader := lws.LeaderPodName("reaction", i%groups)
			before := &corev1.Pod{}
			must(b, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: leader}, before))
			began := time.Now()
			must(b, e.target.Nodes.RestartContainer(ctx, "default", leader+"-1", "c"))
			testenv.Eventually(b, 30*time.Second, "leader "+leader+" deleted", func(ctx context.Context) (bool, error) {
				p := &corev1.Pod{}
				err := e.target.Clientset.CoreV1().RESTClient().Get().Namespace("default").Resource("pods").Name(leader).Do(ctx).Into(p)
				if client.IgnoreNotFound(err) != nil {
					return false, err
				}
				return err != nil || p.UID != before.UID || p.DeletionTimestamp != nil, nil
			})
			latencies = append(latencies, time.Since(began))
			e.groupsReady(b, mr, groups, time.Minute)
		}
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Milliseconds()), "p99-ms")
	b.Logf("restart reaction over %d restarts: p50 %s, p99 %s", restarts, latencies[len(latencies)/2], latencies[len(latencies)*99/100])

}
