//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
	"github.com/lws-crossplane/lws-crossplane/internal/dscompose"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// dsObject is a DisaggregatedSet claim of two roles, prefill and decode,
// of 2 groups of 2 pods each, in two slices over the two target clusters.
func dsObject(name, image string) *unstructured.Unstructured {
	u := disaggregatedSet(name, image, 2, 2)
	spec := u.Object["spec"].(map[string]any)
	spec["slices"] = int64(2)
	spec["placement"] = map[string]any{"clusters": []any{map[string]any{"name": "default"}, map[string]any{"name": "second"}}}
	return u
}

// disaggregatedSet is a DisaggregatedSet claim of one slice of two roles,
// prefill and decode, each of replicas groups of size pods.
func disaggregatedSet(name, image string, replicas, size int64) *unstructured.Unstructured {
	roles := []any{}
	for _, role := range []string{"prefill", "decode"} {
		roles = append(roles, map[string]any{"name": role, "spec": roleSpec(image, replicas, size)})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "lws.crossplane.io/v1alpha1",
		"kind":       "DisaggregatedSet",
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec":       map[string]any{"roles": roles},
	}}
}

// roleSpec is a LeaderWorkerSet spec of replicas groups of size pods that
// rolls out one surge group at a time, a DisaggregatedSet role's default.
func roleSpec(image string, replicas, size int64) map[string]any {
	return map[string]any{
		"replicas":        replicas,
		"rolloutStrategy": map[string]any{"rollingUpdateConfiguration": map[string]any{"maxSurge": int64(1), "maxUnavailable": int64(0)}},
		"leaderWorkerTemplate": map[string]any{
			"size":           size,
			"workerTemplate": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": image}}}},
		},
	}
}

// dsAvailable: every role has its 4 groups (2 per slice) ready and
// updated, and the DisaggregatedSet says Available.
func dsAvailable(status map[string]any, conds map[string]map[string]any) error {
	return rolesAvailable(4)(status, conds)
}

// rolesAvailable: every role has n groups, all ready and updated, and the
// DisaggregatedSet says Available.
func rolesAvailable(n int64) func(map[string]any, map[string]map[string]any) error {
	return func(status map[string]any, conds map[string]map[string]any) error {
		if conds["Available"]["status"] != "True" || conds["Progressing"]["status"] != "False" {
			return fmt.Errorf("Available %v, Progressing %v", conds["Available"], conds["Progressing"])
		}
		roles, _ := status["roleStatuses"].([]any)
		if len(roles) != 2 {
			return fmt.Errorf("role statuses %v", roles)
		}
		for _, r := range roles {
			m, _ := r.(map[string]any)
			if m["replicas"] != n || m["readyReplicas"] != n || m["updatedReplicas"] != n {
				return fmt.Errorf("role %v: want %d groups ready and updated", m, n)
			}
		}
		return nil
	}
}

