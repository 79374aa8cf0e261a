//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/function"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// claim is a claim of 4 groups of 2 over the two target clusters.
func claim(name, image string) *unstructured.Unstructured {
	return lwsObject("LeaderWorkerSet", name, image)
}

// lwsObject is a claim (kind LeaderWorkerSet) or a namespaced composite
// resource (XLeaderWorkerSet) of 4 groups of 2 over the two target clusters.
func lwsObject(kind, name, image string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "lws.crossplane.io/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec": map[string]any{
			"replicas":  int64(4),
			"placement": map[string]any{"clusters": []any{map[string]any{"name": "default"}, map[string]any{"name": "second"}}},
			"leaderWorkerTemplate": map[string]any{
				"size":           int64(2),
				"workerTemplate": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": image}}}},
			},
		},
	}}
}

// claimStatus waits until a claim's status satisfies ok.
func (e *env) claimStatus(t testing.TB, name, what string, ok func(status map[string]any, conditions map[string]map[string]any) error) {
	t.Helper()
	e.lwsStatus(t, "LeaderWorkerSet", name, what, ok)
}

// lwsStatus waits until the status of a claim or composite resource
// satisfies ok.
func (e *env) lwsStatus(t testing.TB, kind, name, what string, ok func(status map[string]any, conditions map[string]map[string]any) error) {
	t.Helper()
	testenv.Eventually(t, 2*time.Minute, kind+" "+name+": "+what, func(ctx context.Context) (bool, error) {
		c := &unstructured.Unstructured{}
		c.SetAPIVersion("lws.crossplane.io/v1alpha1")
		c.SetKind(kind)
		if err := e.cp.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, c); err != nil {
			return false, err
		}
		status, _, _ := unstructured.NestedMap(c.Object, "status")
		conds := map[string]map[string]any{}
		cs, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
		for _, x := range cs {
			if m, ok := x.(map[string]any); ok {
				conds[fmt.Sprint(m["type"])] = m
			}
		}
		if err := ok(status, conds); err != nil {
			return false, testenv.Pendingf("%v; status %v", err, status)
		}
		return true, nil
	})
}

func groupsAre(n int64) func(map[string]any, map[string]map[string]any) error {
	return func(status map[string]any, conds map[string]map[string]any) error {
		if status["readyReplicas"] != n || status["updatedReplicas"] != n || conds["Ready"]["status"] != "True" || conds["Valid"]["status"] != "True" {
			return fmt.Errorf("want %d ready and updated groups, Ready and Valid", n)
		}
		clusters, _ := status["clusters"].([]any)
		if len(clusters) != 2 {
			return fmt.Errorf("want a breakdown over 2 clusters, got %v", clusters)
		}
		return nil
	}
}

// startWithCrossplane starts the provider with two target clusters,
// "default" and "second", and the real Crossplane core with the
// Configuration package's XRDs and Compositions, calling our composition
// function in this process.
func startWithCrossplane(t testing.TB) (*env, *testenv.Cluster) {
	t.Helper()
	e := start(t)
	second := testenv.Start(t, testenv.Options{Name: "second"})
	e.addConfig(t, "second", second)
	e.installCrossplane(t)
	return e, second
}

// installCrossplane runs the real Crossplane core in the control plane,
// with the Configuration package's XRDs and Compositions, calling our
// composition function in this process.
func (e *env) installCrossplane(t testing.TB) {
	t.Helper()
	e.crossplane = testenv.StartCrossplane(t, e.cp, testenv.CrossplaneOptions{Functions: map[string]fnv1.FunctionRunnerServiceServer{
		"lws-crossplane-function-lws": function.New(logging.NewNopLogger()),
	}})
	must(t, testenv.ApplyFiles(context.Background(), e.cp,
		"../../package/configuration/definition-leaderworkersets.yaml",
		"../../package/configuration/definition-xleaderworkersets.yaml",
		"../../package/configuration/composition-leaderworkerset.yaml",
		"../../package/configuration/composition-leaderworkerset-legacy.yaml",
		"../../package/configuration/definition-disaggregatedsets.yaml",
		"../../package/configuration/definition-xdisaggregatedsets.yaml",
		"../../package/configuration/composition-disaggregatedset.yaml",
		"../../package/configuration/composition-disaggregatedset-legacy.yaml"))
}

