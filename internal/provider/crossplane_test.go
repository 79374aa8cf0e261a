package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/function"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// claim is a claim of 4 groups of 2 over the two target clusters.
func claim(name, image string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "lws.crossplane.io/v1alpha1",
		"kind":       "LeaderWorkerSet",
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
func (e *env) claimStatus(t *testing.T, name, what string, ok func(status map[string]any, conditions map[string]map[string]any) error) {
	t.Helper()
	testenv.Eventually(t, 2*time.Minute, "claim "+name+": "+what, func(ctx context.Context) (bool, error) {
		c := &unstructured.Unstructured{}
		c.SetAPIVersion("lws.crossplane.io/v1alpha1")
		c.SetKind("LeaderWorkerSet")
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

// TestClaimThroughCrossplane runs the whole product: the real Crossplane
// core reconciles a claim through the XRDs and Composition of the
// Configuration package and our composition function (served in this
// process over mTLS), into managed resources that the provider runs in two
// target clusters; status comes back to the claim. An image edit rolls out
// in both clusters, and an invalid claim is refused with the field named
// (Valid=False: a claim's Synced is its own reconciler's, which a function
// cannot set).
func TestClaimThroughCrossplane(t *testing.T) {
	e := start(t)
	second := testenv.Start(t, testenv.Options{Name: "second"})
	e.addConfig(t, "second", second)
	testenv.StartCrossplane(t, e.cp, testenv.CrossplaneOptions{Functions: map[string]fnv1.FunctionRunnerServiceServer{
		"function-lws": function.New(logging.NewNopLogger()),
	}})
	ctx := context.Background()
	must(t, testenv.ApplyFiles(ctx, e.cp,
		"../../package/configuration/definition-leaderworkersets.yaml",
		"../../package/configuration/definition-xleaderworkersets.yaml",
		"../../package/configuration/composition-leaderworkerset.yaml",
		"../../package/configuration/composition-leaderworkerset-legacy.yaml"))

	must(t, e.cp.Client.Create(ctx, claim("claimed", "image:v1")))
	e.claimStatus(t, "claimed", "4 groups ready over 2 clusters", groupsAre(4))
	for _, c := range []*testenv.Cluster{e.target, second} {
		if n := len(pods(t, c, "claimed")); n != 4 {
			t.Errorf("cluster %s: want 2 groups of 2 pods, got %d pods", c.Name, n)
		}
	}

	t.Run("ImageEditRollsOutInBothClusters", func(t *testing.T) {
		must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			c := claim("claimed", "")
			if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
				return err
			}
			must(t, unstructured.SetNestedSlice(c.Object, []any{map[string]any{"name": "c", "image": "image:v2"}}, "spec", "leaderWorkerTemplate", "workerTemplate", "spec", "containers"))
			return e.cp.Client.Update(ctx, c)
		}))
		testenv.Eventually(t, 2*time.Minute, "every pod on image:v2", func(context.Context) (bool, error) {
			for _, c := range []*testenv.Cluster{e.target, second} {
				ps := pods(t, c, "claimed")
				for _, p := range ps {
					if p.Spec.Containers[0].Image != "image:v2" || p.DeletionTimestamp != nil {
						return false, testenv.Pendingf("cluster %s: pod %s runs %s", c.Name, p.Name, p.Spec.Containers[0].Image)
					}
				}
				if len(ps) != 4 {
					return false, testenv.Pendingf("cluster %s: %d pods", c.Name, len(ps))
				}
			}
			return true, nil
		})
		e.claimStatus(t, "claimed", "4 groups ready and updated", groupsAre(4))
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
}
