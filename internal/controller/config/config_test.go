//go:build e2e

package config_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/providerconfig"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/controller/config"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// env is a control plane running the provider-config controllers, and a
// target cluster.
type env struct {
	cp, target *testenv.Cluster
	m          *clusters.Manager
	changes    *recorder
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
	cs := testenv.StartN(t, 2, testenv.Options{
		Name:                     "config",
		WithoutControllerManager: true,
		WithoutScheduler:         true,
		WithoutNodeAgent:         true,
		CRDDirectoryPaths:        []string{filepath.Join(root, "package", "provider", "crds")},
		Scheme:                   s,
	})
	e := &env{cp: cs[0], target: cs[1], changes: &recorder{}}

	ctrl.SetLogger(logr.Discard())
	mgr, err := ctrl.NewManager(e.cp.Config, ctrl.Options{
		Scheme:                 s,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	remote := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(remote); err != nil {
		t.Fatal(err)
	}
	// The manager's cache-backed client, as in the provider.
	if e.m, err = clusters.New(mgr.GetClient(), remote, e.changes.record, clusters.Options{}); err != nil {
		t.Fatal(err)
	}
	o := controller.DefaultOptions()
	o.GlobalRateLimiter = ratelimiter.NewGlobal(1000)
	if err := config.Setup(mgr, o, e.m); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller manager: %v", err)
		}
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("controller manager cache did not sync")
	}
	return e
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newConfig creates a Secret with kubeconfig and a provider config of kind
// (ProviderConfig in ns, or ClusterProviderConfig) using it.
func (e *env) newConfig(t *testing.T, kind, ns, name string, kubeconfig []byte) (clusters.Key, client.Object) {
	t.Helper()
	ctx := ctxFor(t, 10*time.Second)
	secretNS := ns
	if kind == v1alpha1.ClusterProviderConfigKind {
		secretNS = "default"
	}
	if err := e.cp.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: secretNS, Name: name},
		Data:       map[string][]byte{"kubeconfig": kubeconfig},
	}); err != nil {
		t.Fatal(err)
	}
	spec := v1alpha1.ProviderConfigSpec{Credentials: v1alpha1.ProviderCredentials{
		Source: xpv2.CredentialsSourceSecret,
		CommonCredentialSelectors: xpv2.CommonCredentialSelectors{SecretRef: &xpv2.SecretKeySelector{
			SecretReference: xpv2.SecretReference{Namespace: secretNS, Name: name}, Key: "kubeconfig",
		}},
	}}
	var pc client.Object = &v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	k := clusters.Key{Kind: kind, Name: name}
	if kind == v1alpha1.ProviderConfigKind {
		pc = &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
		k.Namespace = ns
	}
	if err := e.cp.Client.Create(ctx, pc); err != nil {
		t.Fatal(err)
	}
	return k, pc
}

// TestProviderConfigs runs the behaviours against one control plane.
func TestProviderConfigs(t *testing.T) {
	e := startEnv(t)
	ns := e.cp.CreateNamespace(t, "team")
	kinds := []struct{ kind, ns string }{
		{v1alpha1.ClusterProviderConfigKind, ""},
		{v1alpha1.ProviderConfigKind, ns},
	}
	for _, k := range kinds {
		t.Run(k.kind+" in use cannot be deleted", func(t *testing.T) { testDeletionBlocked(t, e, k.kind, k.ns) })
	}
	for _, k := range kinds {
		t.Run(k.kind+" deleted forgets its connection", func(t *testing.T) { testDeletedForgotten(t, e, k.kind, k.ns) })
	}
	for _, k := range kinds {
		t.Run(k.kind+" Secret rotation moves the watches", func(t *testing.T) { testRotation(t, e, k.kind, k.ns) })
	}
}

