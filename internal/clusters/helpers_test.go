//go:build e2e

package clusters_test

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// env is a control plane holding provider configs and kubeconfig Secrets,
// and two target clusters.
type env struct {
	cp, a, b *testenv.Cluster
}

func startEnv(t *testing.T) *env {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := testenv.DefaultScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	cs := testenv.StartN(t, 3, testenv.Options{
		Name:                      "clusters",
		WithoutControllerManager:  true,
		WithoutScheduler:          true,
		WithoutNodeAgent:          true,
		MutatingAdmissionPolicies: true,
		CRDDirectoryPaths:         []string{filepath.Join(root, "package", "provider", "crds")},
		Scheme:                    s,
	})
	for _, c := range cs {
		t.Logf("cluster %s started in %s", c.Name, c.StartupDuration.Round(time.Millisecond))
	}
	return &env{cp: cs[0], a: cs[1], b: cs[2]}
}

func remoteScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	return s
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newManager returns a Manager over the control plane that records
// callbacks; it is stopped with the test.
func (e *env) newManager(t *testing.T, o clusters.Options) (*clusters.Manager, *recorder) {
	t.Helper()
	rec := &recorder{}
	m, err := clusters.New(e.cp.Client, remoteScheme(), rec.record, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m, rec
}

// putSecret creates or replaces a kubeconfig Secret in the control plane.
func (e *env) putSecret(t *testing.T, ns, name string, kubeconfig []byte) {
	t.Helper()
	ctx := ctxFor(t, 10*time.Second)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(s), s)
	s.Data = map[string][]byte{"kubeconfig": kubeconfig}
	switch {
	case kerrors.IsNotFound(err):
		err = e.cp.Client.Create(ctx, s)
	case err == nil:
		err = e.cp.Client.Update(ctx, s)
	}
	if err != nil {
		t.Fatalf("putting Secret %s/%s: %v", ns, name, err)
	}
}

func secretCredentials(ns, name, key string) v1alpha1.ProviderCredentials {
	return v1alpha1.ProviderCredentials{
		Source: xpv2.CredentialsSourceSecret,
		CommonCredentialSelectors: xpv2.CommonCredentialSelectors{SecretRef: &xpv2.SecretKeySelector{
			SecretReference: xpv2.SecretReference{Namespace: ns, Name: name}, Key: key,
		}},
	}
}

// clusterConfig creates a ClusterProviderConfig and returns its key.
func (e *env) clusterConfig(t *testing.T, name string, creds v1alpha1.ProviderCredentials) clusters.Key {
	t.Helper()
	pc := &v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ProviderConfigSpec{Credentials: creds}}
	if err := e.cp.Client.Create(ctxFor(t, 10*time.Second), pc); err != nil {
		t.Fatalf("creating ClusterProviderConfig %s: %v", name, err)
	}
	return clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: name}
}

// namespacedConfig creates a ProviderConfig and returns its key.
func (e *env) namespacedConfig(t *testing.T, ns, name string, creds v1alpha1.ProviderCredentials) clusters.Key {
	t.Helper()
	pc := &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1alpha1.ProviderConfigSpec{Credentials: creds}}
	if err := e.cp.Client.Create(ctxFor(t, 10*time.Second), pc); err != nil {
		t.Fatalf("creating ProviderConfig %s/%s: %v", ns, name, err)
	}
	return clusters.Key{Kind: v1alpha1.ProviderConfigKind, Namespace: ns, Name: name}
}

// configFor creates a Secret holding kubeconfig and a ClusterProviderConfig
// named name that uses it.
func (e *env) configFor(t *testing.T, name string, kubeconfig []byte) clusters.Key {
	t.Helper()
	e.putSecret(t, "default", name, kubeconfig)
	return e.clusterConfig(t, name, secretCredentials("default", name, "kubeconfig"))
}

// labelledService creates a Service carrying the LeaderWorkerSet label.
func labelledService(t *testing.T, c *testenv.Cluster, ns, name string, labelled bool) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if labelled {
		svc.Labels = map[string]string{lws.LabelName: name}
	}
	if err := c.Client.Create(ctxFor(t, 10*time.Second), svc); err != nil {
		t.Fatalf("creating Service %s/%s in %s: %v", ns, name, c.Name, err)
	}
}

// withServer returns kubeconfig with its server replaced.
func withServer(t *testing.T, kubeconfig []byte, server string) []byte {
	t.Helper()
	return editKubeconfig(t, kubeconfig, func(c *clientcmdapi.Config) {
		for _, cl := range c.Clusters {
			cl.Server = server
		}
	})
}

func editKubeconfig(t *testing.T, kubeconfig []byte, edit func(*clientcmdapi.Config)) []byte {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// silentServer accepts connections and never answers, like a black-holed
// or hung API server.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// change is one OnChange call.
type change struct {
	key             clusters.Key
	kind            string
	namespace, name string
	resourceVersion string
	at              time.Time
}

// recorder keeps OnChange calls.
type recorder struct {
	mu      sync.Mutex
	changes []change
}

func (r *recorder) record(k clusters.Key, obj client.Object) {
	c := change{key: k, kind: kindOf(obj), namespace: obj.GetNamespace(), name: obj.GetName(), resourceVersion: obj.GetResourceVersion(), at: time.Now()}
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *corev1.Pod:
		return "Pod"
	case *corev1.Service:
		return "Service"
	default:
		return "other"
	}
}

// find returns the first recorded change matching.
func (r *recorder) find(match func(change) bool) (change, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.changes {
		if match(c) {
			return c, true
		}
	}
	return change{}, false
}

// await waits for a matching change.
func (r *recorder) await(t *testing.T, timeout time.Duration, what string, match func(change) bool) change {
	t.Helper()
	var got change
	testenv.Eventually(t, timeout, what, func(context.Context) (bool, error) {
		var ok bool
		got, ok = r.find(match)
		return ok, nil
	})
	return got
}
