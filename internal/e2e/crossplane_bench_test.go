//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// claimReady waits until a claim reports n ready and updated groups and
// Ready, and returns when it first saw that.
func (e *env) claimReady(b testing.TB, name string, n int64) time.Time {
	var at time.Time
	must(b, testenv.WaitFor(context.Background(), 5*time.Minute, func(ctx context.Context) (bool, error) {
		c := claim(name, "")
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
			return false, err
		}
		ready, _, _ := unstructured.NestedInt64(c.Object, "status", "readyReplicas")
		updated, _, _ := unstructured.NestedInt64(c.Object, "status", "updatedReplicas")
		conds, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
		isReady := slices.ContainsFunc(conds, func(x any) bool {
			m, _ := x.(map[string]any)
			return m["type"] == "Ready" && m["status"] == "True"
		})
		at = time.Now()
		return ready == n && updated == n && isReady, nil
	}))
	return at
}

// BenchmarkClaim512 measures a claim of 64 groups of 8 over two clusters,
// through Crossplane core, the composition function and the provider, from
// its creation to the claim reporting every group ready, divided by the
// floor measured just before on the same clusters, with each WorkerLabels
// policy.
func BenchmarkClaim512(b *testing.B) {
	for _, labels := range []v1alpha1.WorkerLabelsPolicy{v1alpha1.WorkerLabelsPatch, v1alpha1.WorkerLabelsAdmissionPolicy} {
		b.Run("labels="+string(labels), func(b *testing.B) { benchClaim(b, labels) })
	}
}

func benchClaim(b *testing.B, labels v1alpha1.WorkerLabelsPolicy) {
	e, second, x := packagedEnv(b, convergePools, labels)
	targets := []*testenv.Cluster{e.target, second}
	var floor, total time.Duration
	for i := range b.N {
		floor += e.floor(b, targets, convergeLWS("floor", 2))
		c := claim(fmt.Sprintf("claim-%d", i), "image:v1")
		must(b, unstructured.SetNestedField(c.Object, int64(64), "spec", "replicas"))
		must(b, unstructured.SetNestedField(c.Object, int64(8), "spec", "leaderWorkerTemplate", "size"))
		began := time.Now()
		must(b, e.cp.Client.Create(context.Background(), c))
		total += e.claimReady(b, c.GetName(), 64).Sub(began)
	}
	b.ReportMetric(floor.Seconds()/float64(b.N), "s-floor")
	b.ReportMetric(total.Seconds()/float64(b.N), "s-claim-ready")
	b.ReportMetric(total.Seconds()/floor.Seconds(), "ratio")
	reportRSS(b, e, x)
}

// editInterval spaces the edits of BenchmarkClaimEdit. Crossplane
// reconciles a composite resource at each change of it or of its managed
// resources through a circuit breaker: a bucket of 100 tokens refilled at
// 1 per second, an update taking 2 (its map function runs for the old and
// the new object), then one event per 30 s for 5 minutes. A rollout of the
// benchmark's claim makes about 17 updates (events/edit), 34 tokens, so
// edits at least that many seconds apart keep the breaker closed; edits in a
// row open it.
const editInterval = 35 * time.Second

// BenchmarkClaimEdit measures how fast an edit of a claim reaches a target
// cluster: from the update of the claim's image to the leader StatefulSet's
// new template, seen through a watch of the target cluster, over 8 edits
// of a claim of 2 groups of 2, each editInterval after the previous one and
// once its rollout is done. It also counts the events of the composite
// resource and its managed resources, which Crossplane's circuit breaker
// counts.
func BenchmarkClaimEdit(b *testing.B) {
	e, second, _ := packagedEnv(b, nil, v1alpha1.WorkerLabelsPatch)
	ctx := context.Background()
	must(b, e.cp.Client.Create(ctx, claim("edited", "image:0")))
	e.claimReady(b, "edited", 4)
	var latencies []time.Duration
	var events int64
	for b.Loop() {
		latencies, events = latencies[:0], 0
		for i := range 8 {
			image := fmt.Sprintf("image:%d", i+1)
			w, err := e.target.Clientset.AppsV1().StatefulSets("default").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "edited").String()})
			must(b, err)
			count := e.countEvents(b, "compositeleaderworkersets", "remoteleaderworkersets")
			began := time.Now()
			e.setImage(b, "edited", image)
			for ev := range w.ResultChan() {
				if sts, ok := ev.Object.(*appsv1.StatefulSet); ok && len(sts.Spec.Template.Spec.Containers) > 0 && sts.Spec.Template.Spec.Containers[0].Image == image {
					latencies = append(latencies, time.Since(began))
					break
				}
			}
			w.Stop()
			e.rolledOut(b, []*testenv.Cluster{e.target, second}, "edited", image, 4)
			e.claimReady(b, "edited", 4)
			time.Sleep(time.Until(began.Add(editInterval))) // the workload: edits this far apart
			events += count()
		}
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(events)/float64(len(latencies)), "events/edit")
	b.Logf("latencies: %v", latencies)
}

// countEvents watches the cluster-scoped lws.crossplane.io resources in
// the control plane; the returned function stops and returns the number of
// events seen.
func (e *env) countEvents(b *testing.B, resources ...string) func() int64 {
	dyn := dynamic.NewForConfigOrDie(e.cp.Config)
	var n atomic.Int64
	var watches []watch.Interface
	for _, r := range resources {
		w, err := dyn.Resource(schema.GroupVersionResource{Group: "lws.crossplane.io", Version: "v1alpha1", Resource: r}).
			Watch(context.Background(), metav1.ListOptions{ResourceVersion: "0", AllowWatchBookmarks: false})
		must(b, err)
		watches = append(watches, w)
		go func() {
			for ev := range w.ResultChan() {
				if ev.Type == watch.Modified {
					n.Add(1)
				}
			}
		}()
	}
	return func() int64 {
		for _, w := range watches {
			w.Stop()
		}
		return n.Load()
	}
}

// reportRSS reports the resident memory of Crossplane core, the function
// and the provider, each its own process.
func reportRSS(b *testing.B, e *env, x *testenv.Crossplane) {
	pids := map[string]int{"core": e.cp.ProcessIDs()[testenv.ComponentCrossplane]}
	for pkg, pid := range x.PackageProcessIDs() {
		pids[strings.TrimPrefix(pkg, "lws-crossplane-")] = pid
	}
	for name, pid := range pids {
		rss, err := testenv.ProcessRSS(pid)
		must(b, err)
		b.ReportMetric(float64(rss)/(1<<20), "MiB-"+name)
	}
}
