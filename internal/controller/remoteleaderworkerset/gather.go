package remoteleaderworkerset

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// gather reads a LeaderWorkerSet's objects from a target cluster's cache.
func gather(ctx context.Context, c client.Reader, p v1alpha1.RemoteLeaderWorkerSetParameters) (*groups.State, error) {
	s := &groups.State{Params: p, Nodes: map[string]*corev1.Node{}}
	// The cache's objects are not copied: a reconcile of 64 groups of 8
	// spent most of its time copying pods. Nothing changes a gathered
	// object: planning is pure, and apply copies a pod before patching it.
	ours := []client.ListOption{client.InNamespace(p.Namespace), client.MatchingLabels{lws.LabelName: p.Name}, client.UnsafeDisableDeepCopy}

	var sts appsv1.StatefulSetList
	if err := c.List(ctx, &sts, ours...); err != nil {
		return nil, fmt.Errorf("cannot list StatefulSets: %w", err)
	}
	for i := range sts.Items {
		if sts.Items[i].Name == p.Name {
			s.Leader = &sts.Items[i]
			continue
		}
		s.Workers = append(s.Workers, sts.Items[i])
	}
	var revs appsv1.ControllerRevisionList
	if err := c.List(ctx, &revs, ours...); err != nil {
		return nil, fmt.Errorf("cannot list ControllerRevisions: %w", err)
	}
	for _, r := range revs.Items {
		// The StatefulSet controller keeps revisions of its own, labelled
		// like their pods and controlled by their StatefulSet; ours have no
		// owner, so that they outlive a deleted leader StatefulSet.
		if metav1.GetControllerOf(&r) == nil {
			s.Revisions = append(s.Revisions, r)
		}
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, ours...); err != nil {
		return nil, fmt.Errorf("cannot list pods: %w", err)
	}
	s.Pods = pods.Items
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs, ours...); err != nil {
		return nil, fmt.Errorf("cannot list Services: %w", err)
	}
	s.Services = svcs.Items
	var eps discoveryv1.EndpointSliceList
	if err := c.List(ctx, &eps, client.InNamespace(p.Namespace), client.MatchingLabels{lws.LabelName: p.Name, discoveryv1.LabelManagedBy: lws.EndpointSliceManager}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("cannot list EndpointSlices: %w", err)
	}
	s.EndpointSlices = eps.Items

	subGroups := subGroupExclusive(p, s.Pods)
	if p.Metadata.Annotations[lws.AnnotationExclusiveTopology] == "" && !subGroups {
		return s, nil
	}
	if subGroups {
		var others corev1.PodList
		if err := c.List(ctx, &others, client.InNamespace(p.Namespace), client.HasLabels{lws.LabelSubGroupKey}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("cannot list the pods of subgroups: %w", err)
		}
		for _, pod := range others.Items {
			if pod.Labels[lws.LabelName] != p.Name {
				s.OtherSubGroupPods = append(s.OtherSubGroupPods, pod)
			}
		}
	}
	for _, pods := range [][]corev1.Pod{s.Pods, s.OtherSubGroupPods} {
		for _, pod := range pods {
			n := pod.Spec.NodeName
			if n == "" || s.Nodes[n] != nil {
				continue
			}
			node := &corev1.Node{}
			if err := c.Get(ctx, client.ObjectKey{Name: n}, node); err != nil {
				if kerrors.IsNotFound(err) {
					continue
				}
				return nil, fmt.Errorf("cannot get node %s: %w", n, err)
			}
			s.Nodes[n] = node
		}
	}
	return s, nil
}

// subGroupExclusive tells whether subgroups are placed: pods carry the
// annotation of the StatefulSet that created them, which may predate a
// change of the LeaderWorkerSet's.
func subGroupExclusive(p v1alpha1.RemoteLeaderWorkerSetParameters, pods []corev1.Pod) bool {
	if p.Metadata.Annotations[lws.AnnotationSubGroupExclusiveTopology] != "" {
		return true
	}
	return slices.ContainsFunc(pods, func(pod corev1.Pod) bool { return pod.Annotations[lws.AnnotationSubGroupExclusiveTopology] != "" })
}
