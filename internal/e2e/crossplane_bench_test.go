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

// BenchmarkClaimEdit measures how fast each of ten edits of a claim, 5 s
// apart as a user or a pipeline might make them, reaches a target cluster:
// from the update of the claim's image to the leader StatefulSet's new
// template, seen through a watch of the target cluster. The claim has 2
// groups of 2 in each of two clusters; an edit does not wait for the
// previous rollout. Crossplane core runs with its default flags, so its
// circuit breaker per composite resource (a bucket of 100 tokens refilled
// at 1 per second, 2 tokens an update of the composite resource, one of
// its managed resources or of a TargetCluster it requires; once empty, one
// event per 30 s) decides the p99: the benchmark reports those updates per
// edit, by resource.
func BenchmarkClaimEdit(b *testing.B) {
	const edits, interval = 10, 5 * time.Second
	e, second, _ := packagedEnv(b, nil, v1alpha1.WorkerLabelsPatch)
	ctx := context.Background()
	must(b, e.cp.Client.Create(ctx, claim("edited", "image:0")))
	e.claimReady(b, "edited", 4)
	var latencies []time.Duration
	var updates map[string]int64
	for b.Loop() {
		latencies = latencies[:0]
		count := e.countUpdates(b, "compositeleaderworkersets", "remoteleaderworkersets", "targetclusters")
		for i := range edits {
			image := fmt.Sprintf("image:%d", i+1)
			w, err := e.target.Clientset.AppsV1().StatefulSets("default").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "edited").String()})
			must(b, err)
			began := time.Now()
			e.setImage(b, "edited", image)
			for ev := range w.ResultChan() {
				if sts, ok := ev.Object.(*appsv1.StatefulSet); ok && len(sts.Spec.Template.Spec.Containers) > 0 && sts.Spec.Template.Spec.Containers[0].Image == image {
					latencies = append(latencies, time.Since(began))
					break
				}
			}
			w.Stop()
			time.Sleep(time.Until(began.Add(interval))) // the workload: edits this far apart
		}
		e.rolledOut(b, []*testenv.Cluster{e.target, second}, "edited", fmt.Sprintf("image:%d", edits), 4)
		e.claimReady(b, "edited", 4)
		updates = count()
	}
	b.Logf("latencies: %v", latencies)
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)-1].Milliseconds()), "p99-ms")
	for r, n := range updates {
		b.ReportMetric(float64(n)/edits, r+"/edit")
	}
}

// countUpdates watches cluster-scoped lws.crossplane.io resources in the
// control plane; the returned function stops and returns the number of
// updates seen, by resource.
func (e *env) countUpdates(b *testing.B, resources ...string) func() map[string]int64 {
	dyn := dynamic.NewForConfigOrDie(e.cp.Config)
	counts := make([]atomic.Int64, len(resources))
	var watches []watch.Interface
	for i, r := range resources {
		w, err := dyn.Resource(schema.GroupVersionResource{Group: "lws.crossplane.io", Version: "v1alpha1", Resource: r}).
			Watch(context.Background(), metav1.ListOptions{ResourceVersion: "0", AllowWatchBookmarks: false})
		must(b, err)
		watches = append(watches, w)
		go func() {
			for ev := range w.ResultChan() {
				if ev.Type == watch.Modified {
					counts[i].Add(1)
				}
			}
		}()
	}
	return func() map[string]int64 {
		out := map[string]int64{}
		for i, w := range watches {
			w.Stop()
			out[resources[i]] = counts[i].Load()
		}
		return out
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
