package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

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
		results := make([]floorResult, clusters)
		errs := make([]error, clusters)
		for i, c := range cs {
			wg.Go(func() { results[i], errs[i] = runFloor(c, groupsPerCluster, groupSize) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		var maxPods, maxSts time.Duration
		for _, r := range results {
			maxPods, maxSts = max(maxPods, r.podsReady), max(maxSts, r.stsReady)
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

type floorResult struct{ podsReady, stsReady time.Duration }

// runFloor creates the groups in a new namespace of c and waits, through
// watches rather than polling 512 pods, until all pods and StatefulSets are
// ready.
func runFloor(c *testenv.Cluster, groups, groupSize int) (floorResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nsObj, err := c.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "floor-"}}, metav1.CreateOptions{})
	if err != nil {
		return floorResult{}, err
	}
	ns := nsObj.Name
	wantPods := groups * groupSize

	var (
		mu        sync.Mutex
		readyPods = map[string]bool{}
		readySts  = map[string]bool{}
		res       floorResult
		podsDone  = make(chan struct{})
		stsDone   = make(chan struct{})
		start     time.Time
	)
	factory := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithNamespace(ns))
	onPod := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		readyPods[p.Name] = podReady(p)
		if res.podsReady == 0 && countTrue(readyPods) == wantPods {
			res.podsReady = time.Since(start)
			close(podsDone)
		}
	}
	onSts := func(obj any) {
		s, ok := obj.(*appsv1.StatefulSet)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		readySts[s.Name] = s.Spec.Replicas != nil && s.Status.ReadyReplicas == *s.Spec.Replicas &&
			s.Status.ObservedGeneration == s.Generation
		if res.stsReady == 0 && countTrue(readySts) == groups+1 {
			res.stsReady = time.Since(start)
			close(stsDone)
		}
	}
	handler := func(f func(any)) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{AddFunc: f, UpdateFunc: func(_, o any) { f(o) }}
	}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(handler(onPod)); err != nil {
		return floorResult{}, err
	}
	if _, err := factory.Apps().V1().StatefulSets().Informer().AddEventHandler(handler(onSts)); err != nil {
		return floorResult{}, err
	}
	factory.Start(ctx.Done())
	defer func() {
		cancel() // Shutdown waits for the informers, which stop on ctx.
		factory.Shutdown()
	}()
	factory.WaitForCacheSync(ctx.Done())

	mu.Lock()
	start = time.Now()
	mu.Unlock()
	sets := []*appsv1.StatefulSet{floorStatefulSet(ns, "leader", int32(groups), 0)}
	for g := range groups {
		sets = append(sets, floorStatefulSet(ns, fmt.Sprintf("leader-%d", g), int32(groupSize-1), 1))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(sets))
	for _, s := range sets {
		wg.Go(func() {
			if _, err := c.Clientset.AppsV1().StatefulSets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return floorResult{}, fmt.Errorf("creating StatefulSets: %w", err)
	}
	for _, done := range []chan struct{}{podsDone, stsDone} {
		select {
		case <-done:
		case <-ctx.Done():
			mu.Lock()
			defer mu.Unlock()
			return floorResult{}, fmt.Errorf("cluster %s: %d/%d pods and %d/%d StatefulSets ready at timeout", c.Name,
				countTrue(readyPods), wantPods, countTrue(readySts), groups+1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return res, nil
}

// floorStatefulSet is a bare group StatefulSet: Parallel, with the given
// first ordinal, like the leader and worker StatefulSets of the design.
func floorStatefulSet(ns, name string, replicas, start int32) *appsv1.StatefulSet {
	return newStatefulSet(ns, name, replicas, func(s *appsv1.StatefulSet) {
		if start != 0 {
			s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: start}
		}
		s.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(0))
	})
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

func selfRSS(b *testing.B) int64 {
	rss, err := testenv.ProcessRSS(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	return rss
}
