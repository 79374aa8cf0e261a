//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis"
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/provider"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// env is a control-plane cluster running the provider and a target cluster
// reached through the ClusterProviderConfig "default".
type env struct {
	cp, target *testenv.Cluster
	stop       func()
	// metrics is the address of the provider's metrics endpoint.
	metrics string
	// crossplane is core, with startWithCrossplane.
	crossplane *testenv.Crossplane
}

func start(t testing.TB) *env {
	t.Helper()
	return startWith(t, testenv.Options{Name: "target"})
}

// startWith starts the environment with a target cluster of its own options,
// and the provider; env.restart restarts the provider.
func startWith(t testing.TB, target testenv.Options) *env {
	t.Helper()
	e := startClusters(t, target)
	e.stop = e.run(t)
	t.Cleanup(func() { e.stop() })
	return e
}

// startClusters starts the control-plane cluster, with the provider's CRDs,
// and a target cluster reached through the ClusterProviderConfig
// "default", but not the provider.
func startClusters(t testing.TB, target testenv.Options) *env {
	t.Helper()
	scheme := testenv.DefaultScheme()
	if err := apis.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cp := testenv.Start(t, testenv.Options{Name: "control-plane", WithoutScheduler: true, WithoutNodeAgent: true,
		CRDDirectoryPaths: []string{filepath.Join("..", "..", "package", "provider", "crds")}, Scheme: scheme})
	e := &env{cp: cp, target: testenv.Start(t, target), metrics: freeAddress(t)}
	must(t, cp.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "crossplane-system"}}))
	e.addConfig(t, "default", e.target)
	return e
}

// addConfig makes a target cluster reachable as ClusterProviderConfig name.
func (e *env) addConfig(t testing.TB, name string, c *testenv.Cluster) {
	t.Helper()
	e.addConfigFor(t, name, c.Kubeconfig)
}

// addConfigFor adds a ClusterProviderConfig with a kubeconfig.
func (e *env) addConfigFor(t testing.TB, name string, kubeconfig []byte) {
	t.Helper()
	ctx := context.Background()
	must(t, e.cp.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "crossplane-system"},
		Data:       map[string][]byte{"kubeconfig": kubeconfig},
	}))
	must(t, e.cp.Client.Create(ctx, &v1alpha1.ClusterProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ProviderConfigSpec{Credentials: v1alpha1.ProviderCredentials{Source: xpv2.CredentialsSourceSecret,
			CommonCredentialSelectors: xpv2.CommonCredentialSelectors{SecretRef: &xpv2.SecretKeySelector{
				SecretReference: xpv2.SecretReference{Namespace: "crossplane-system", Name: name}, Key: "kubeconfig"}}}},
	}))
}

// run starts the provider; the returned function stops it and waits.
func (e *env) run(t testing.TB) func() { return e.runAt(t, 0) }

// runAt starts the provider rendering at a render version, render.Version
// when zero.
func (e *env) runAt(t testing.TB, renderVersion int) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- provider.Run(ctx, e.cp.Config, provider.Options{Poll: time.Minute, Sync: time.Hour, MaxReconcileRate: 100, TargetQPS: 500, TargetBurst: 1000, StatusInterval: 2 * time.Second, ObserveInterval: observeInterval, ChangeBatchPeriod: 50 * time.Millisecond, MetricsBindAddress: e.metrics, HealthProbeBindAddress: "0", LogOutput: io.Discard, RenderVersion: renderVersion, InProcess: true})
	}()
	return sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("provider: %v", err)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// managed renders a LeaderWorkerSet through the composition function's
// planning into the managed resource for the default cluster.
func managed(t testing.TB, l compose.LeaderWorkerSet) *v1alpha1.RemoteLeaderWorkerSet {
	t.Helper()
	targets, err := compose.Plan(l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return targets[0].Resource
}

func sample(name, image string, replicas, size int32) compose.LeaderWorkerSet {
	return compose.LeaderWorkerSet{Name: name, Namespace: "default", Spec: v1alpha1.LeaderWorkerSetSpec{
		Replicas: ptr.To(replicas),
		LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
			Size:           ptr.To(size),
			WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}}},
		},
	}}
}