func testDeletionBlocked(t *testing.T, e *env, kind, ns string) {
	ctx := ctxFor(t, 30*time.Second)
	_, pc := e.newConfig(t, kind, ns, "in-use", e.target.Kubeconfig)
	testenv.Eventually(t, 10*time.Second, "the in-use finalizer", func(ctx context.Context) (bool, error) {
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(pc), pc); err != nil {
			return false, err
		}
		return meta.FinalizerExists(pc, "in-use.crossplane.io"), nil
	})

	// A usage as a managed resource's connect would record it; its owner
	// only has to exist as a controller reference.
	usageNS := ns
	if usageNS == "" {
		usageNS = "default"
	}
	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: usageNS, GenerateName: "mr-"}}
	if err := e.cp.Client.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	pcu := &v1alpha1.ProviderConfigUsage{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: usageNS, Name: string(owner.UID),
			Labels:          map[string]string{xpv2.LabelKeyProviderName: pc.GetName(), xpv2.LabelKeyProviderKind: kind},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}},
		},
		TypedProviderConfigUsage: xpv2.TypedProviderConfigUsage{
			ProviderConfigReference: xpv2.ProviderConfigReference{Kind: kind, Name: pc.GetName()},
			ResourceReference:       xpv2.TypedReference{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.RemoteLeaderWorkerSetKind, Name: owner.Name},
		},
	}
	if err := e.cp.Client.Create(ctx, pcu); err != nil {
		t.Fatal(err)
	}
	users := func() int64 {
		switch pc := pc.(type) {
		case *v1alpha1.ProviderConfig:
			return pc.Status.Users
		case *v1alpha1.ClusterProviderConfig:
			return pc.Status.Users
		}
		return -1
	}
	testenv.Eventually(t, 10*time.Second, "one user", func(ctx context.Context) (bool, error) {
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(pc), pc); err != nil {
			return false, err
		}
		return users() == 1, testenv.Pendingf("users %d", users())
	})

	if err := e.cp.Client.Delete(ctx, pc); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the Terminating condition", func(ctx context.Context) (bool, error) {
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(pc), pc); err != nil {
			return false, err
		}
		c := pc.(interface {
			GetCondition(xpv2.ConditionType) xpv2.Condition
		}).GetCondition(providerconfig.TypeTerminating)
		return c.Status == corev1.ConditionTrue, nil
	})
	if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(pc), pc); err != nil {
		t.Fatalf("a provider config in use is gone: %v", err)
	}

	if err := e.cp.Client.Delete(ctx, pcu); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the unused provider config to be deleted", func(ctx context.Context) (bool, error) {
		err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(pc), pc)
		return kerrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

func testDeletedForgotten(t *testing.T, e *env, kind, ns string) {
	ctx := ctxFor(t, 30*time.Second)
	k, pc := e.newConfig(t, kind, ns, "doomed", e.target.Kubeconfig)
	var c *clusters.Connection
	// The controller manager's cache may not have seen the new config yet.
	testenv.Eventually(t, 10*time.Second, "a connection", func(ctx context.Context) (bool, error) {
		var err error
		c, err = e.m.Get(ctx, k)
		return err == nil, testenv.Pendingf("%v", err)
	})
	if err := e.cp.Client.Delete(ctx, pc); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	select {
	case <-c.Done():
		t.Logf("connection stopped %s after the delete request", time.Since(deleted).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the connection of a deleted provider config was not stopped")
	}
	if _, ok := e.m.Lookup(k); ok {
		t.Error("the connection of a deleted provider config is still looked up")
	}
}

func testRotation(t *testing.T, e *env, kind, ns string) {
	ctx := ctxFor(t, 30*time.Second)
	k, pc := e.newConfig(t, kind, ns, "rotated", e.target.Kubeconfig)
	var first *clusters.Connection
	testenv.Eventually(t, 10*time.Second, "a connection", func(ctx context.Context) (bool, error) {
		var err error
		first, err = e.m.Get(ctx, k)
		return err == nil, testenv.Pendingf("%v", err)
	})

	// The new credentials reach the control plane's own API server, where a
	// labelled Service tells the new connection's reports apart.
	marker := "rotation-" + k.Kind
	if err := e.cp.Client.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "svc-" + time.Now().Format("150405.000000")[7:], Labels: map[string]string{lws.LabelName: marker}},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 80}}},
	}); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{}
	ref := pcSecret(pc)
	if err := e.cp.Client.Get(ctx, ref, secret); err != nil {
		t.Fatal(err)
	}
	secret.Data["kubeconfig"] = e.cp.Kubeconfig
	if err := e.cp.Client.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	rotated := time.Now()

	// No Get: the Secret's watch alone replaces the connection.
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the connection with the old credentials was not stopped")
	}
	got := e.changes.await(t, 10*time.Second, "the new connection's report", func(c change) bool {
		return c.key == k && c.label == marker
	})
	t.Logf("Secret update → old connection stopped → new connection reporting: %s", got.at.Sub(rotated).Round(time.Millisecond))
	// Informers report while the others still sync; the connection is
	// established once all have.
	testenv.Eventually(t, 10*time.Second, "a new connection", func(context.Context) (bool, error) {
		second, ok := e.m.Lookup(k)
		return ok && second != first, nil
	})
}

func pcSecret(pc client.Object) client.ObjectKey {
	var ref *xpv2.SecretKeySelector
	switch pc := pc.(type) {
	case *v1alpha1.ProviderConfig:
		ref = pc.Spec.Credentials.SecretRef
	case *v1alpha1.ClusterProviderConfig:
		ref = pc.Spec.Credentials.SecretRef
	}
	return client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
}

// change is one OnChange call.
type change struct {
	key   clusters.Key
	label string
	at    time.Time
}

type recorder struct {
	mu      sync.Mutex
	changes []change
}

func (r *recorder) record(k clusters.Key, obj client.Object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, change{key: k, label: obj.GetLabels()[lws.LabelName], at: time.Now()})
}

func (r *recorder) await(t *testing.T, timeout time.Duration, what string, match func(change) bool) change {
	t.Helper()
	var got change
	testenv.Eventually(t, timeout, what, func(context.Context) (bool, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, c := range r.changes {
			if match(c) {
				got = c
				return true, nil
			}
		}
		return false, nil
	})
	return got
}
