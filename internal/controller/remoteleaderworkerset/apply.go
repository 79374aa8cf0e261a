package remoteleaderworkerset

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// apply makes the changes of a plan. Objects are created only when missing,
// the leader StatefulSet is server-side applied and leaders' EndpointSlices
// are updated at the version planned from, so a plan computed from a
// slightly stale cache is safe to apply.
//
// Pod releases and worker StatefulSets that an earlier reconcile wrote and
// the cache does not show yet are skipped (inFlight).
func apply(ctx context.Context, c client.Client, p *groups.Plan, f *inFlight) error {
	now := time.Now()
	f.expire(now)
	f.retain(p)
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
		if err := c.Patch(ctx, u, client.Apply, client.FieldOwner(lws.FieldOwner), client.ForceOwnership); err != nil { //nolint:staticcheck // Typed apply configurations would pin every StatefulSet field; the rendered object is already the intent.
			return fmt.Errorf("cannot apply leader StatefulSet %s: %w", p.Leader.Name, err)
		}
	}
	if err := each(ctx, p.Services, func(ctx context.Context, svc *corev1.Service) error {
		if f.creating("Service", svc, now) {
			return nil
		}
		if err := create(ctx, c, svc); err != nil {
			return fmt.Errorf("cannot create Service %s: %w", svc.Name, err)
		}
		f.create("Service", svc, now)
		return nil
	}); err != nil {
		return err
	}
	if err := deleteEach(ctx, c, p.StaleServices, "role Service"); err != nil {
		return err
	}
	if err := each(ctx, p.EndpointSlices, func(ctx context.Context, es *discoveryv1.EndpointSlice) error {
		if err := create(ctx, c, es); err != nil {
			return fmt.Errorf("cannot create EndpointSlice %s: %w", es.Name, err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := each(ctx, p.EndpointSliceUpdates, func(ctx context.Context, es *discoveryv1.EndpointSlice) error {
		// A conflict or a slice gone means the cache was behind; the
		// change that made it so is watched, and plans again.
		if err := c.Update(ctx, es); client.IgnoreNotFound(err) != nil && !kerrors.IsConflict(err) {
			return fmt.Errorf("cannot update EndpointSlice %s: %w", es.Name, err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := each(ctx, p.Workers, func(ctx context.Context, w *appsv1.StatefulSet) error {
		if f.creating("StatefulSet", w, now) {
			return nil
		}
		if err := create(ctx, c, w); err != nil {
			return fmt.Errorf("cannot create worker StatefulSet %s: %w", w.Name, err)
		}
		f.create("StatefulSet", w, now)
		return nil
	}); err != nil {
		return err
	}
	if err := applyGangs(ctx, c, p); err != nil {
		return err
	}
	if err := each(ctx, p.Identities, func(ctx context.Context, id groups.Identity) error {
		if f.releasing(id.Pod, now) {
			return nil
		}
		applied, err := identify(ctx, c, id)
		if err != nil {
			return fmt.Errorf("cannot release pod %s: %w", id.Pod.Name, err)
		}
		if applied {
			f.release(id.Pod, now)
		}
		return nil
	}); err != nil {
		return err
	}
	// A recreation made already, by the fast path or a plan from a cache
	// that does not show it yet, is neither made nor told of again: the
	// plan keeps only those it makes.
	p.Restarts = slices.DeleteFunc(p.Restarts, func(r groups.Recreation) bool { return !f.recreate(r.Leader, now) })
	if err := each(ctx, p.Restarts, func(ctx context.Context, r groups.Recreation) error {
		return recreate(ctx, c, f, r.Leader)
	}); err != nil {
		return err
	}
	if err := deleteEach(ctx, c, p.StaleWorkers, "worker StatefulSet of a replaced leader"); err != nil {
		return err
	}
	if err := deleteEach(ctx, c, p.StaleWorkerPods, "worker pod of a replaced leader"); err != nil {
		return err
	}
	for _, r := range p.Prune {
		if err := c.Delete(ctx, r); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("cannot delete revision %s: %w", r.Name, err)
		}
	}
	return nil
}

// parallelism bounds the requests one plan has in flight. A plan that
// starts 64 groups makes about 600 writes; one at a time they would take
// longer than the pods take to start.
const parallelism = 32

// each calls fn for every item, up to parallelism at once, and returns the
// first error.
func each[T any](ctx context.Context, items []T, fn func(context.Context, T) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}

func create(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil && !kerrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// recreate deletes a leader pod claimed for its group's recreation, in the
// foreground, and gives up the claim if it cannot.
func recreate(ctx context.Context, c client.Client, f *inFlight, leader *corev1.Pod) error {
	if err := deletePlanned(ctx, c, leader, metav1.DeletePropagationForeground); err != nil {
		f.unclaim(leader)
		return fmt.Errorf("cannot delete leader pod %s to recreate its group: %w", leader.Name, err)
	}
	return nil
}

// deleteEach deletes the objects a plan saw, in the background.
func deleteEach[T client.Object](ctx context.Context, c client.Client, objs []T, what string) error {
	return each(ctx, objs, func(ctx context.Context, obj T) error {
		if err := deletePlanned(ctx, c, obj, metav1.DeletePropagationBackground); err != nil {
			return fmt.Errorf("cannot delete %s %s: %w", what, obj.GetName(), err)
		}
		return nil
	})
}

// deletePlanned deletes the very object a plan saw: one gone already, or
// replaced by another of its name (another UID), is left alone.
func deletePlanned(ctx context.Context, c client.Client, obj client.Object, propagation metav1.DeletionPropagation) error {
	uid := obj.GetUID()
	err := c.Delete(ctx, obj, client.PropagationPolicy(propagation), client.Preconditions{UID: &uid})
	if client.IgnoreNotFound(err) != nil && !kerrors.IsConflict(err) {
		return err
	}
	return nil
}

// identify gives a pod its labels and annotations and, if it is gated, its
// subgroup placement, and lifts the gate in the same patch: the pod is
// scheduled with everything upstream's webhook would have given it.
//
// It reports whether the patch was applied: a pod that changed since it was
// planned from is not, and its change, watched, plans it again.
func identify(ctx context.Context, c client.Client, id groups.Identity) (bool, error) {
	// The patched pod is written into obj; the plan's pod is the cache's.
	obj := id.Pod.DeepCopy()
	var patch client.Patch
	if slices.ContainsFunc(obj.Spec.SchedulingGates, lws.IsSchedulingGate) {
		// The gates are a list, which a merge patch replaces whole: patch
		// from the version planned from, or not at all.
		obj.Spec.SchedulingGates = slices.DeleteFunc(obj.Spec.SchedulingGates, lws.IsSchedulingGate)
		obj.Labels, obj.Annotations = merged(obj.Labels, id.Labels), merged(obj.Annotations, id.Annotations)
		id.Place(&obj.Spec)
		patch = client.MergeFromWithOptions(id.Pod, client.MergeFromWithOptimisticLock{})
	} else {
		// A worker that did not wait: its scheduler and node change it
		// meanwhile, so only its UID, the pod it was planned for, must
		// match; labels and annotations merge.
		data, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": id.Pod.UID, "labels": id.Labels, "annotations": id.Annotations}})
		if err != nil {
			return false, err
		}
		patch = client.RawPatch(types.MergePatchType, data)
	}
	err := c.Patch(ctx, obj, patch)
	if kerrors.IsConflict(err) || kerrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func merged(into, from map[string]string) map[string]string {
	out := maps.Clone(into)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, from)
	return out
}
