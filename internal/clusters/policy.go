package clusters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/admission"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// policyRetry is how long after a failed attempt the worker-index policy
// is tried again: a cluster that does not serve the API does not start to
// within seconds, and meanwhile workers are patched.
const policyRetry = time.Minute

// policyState is the worker-index policy's state in one connection's
// cluster: applied once per connection, so a replaced connection (other
// credentials) applies it again.
type policyState struct {
	mu      sync.Mutex
	applied bool
	tried   time.Time
}

// WorkerIndexPolicy keeps the worker-index MutatingAdmissionPolicy
// (package admission) in the cluster of mr's provider config if the config
// asks for it (WorkerLabels AdmissionPolicy), once per connection. It
// returns an error only from the attempt that met it, a minute at most
// after the last, so that the caller reports each failure once; meanwhile,
// and after it, unlabelled workers are patched as without the policy.
func (m *Manager) WorkerIndexPolicy(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) error {
	c, ok := m.Lookup(KeyFor(mr))
	if !ok || c.WorkerLabels() != v1alpha1.WorkerLabelsAdmissionPolicy {
		return nil
	}
	p := &c.policy
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.applied || time.Since(p.tried) < policyRetry {
		return nil
	}
	p.tried = time.Now()
	if err := applyWorkerIndexPolicy(ctx, c); err != nil {
		return fmt.Errorf("%s: cannot keep MutatingAdmissionPolicy %s, so workers are labelled by patch: %w", c.key, admission.PolicyName, err)
	}
	p.applied = true
	m.opts.Logger.Info("Applied the worker-index MutatingAdmissionPolicy", "config", c.key.String(), "policy", admission.PolicyName)
	return nil
}

// applyWorkerIndexPolicy applies the policy and its binding at the most
// stable version the cluster serves.
func applyWorkerIndexPolicy(ctx context.Context, c *Connection) error {
	gk := schema.GroupKind{Group: admission.Group, Kind: "MutatingAdmissionPolicy"}
	mapping, err := c.cluster.GetRESTMapper().RESTMapping(gk, admission.Versions...)
	if meta.IsNoMatchError(err) {
		return errors.New("the cluster serves no MutatingAdmissionPolicy API (Kubernetes 1.36, or 1.34 and later with the MutatingAdmissionPolicy feature gate and admissionregistration.k8s.io/v1beta1 enabled)")
	}
	if err != nil {
		return fmt.Errorf("cannot find the MutatingAdmissionPolicy API: %w", err)
	}
	policy, binding := admission.WorkerIndexPolicy(mapping.GroupVersionKind.Version)
	for _, obj := range []client.Object{policy, binding} {
		if err := c.Client().Patch(ctx, obj, client.Apply, client.FieldOwner(lws.FieldOwner), client.ForceOwnership); err != nil { //nolint:staticcheck // The objects are rendered as unstructured for any served version; typed apply configurations exist for one.
			return fmt.Errorf("cannot apply %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
	}
	return nil
}
