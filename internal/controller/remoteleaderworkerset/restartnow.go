package remoteleaderworkerset

import (
	"context"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/metrics"
)

// restarter is the fast path of a group restart: it recreates a group from
// the change of the pod that restarted, reading that pod's group alone
// from the cache, as upstream's pod controller does, instead of waiting
// for a reconcile of the whole managed resource behind the work queue: the
// decision takes under a millisecond, and a busy queue no longer shows in
// the reaction's p99 (BENCHMARKS.md, "Upstream as a peer"). The reconcile
// the change triggers still runs: it decides what the fast path leaves
// (groups.RestartNow), and skips a recreation made here
// (inFlight.recreate), so that each is made, and told of, once.
type restarter struct {
	clusters Clusters
	recorder event.Recorder
	metrics  *metrics.Recorder
	inFlight *inFlights
}

// podChanged recreates pod's group if its change asks for that now.
// Errors are left to the reconcile, which plans the same recreation.
func (r *restarter) podChanged(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet, pod *corev1.Pod) {
	if mr.GetDeletionTimestamp() != nil || meta.IsPaused(mr) || !managed.NewManagementPoliciesResolver(true, mr.GetManagementPolicies()).ShouldUpdate() {
		return
	}
	c, _, err := r.clusters.Client(ctx, mr)
	if err != nil {
		return
	}
	g, err := groupOf(ctx, c, pod)
	if err != nil {
		return
	}
	rc, err := groups.RestartNow(&mr.Spec.ForProvider, pod, g)
	if err != nil || rc == nil {
		return
	}
	f := r.inFlight.of(mr.UID)
	if !f.recreate(rc.Leader, time.Now()) {
		return
	}
	if recreate(ctx, c, f, rc.Leader) != nil {
		return
	}
	r.metrics.Recreated(clusterOf(mr), 1)
	record(r.recorder, mr, *rc.Event)
}

// groupOf reads a pod's group from the cache: its leader, the leader's
// worker StatefulSet and the pods of its group index.
func groupOf(ctx context.Context, c client.Reader, pod *corev1.Pod) (groups.Group, error) {
	name := groups.LeaderOf(pod)
	key := client.ObjectKey{Namespace: pod.Namespace, Name: name}
	leader, workers := &corev1.Pod{}, &appsv1.StatefulSet{}
	if err := c.Get(ctx, key, leader); err != nil {
		return groups.Group{}, err
	}
	g := groups.Group{Leader: leader}
	switch err := c.Get(ctx, key, workers); {
	case err == nil:
		g.Workers = workers
	case !kerrors.IsNotFound(err):
		return groups.Group{}, err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(pod.Namespace), client.UnsafeDisableDeepCopy, client.MatchingLabels{
		lws.LabelName: pod.Labels[lws.LabelName], lws.LabelGroupIndex: pod.Labels[lws.LabelGroupIndex]}); err != nil {
		return groups.Group{}, err
	}
	for i := range pods.Items {
		g.Pods = append(g.Pods, &pods.Items[i])
	}
	return g, nil
}
