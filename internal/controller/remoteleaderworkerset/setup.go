package remoteleaderworkerset

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/metrics"
	"github.com/lws-crossplane/lws-crossplane/internal/restart"
)

// indexTarget indexes managed resources by the LeaderWorkerSet they run in
// a cluster, to find them from a change in that cluster.
const indexTarget = "lws.crossplane.io/target"

// Target is a LeaderWorkerSet in a target cluster: the provider config that
// reaches the cluster and the LeaderWorkerSet's namespace and name there.
type Target struct {
	Config          clusters.Key
	Namespace, Name string
}

func (t Target) String() string {
	return t.Config.Kind + "/" + t.Config.Namespace + "/" + t.Config.Name + "/" + t.Namespace + "/" + t.Name
}

// TargetOf is where a managed resource's LeaderWorkerSet runs.
func TargetOf(mr *v1alpha1.RemoteLeaderWorkerSet) Target {
	return Target{Config: clusters.KeyFor(mr), Namespace: mr.Spec.ForProvider.Namespace, Name: mr.Spec.ForProvider.Name}
}

// Enqueuer turns changes in target clusters into reconciles of the managed
// resources they belong to, and schedules the reconciles that no change
// will trigger.
type Enqueuer struct {
	reader client.Reader
	events chan ctrlevent.GenericEvent
	batch  *batcher
	// restarts is the fast path of group restarts, once Setup made it.
	restarts *restarter

	// queue is the controller's work queue once it has started. A delayed
	// reconcile is the queue's own AddAfter: it is merged with any other
	// request for the resource, the earliest winning, and it ends with
	// the controller, leaving no timer behind.
	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// NewEnqueuer returns an Enqueuer that reads managed resources from reader,
// which must be the manager's cache once Setup has indexed it. Changes
// that follow a reconcile within batch share the next (batcher).
func NewEnqueuer(reader client.Reader, batch time.Duration) *Enqueuer {
	return &Enqueuer{reader: reader, events: make(chan ctrlevent.GenericEvent, 1024), batch: newBatcher(batch)}
}

// Changed reports a change of a remote object in the cluster of a provider
// config. Objects without the LeaderWorkerSet name label are not ours.
//
// Two changes are urgent and reconcile at once, whatever batch of changes
// is under way: a restarted container, whose group is recreated by that
// reconcile (a group that has just become ready goes on changing for tens
// of milliseconds), and a pod held by our scheduling gate, which waits
// for the provider alone (a new leader also waits for its workers'
// StatefulSet). The work queue still merges a burst of them into one
// reconcile after the one running: 64 groups of 8 started with fewer
// reconciles (1.13 a group against 1.33) and 10 to 15 % sooner
// (BENCHMARKS.md, "Upstream as a peer").
func (e *Enqueuer) Changed(ctx context.Context, config clusters.Key, obj client.Object) {
	name := obj.GetLabels()[lws.LabelName]
	if name == "" {
		return
	}
	t := Target{Config: config, Namespace: obj.GetNamespace(), Name: name}
	var l v1alpha1.RemoteLeaderWorkerSetList
	if err := e.reader.List(ctx, &l, client.MatchingFields{indexTarget: t.String()}); err != nil {
		return // The poll interval is the safety net.
	}
	pod, isPod := obj.(*corev1.Pod)
	restarted := isPod && restart.ContainerRestarted(pod)
	urgent := restarted || isPod && slices.ContainsFunc(pod.Spec.SchedulingGates, lws.IsSchedulingGate)
	now := time.Now()
	e.mu.Lock()
	restarts := e.restarts
	e.mu.Unlock()
	for i := range l.Items {
		mr := &l.Items[i]
		if restarts != nil && restarted {
			go restarts.podChanged(ctx, mr, pod)
		}
		if d := e.batch.delay(client.ObjectKeyFromObject(mr), now); urgent || d == 0 || !e.After(mr, d) {
			e.events <- ctrlevent.GenericEvent{Object: mr}
		}
	}
}

// After reconciles a managed resource again in d, and reports whether it
// will. Before the controller has started there is no queue.
func (e *Enqueuer) After(mr client.Object, d time.Duration) bool {
	e.mu.Lock()
	q := e.queue
	e.mu.Unlock()
	if q == nil {
		return false
	}
	q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(mr)}, d)
	return true
}

// start is a source that only takes the controller's queue, for After.
func (e *Enqueuer) start(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.queue = q
	return nil
}

// Setup adds the RemoteLeaderWorkerSet controller to a manager.
//
// statusInterval spaces the status writes of each managed resource that
// change only its counts (statusPace); renderVersion is what objects are
// rendered at, render.Version when zero.
func Setup(mgr ctrl.Manager, o controller.Options, clusters Clusters, enqueuer *Enqueuer, m *metrics.Recorder, statusInterval time.Duration, renderVersion int) error {
	name := managed.ControllerName(v1alpha1.RemoteLeaderWorkerSetGroupVersionKind.GroupKind().String())
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.RemoteLeaderWorkerSet{}, indexTarget, func(o client.Object) []string {
		return []string{TargetOf(o.(*v1alpha1.RemoteLeaderWorkerSet)).String()}
	}); err != nil {
		return fmt.Errorf("cannot index managed resources by target: %w", err)
	}
	recorder := event.NewAPIRecorder(mgr.GetEventRecorderFor(name)) //nolint:staticcheck // crossplane-runtime's recorder takes the record API.
	inFlight := &inFlights{}
	enqueuer.mu.Lock()
	enqueuer.restarts = &restarter{clusters: clusters, recorder: recorder, metrics: m, inFlight: inFlight}
	enqueuer.mu.Unlock()
	r := managed.NewReconciler(withUnchangedStatusSkipped(mgr), resource.ManagedKind(v1alpha1.RemoteLeaderWorkerSetGroupVersionKind),
		managed.WithTypedExternalConnector[*v1alpha1.RemoteLeaderWorkerSet](&connector{
			usage:    resource.NewProviderConfigUsageTracker(mgr.GetClient(), &v1alpha1.ProviderConfigUsage{}),
			clusters: clusters,
			recorder: recorder,
			metrics:  m,
			enqueuer: enqueuer,
			inFlight: inFlight,
			pace:     newStatusPace(statusInterval),

			renderVersion: renderVersion,
		}),
		managed.WithLogger(o.Logger.WithValues("controller", name)),
		managed.WithRecorder(recorder),
		managed.WithPollInterval(o.PollInterval),
		// crossplane-runtime trusts that an external resource is gone only
		// 30 s after its creation, for eventually consistent cloud APIs,
		// and requeues with a backoff that reaches a minute meanwhile: a
		// LeaderWorkerSet deleted soon after its creation took over a
		// minute to go. Here a creation Observe has not seen yet is
		// applied again, which changes nothing, and a deletion is
		// confirmed by the cluster itself (anyLeft).
		managed.WithCreationGracePeriod(0),
		managed.WithManagementPolicies(),
	)
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(o.ForControllerRuntime()).
		For(&v1alpha1.RemoteLeaderWorkerSet{}, builder.WithPredicates(resource.DesiredStateChanged())).
		WatchesRawSource(source.Channel(enqueuer.events, &handler.EnqueueRequestForObject{})).
		WatchesRawSource(source.Func(enqueuer.start)).
		Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
}
