//go:build e2e

package clusters_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestManager runs every behaviour against one control plane and two
// target clusters, which take most of the test's time to start.
func TestManager(t *testing.T) {
	e := startEnv(t)
	labelledService(t, e.a, "default", "only-in-a", true)
	labelledService(t, e.b, "default", "only-in-b", true)
	labelledService(t, e.a, "default", "unlabelled", false)

	t.Run("repeated Get returns the same connection", func(t *testing.T) { testReuse(t, e) })
	t.Run("each kind of provider config reaches its own cluster", func(t *testing.T) { testResolution(t, e) })
	t.Run("the cache holds only labelled objects", func(t *testing.T) { testLabelledOnly(t, e) })
	t.Run("the cache holds only the provider's EndpointSlices", func(t *testing.T) { testEndpointSlices(t, e) })
	t.Run("a remote pod change invokes the callback within 1s", func(t *testing.T) { testCallbackLatency(t, e) })
	t.Run("a Secret change replaces the connection", func(t *testing.T) { testReplacement(t, e) })
	t.Run("Forget stops the cache", func(t *testing.T) { testForget(t, e) })
	t.Run("unreachable clusters fail fast and alone", func(t *testing.T) { testUnreachable(t, e) })
	t.Run("invalid configs fail clearly without Secret content", func(t *testing.T) { testInvalid(t, e) })
	t.Run("InjectedIdentity uses the in-cluster configuration", func(t *testing.T) { testInjectedIdentity(t, e) })
	t.Run("the worker-index policy is kept, with no write while intact", func(t *testing.T) { testPolicyKept(t, e) })
	// Last: it stops cluster b.
	t.Run("a cluster that goes away makes its connection unhealthy", func(t *testing.T) { testClusterGone(t, e) })
}

func testReuse(t *testing.T, e *env) {
	m, _ := e.newManager(t, clusters.Options{})
	began := time.Now()
	k := e.configFor(t, "reuse", e.a.Kubeconfig)
	t.Logf("creating the first provider config took %s", time.Since(began).Round(time.Millisecond))
	ctx := ctxFor(t, 30*time.Second)

	// Concurrent first Gets share one dial.
	const n = 8
	conns := make([]*clusters.Connection, n)
	errs := make([]error, n)
	began = time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { conns[i], errs[i] = m.Get(ctx, k) })
	}
	wg.Wait()
	t.Logf("time to first usable connection: %s", time.Since(began).Round(time.Millisecond))
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Get %d: %v", i, errs[i])
		}
		if conns[i] != conns[0] {
			t.Fatalf("Get %d returned a different connection than Get 0", i)
		}
	}
	began = time.Now()
	again, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Get of an established connection: %s", time.Since(began))
	if again != conns[0] {
		t.Error("a repeated Get returned a different connection")
	}
	if err := again.Health(); err != nil {
		t.Errorf("Health of a fresh connection: %v", err)
	}
	if got, ok := m.Lookup(k); !ok || got != again {
		t.Error("Lookup does not return the established connection")
	}
}

func testResolution(t *testing.T, e *env) {
	m, _ := e.newManager(t, clusters.Options{})
	team := e.cp.CreateNamespace(t, "team")
	e.putSecret(t, "default", "shared-a", e.a.Kubeconfig)
	e.putSecret(t, team, "shared-b", e.b.Kubeconfig)
	cases := []struct {
		name            string
		key             clusters.Key
		present, absent string
	}{
		{
			name:    "ClusterProviderConfig reads its Secret's namespace",
			key:     e.clusterConfig(t, "shared", secretCredentials("default", "shared-a", "kubeconfig")),
			present: "only-in-a", absent: "only-in-b",
		},
		{
			name: "ProviderConfig of the same name is a different config",
			key:  e.namespacedConfig(t, team, "shared", secretCredentials(team, "shared-b", "kubeconfig")),
			// The same name, another kind: another cluster.
			present: "only-in-b", absent: "only-in-a",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t, 30*time.Second)
			c, err := m.Get(ctx, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Client().Get(ctx, client.ObjectKey{Namespace: "default", Name: tc.present}, &corev1.Service{}); err != nil {
				t.Errorf("%s: want Service %s, got %v", tc.key, tc.present, err)
			}
			if err := c.Client().Get(ctx, client.ObjectKey{Namespace: "default", Name: tc.absent}, &corev1.Service{}); !kerrors.IsNotFound(err) {
				t.Errorf("%s: want Service %s not found, got %v", tc.key, tc.absent, err)
			}
		})
	}
	a, _ := m.Lookup(cases[0].key)
	b, _ := m.Lookup(cases[1].key)
	if a == nil || b == nil || a == b {
		t.Error("the two configs do not have two connections")
	}
}