// TestClaimThroughCrossplane runs the whole product: the real Crossplane
// core reconciles a claim through the XRDs and Composition of the
// Configuration package and our composition function (served in this
// process over mTLS), into managed resources that the provider runs in two
// target clusters; status comes back to the claim. An image edit rolls out
// in both clusters, and an invalid claim is refused with the field named
// (Valid=False: a claim's Synced is its own reconciler's, which a function
// cannot set).
func TestClaimThroughCrossplane(t *testing.T) {
	e, second := startWithCrossplane(t)
	ctx := context.Background()

	must(t, e.cp.Client.Create(ctx, claim("claimed", "image:v1")))
	e.claimStatus(t, "claimed", "4 groups ready over 2 clusters", groupsAre(4))
	for _, c := range []*testenv.Cluster{e.target, second} {
		if n := len(pods(t, c, "claimed")); n != 4 {
			t.Errorf("cluster %s: want 2 groups of 2 pods, got %d pods", c.Name, n)
		}
	}

	t.Run("ImageEditRollsOutInBothClusters", func(t *testing.T) {
		e.setImage(t, "claimed", "image:v2")
		e.rolledOut(t, []*testenv.Cluster{e.target, second}, "claimed", "image:v2", 4)
		e.claimStatus(t, "claimed", "4 groups ready and updated", groupsAre(4))
	})

	t.Run("ReplicasScaleInBothClusters", func(t *testing.T) {
		e.editClaim(t, "claimed", func(c *unstructured.Unstructured) error {
			return unstructured.SetNestedField(c.Object, int64(6), "spec", "replicas")
		})
		e.claimStatus(t, "claimed", "6 groups ready", groupsAre(6))
		for _, c := range []*testenv.Cluster{e.target, second} {
			if n := len(pods(t, c, "claimed")); n != 6 {
				t.Errorf("cluster %s: want 3 groups of 2 pods, got %d pods", c.Name, n)
			}
		}
	})

	t.Run("DriftInATargetClusterRepaired", func(t *testing.T) {
		workers := &appsv1.StatefulSet{}
		must(t, second.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "claimed-0"}, workers))
		must(t, second.Client.Delete(ctx, workers))
		leader := &appsv1.StatefulSet{}
		must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "claimed"}, leader))
		must(t, e.target.Client.Patch(ctx, leader, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":1}}`))))
		testenv.Eventually(t, time.Minute, "the deleted worker StatefulSet recreated and the edited leader StatefulSet restored", func(ctx context.Context) (bool, error) {
			got := &appsv1.StatefulSet{}
			if err := second.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "claimed-0"}, got); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			if got.UID == workers.UID {
				return false, testenv.Pendingf("worker StatefulSet not deleted yet")
			}
			if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "claimed"}, got); err != nil {
				return false, err
			}
			return ptr.Deref(got.Spec.Replicas, 0) == 3, testenv.Pendingf("leader StatefulSet replicas %d", ptr.Deref(got.Spec.Replicas, 0))
		})
		e.claimStatus(t, "claimed", "6 groups ready again", groupsAre(6))
	})

	t.Run("NamespacedCompositeResource", func(t *testing.T) {
		must(t, e.cp.Client.Create(ctx, lwsObject("XLeaderWorkerSet", "composite", "image:v1")))
		e.lwsStatus(t, "XLeaderWorkerSet", "composite", "4 groups ready over 2 clusters", groupsAre(4))
		for _, c := range []*testenv.Cluster{e.target, second} {
			if n := len(pods(t, c, "composite")); n != 4 {
				t.Errorf("cluster %s: want 2 groups of 2 pods, got %d pods", c.Name, n)
			}
		}
	})

	t.Run("InvalidClaimRefusedNamingTheField", func(t *testing.T) {
		// Too long for the names of its pods' controller-revision-hash
		// labels (lws#410): the schema cannot tell, the function does.
		name := "claim-" + strings.Repeat("x", 50)
		must(t, e.cp.Client.Create(ctx, claim(name, "image:v1")))
		e.claimStatus(t, name, "Valid=False naming metadata.name", func(_ map[string]any, conds map[string]map[string]any) error {
			if v := conds["Valid"]; v["status"] != "False" || v["reason"] != "InvalidSpec" || !strings.Contains(fmt.Sprint(v["message"]), "metadata.name") {
				return fmt.Errorf("Valid %v", v)
			}
			return nil
		})
		for _, c := range []*testenv.Cluster{e.target, second} {
			if n := len(pods(t, c, name)); n != 0 {
				t.Errorf("cluster %s: an invalid claim created %d pods", c.Name, n)
			}
		}
		var svcs corev1.ServiceList
		must(t, second.Client.List(ctx, &svcs, client.InNamespace("default")))
		for _, s := range svcs.Items {
			if strings.HasPrefix(s.Name, "claim-x") {
				t.Errorf("an invalid claim created Service %s", s.Name)
			}
		}
	})

	t.Run("HorizontalPodAutoscalerScalesOneClusterOfAnAutoscaledClaim", func(t *testing.T) {
		c := claim("autoscaled", "image:v1")
		c.SetAnnotations(map[string]string{function.AnnotationAutoscaled: "true"})
		must(t, unstructured.SetNestedField(c.Object, int64(2), "spec", "replicas"))
		must(t, e.cp.Client.Create(ctx, c))
		e.claimStatus(t, "autoscaled", "2 groups ready", groupsAre(2))
		// The autoscaler raises the default cluster to its minimum without
		// any metric; with the pods in other clusters, real ones would be
		// External or Object metrics.
		must(t, e.cp.Client.Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "autoscaled-default", Namespace: "default"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "lws.crossplane.io/v1alpha1", Kind: "RemoteLeaderWorkerSet", Name: "autoscaled-default"},
				MinReplicas:    ptr.To[int32](3),
				MaxReplicas:    5,
			},
		}))
		e.claimStatus(t, "autoscaled", "4 groups ready: 3 where the autoscaler scaled, 1 in the other cluster", groupsAre(4))
		mr := &v1alpha1.RemoteLeaderWorkerSet{}
		must(t, e.cp.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "autoscaled-default"}, mr))
		if r := mr.Spec.ForProvider.Replicas; r != 3 {
			t.Errorf("the function undid the autoscaler: replicas %d, want 3", r)
		}
		if n := len(pods(t, e.target, "autoscaled")); n != 6 {
			t.Errorf("want 3 groups of 2 pods in the autoscaled cluster, got %d pods", n)
		}
	})

	t.Run("DeletingTheClaimRemovesEverything", func(t *testing.T) {
		must(t, e.cp.Client.Delete(ctx, claim("claimed", "")))
		// The garbage collector of the control-plane cluster deletes the
		// managed resources with their composite; it learns of the XR kinds
		// at its discovery resync, every 30 s.
		testenv.Eventually(t, 90*time.Second, "no pod or StatefulSet of the claim left in either cluster", func(ctx context.Context) (bool, error) {
			for _, c := range []*testenv.Cluster{e.target, second} {
				var sts appsv1.StatefulSetList
				if err := c.Client.List(ctx, &sts, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: "claimed"}); err != nil {
					return false, err
				}
				if n := len(sts.Items) + len(pods(t, c, "claimed")); n > 0 {
					return false, testenv.Pendingf("cluster %s: %d StatefulSets and pods left", c.Name, n)
				}
			}
			return true, nil
		})
	})
}