// TestDisaggregatedSetThroughCrossplane runs a DisaggregatedSet through the
// real Crossplane core, the function and the provider: two roles in two
// slices, one slice per cluster, each slice's roles as LeaderWorkerSets
// with their role Services once ready; a template edit rolls out both
// roles of each slice together, in upstream's sequence for 2 groups with a
// surge of 1.
func TestDisaggregatedSetThroughCrossplane(t *testing.T) {
	e, second := startWithCrossplane(t)
	ctx := context.Background()
	clusters := []*testenv.Cluster{e.target, second}

	must(t, e.cp.Client.Create(ctx, dsObject("llm", "image:v1")))
	e.lwsStatus(t, "DisaggregatedSet", "llm", "both roles available", dsAvailable)
	rev := dsRevisionOf(t, e, "llm")
	for slice, c := range clusters {
		for _, role := range []string{"prefill", "decode"} {
			set := disagg.Set{DS: "llm", Slice: int32(slice), Revision: rev, Role: role}
			if n := len(pods(t, c, set.Name())); n != 4 {
				t.Errorf("cluster %s: %s has %d pods, want 2 groups of 2", c.Name, set.Name(), n)
			}
			testenv.Eventually(t, time.Minute, "role Service "+set.ServiceName(), func(ctx context.Context) (bool, error) {
				svc := &corev1.Service{}
				err := c.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: set.ServiceName()}, svc)
				return err == nil && svc.Spec.Selector[disagg.LabelRole] == role, client.IgnoreNotFound(err)
			})
		}
	}

	t.Run("ARolloutMovesBothRolesOfASliceTogether", func(t *testing.T) {
		steps := watchSteps(t, e, rev)
		e.editLWS(t, "DisaggregatedSet", "llm", func(u *unstructured.Unstructured) error {
			roles, _, _ := unstructured.NestedSlice(u.Object, "spec", "roles")
			must(t, unstructured.SetNestedSlice(roles[0].(map[string]any), []any{map[string]any{"name": "c", "image": "image:v2"}}, "spec", "leaderWorkerTemplate", "workerTemplate", "spec", "containers"))
			return unstructured.SetNestedSlice(u.Object, roles, "spec", "roles")
		})
		e.lwsStatus(t, "DisaggregatedSet", "llm", "both roles available at the new revision", func(status map[string]any, conds map[string]map[string]any) error {
			if status["revision"] == rev {
				return fmt.Errorf("revision still %s", rev)
			}
			return dsAvailable(status, conds)
		})
		// Old and new replicas of [prefill, decode], as the function
		// planned them: states where the roles differ are Crossplane
		// applying one step's managed resources one by one.
		want := []string{"2,2/0,0", "2,2/1,1", "1,1/1,1", "1,1/2,2", "0,0/2,2"}
		for slice, got := range steps() {
			if !slices.Equal(got, want) {
				t.Errorf("slice %d rolled out %v, want %v", slice, got, want)
			}
		}
		newRev := dsRevisionOf(t, e, "llm")
		for slice, c := range clusters {
			for _, role := range []string{"prefill", "decode"} {
				set := disagg.Set{DS: "llm", Slice: int32(slice), Revision: newRev, Role: role}
				if n := len(pods(t, c, set.Name())); n != 4 {
					t.Errorf("cluster %s: %s has %d pods, want 2 groups of 2", c.Name, set.Name(), n)
				}
				old := disagg.Set{DS: "llm", Slice: int32(slice), Revision: rev, Role: role}
				testenv.Eventually(t, time.Minute, "the old revision's pods and role Service gone", func(ctx context.Context) (bool, error) {
					err := c.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: old.ServiceName()}, &corev1.Service{})
					return len(pods(t, c, old.Name())) == 0 && err != nil, client.IgnoreNotFound(err)
				})
			}
		}
	})

	t.Run("AHorizontalPodAutoscalerScalesAnExternalRole", func(t *testing.T) {
		u := disaggregatedSet("scaled", "image:v1", 1, 2)
		roles, _, _ := unstructured.NestedSlice(u.Object, "spec", "roles")
		roles[1].(map[string]any)["scaling"] = map[string]any{"mode": "External"}
		must(t, unstructured.SetNestedSlice(u.Object, roles, "spec", "roles"))
		must(t, e.cp.Client.Create(ctx, u))
		e.lwsStatus(t, "DisaggregatedSet", "scaled", "available with decode at its scaler's first 1 group", func(status map[string]any, conds map[string]map[string]any) error {
			if conds["Available"]["status"] != "True" {
				return fmt.Errorf("Available %v", conds["Available"])
			}
			return nil
		})
		scaler := &v1alpha1.DisaggregatedSetRoleScaler{ObjectMeta: metav1.ObjectMeta{Name: "scaled-decode", Namespace: "default"}}
		testenv.EventuallyObject(t, e.cp, scaler, &v1alpha1.DisaggregatedSetRoleScalerList{}, time.Minute, "scaled-decode bound, with 1 group", func(s *v1alpha1.DisaggregatedSetRoleScaler) (bool, error) {
			return s.Name == "scaled-decode" && s.Spec.Replicas == 1 && s.Status.Replicas == 1 && s.Status.Selector == disagg.ScalerSelector("scaled", "decode"), nil
		})
		// The autoscaler raises the role to its minimum without any metric;
		// with the pods in other clusters, real ones would be External or
		// Object metrics.
		must(t, e.cp.Client.Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "scaled-decode", Namespace: "default"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "lws.crossplane.io/v1alpha1", Kind: "DisaggregatedSetRoleScaler", Name: "scaled-decode"},
				MinReplicas:    ptr.To[int32](3),
				MaxReplicas:    4,
			},
		}))
		e.lwsStatus(t, "DisaggregatedSet", "scaled", "decode at the autoscaler's 3 groups, all ready", func(status map[string]any, conds map[string]map[string]any) error {
			roles, _ := status["roleStatuses"].([]any)
			if len(roles) != 2 || roles[1].(map[string]any)["readyReplicas"] != int64(3) || conds["Available"]["status"] != "True" {
				return fmt.Errorf("roles %v, Available %v", roles, conds["Available"])
			}
			return nil
		})
		testenv.EventuallyObject(t, e.cp, scaler, &v1alpha1.DisaggregatedSetRoleScalerList{}, time.Minute, "scaled-decode reports 3 groups", func(s *v1alpha1.DisaggregatedSetRoleScaler) (bool, error) {
			return s.Name == "scaled-decode" && s.Spec.Replicas == 3 && s.Status.Replicas == 3, nil
		})
		rev := dsRevisionOf(t, e, "scaled")
		if n := len(pods(t, e.target, disagg.Set{DS: "scaled", Revision: rev, Role: "decode"}.Name())); n != 6 {
			t.Errorf("decode has %d pods, want 3 groups of 2", n)
		}
	})

	t.Run("InvalidSpecRefusedNamingTheField", func(t *testing.T) {
		// Too long for its LeaderWorkerSets' names: the schema cannot
		// tell, the function does.
		name := "ds-" + strings.Repeat("x", 45)
		must(t, e.cp.Client.Create(ctx, dsObject(name, "image:v1")))
		e.lwsStatus(t, "DisaggregatedSet", name, "Valid=False naming the role", func(_ map[string]any, conds map[string]map[string]any) error {
			if v := conds["Valid"]; v["status"] != "False" || v["reason"] != "InvalidSpec" || !strings.Contains(fmt.Sprint(v["message"]), "spec.roles[0].name") {
				return fmt.Errorf("Valid %v", v)
			}
			return nil
		})
		var mrs v1alpha1.RemoteLeaderWorkerSetList
		must(t, e.cp.Client.List(ctx, &mrs, client.MatchingLabels{disagg.LabelName: name}))
		if len(mrs.Items) != 0 {
			t.Errorf("an invalid DisaggregatedSet composed %d managed resources", len(mrs.Items))
		}
	})
}