func testLabelledOnly(t *testing.T, e *env) {
	m, _ := e.newManager(t, clusters.Options{})
	ctx := ctxFor(t, 30*time.Second)
	c, err := m.Get(ctx, e.configFor(t, "labelled", e.a.Kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: "default", Name: "unlabelled"}
	if err := c.Client().Get(ctx, key, &corev1.Service{}); !kerrors.IsNotFound(err) {
		t.Errorf("cached client: want an unlabelled Service not found, got %v", err)
	}
	if err := c.APIReader().Get(ctx, key, &corev1.Service{}); err != nil {
		t.Errorf("API reader: want the unlabelled Service, got %v", err)
	}
}

func testCallbackLatency(t *testing.T, e *env) {
	m, rec := e.newManager(t, clusters.Options{})
	ctx := ctxFor(t, 60*time.Second)
	k := e.configFor(t, "latency", e.a.Kubeconfig)
	if _, err := m.Get(ctx, k); err != nil {
		t.Fatal(err)
	}
	ns := e.a.CreateNamespace(t, "pods")
	// Without a controller manager nobody creates the default service
	// account that pod admission looks up.
	if err := e.a.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "demo-0", Labels: map[string]string{lws.LabelName: "demo"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
	}
	began := time.Now()
	if err := e.a.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	isPod := func(c change) bool { return c.key == k && c.kind == "Pod" && c.namespace == ns && c.name == "demo-0" }
	created := rec.await(t, 5*time.Second, "the pod's creation to be reported", isPod)
	t.Logf("create → callback: %s", created.at.Sub(began).Round(time.Microsecond))

	// A container restart is a status update of the pod.
	var latencies []time.Duration
	for i := range 20 {
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: "busybox", ImageID: "busybox@sha256:0", RestartCount: int32(i + 1), Ready: true}}
		began := time.Now()
		if err := e.a.Client.Status().Update(ctx, pod); err != nil {
			t.Fatalf("updating pod status: %v", err)
		}
		rv := pod.ResourceVersion
		got := rec.await(t, 5*time.Second, "the restart to be reported", func(c change) bool { return isPod(c) && c.resourceVersion == rv })
		latencies = append(latencies, got.at.Sub(began))
	}
	slices.Sort(latencies)
	p50, worst := latencies[len(latencies)/2], latencies[len(latencies)-1]
	t.Logf("status update → callback over %d restarts: p50 %s, max %s (API round trip included)", len(latencies), p50.Round(time.Microsecond), worst.Round(time.Microsecond))
	if worst > time.Second {
		t.Errorf("slowest callback took %s, want under 1s", worst)
	}

	began = time.Now()
	if err := e.a.Client.Delete(ctx, pod, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	rec.await(t, time.Second, "the pod's deletion to be reported", func(c change) bool { return isPod(c) && c.at.After(began) })
}

func testReplacement(t *testing.T, e *env) {
	m, rec := e.newManager(t, clusters.Options{})
	ctx := ctxFor(t, 60*time.Second)
	k := e.configFor(t, "rotating", e.a.Kubeconfig)
	first, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}

	// Rewriting the Secret with the same kubeconfig changes nothing.
	e.putSecret(t, "default", "rotating", e.a.Kubeconfig)
	if same, err := m.Get(ctx, k); err != nil || same != first {
		t.Fatalf("after rewriting the same kubeconfig: want the same connection, got %p, %v", same, err)
	}

	// New credentials, here another cluster's, replace the connection on
	// the next Get.
	e.putSecret(t, "default", "rotating", e.b.Kubeconfig)
	began := time.Now()
	second, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replacement connection ready after %s", time.Since(began).Round(time.Millisecond))
	if second == first {
		t.Fatal("Get after a Secret change returned the old connection")
	}
	select {
	case <-first.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the replaced connection did not stop")
	}
	if err := first.Health(); !errors.Is(err, clusters.ErrStopped) {
		t.Errorf("Health of the replaced connection: want ErrStopped, got %v", err)
	}
	if err := second.Client().Get(ctx, client.ObjectKey{Namespace: "default", Name: "only-in-b"}, &corev1.Service{}); err != nil {
		t.Errorf("the new connection does not reach the new cluster: %v", err)
	}
	// The new informers report what they find, so that managed resources
	// are reconciled against the new connection.
	rec.await(t, 5*time.Second, "the new cluster's objects to be reported", func(c change) bool {
		return c.key == k && c.name == "only-in-b"
	})

	// Refresh replaces eagerly, without a Get.
	e.putSecret(t, "default", "rotating", e.a.Kubeconfig)
	if err := m.Refresh(ctx, k); err != nil {
		t.Fatal(err)
	}
	third, ok := m.Lookup(k)
	if !ok || third == second {
		t.Fatal("Refresh after a Secret change did not replace the connection")
	}
	if err := m.Refresh(ctx, clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: "never-used"}); err != nil {
		t.Errorf("Refresh of a config without a connection: %v", err)
	}
}