// setImage sets the image of a claim's pods.
func (e *env) setImage(t testing.TB, name, image string) {
	t.Helper()
	e.editClaim(t, name, func(c *unstructured.Unstructured) error {
		return unstructured.SetNestedSlice(c.Object, []any{map[string]any{"name": "c", "image": image}}, "spec", "leaderWorkerTemplate", "workerTemplate", "spec", "containers")
	})
}

// rolledOut waits until every one of the pods of a LeaderWorkerSet in each
// cluster runs image and is ready.
func (e *env) rolledOut(t testing.TB, clusters []*testenv.Cluster, name, image string, perCluster int) {
	t.Helper()
	testenv.Eventually(t, 2*time.Minute, "every pod of "+name+" on "+image, func(context.Context) (bool, error) {
		for _, c := range clusters {
			ps := pods(t, c, name)
			for _, p := range ps {
				if p.Spec.Containers[0].Image != image || p.DeletionTimestamp != nil || !testenv.PodReady(&p) {
					return false, testenv.Pendingf("cluster %s: pod %s runs %s", c.Name, p.Name, p.Spec.Containers[0].Image)
				}
			}
			if len(ps) != perCluster {
				return false, testenv.Pendingf("cluster %s: %d pods", c.Name, len(ps))
			}
		}
		return true, nil
	})
}

// editClaim changes a claim, retrying on conflicts with Crossplane's own
// writes.
func (e *env) editClaim(t testing.TB, name string, edit func(*unstructured.Unstructured) error) {
	t.Helper()
	e.editLWS(t, "LeaderWorkerSet", name, edit)
}

// editLWS edits a claim (kind LeaderWorkerSet) or a namespaced composite
// resource (XLeaderWorkerSet).
func (e *env) editLWS(t testing.TB, kind, name string, edit func(*unstructured.Unstructured) error) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := lwsObject(kind, name, "")
		if err := e.cp.Client.Get(context.Background(), client.ObjectKeyFromObject(c), c); err != nil {
			return err
		}
		if err := edit(c); err != nil {
			return err
		}
		return e.cp.Client.Update(context.Background(), c)
	}))
}
