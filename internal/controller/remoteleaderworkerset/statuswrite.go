package remoteleaderworkerset

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// crossplane-runtime's managed reconciler writes a managed resource's
// status at the end of every reconcile, changed or not, and this provider
// reconciles at every change of a pod of its groups. The API server stores
// nothing for an unchanged status, but only after decoding, validating and
// tracking the fields of the whole object: for a RemoteLeaderWorkerSet,
// which carries its pod template, about 10 ms of the control-plane API
// server's CPU each (measured while it also carried the rendered leader
// StatefulSet), and more than the provider spent on
// its target clusters while 64 groups of 8 converged. The reconciler reads
// the resource from the manager's cache, so a status equal to the cached
// one at the same resourceVersion is already stored, and its write is
// skipped. (Were the cache behind, the write would fail on its stale
// resourceVersion, and the newer object reconciles again anyway.)

// withUnchangedStatusSkipped is mgr with a client that skips writes of
// unchanged managed resource statuses, for managed.NewReconciler, which
// takes its client from the manager.
func withUnchangedStatusSkipped(mgr ctrl.Manager) ctrl.Manager {
	return statusSkippingManager{Manager: mgr, client: statusSkippingClient{Client: mgr.GetClient()}}
}

type statusSkippingManager struct {
	ctrl.Manager
	client client.Client
}

func (m statusSkippingManager) GetClient() client.Client { return m.client }

type statusSkippingClient struct{ client.Client }

func (c statusSkippingClient) Status() client.SubResourceWriter {
	return statusSkippingWriter{SubResourceWriter: c.Client.Status(), cache: c.Client}
}

type statusSkippingWriter struct {
	client.SubResourceWriter
	cache client.Reader
}

func (w statusSkippingWriter) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if mr, ok := obj.(*v1alpha1.RemoteLeaderWorkerSet); ok && len(opts) == 0 && w.stored(ctx, mr) {
		return nil
	}
	return w.SubResourceWriter.Update(ctx, obj, opts...)
}

// stored: the cache holds mr at its resourceVersion with the same status.
func (w statusSkippingWriter) stored(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) bool {
	cached := &v1alpha1.RemoteLeaderWorkerSet{}
	if err := w.cache.Get(ctx, client.ObjectKeyFromObject(mr), cached); err != nil {
		return false
	}
	return cached.ResourceVersion == mr.ResourceVersion && equality.Semantic.DeepEqual(cached.Status, mr.Status)
}