func testForget(t *testing.T, e *env) {
	m, rec := e.newManager(t, clusters.Options{})
	ctx := ctxFor(t, 30*time.Second)
	k := e.configFor(t, "forgotten", e.a.Kubeconfig)
	c, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	m.Forget(k)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Forget did not stop the cache")
	}
	if _, ok := m.Lookup(k); ok {
		t.Error("a forgotten connection is still looked up")
	}
	stoppedAt := time.Now()
	labelledService(t, e.a, "default", "after-forget", true)
	time.Sleep(300 * time.Millisecond)
	if c, ok := rec.find(func(c change) bool { return c.at.After(stoppedAt) }); ok {
		t.Errorf("a stopped connection reported %s/%s", c.namespace, c.name)
	}
	again, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if again == c {
		t.Error("Get after Forget returned the stopped connection")
	}
}

func testUnreachable(t *testing.T, e *env) {
	const timeout = 2 * time.Second
	m, _ := e.newManager(t, clusters.Options{SyncTimeout: timeout, RetryInterval: time.Minute})
	// Cluster a's server with cluster b's client certificate.
	var bUser *clientcmdapi.AuthInfo
	editKubeconfig(t, e.b.Kubeconfig, func(c *clientcmdapi.Config) { bUser = c.AuthInfos[c.Contexts[c.CurrentContext].AuthInfo] })
	strangers := editKubeconfig(t, e.a.Kubeconfig, func(c *clientcmdapi.Config) { c.AuthInfos[c.Contexts[c.CurrentContext].AuthInfo] = bUser })

	// Cluster a as a user without any RBAC, through impersonation.
	nobody := editKubeconfig(t, e.a.Kubeconfig, func(c *clientcmdapi.Config) {
		c.AuthInfos[c.Contexts[c.CurrentContext].AuthInfo].Impersonate = "nobody"
	})

	cases := []struct {
		name       string
		kubeconfig []byte
		within     time.Duration
		wantErr    string
	}{
		{name: "a closed port is refused at once", kubeconfig: withServer(t, e.a.Kubeconfig, "https://"+closedPort(t)), within: time.Second, wantErr: "connection refused"},
		{name: "a silent server times out within SyncTimeout", kubeconfig: withServer(t, e.a.Kubeconfig, "https://"+silentServer(t)), within: timeout + time.Second, wantErr: "did not answer in time"},
		{name: "unknown credentials are refused at once", kubeconfig: strangers, within: time.Second, wantErr: "rejected the credentials"},
		{name: "a user without permissions is refused at once", kubeconfig: nobody, within: time.Second, wantErr: "forbidden"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t, 30*time.Second)
			dead := e.configFor(t, fmt.Sprintf("dead-%d", i), tc.kubeconfig)
			healthy := e.configFor(t, fmt.Sprintf("healthy-%d", i), e.a.Kubeconfig)

			// The dead cluster is dialled first; the healthy one must not
			// wait for it.
			deadDone := make(chan error, 1)
			began := time.Now()
			var deadTook time.Duration
			go func() {
				_, err := m.Get(ctx, dead)
				deadTook = time.Since(began)
				deadDone <- err
			}()
			time.Sleep(50 * time.Millisecond)
			hBegan := time.Now()
			if _, err := m.Get(ctx, healthy); err != nil {
				t.Fatalf("the healthy cluster: %v", err)
			}
			healthyTook := time.Since(hBegan)
			err := <-deadDone
			t.Logf("dead config failed after %s: %v; healthy config connected in %s meanwhile", deadTook.Round(time.Millisecond), err, healthyTook.Round(time.Millisecond))
			if err == nil {
				t.Fatal("want an error, got a connection")
			}
			if !errors.Is(err, clusters.ErrUnavailable) {
				t.Errorf("error does not wrap ErrUnavailable: %v", err)
			}
			if !strings.Contains(err.Error(), dead.String()) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not name %s and say %q", err, dead, tc.wantErr)
			}
			if deadTook > tc.within {
				t.Errorf("failing took %s, want at most %s", deadTook, tc.within)
			}

			// A retry within RetryInterval answers from memory.
			began = time.Now()
			if _, again := m.Get(ctx, dead); again == nil || time.Since(began) > 200*time.Millisecond {
				t.Errorf("retry: want the remembered error at once, got %v after %s", again, time.Since(began))
			}
		})
	}
}

