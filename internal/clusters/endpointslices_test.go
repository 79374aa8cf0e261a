//go:build e2e

package clusters_test

import (
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// testEndpointSlices: the EndpointSlice controller copies a Service's
// labels, our name label included, to its own slices; only the provider's
// are cached and reported.
func testEndpointSlices(t *testing.T, e *env) {
	m, rec := e.newManager(t, clusters.Options{})
	ctx := ctxFor(t, 30*time.Second)
	k := e.configFor(t, "endpointslices", e.a.Kubeconfig)
	c, err := m.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ name, manager string }{{"theirs", "endpointslice-controller.k8s.io"}, {"ours", lws.EndpointSliceManager}} {
		es := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: s.name, Labels: map[string]string{
				lws.LabelName: "demo", discoveryv1.LabelServiceName: "demo-0", discoveryv1.LabelManagedBy: s.manager,
			}},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		if err := e.a.Client.Create(ctx, es); err != nil {
			t.Fatalf("creating EndpointSlice %s: %v", s.name, err)
		}
	}
	// Reported in order: once ours is, theirs would have been.
	rec.await(t, 5*time.Second, "the provider's EndpointSlice to be reported", func(ch change) bool { return ch.key == k && ch.name == "ours" })
	if _, ok := rec.find(func(ch change) bool { return ch.key == k && ch.name == "theirs" }); ok {
		t.Error("want the EndpointSlice controller's slice not reported")
	}
	if err := c.Client().Get(ctx, client.ObjectKey{Namespace: "default", Name: "ours"}, &discoveryv1.EndpointSlice{}); err != nil {
		t.Errorf("cached client: want the provider's EndpointSlice, got %v", err)
	}
	if err := c.Client().Get(ctx, client.ObjectKey{Namespace: "default", Name: "theirs"}, &discoveryv1.EndpointSlice{}); !kerrors.IsNotFound(err) {
		t.Errorf("cached client: want the EndpointSlice controller's slice not found, got %v", err)
	}
}
