//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis"
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
	"github.com/lws-crossplane/lws-crossplane/internal/xpkg"
)

// packagesDir is where `make packages` leaves the package files; without
// them the test fails, naming that command.
func packagesDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	must(t, err)
	dir := filepath.Join(root, "bin", "packages")
	if _, err := os.Stat(xpkg.File(dir, xpkg.Configuration)); err != nil {
		t.Fatalf("%v: build them with `make packages`", err)
	}
	return dir
}

// packagedEnv is the product installed from its packages: a control plane
// where Crossplane core installed the Configuration and the function and
// provider it depends on, run by the package runtime, and two target
// clusters reached as "default" (e.target) and "second", whose nodes are
// pools.
func packagedEnv(t testing.TB, pools []nodeagent.Pool, labels v1alpha1.WorkerLabelsPolicy) (*env, *testenv.Cluster, *testenv.Crossplane) {
	t.Helper()
	e, targets, x := packagedClusters(t, 2, testenv.Options{
		NodeAgent:                 nodeagent.Config{Pools: pools},
		MutatingAdmissionPolicies: labels == v1alpha1.WorkerLabelsAdmissionPolicy,
	})
	e.useWorkerLabels(t, labels, targets)
	return e, targets[1], x
}

// targetNames name the target clusters of packagedClusters, and their
// ClusterProviderConfigs.
var targetNames = []string{"default", "second", "third"}

// packagedClusters is the product installed from its packages with n
// target clusters of options target, reached by the provider configs
// targetNames[:n]; the first is e.target. Their worker-labels policy is
// the default, Auto.
func packagedClusters(t testing.TB, n int, target testenv.Options) (*env, []*testenv.Cluster, *testenv.Crossplane) {
	t.Helper()
	dir := packagesDir(t)
	scheme := testenv.DefaultScheme()
	must(t, apis.AddToScheme(scheme))
	e := &env{cp: testenv.Start(t, testenv.Options{Name: "control-plane", WithoutScheduler: true, WithoutNodeAgent: true, Scheme: scheme})}
	targets := make([]*testenv.Cluster, n)
	for i := range targets {
		target.Name = targetNames[i]
		if i == 0 {
			target.Name = "target"
		}
		targets[i] = testenv.Start(t, target)
	}
	e.target = targets[0]
	x := testenv.StartCrossplane(t, e.cp, testenv.CrossplaneOptions{Packages: dir})
	for i, c := range targets {
		e.addConfig(t, targetNames[i], c)
	}
	return e, targets, x
}

// TestPackagesFromLocalRegistry installs the product as a platform team
// would: the Configuration package from an OCI registry, its function and
// provider resolved by Crossplane's package manager as dependencies, run by
// the local environment's External runtime from their runtime images. A claim
// then runs in two target clusters. The function and the provider crash and
// are started again: the claim keeps its groups and takes edits after each.
func TestPackagesFromLocalRegistry(t *testing.T) {
	e, second, x := packagedEnv(t, nil, v1alpha1.WorkerLabelsPatch)
	ctx := context.Background()
	must(t, e.cp.Client.Create(ctx, claim("packaged", "image:v1")))
	e.claimStatus(t, "packaged", "4 groups ready over 2 clusters", groupsAre(4))
	clusters := []*testenv.Cluster{e.target, second}

	t.Run("FunctionRestarted", func(t *testing.T) {
		must(t, x.KillPackage("lws-crossplane-function-lws"))
		e.setImage(t, "packaged", "image:v2")
		e.rolledOut(t, clusters, "packaged", "image:v2", 4)
	})
	leaders := leaderUIDs(t, clusters, "packaged")

	t.Run("ProviderRestarted", func(t *testing.T) {
		must(t, x.KillPackage("lws-crossplane-provider-lws"))
		e.editClaim(t, "packaged", func(c *unstructured.Unstructured) error {
			return unstructured.SetNestedField(c.Object, int64(6), "spec", "replicas")
		})
		e.claimStatus(t, "packaged", "6 groups ready over 2 clusters", groupsAre(6))
		for uid, name := range leaders {
			if now := leaderUIDs(t, clusters, "packaged"); now[uid] == "" {
				t.Errorf("leader %s was replaced across the provider's restart", name)
			}
		}
	})

	// The credentials the provider, the function and core were given
	// (kubeconfigs of every cluster, the packages' serving keys) appear in
	// none of their log lines, through crashes, edits and failovers.
	t.Run("NoSecretsInLogs", func(t *testing.T) {
		logs, err := x.LogFiles()
		must(t, err)
		var secrets []secret
		for _, c := range []*testenv.Cluster{e.cp, e.target, second} {
			secrets = append(secrets, kubeconfigSecrets(t, c.Name, c.Kubeconfig)...)
		}
		secrets = append(secrets, fileSecrets(t, filepath.Join(x.PackageLogs, "*", "tls", "tls.key"))...)
		found, err := loggedSecrets(logs, secrets)
		must(t, err)
		for _, f := range found {
			t.Error(f)
		}
		t.Logf("%d logs scanned for %d secrets", len(logs), len(secrets))
	})

	t.Run("DeletionCleansBothClusters", func(t *testing.T) {
		must(t, e.cp.Client.Delete(ctx, claim("packaged", "")))
		testenv.Eventually(t, 2*time.Minute, "no pods left", func(context.Context) (bool, error) {
			for _, c := range clusters {
				if n := len(pods(t, c, "packaged")); n != 0 {
					return false, testenv.Pendingf("cluster %s: %d pods", c.Name, n)
				}
			}
			return true, nil
		})
	})
}

// leaderUIDs are the leader pods of name in clusters, by UID.
func leaderUIDs(t *testing.T, clusters []*testenv.Cluster, name string) map[types.UID]string {
	t.Helper()
	out := map[types.UID]string{}
	for _, c := range clusters {
		var l corev1.PodList
		must(t, c.Client.List(context.Background(), &l, client.InNamespace("default"),
			client.MatchingLabels{"leaderworkerset.sigs.k8s.io/name": name, "leaderworkerset.sigs.k8s.io/worker-index": "0"}))
		for _, p := range l.Items {
			out[p.UID] = c.Name + "/" + p.Name
		}
	}
	return out
}