func testInvalid(t *testing.T, e *env) {
	m, _ := e.newManager(t, clusters.Options{})
	team := e.cp.CreateNamespace(t, "invalid")
	const marker = "SECRET-MARKER-0123456789abcdef"
	e.putSecret(t, "default", "garbage", []byte("clusters: "+marker))
	e.putSecret(t, team, "exec", editKubeconfig(t, e.a.Kubeconfig, func(c *clientcmdapi.Config) {
		c.AuthInfos[c.Contexts[c.CurrentContext].AuthInfo] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "/bin/sh", Args: []string{marker}}}
	}))
	e.putSecret(t, "default", "elsewhere", e.a.Kubeconfig)

	cases := []struct {
		name    string
		key     clusters.Key
		wantErr string
	}{
		{"an unparseable kubeconfig", e.clusterConfig(t, "garbage", secretCredentials("default", "garbage", "kubeconfig")), "invalid kubeconfig in Secret default/garbage"},
		{"a missing Secret key", e.clusterConfig(t, "no-key", secretCredentials("default", "garbage", "nope")), `Secret default/garbage key "nope" is missing or empty`},
		{"a missing Secret", e.clusterConfig(t, "no-secret", secretCredentials("default", "absent", "kubeconfig")), `secrets "absent" not found`},
		{"a missing provider config", clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: "absent"}, "not found"},
		{"an exec plugin in a namespaced config", e.namespacedConfig(t, team, "exec", secretCredentials(team, "exec", "kubeconfig")), "exec credential plugin"},
		{"a namespaced config reading another namespace", e.namespacedConfig(t, team, "elsewhere", secretCredentials("default", "elsewhere", "kubeconfig")), `secretRef namespace "default" differs`},
		{"a namespaced config borrowing the provider's identity", e.namespacedConfig(t, team, "injected", v1alpha1.ProviderCredentials{Source: xpv2.CredentialsSourceInjectedIdentity}), "only allowed for a ClusterProviderConfig"},
		{"an unknown kind", clusters.Key{Kind: "Cluster", Name: "x"}, `unsupported provider config kind "Cluster"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			_, err := m.Get(ctxFor(t, 10*time.Second), tc.key)
			t.Logf("after %s: %v", time.Since(began).Round(time.Millisecond), err)
			switch {
			case err == nil:
				t.Fatal("want an error")
			case !errors.Is(err, clusters.ErrInvalidConfig):
				t.Errorf("error does not wrap ErrInvalidConfig: %v", err)
			case !strings.Contains(err.Error(), tc.key.String()) || !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q does not name %s and say %q", err, tc.key, tc.wantErr)
			case strings.Contains(err.Error(), "MARKER"):
				t.Errorf("error echoes Secret content: %q", err)
			}
		})
	}
}

func testInjectedIdentity(t *testing.T, e *env) {
	m, _ := e.newManager(t, clusters.Options{InClusterConfig: func() (*rest.Config, error) { return rest.CopyConfig(e.a.Config), nil }})
	k := e.clusterConfig(t, "injected", v1alpha1.ProviderCredentials{Source: xpv2.CredentialsSourceInjectedIdentity})
	ctx := ctxFor(t, 30*time.Second)
	c, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Client().Get(ctx, client.ObjectKey{Namespace: "default", Name: "only-in-a"}, &corev1.Service{}); err != nil {
		t.Errorf("want cluster a through the in-cluster configuration: %v", err)
	}
}

func testClusterGone(t *testing.T, e *env) {
	m, _ := e.newManager(t, clusters.Options{HealthInterval: 200 * time.Millisecond})
	ctx := ctxFor(t, 30*time.Second)
	k := e.configFor(t, "gone", e.b.Kubeconfig)
	c, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.Stop(); err != nil {
		t.Logf("stopping cluster b: %v", err)
	}
	stopped := time.Now()
	testenv.Eventually(t, 10*time.Second, "the connection to report the lost cluster", func(context.Context) (bool, error) {
		return errors.Is(c.Health(), clusters.ErrUnavailable), nil
	})
	t.Logf("unhealthy %s after the cluster stopped: %v", time.Since(stopped).Round(time.Millisecond), c.Health())
	// The cached state stays readable meanwhile.
	if err := c.Client().Get(ctx, client.ObjectKey{Namespace: "default", Name: "only-in-b"}, &corev1.Service{}); err != nil {
		t.Errorf("cached read from a lost cluster: %v", err)
	}
	// A new connection to it fails at once.
	began := time.Now()
	if _, err := m.Get(ctx, e.configFor(t, "gone-new", e.b.Kubeconfig)); !errors.Is(err, clusters.ErrUnavailable) || time.Since(began) > time.Second {
		t.Errorf("connecting to a stopped cluster: want ErrUnavailable within 1s, got %v after %s", err, time.Since(began))
	}
}