// groupsReady waits until the managed resource reports every group ready on
// its current revision, and Crossplane's Ready condition is True.
func (e *env) groupsReady(t testing.TB, mr *v1alpha1.RemoteLeaderWorkerSet, groups int32, timeout time.Duration) {
	t.Helper()
	what := fmt.Sprintf("%s: %d groups ready and updated", mr.Name, groups)
	testenv.EventuallyObject(t, e.cp, mr, &v1alpha1.RemoteLeaderWorkerSetList{}, timeout, what, func(got *v1alpha1.RemoteLeaderWorkerSet) (bool, error) {
		at := got.Status.AtProvider
		if at.ObservedGeneration != got.Generation || at.ReadyReplicas != groups || at.UpdatedReplicas != groups || got.GetCondition(xpv2.TypeReady).Status != corev1.ConditionTrue {
			return false, testenv.Pendingf("ready %d, updated %d, Ready %s: %s; Synced %s: %s", at.ReadyReplicas, at.UpdatedReplicas, got.GetCondition(xpv2.TypeReady).Status, got.GetCondition(xpv2.TypeReady).Message, got.GetCondition(xpv2.TypeSynced).Status, got.GetCondition(xpv2.TypeSynced).Message)
		}
		return true, nil
	})
}

func (e *env) pods(t *testing.T, name string) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	must(t, e.target.Client.List(context.Background(), &pods, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: name}))
	return pods.Items
}

// TestGroupsLifecycle runs a LeaderWorkerSet through the provider on real
// clusters: groups created and ready with upstream's labels, a rolling
// update, a group restart after a container restart, and deletion.
func TestGroupsLifecycle(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	mr := managed(t, sample("lifecycle", "image:v1", 2, 3))
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 2, 60*time.Second)

	pods := e.pods(t, "lifecycle")
	if len(pods) != 6 {
		t.Fatalf("want 6 pods, got %d", len(pods))
	}
	for _, p := range pods {
		if len(p.Spec.SchedulingGates) > 0 || p.Labels[lws.LabelGroupIndex] == "" || p.Labels[lws.LabelGroupKey] == "" || p.Labels[lws.LabelWorkerIndex] == "" {
			t.Errorf("pod %s lacks its identity: labels %v, gates %v", p.Name, p.Labels, p.Spec.SchedulingGates)
		}
	}

	t.Run("RollingUpdate", func(t *testing.T) {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		must(t, e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got))
		got.Spec.ForProvider = managed(t, sample("lifecycle", "image:v2", 2, 3)).Spec.ForProvider
		must(t, e.cp.Client.Update(ctx, got))
		e.groupsReady(t, mr, 2, 90*time.Second)
		for _, p := range e.pods(t, "lifecycle") {
			if p.Spec.Containers[0].Image != "image:v2" || p.Labels[lws.LabelRevisionKey] != got.Spec.ForProvider.Revision.Key {
				t.Errorf("pod %s not updated: image %s, revision %s", p.Name, p.Spec.Containers[0].Image, p.Labels[lws.LabelRevisionKey])
			}
		}
	})

	t.Run("ContainerRestartRecreatesGroup", func(t *testing.T) {
		before := &corev1.Pod{}
		must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "lifecycle-1"}, before))
		must(t, e.target.Nodes.RestartContainer(ctx, "default", "lifecycle-1-2", "c"))
		testenv.Eventually(t, 30*time.Second, "group 1 recreated", func(ctx context.Context) (bool, error) {
			now := &corev1.Pod{}
			if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "lifecycle-1"}, now); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return now.UID != before.UID, nil
		})
		e.groupsReady(t, mr, 2, 60*time.Second)
	})

	t.Run("MetricsLws87", func(t *testing.T) {
		m := e.scrape(t)
		for name, atLeast := range map[string]float64{
			`lws_group_recreations_total{cluster="default"}`:        1,
			`lws_rollout_duration_seconds_count{cluster="default"}`: 1,
			`lws_group_ready_seconds_count{cluster="default"}`:      2 + 2 + 1, // created, rolled out, recreated
		} {
			if m[name] < atLeast {
				t.Errorf("metrics endpoint: want %s >= %v, got %v", name, atLeast, m[name])
			}
		}
	})

	t.Run("Deletion", func(t *testing.T) {
		must(t, e.cp.Client.Delete(ctx, mr))
		testenv.Eventually(t, 60*time.Second, "everything deleted in the target cluster", func(ctx context.Context) (bool, error) {
			var sts appsv1.StatefulSetList
			if err := e.target.Client.List(ctx, &sts, client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(map[string]string{lws.LabelName: "lifecycle"})}); err != nil {
				return false, err
			}
			if n := len(sts.Items) + len(e.pods(t, "lifecycle")); n > 0 {
				return false, testenv.Pendingf("%d StatefulSets and pods left", n)
			}
			return true, nil
		})
	})
}
