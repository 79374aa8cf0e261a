package remoteleaderworkerset

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1alpha1 "k8s.io/api/scheduling/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// gangKinds are the gang objects of each gang scheduler.
var gangKinds = map[lws.GangScheduler]schema.GroupVersionKind{
	lws.GangWorkload: schedulingv1alpha1.SchemeGroupVersion.WithKind("Workload"),
	lws.GangVolcano:  schema.FromAPIVersionAndKind(render.VolcanoPodGroupAPIVersion, render.VolcanoPodGroupKind),
}

// gatherGangs reads a LeaderWorkerSet's gang objects, their metadata only,
// from the cluster itself: they are not cached, as a cluster may not serve
// their kind, and a watch of a kind that goes away would fail the
// connection's health. Only gang-scheduled LeaderWorkerSets pay this read.
func gatherGangs(ctx context.Context, live client.Reader, p v1alpha1.RemoteLeaderWorkerSetParameters, gang lws.GangScheduler) ([]metav1.PartialObjectMetadata, error) {
	gvk := gangKinds[gang]
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := live.List(ctx, list, client.InNamespace(p.Namespace), client.MatchingLabels{lws.LabelName: p.Name}); err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", gvk.Kind, err)
	}
	for i := range list.Items {
		list.Items[i].SetGroupVersionKind(gvk)
	}
	return list.Items, nil
}

// applyGangs deletes the gang objects of replaced leaders and creates those
// planned, then deletes the leaders admitted outside their gang.
func applyGangs(ctx context.Context, c client.Client, p *groups.Plan) error {
	if err := each(ctx, p.StaleGangs, func(ctx context.Context, o *metav1.PartialObjectMetadata) error {
		if err := deletePlanned(ctx, c, o, metav1.DeletePropagationBackground); err != nil {
			return fmt.Errorf("cannot delete %s %s of a replaced leader: %w", o.Kind, o.Name, err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := each(ctx, p.Gangs, func(ctx context.Context, o groups.GangObject) error {
		if err := create(ctx, c, o); err != nil {
			return fmt.Errorf("cannot create %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
		}
		return nil
	}); err != nil {
		return err
	}
	return each(ctx, p.Readmit, func(ctx context.Context, leader *corev1.Pod) error {
		if err := deletePlanned(ctx, c, leader, metav1.DeletePropagationBackground); err != nil {
			return fmt.Errorf("cannot delete leader pod %s to admit it again: %w", leader.Name, err)
		}
		return nil
	})
}
