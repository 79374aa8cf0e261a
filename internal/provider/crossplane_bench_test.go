package provider_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/function"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// crossplaneEnv is env with a second target cluster, "second", and
// Crossplane core composing claims through the configuration package.
func crossplaneEnv(b *testing.B, pools []nodeagent.Pool) (*env, *testenv.Cluster) {
	e := startWith(b, testenv.Options{Name: "target", NodeAgent: nodeagent.Config{Pools: pools}})
	second := testenv.Start(b, testenv.Options{Name: "second", NodeAgent: nodeagent.Config{Pools: pools}})
	e.addConfig(b, "second", second)
	testenv.StartCrossplane(b, e.cp, testenv.CrossplaneOptions{Functions: map[string]fnv1.FunctionRunnerServiceServer{
		"lws-crossplane-function-lws": function.New(logging.NewNopLogger()),
	}})
	must(b, testenv.ApplyFiles(context.Background(), e.cp,
		"../../package/configuration/definition-leaderworkersets.yaml",
		"../../package/configuration/composition-leaderworkerset-legacy.yaml"))
	return e, second
}

// claimReady waits until a claim reports n ready and updated groups and
// Ready, and returns when it first saw that.
func (e *env) claimReady(b *testing.B, name string, n int64) time.Time {
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
// floor measured just before on the same clusters.
func BenchmarkClaim512(b *testing.B) {
	e, second := crossplaneEnv(b, convergePools)
	targets := []*testenv.Cluster{e.target, second}
	var floor, total time.Duration
	for i := range b.N {
		floor += e.floor(b, targets, 32)
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
	reportRSS(b, e)
}

// BenchmarkClaimEdit measures how fast an edit of a claim reaches a target
// cluster: from the update of the claim's image to the leader StatefulSet's
// new template, seen through a watch of the target cluster, over 20 edits
// of a claim of 2 groups of 2, each once the previous rollout is done.
func BenchmarkClaimEdit(b *testing.B) {
	e, second := crossplaneEnv(b, nil)
	ctx := context.Background()
	must(b, e.cp.Client.Create(ctx, claim("edited", "image:0")))
	e.claimReady(b, "edited", 4)
	var latencies []time.Duration
	for b.Loop() {
		latencies = latencies[:0]
		for i := range 20 {
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
			e.rolledOut(b, []*testenv.Cluster{e.target, second}, "edited", image, 4)
			e.claimReady(b, "edited", 4)
		}
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Milliseconds()), "p99-ms")
}

// reportRSS reports the resident memory of Crossplane core, and of this
// process, which serves the function and runs the provider and the node
// agents.
func reportRSS(b *testing.B, e *env) {
	core, err := testenv.ProcessRSS(e.cp.ProcessIDs()[testenv.ComponentCrossplane])
	must(b, err)
	self, err := testenv.ProcessRSS(os.Getpid())
	must(b, err)
	b.ReportMetric(float64(core)/(1<<20), "MiB-core")
	b.ReportMetric(float64(self)/(1<<20), "MiB-test-process")
}
