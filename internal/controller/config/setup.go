// Package config runs the provider's provider-config controllers.
//
// Two are crossplane-runtime's providerconfig reconciler, one for
// ProviderConfig and one for ClusterProviderConfig: they count the
// ProviderConfigUsages that managed resources create (one namespaced usage
// type serves both kinds, told apart by the crossplane.io/provider-config-kind
// label), show the count in status.users, and hold the in-use finalizer so
// that a config cannot be deleted while a managed resource uses it.
//
// The third keeps internal/clusters' connections in step with the configs:
// when a config is gone it forgets its connection (stopping its watches),
// and when a config or the Secret holding its kubeconfig changes it asks for
// a refresh, which replaces the connection if the credentials differ. Secrets
// are mapped to the configs that reference them through a field index, so a
// rotated kubeconfig moves the watches to the new credentials without waiting
// for a managed resource to reconcile.
package config

import (
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/providerconfig"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
)

// Setup adds the provider-config controllers to mgr. m is the provider's
// connection manager; it is also added to mgr so that its connections stop
// with it.
func Setup(mgr ctrl.Manager, o controller.Options, m *clusters.Manager) error {
	for _, kind := range []struct {
		gvk    schema.GroupVersionKind
		object client.Object
	}{
		{gvk: v1alpha1.ProviderConfigGroupVersionKind, object: &v1alpha1.ProviderConfig{}},
		{gvk: v1alpha1.ClusterProviderConfigGroupVersionKind, object: &v1alpha1.ClusterProviderConfig{}},
	} {
		// One namespaced usage type serves both kinds.
		kinds := resource.ProviderConfigKinds{
			Config:    kind.gvk,
			Usage:     v1alpha1.ProviderConfigUsageGroupVersionKind,
			UsageList: v1alpha1.ProviderConfigUsageListGroupVersionKind,
		}
		if err := setupUsage(mgr, o, kinds, kind.object); err != nil {
			return err
		}
	}
	if err := setupConnections(mgr, o, m); err != nil {
		return err
	}
	if err := mgr.Add(m); err != nil {
		return fmt.Errorf("cannot add the connection manager to the controller manager: %w", err)
	}
	return nil
}

// setupUsage adds crossplane-runtime's usage-tracking reconciler for one
// provider config kind.
func setupUsage(mgr ctrl.Manager, o controller.Options, kinds resource.ProviderConfigKinds, of client.Object) error {
	name := providerconfig.ControllerName(kinds.Config.GroupKind().String())
	r := providerconfig.NewReconciler(mgr, kinds,
		providerconfig.WithLogger(o.Logger.WithValues("controller", name)),
		providerconfig.WithRecorder(event.NewAPIRecorder(mgr.GetEventRecorderFor(name))), //nolint:staticcheck // crossplane-runtime's recorder takes the record API.
	)
	err := ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(o.ForControllerRuntime()).
		For(of).
		Watches(&v1alpha1.ProviderConfigUsage{}, &resource.EnqueueRequestForProviderConfig{Kind: kinds.Config.Kind}).
		Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
	if err != nil {
		return fmt.Errorf("cannot set up controller %s: %w", name, err)
	}
	return nil
}
