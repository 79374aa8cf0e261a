//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// failoverAfter is the benchmark claim's failover.afterSeconds.
const failoverAfter = 10 * time.Second

// BenchmarkFailover16x4 measures a failover through Crossplane core, the
// composition function and the provider: a claim of 16 groups of 4, all
// placed in "second" with "default" standing by, whose API server is then
// frozen. It times from afterSeconds past second's last contact (its
// TargetCluster's, the moment the function counts from) to all 16 groups
// ready in "default" (their pods ready), and divides by the
// floor: the same 16 groups started as bare StatefulSets in "default",
// measured just before in the same run. Both are timed through watches.
func BenchmarkFailover16x4(b *testing.B) {
	e, second := startWithCrossplane(b)
	ctx := context.Background()
	floorTarget, err := compose.Plan(sample("floor", "image:v1", 16, 4), nil)
	must(b, err)
	var floor, failover time.Duration
	for i := range b.N {
		r, err := lwsFloor(ctx, e.target, floorTarget[0])
		must(b, err)
		floor += r.Pods

		name := fmt.Sprintf("failover-%d", i)
		c := claim(name, "image:v1")
		must(b, unstructured.SetNestedField(c.Object, int64(16), "spec", "replicas"))
		must(b, unstructured.SetNestedField(c.Object, int64(4), "spec", "leaderWorkerTemplate", "size"))
		must(b, unstructured.SetNestedField(c.Object, map[string]any{
			"clusters": []any{map[string]any{"name": "second", "groups": int64(16)}, map[string]any{"name": "default", "groups": int64(0)}},
			"failover": map[string]any{"afterSeconds": int64(failoverAfter / time.Second)},
		}, "spec", "placement"))
		must(b, e.cp.Client.Create(ctx, c))
		e.claimReady(b, name, 16)

		resume := freeze(b, second)
		due := e.lostAt(b, "second").Add(failoverAfter)
		// Timed through watches, as the floor is: polling added up to its
		// interval, and a List per poll, to the failover alone.
		var watching time.Time
		r, err = testenv.TimeToReady(ctx, e.target, "default", labels.SelectorFromSet(labels.Set{lws.LabelName: name}), 16*4, 1+16,
			func(context.Context) error { watching = time.Now(); return nil })
		must(b, err)
		failover += watching.Add(r.Pods).Sub(due)

		resume()
		e.claimStatus(b, name, "back in second", func(status map[string]any, _ map[string]map[string]any) error {
			if clusterStatus(status, "default")["groups"] != int64(0) || status["readyReplicas"] != int64(16) {
				return fmt.Errorf("want every group back in second")
			}
			return nil
		})
		must(b, e.cp.Client.Delete(ctx, c))
	}
	b.ReportMetric(floor.Seconds()/float64(b.N), "s-floor")
	b.ReportMetric(failover.Seconds()/float64(b.N), "s-failover")
	b.ReportMetric(failover.Seconds()/floor.Seconds(), "ratio")
}

// lostAt waits until the TargetCluster of a provider config turns
// unreachable, and returns its last contact, from which afterSeconds count.
func (e *env) lostAt(b *testing.B, name string) time.Time {
	var at time.Time
	tc := &v1alpha1.TargetCluster{ObjectMeta: metav1.ObjectMeta{Name: name}}
	testenv.EventuallyObject(b, e.cp, tc, &v1alpha1.TargetClusterList{}, time.Minute, name+" unreachable", func(got *v1alpha1.TargetCluster) (bool, error) {
		for _, c := range got.Status.Conditions {
			if c.Type == "Reachable" && c.Status == metav1.ConditionFalse && got.Status.LastContactTime != nil {
				at = got.Status.LastContactTime.Time
				return true, nil
			}
		}
		return false, nil
	})
	return at
}
