// Package rolescaler reports, in each DisaggregatedSetRoleScaler's status,
// the groups of the External role it scales, summed from the role's
// managed resources, and the selector of its leader pods: what a
// HorizontalPodAutoscaler reads through the scale subresource. The
// function reads the scaler's spec; this controller only writes status.
package rolescaler

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
)

// Setup adds the controller to a manager.
func Setup(mgr ctrl.Manager) error {
	r := &Reconciler{kube: mgr.GetClient()}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("disaggregatedsetrolescaler").
		For(&v1alpha1.DisaggregatedSetRoleScaler{}).
		Watches(&v1alpha1.RemoteLeaderWorkerSet{}, handler.EnqueueRequestsFromMapFunc(scalerOf)).
		Complete(r)
	if err != nil {
		return fmt.Errorf("cannot set up the DisaggregatedSetRoleScaler controller: %w", err)
	}
	return nil
}

// scalerOf is the scaler a managed resource's role would have: a managed
// resource of a role that is not External names a scaler that does not
// exist, which costs one read.
func scalerOf(_ context.Context, obj client.Object) []reconcile.Request {
	ds, role := obj.GetLabels()[disagg.LabelName], obj.GetLabels()[disagg.LabelRole]
	if ds == "" || role == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: disagg.ScalerName(ds, role)}}}
}

// Reconciler writes a role scaler's status.
type Reconciler struct {
	kube client.Client
}

// Reconcile writes the status of one scaler, when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	s := &v1alpha1.DisaggregatedSetRoleScaler{}
	if err := r.kube.Get(ctx, req.NamespacedName, s); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	var sets v1alpha1.RemoteLeaderWorkerSetList
	if err := r.kube.List(ctx, &sets, client.InNamespace(s.Namespace), client.MatchingLabels(disagg.ScalerLabels(s.Labels[disagg.LabelName], s.Labels[disagg.LabelRole]))); err != nil {
		return reconcile.Result{}, fmt.Errorf("cannot list the role's managed resources: %w", err)
	}
	st := disagg.ScalerStatus(s, sets.Items, metav1.Now())
	if equality.Semantic.DeepEqual(st, s.Status) {
		return reconcile.Result{}, nil
	}
	s.Status = st
	if err := r.kube.Status().Update(ctx, s); err != nil {
		return reconcile.Result{}, fmt.Errorf("cannot write the status of DisaggregatedSetRoleScaler %s: %w", s.Name, err)
	}
	return reconcile.Result{}, nil
}
