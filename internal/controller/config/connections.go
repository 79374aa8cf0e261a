package config

import (
	"context"
	"errors"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
)

// IndexSecret indexes ProviderConfigs and ClusterProviderConfigs by the
// "<namespace>/<name>" of the Secret holding their kubeconfig.
const IndexSecret = "spec.credentials.secretRef"

// ConnectionsControllerName is the name of the controller that keeps
// connections in step with provider configs.
const ConnectionsControllerName = "providerconfig/connections." + v1alpha1.Group

// secretOf is the IndexSecret function. A namespaced ProviderConfig's
// Secret defaults to its own namespace, as in internal/clusters.
func secretOf(o client.Object) []string {
	var creds v1alpha1.ProviderCredentials
	switch pc := o.(type) {
	case *v1alpha1.ProviderConfig:
		creds = pc.Spec.Credentials
	case *v1alpha1.ClusterProviderConfig:
		creds = pc.Spec.Credentials
	default:
		return nil
	}
	ref := creds.SecretRef
	if creds.Source != xpv2.CredentialsSourceSecret || ref == nil {
		return nil
	}
	ns := ref.Namespace
	if ns == "" {
		ns = o.GetNamespace()
	}
	return []string{ns + "/" + ref.Name}
}

// connections forgets the connection of a deleted provider config and
// refreshes that of a changed one. It also keeps what a config asks of its
// cluster as a whole: the worker-index admission policy, looked at again
// every PolicyInterval, rather than as a side effect of reconciling the
// managed resources there.
type connections struct {
	client   client.Client
	clusters *clusters.Manager
	log      logging.Logger
	recorder event.Recorder
}

// ReasonWorkerLabelsByPatch: the provider config asks for the worker-index
// admission policy, and the cluster would not take it.
const ReasonWorkerLabelsByPatch event.Reason = "WorkerLabelsByPatch"

func setupConnections(mgr ctrl.Manager, o controller.Options, m *clusters.Manager) error {
	for _, obj := range []client.Object{&v1alpha1.ProviderConfig{}, &v1alpha1.ClusterProviderConfig{}} {
		if err := mgr.GetFieldIndexer().IndexField(context.Background(), obj, IndexSecret, secretOf); err != nil {
			return fmt.Errorf("cannot index %T by Secret: %w", obj, err)
		}
	}
	r := &connections{client: mgr.GetClient(), clusters: m, log: o.Logger.WithValues("controller", ConnectionsControllerName),
		recorder: event.NewAPIRecorder(mgr.GetEventRecorderFor(ConnectionsControllerName))} //nolint:staticcheck // crossplane-runtime's recorder takes the record API.
	// Status updates (usage counts) do not change credentials.
	spec := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	err := ctrl.NewControllerManagedBy(mgr).
		Named(ConnectionsControllerName).
		WithOptions(o.ForControllerRuntime()).
		For(&v1alpha1.ProviderConfig{}, spec).
		Watches(&v1alpha1.ClusterProviderConfig{}, &handler.EnqueueRequestForObject{}, spec).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.configsOf)).
		Complete(r)
	if err != nil {
		return fmt.Errorf("cannot set up controller %s: %w", ConnectionsControllerName, err)
	}
	return nil
}

// keyOf tells the two kinds apart by scope: a ProviderConfig always has a
// namespace, a ClusterProviderConfig never.
func keyOf(req reconcile.Request) (clusters.Key, client.Object) {
	if req.Namespace == "" {
		return clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: req.Name}, &v1alpha1.ClusterProviderConfig{}
	}
	return clusters.Key{Kind: v1alpha1.ProviderConfigKind, Namespace: req.Namespace, Name: req.Name}, &v1alpha1.ProviderConfig{}
}

func (r *connections) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	k, pc := keyOf(req)
	if err := r.client.Get(ctx, req.NamespacedName, pc); err != nil {
		if kerrors.IsNotFound(err) {
			r.clusters.Forget(k)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("cannot get %s: %w", k, err)
	}
	// A config being deleted is still in use until its usages are gone:
	// keep the connection for the managed resources that are cleaning up.
	if err := r.clusters.Refresh(ctx, k); err != nil {
		// The managed resources using the config report the error, and
		// retry; retrying here as well would only dial twice as often.
		r.log.Debug("Cannot refresh connection", "config", k.String(), "error", err)
	}
	labels := specOf(pc).WorkerLabels
	if labels == v1alpha1.WorkerLabelsPatch || pc.GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	again, err := r.clusters.WorkerIndexPolicy(ctx, k)
	switch {
	case err == nil:
	case labels != v1alpha1.WorkerLabelsAdmissionPolicy && errors.Is(err, clusters.ErrNoAdmissionPolicyAPI):
		// Auto: the cluster is one for patches, as it may say again
		// after an upgrade.
		r.log.Debug("Labelling workers by patch", "config", k.String(), "reason", err)
	default:
		r.recorder.Event(pc, event.Warning(ReasonWorkerLabelsByPatch, err))
	}
	return reconcile.Result{RequeueAfter: again}, nil
}

// specOf is the spec of either kind of provider config.
func specOf(pc client.Object) v1alpha1.ProviderConfigSpec {
	if c, ok := pc.(*v1alpha1.ClusterProviderConfig); ok {
		return c.Spec
	}
	return pc.(*v1alpha1.ProviderConfig).Spec
}

// configsOf maps a Secret to the provider configs that read it.
func (r *connections) configsOf(ctx context.Context, s client.Object) []reconcile.Request {
	match := client.MatchingFields{IndexSecret: s.GetNamespace() + "/" + s.GetName()}
	var reqs []reconcile.Request
	var pcs v1alpha1.ProviderConfigList
	if err := r.client.List(ctx, &pcs, match); err != nil {
		r.log.Info("Cannot list ProviderConfigs of a Secret", "secret", s.GetNamespace()+"/"+s.GetName(), "error", err)
	}
	for _, pc := range pcs.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: pc.Namespace, Name: pc.Name}})
	}
	var cpcs v1alpha1.ClusterProviderConfigList
	if err := r.client.List(ctx, &cpcs, match); err != nil {
		r.log.Info("Cannot list ClusterProviderConfigs of a Secret", "secret", s.GetNamespace()+"/"+s.GetName(), "error", err)
	}
	for _, pc := range cpcs.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: pc.Name}})
	}
	return reqs
}
