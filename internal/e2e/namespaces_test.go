//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/controller/remoteleaderworkerset"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// inNamespace is a LeaderWorkerSet of 1 group of 2 in namespace ns, whose
// managed resource lives in the same namespace of the control plane.
func (e *env) inNamespace(t testing.TB, name, ns string) *v1alpha1.RemoteLeaderWorkerSet {
	t.Helper()
	err := e.cp.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if !kerrors.IsAlreadyExists(err) {
		must(t, err)
	}
	l := sample(name, "image:v1", 1, 2)
	l.Namespace = ns
	return managed(t, l)
}

// namespaceGone waits until a target cluster's namespace is deleted or
// being deleted.
func namespaceGone(t testing.TB, c *testenv.Cluster, ns string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, "namespace "+ns+" deleted", func(ctx context.Context) (bool, error) {
		got := &corev1.Namespace{}
		err := c.Client.Get(ctx, client.ObjectKey{Name: ns}, got)
		if kerrors.IsNotFound(err) || (err == nil && got.DeletionTimestamp != nil) {
			return true, nil
		}
		return false, testenv.Pendingf("still there (%v)", err)
	})
}

// TestTargetNamespaces: a LeaderWorkerSet whose namespace is missing in its
// target cluster gets it, labelled as the provider's, and the namespace
// goes with the last LeaderWorkerSet in it; one the provider created but
// that holds something else stays; where the provider config says
// namespaces are made elsewhere, the managed resource fails, naming the
// cluster and the namespace, and nothing is created.
func TestTargetNamespaces(t *testing.T) {
	e := start(t)
	ctx := context.Background()

	mr := e.inNamespace(t, "created", "team-r")
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 1, time.Minute)
	ns := &corev1.Namespace{}
	must(t, e.target.Client.Get(ctx, client.ObjectKey{Name: "team-r"}, ns))
	if ns.Labels[remoteleaderworkerset.LabelCreatedBy] != "provider-lws" {
		t.Errorf("namespace team-r has labels %v, want the provider's", ns.Labels)
	}
	must(t, e.cp.Client.Delete(ctx, mr))
	namespaceGone(t, e.target, "team-r")

	t.Run("KeptWhileSomethingElseIsThere", func(t *testing.T) {
		mr := e.inNamespace(t, "shared", "team-s")
		must(t, e.cp.Client.Create(ctx, mr))
		e.groupsReady(t, mr, 1, time.Minute)
		must(t, e.target.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "users", Namespace: "team-s"}}))
		must(t, e.cp.Client.Delete(ctx, mr))
		testenv.Eventually(t, time.Minute, "managed resource gone", func(ctx context.Context) (bool, error) {
			err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), &v1alpha1.RemoteLeaderWorkerSet{})
			return kerrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
		got := &corev1.Namespace{}
		must(t, e.target.Client.Get(ctx, client.ObjectKey{Name: "team-s"}, got))
		if got.DeletionTimestamp != nil {
			t.Error("namespace team-s holds a ConfigMap of its users and was deleted")
		}
	})

	t.Run("Existing", func(t *testing.T) {
		e.editConfig(t, "default", func(s *v1alpha1.ProviderConfigSpec) { s.Namespaces = v1alpha1.NamespacesExisting })
		mr := e.inNamespace(t, "refused", "team-x")
		must(t, e.cp.Client.Create(ctx, mr))
		testenv.Eventually(t, time.Minute, "the managed resource failing, naming cluster and namespace", func(ctx context.Context) (bool, error) {
			got := &v1alpha1.RemoteLeaderWorkerSet{}
			if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got); err != nil {
				return false, err
			}
			synced := got.GetCondition(xpv2.TypeSynced)
			if synced.Status != corev1.ConditionFalse || !strings.Contains(synced.Message, `namespace "team-x"`) || !strings.Contains(synced.Message, "default") {
				return false, testenv.Pendingf("Synced %s: %s", synced.Status, synced.Message)
			}
			return true, nil
		})
		err := e.target.Client.Get(ctx, client.ObjectKey{Name: "team-x"}, &corev1.Namespace{})
		if !kerrors.IsNotFound(err) {
			t.Errorf("namespace team-x in the target cluster: %v; want none created", err)
		}
	})
}
