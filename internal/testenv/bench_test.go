//go:build e2e

package testenv_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// Benchmarks run only with -bench; see BENCHMARKS.md for the commands and
// recorded figures.

const mib = 1 << 20

// BenchmarkClusterStart measures start-up to a usable cluster (etcd, API
// server, controller manager, scheduler, node agent with 8 nodes) and the
// resident memory of its processes. The node agent runs in the benchmark
// process; its share is estimated as that process's RSS growth over the
// first cluster start.
func BenchmarkClusterStart(b *testing.B) {
	var startup time.Duration
	perComponent := map[string]int64{}
	var total int64
	before := selfRSS(b)
	var agentShare int64
	for i := range b.N {
		c := testenv.Start(b, testenv.Options{})
		startup += c.StartupDuration
		if i == 0 {
			agentShare = selfRSS(b) - before
		}
		rss, err := c.RSS()
		if err != nil {
			b.Fatal(err)
		}
		for name, v := range rss {
			perComponent[name] += v
			total += v
		}
		if err := c.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N)
	b.ReportMetric(startup.Seconds()/n, "s-to-ready")
	for name, v := range perComponent {
		b.ReportMetric(float64(v)/mib/n, "MiB-"+name)
	}
	b.ReportMetric(float64(agentShare)/mib, "MiB-agent")
	b.ReportMetric((float64(total)/n+float64(agentShare))/mib, "MiB-cluster")
}

// floorPools gives the 512 pods room: 16 nodes at 110 pods each.
var floorPools = []nodeagent.Pool{
	{Name: "pool-a", Nodes: 8, Zone: "zone-a", RackSize: 4},
	{Name: "pool-b", Nodes: 8, Zone: "zone-b", RackSize: 4},
}

// BenchmarkFloor512 is the floor any LWS implementation on this control
// plane pays: 64 groups of 8 as bare StatefulSets (one leader StatefulSet
// of 64 replicas plus 64 worker StatefulSets of 7 replicas with
// ordinals.start 1, Parallel), all created up front, until all 512 pods
// and all 65 StatefulSets are ready. A fresh cluster per iteration, started
// outside the timer.
func BenchmarkFloor512(b *testing.B) {
	benchFloor(b, 1, 64, testenv.Options{})
}

// BenchmarkFloor512TwoClusters splits the same 64 groups over two clusters
// of 32 groups each, created at once.
func BenchmarkFloor512TwoClusters(b *testing.B) {
	benchFloor(b, 2, 32, testenv.Options{})
}

// BenchmarkFloor512StockControllerManagerQPS is BenchmarkFloor512 with the
// controller manager's stock client limits (QPS 20, burst 30), to show why
// the harness raises them.
func BenchmarkFloor512StockControllerManagerQPS(b *testing.B) {
	benchFloor(b, 1, 64, testenv.Options{ControllerManagerQPS: 20, ControllerManagerBurst: 30})
}

func benchFloor(b *testing.B, clusters, groupsPerCluster int, opts testenv.Options) {
	const groupSize = 8
	var podsReady, stsReady time.Duration
	var apiserverRSS int64
	for range b.N {
		b.StopTimer()
		opts.Name, opts.NodeAgent.Pools = "floor", floorPools
		cs := testenv.StartN(b, clusters, opts)
		b.StartTimer()

		var wg sync.WaitGroup
		results := make([]testenv.ReadyTimes, clusters)
		errs := make([]error, clusters)
		for i, c := range cs {
			wg.Go(func() { results[i], errs[i] = testenv.Floor(context.Background(), c, groupsPerCluster, groupSize) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		var maxPods, maxSts time.Duration
		for _, r := range results {
			maxPods, maxSts = max(maxPods, r.Pods), max(maxSts, r.StatefulSets)
		}
		podsReady += maxPods
		stsReady += maxSts
		for _, c := range cs {
			rss, err := c.RSS()
			if err != nil {
				b.Fatal(err)
			}
			apiserverRSS = max(apiserverRSS, rss[testenv.ComponentAPIServer])
			if err := c.Stop(); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(podsReady.Seconds()/float64(b.N), "s-pods-ready")
	b.ReportMetric(stsReady.Seconds()/float64(b.N), "s-sts-ready")
	b.ReportMetric(float64(apiserverRSS)/mib, "MiB-apiserver-max")
}

func selfRSS(b *testing.B) int64 {
	rss, err := testenv.ProcessRSS(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	return rss
}
