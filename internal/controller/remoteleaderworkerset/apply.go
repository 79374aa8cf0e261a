package remoteleaderworkerset

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// FieldOwner is the provider's field manager in target clusters.
const FieldOwner = "lws-crossplane"

// apply makes the changes of a plan. Objects are created only when missing
// and the leader StatefulSet is server-side applied, so a plan computed from
// a slightly stale cache is safe to apply.
func apply(ctx context.Context, c client.Client, p *groups.Plan) error {
	if p.Revision != nil {
		if err := create(ctx, c, p.Revision); err != nil {
			return fmt.Errorf("cannot create revision %s: %w", p.Revision.Name, err)
		}
	}
	if p.Leader != nil {
		m, err := kube.ToMap(p.Leader)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{Object: m}
		if err := c.Patch(ctx, u, client.Apply, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil { //nolint:staticcheck // Typed apply configurations would pin every StatefulSet field; the rendered object is already the intent.
			return fmt.Errorf("cannot apply leader StatefulSet %s: %w", p.Leader.Name, err)
		}
	}
	for _, svc := range p.Services {
		if err := create(ctx, c, svc); err != nil {
			return fmt.Errorf("cannot create Service %s: %w", svc.Name, err)
		}
	}
	for _, w := range p.Workers {
		if err := create(ctx, c, w); err != nil {
			return fmt.Errorf("cannot create worker StatefulSet %s: %w", w.Name, err)
		}
	}
	for _, id := range p.Identities {
		if err := identify(ctx, c, id); err != nil {
			return fmt.Errorf("cannot release pod %s: %w", id.Pod.Name, err)
		}
	}
	for _, leader := range p.Restarts {
		err := c.Delete(ctx, leader, client.PropagationPolicy(metav1.DeletePropagationForeground), client.Preconditions{UID: &leader.UID})
		if client.IgnoreNotFound(err) != nil && !kerrors.IsConflict(err) {
			return fmt.Errorf("cannot delete leader pod %s to recreate its group: %w", leader.Name, err)
		}
	}
	for _, r := range p.Prune {
		if err := c.Delete(ctx, r); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("cannot delete revision %s: %w", r.Name, err)
		}
	}
	return nil
}

func create(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil && !kerrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// identify gives a gated pod its labels and annotations and lifts the gate,
// in one patch: the pod is scheduled with everything upstream's webhook
// would have given it.
func identify(ctx context.Context, c client.Client, id groups.Identity) error {
	pod := id.Pod.DeepCopy()
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	maps.Copy(pod.Labels, id.Labels)
	maps.Copy(pod.Annotations, id.Annotations)
	pod.Spec.SchedulingGates = slices.DeleteFunc(pod.Spec.SchedulingGates, func(g corev1.PodSchedulingGate) bool { return g.Name == lws.SchedulingGate })
	return client.IgnoreNotFound(c.Patch(ctx, pod, client.MergeFromWithOptions(id.Pod, client.MergeFromWithOptimisticLock{})))
}
