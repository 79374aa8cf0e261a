package clusters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/admission"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// ErrNoAdmissionPolicyAPI: the cluster does not serve
// MutatingAdmissionPolicies, so its workers are labelled by patch.
var ErrNoAdmissionPolicyAPI = errors.New("the cluster serves no MutatingAdmissionPolicy API (Kubernetes 1.36, or 1.34 and later with the MutatingAdmissionPolicy feature gate and admissionregistration.k8s.io/v1beta1 enabled)")

// WorkerIndexPolicy keeps the worker-index MutatingAdmissionPolicy
// (package admission) in the cluster of provider config k, connecting to
// the cluster if no managed resource has yet. It reads the policy and its
// binding live and applies them only when missing or changed, so a policy
// deleted or edited by hand comes back without a write while it is intact.
// Its caller, the provider-config controller, calls it when the config
// changes and again after PolicyInterval (again). On an error, unlabelled
// workers are patched as without the policy.
func (m *Manager) WorkerIndexPolicy(ctx context.Context, k Key) (again time.Duration, err error) {
	c, err := m.Get(ctx, k)
	if err != nil {
		return m.opts.PolicyInterval, fmt.Errorf("cannot keep MutatingAdmissionPolicy %s, so workers are labelled by patch: %w", admission.PolicyName, err)
	}
	applied, err := keepPolicy(ctx, c, admission.WorkerIndexPolicy)
	if err != nil {
		return m.opts.PolicyInterval, fmt.Errorf("%s: cannot keep MutatingAdmissionPolicy %s, so workers are labelled by patch: %w", c.key, admission.PolicyName, err)
	}
	if applied {
		m.opts.Logger.Info("Applied the worker-index MutatingAdmissionPolicy", "config", c.key.String(), "policy", admission.PolicyName)
	}
	return m.opts.PolicyInterval, nil
}

// keepPolicy applies a policy and its binding, rendered at the most stable
// version the cluster serves, where the cluster does not hold them as
// rendered.
func keepPolicy(ctx context.Context, c *Connection, render func(version string) (policy, binding *unstructured.Unstructured)) (applied bool, err error) {
	gk := schema.GroupKind{Group: admission.Group, Kind: "MutatingAdmissionPolicy"}
	mapping, err := c.cluster.GetRESTMapper().RESTMapping(gk, admission.Versions...)
	if meta.IsNoMatchError(err) {
		return false, ErrNoAdmissionPolicyAPI
	}
	if err != nil {
		return false, fmt.Errorf("cannot find the MutatingAdmissionPolicy API: %w", err)
	}
	policy, binding := render(mapping.GroupVersionKind.Version)
	for _, obj := range []*unstructured.Unstructured{policy, binding} {
		kind := obj.GetKind()
		intact, err := holds(ctx, c.cluster.GetAPIReader(), obj)
		if err != nil {
			return applied, fmt.Errorf("cannot get %s %s: %w", kind, obj.GetName(), err)
		}
		if intact {
			continue
		}
		if err := c.Client().Patch(ctx, obj, client.Apply, client.FieldOwner(lws.FieldOwner), client.ForceOwnership); err != nil { //nolint:staticcheck // The objects are rendered as unstructured for any served version; typed apply configurations exist for one.
			return applied, fmt.Errorf("cannot apply %s %s: %w", kind, obj.GetName(), err)
		}
		applied = true
	}
	return applied, nil
}

// holds tells whether the cluster has want with the spec as rendered;
// fields the API server defaults do not count.
func holds(ctx context.Context, r client.Reader, want *unstructured.Unstructured) (bool, error) {
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(want.GroupVersionKind())
	err := r.Get(ctx, client.ObjectKeyFromObject(want), got)
	if kerrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return equality.Semantic.DeepDerivative(want.Object["spec"], got.Object["spec"]), nil
}
