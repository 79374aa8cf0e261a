//go:build e2e

package apis_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/lws-crossplane/lws-crossplane/internal/packages"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

func read(t *testing.T, file string, into any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func object(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	read(t, file, &u.Object)
	return u
}

// TestSchemas installs the generated CRDs and the CRDs Crossplane derives
// from the XRDs into a real API server: every example is accepted, and what
// the schema can express about invalid input is rejected before any
// controller runs, with the field named.
func TestSchemas(t *testing.T) {
	crds, err := packages.CRDs("../package")
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.Start(t, testenv.Options{WithoutControllerManager: true, WithoutScheduler: true, WithoutNodeAgent: true, CRDs: crds})
	ctx := context.Background()

	examples, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range examples {
		u := object(t, f)
		if !strings.HasPrefix(u.GetAPIVersion(), "lws.crossplane.io/") {
			continue
		}
		t.Run("Accepts/"+filepath.Base(f), func(t *testing.T) {
			if err := c.Client.Create(ctx, u); err != nil {
				t.Errorf("%s rejected: %v", f, err)
			}
		})
	}

	cases := map[string]struct {
		reason string
		edit   func(spec map[string]any)
		want   string
	}{
		"NegativeReplicas": {
			reason: "replicas has a minimum of 0.",
			edit:   func(s map[string]any) { s["replicas"] = int64(-1) },
			want:   "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
		},
		"ZeroSize": {
			reason: "size has a minimum of 1.",
			edit:   func(s map[string]any) { lwt(s)["size"] = int64(0) },
			want:   "spec.leaderWorkerTemplate.size: Invalid value: 0: spec.leaderWorkerTemplate.size in body should be greater than or equal to 1",
		},
		"UnknownRestartPolicy": {
			reason: "restartPolicy is an enum.",
			edit:   func(s map[string]any) { lwt(s)["restartPolicy"] = "Sometimes" },
			want:   `spec.leaderWorkerTemplate.restartPolicy: Unsupported value: "Sometimes"`,
		},
		"UnknownStartupPolicy": {
			reason: "startupPolicy is an enum.",
			edit:   func(s map[string]any) { s["startupPolicy"] = "Whenever" },
			want:   `spec.startupPolicy: Unsupported value: "Whenever"`,
		},
		"ProductOverflow": {
			reason: "replicas × size must fit an int32 (a CEL rule).",
			edit:   func(s map[string]any) { s["replicas"] = int64(100000); lwt(s)["size"] = int64(1000000) },
			want:   "the product of replicas and worker replicas must not exceed 2147483647",
		},
		"ZeroSubGroupSize": {
			reason: "subGroupSize must be at least 1 (a CEL rule).",
			edit:   func(s map[string]any) { lwt(s)["subGroupPolicy"] = map[string]any{"subGroupSize": int64(0)} },
			want:   "subGroupSize must be equal or greater than 1",
		},
		"GroupsAndWeight": {
			reason: "A cluster has an explicit group count or a weight (a CEL rule).",
			edit: func(s map[string]any) {
				s["placement"] = map[string]any{"clusters": []any{map[string]any{"name": "a", "groups": int64(1), "weight": int64(1)}}}
			},
			want: "set groups or weight, not both",
		},
		"BadClusterName": {
			reason: "Cluster names become parts of resource names.",
			edit: func(s map[string]any) {
				s["placement"] = map[string]any{"clusters": []any{map[string]any{"name": "Not_A_Name"}}}
			},
			want: "spec.placement.clusters[0].name: Invalid value",
		},
		"NegativeMaxRestarts": {
			reason: "groupRestart.maxRestarts has a minimum of 0.",
			edit:   func(s map[string]any) { s["groupRestart"] = map[string]any{"maxRestarts": int64(-1)} },
			want:   "spec.groupRestart.maxRestarts in body should be greater than or equal to 0",
		},
		"BackoffMaxBelowInitial": {
			reason: "The backoff's cap may not be below its first delay (a CEL rule).",
			edit: func(s map[string]any) {
				s["groupRestart"] = map[string]any{"backoff": map[string]any{"initialSeconds": int64(60), "maxSeconds": int64(30)}}
			},
			want: "maxSeconds must be at least initialSeconds",
		},
		"BackoffMaxAboveDefaultReset": {
			reason: "A cap above the defaulted resetSeconds of 600 is rejected: defaults apply before the CEL rules.",
			edit: func(s map[string]any) {
				s["groupRestart"] = map[string]any{"backoff": map[string]any{"maxSeconds": int64(900)}}
			},
			want: "resetSeconds must be greater than maxSeconds",
		},
		"ZeroFailoverAfter": {
			reason: "A failover waits at least a second: 0 would move groups at the first failed probe.",
			edit: func(s map[string]any) {
				s["placement"] = map[string]any{"failover": map[string]any{"afterSeconds": int64(0)}}
			},
			want: "spec.placement.failover.afterSeconds in body should be greater than or equal to 1",
		},
		"ZeroSpillAfter": {
			reason: "A spill waits at least a second: 0 would move a group its scheduler has not even looked at.",
			edit: func(s map[string]any) {
				s["placement"] = map[string]any{"spill": map[string]any{"afterSeconds": int64(0)}}
			},
			want: "spec.placement.spill.afterSeconds in body should be greater than or equal to 1",
		},
		"UnknownRolloutStrategy": {
			reason: "placement.rollout.strategy is an enum: a typo must not pass for Parallel.",
			edit: func(s map[string]any) {
				s["placement"] = map[string]any{"rollout": map[string]any{"strategy": "Canary"}}
			},
			want: `spec.placement.rollout.strategy: Unsupported value: "Canary"`,
		},
		"ZeroProgressDeadline": {
			reason: "A Sequential rollout's progress deadline is at least a second.",
			edit: func(s map[string]any) {
				s["placement"] = map[string]any{"rollout": map[string]any{"strategy": "Sequential", "progressDeadlineSeconds": int64(0)}}
			},
			want: "spec.placement.rollout.progressDeadlineSeconds in body should be greater than or equal to 1",
		},
		"NoContainers": {
			reason: "A worker template needs containers.",
			edit:   func(s map[string]any) { lwt(s)["workerTemplate"] = map[string]any{"spec": map[string]any{}} },
			want:   "spec.leaderWorkerTemplate.workerTemplate.spec.containers: Required value",
		},
	}
	t.Run("Rejects/ClusterProviderConfig/UnknownNamespaces", func(t *testing.T) {
		// namespaces is an enum: a typo must not pass for Create.
		u := object(t, "../examples/providerconfig.yaml")
		u.SetName("unknown-namespaces")
		u.Object["spec"].(map[string]any)["namespaces"] = "Manual"
		want := `spec.namespaces: Unsupported value: "Manual"`
		if err := c.Client.Create(ctx, u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Create(...): want an error containing %q, got %v", want, err)
		}
	})
	t.Run("Rejects/ClusterProviderConfig/UnknownWorkerLabels", func(t *testing.T) {
		// workerLabels is an enum: a typo must not pass for Patch.
		u := object(t, "../examples/providerconfig.yaml")
		u.SetName("unknown-worker-labels")
		u.Object["spec"].(map[string]any)["workerLabels"] = "Webhook"
		want := `spec.workerLabels: Unsupported value: "Webhook"`
		if err := c.Client.Create(ctx, u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Create(...): want an error containing %q, got %v", want, err)
		}
	})
	t.Run("Accepts/RemoteLeaderWorkerSet/BudgetEmptiedByApply", func(t *testing.T) {
		// A cluster's share that drops to 0 groups (failback) has an empty
		// rollout budget; Crossplane server-side applies it over the one
		// with groups, after which the API server holds rollout as null.
		mr := object(t, "testdata/remoteleaderworkerset.yaml")
		for _, budget := range []map[string]any{{"maxUnavailable": int64(1)}, {}} {
			mr.Object["spec"].(map[string]any)["forProvider"].(map[string]any)["rollout"] = budget
			//nolint:staticcheck // Crossplane applies composed resources this way.
			if err := c.Client.Patch(ctx, mr.DeepCopy(), client.Apply, client.ForceOwnership, client.FieldOwner("composite")); err != nil {
				t.Fatalf("apply of rollout %v rejected: %v", budget, err)
			}
		}
	})
	for name, tc := range cases {
		for _, kind := range []string{"LeaderWorkerSet", "XLeaderWorkerSet"} {
			t.Run("Rejects/"+kind+"/"+name, func(t *testing.T) {
				u := object(t, "../examples/leaderworkerset.yaml")
				u.SetKind(kind)
				u.SetName(strings.ToLower(name))
				tc.edit(u.Object["spec"].(map[string]any))
				err := c.Client.Create(ctx, u)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s\nCreate(...): want an error containing %q, got %v", tc.reason, tc.want, err)
				}
			})
		}
	}
}

func lwt(spec map[string]any) map[string]any {
	return spec["leaderWorkerTemplate"].(map[string]any)
}