// dsRevisionOf is the revision a DisaggregatedSet claim is rolled to.
func dsRevisionOf(t testing.TB, e *env, name string) string {
	t.Helper()
	u := disaggregatedSet(name, "", 0, 0)
	must(t, e.cp.Client.Get(context.Background(), client.ObjectKeyFromObject(u), u))
	rev, _, _ := unstructured.NestedString(u.Object, "status", "revision")
	if rev == "" {
		t.Fatal("no revision in the DisaggregatedSet's status")
	}
	return rev
}

// watchSteps samples the managed resources of the DisaggregatedSet every 20
// ms from now on, and returns a function that stops sampling and gives,
// per slice, the states in which both roles had the same replicas, as
// "old,old/new,new" of [prefill, decode], each once in a row. old is the
// given revision; new any other.
func watchSteps(t testing.TB, e *env, old string) func() map[int32][]string {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	steps := map[int32][]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var mrs v1alpha1.RemoteLeaderWorkerSetList
			if err := e.cp.Client.List(ctx, &mrs, client.InNamespace("default"), client.MatchingLabels{disagg.LabelName: "llm"}); err == nil {
				type counts struct{ old, new [2]int32 }
				bySlice := map[int32]*counts{}
				for i := range mrs.Items {
					set, ok := dscompose.ReadSet(&mrs.Items[i])
					if !ok {
						continue
					}
					if bySlice[set.Slice] == nil {
						bySlice[set.Slice] = &counts{}
					}
					role := 0
					if set.Role == "decode" {
						role = 1
					}
					if set.Revision == old {
						bySlice[set.Slice].old[role] = mrs.Items[i].Spec.ForProvider.Replicas
					} else {
						bySlice[set.Slice].new[role] = mrs.Items[i].Spec.ForProvider.Replicas
					}
				}
				mu.Lock()
				for slice, c := range bySlice {
					if c.old[0] != c.old[1] || c.new[0] != c.new[1] {
						continue
					}
					s := fmt.Sprintf("%d,%d/%d,%d", c.old[0], c.old[1], c.new[0], c.new[1])
					if n := len(steps[slice]); n == 0 || steps[slice][n-1] != s {
						steps[slice] = append(steps[slice], s)
					}
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() map[int32][]string {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return steps
	}
}
