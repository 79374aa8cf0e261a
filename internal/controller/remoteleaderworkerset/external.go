// Package remoteleaderworkerset is the provider's controller for
// RemoteLeaderWorkerSets: a thin gather → plan → apply shell, on
// crossplane-runtime's managed reconciler, over package groups.
package remoteleaderworkerset

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/metrics"
)

// Clusters reaches the target cluster of a managed resource through its
// provider config, with a client whose reads come from a cache that watches
// the cluster.
type Clusters interface {
	// Client returns the cache-backed client and a reader straight from
	// the cluster's API server.
	Client(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (client.Client, client.Reader, error)
	// Settings are what the managed resource's provider config says of
	// its cluster besides how to reach it.
	Settings(mr *v1alpha1.RemoteLeaderWorkerSet) clusters.Settings
	// Gang is the gang scheduler of the managed resource's groups in its
	// cluster, "" for none (clusters.Manager.Gang).
	Gang(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (lws.GangScheduler, error)
}

type connector struct {
	usage    *resource.ProviderConfigUsageTracker
	clusters Clusters
	recorder event.Recorder
	metrics  *metrics.Recorder
	enqueuer *Enqueuer
	inFlight *inFlights
	pace     *statusPace
	// renderVersion is what objects are rendered at (groups.State).
	renderVersion int
}

// Connect tracks the provider config's use and reaches the cluster. A
// cluster that cannot be reached fails only its own managed resources.
func (c *connector) Connect(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (managed.TypedExternalClient[*v1alpha1.RemoteLeaderWorkerSet], error) {
	if err := c.usage.Track(ctx, mr); err != nil {
		return nil, fmt.Errorf("cannot track provider config usage: %w", err)
	}
	remote, live, err := c.clusters.Client(ctx, mr)
	if err != nil {
		// Nothing is known of the groups there now: not Ready, and
		// nothing is planned, so nothing is deleted.
		mr.SetConditions(xpv2.Unavailable().WithMessage(err.Error()))
		return nil, err
	}
	return &external{clusters: c.clusters, remote: remote, live: live, recorder: c.recorder, metrics: c.metrics, cluster: clusterOf(mr), namespaces: c.clusters.Settings(mr).Namespaces,
		enqueuer: c.enqueuer, inFlight: c.inFlight.of(mr.UID), forget: func() { c.inFlight.forget(mr.UID) }, pace: c.pace, renderVersion: c.renderVersion}, nil
}

// external is one reconcile's view of a target cluster. Observe plans;
// Create and Update apply that plan.
type external struct {
	clusters Clusters
	remote   client.Client
	// live reads the cluster itself, for what a lagging cache must not
	// decide: that a deleted LeaderWorkerSet left nothing behind.
	live     client.Reader
	recorder event.Recorder
	metrics  *metrics.Recorder
	cluster  string
	// namespaces is the provider config's namespace policy.
	namespaces v1alpha1.NamespacePolicy
	enqueuer   *Enqueuer
	inFlight   *inFlight
	// forget drops inFlight once the managed resource is deleted.
	forget        func()
	pace          *statusPace
	renderVersion int
	plan          *groups.Plan
	// creating: the LeaderWorkerSet has no leader StatefulSet in the
	// cluster yet, so its namespace may be missing.
	creating bool
}

func (e *external) Observe(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (managed.ExternalObservation, error) {
	s, err := gather(ctx, e.remote, mr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	s.RenderVersion = e.renderVersion
	s.Releasing = e.inFlight.releasingIn(s.Pods, time.Now())
	if mr.GetDeletionTimestamp() != nil {
		exists := s.Leader != nil || len(s.Revisions) > 0
		if !exists {
			// The cache may not have seen a creation just made.
			exists, err = anyLeft(ctx, e.live, mr.Spec.ForProvider)
		}
		if err == nil && !exists {
			err = releaseNamespace(ctx, e.remote, e.live, mr.Spec.ForProvider.Namespace, e.cluster)
		}
		return managed.ExternalObservation{ResourceExists: exists, ResourceUpToDate: true}, err
	}
	// A cluster that cannot gang-schedule gets no groups, rather than
	// groups scheduled pod by pod: the error names the cluster and what it
	// lacks, in the managed resource's Synced condition and an event.
	if s.Gang, err = e.clusters.Gang(ctx, mr); err != nil {
		return managed.ExternalObservation{}, err
	}
	if s.Gang != "" {
		if s.Gangs, err = gatherGangs(ctx, e.live, mr.Spec.ForProvider, s.Gang); err != nil {
			return managed.ExternalObservation{}, err
		}
	}
	now := metav1.Now()
	s.History = mr.Status.AtProvider.GroupRestarts
	p, err := groups.Compute(s, mr.Status.AtProvider.Conditions, mr.Generation, now)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	e.plan, e.creating = p, s.Leader == nil
	e.metrics.Observe(e.cluster, p.Measures, now.Time)
	before := observedOf(mr)
	mr.Status.AtProvider = p.Observation
	switch {
	case p.Ready(mr.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue):
		mr.SetConditions(xpv2.Available())
	case s.Leader == nil:
		mr.SetConditions(xpv2.Creating())
	default:
		mr.SetConditions(xpv2.Unavailable().WithMessage(fmt.Sprintf("%d of %d groups ready, %d updated", p.Observation.ReadyReplicas, mr.Spec.ForProvider.Replicas, p.Observation.UpdatedReplicas)))
	}
	if wait, ok := e.pace.hold(mr, before, now.Time); ok {
		mr.Status.AtProvider, p.RequeueAfter = before.at, minPositive(p.RequeueAfter, wait)
		mr.SetConditions(before.ready)
	}
	if p.StatusEvent != nil {
		e.record(mr, *p.StatusEvent)
	}
	for _, ev := range p.RestartEvents {
		e.record(mr, ev)
	}
	if p.RequeueAfter > 0 {
		// A recreation held back by its backoff is due then; nothing in
		// the cluster will change to trigger a reconcile.
		e.enqueuer.After(mr, p.RequeueAfter)
	}
	return managed.ExternalObservation{ResourceExists: s.Leader != nil, ResourceUpToDate: !p.Changes()}, nil
}

func (e *external) Create(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, e.apply(ctx, mr)
}

func (e *external) Update(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, e.apply(ctx, mr)
}

func (e *external) apply(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) error {
	if e.plan == nil {
		return errors.New("no plan: Observe did not run")
	}
	if e.creating {
		if err := ensureNamespace(ctx, e.remote, e.live, mr.Spec.ForProvider.Namespace, e.cluster, e.namespaces); err != nil {
			return err
		}
	}
	if err := apply(ctx, e.remote, e.plan, e.inFlight); err != nil {
		return err
	}
	if d := e.inFlight.due(time.Now()); d > 0 {
		// A write skipped as in flight that the cache never shows is made
		// again then; no change may come to trigger it.
		e.enqueuer.After(mr, d)
	}
	e.metrics.Recreated(e.cluster, len(e.plan.Restarts))
	for _, ev := range e.plan.Events {
		e.record(mr, ev)
	}
	for _, r := range e.plan.Restarts {
		if r.Event != nil {
			e.record(mr, *r.Event)
		}
	}
	return nil
}

func (e *external) record(mr *v1alpha1.RemoteLeaderWorkerSet, ev groups.Event) {
	record(e.recorder, mr, ev)
}

// record records a plan's event on the managed resource, a warning or not.
func record(r event.Recorder, mr *v1alpha1.RemoteLeaderWorkerSet, ev groups.Event) {
	if ev.Warning {
		r.Event(mr, event.Warning(event.Reason(ev.Reason), errors.New(ev.Message)))
		return
	}
	r.Event(mr, event.Normal(event.Reason(ev.Reason), ev.Message))
}

// clusterOf is the metrics label of a managed resource's target cluster.
func clusterOf(mr *v1alpha1.RemoteLeaderWorkerSet) string {
	config := clusters.KeyFor(mr)
	return metrics.Cluster(config.Namespace, config.Name)
}

// Delete removes what the provider created in the target cluster: the
// leader StatefulSet in the foreground, so that it exists until its leaders,
// and through them every group, are gone; the shared Services; and the
// revisions. A management policy without Delete never gets here, and
// orphans them.
func (e *external) Delete(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (managed.ExternalDelete, error) {
	e.forget()
	p := mr.Spec.ForProvider
	ours := []client.DeleteAllOfOption{client.InNamespace(p.Namespace), client.MatchingLabels{lws.LabelName: p.Name}}
	leader := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
	if err := e.remote.Delete(ctx, leader, client.PropagationPolicy(metav1.DeletePropagationForeground)); client.IgnoreNotFound(err) != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot delete leader StatefulSet: %w", err)
	}
	// Services can not be deleted as a collection. Group Services go with
	// their leaders; the shared ones have no owner.
	var svcs corev1.ServiceList
	if err := e.remote.List(ctx, &svcs, client.InNamespace(p.Namespace), client.MatchingLabels{lws.LabelName: p.Name}); err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot list Services: %w", err)
	}
	for i := range svcs.Items {
		if len(svcs.Items[i].OwnerReferences) > 0 {
			continue
		}
		if err := e.remote.Delete(ctx, &svcs.Items[i]); client.IgnoreNotFound(err) != nil {
			return managed.ExternalDelete{}, fmt.Errorf("cannot delete Service %s: %w", svcs.Items[i].Name, err)
		}
	}
	if err := e.remote.DeleteAllOf(ctx, &appsv1.ControllerRevision{}, ours...); err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot delete revisions: %w", err)
	}
	return managed.ExternalDelete{}, nil
}

// anyLeft reads the cluster for the leader StatefulSet or a revision of a
// LeaderWorkerSet, which its deletion waits for.
func anyLeft(ctx context.Context, live client.Reader, p v1alpha1.RemoteLeaderWorkerSetParameters) (bool, error) {
	err := live.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name}, &appsv1.StatefulSet{})
	if err == nil || !kerrors.IsNotFound(err) {
		return err == nil, err
	}
	var revs appsv1.ControllerRevisionList
	if err := live.List(ctx, &revs, client.InNamespace(p.Namespace), client.MatchingLabels{lws.LabelName: p.Name}, client.Limit(1)); err != nil {
		return false, fmt.Errorf("cannot list revisions: %w", err)
	}
	return len(revs.Items) > 0, nil
}

func (e *external) Disconnect(context.Context) error { return nil }

// minPositive is the shorter of two delays, zero meaning none.
func minPositive(a, b time.Duration) time.Duration {
	if a == 0 || (b > 0 && b < a) {
		return b
	}
	return a
}
