package clusters

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// healthWindow is how long a watch error makes a connection unhealthy.
// client-go's reflectors retry at most every 30s, so a persistently failing
// watch reports again well within it.
const healthWindow = time.Minute

// syncPoll is how often a dial checks whether the informers have synced or
// a watch has been refused.
const syncPoll = 25 * time.Millisecond

// watchedKinds are cached with the LeaderWorkerSet label selector and
// reported through OnChange.
func watchedKinds() []client.Object {
	return []client.Object{&corev1.Pod{}, &appsv1.StatefulSet{}, &corev1.Service{}, &appsv1.ControllerRevision{}, &discoveryv1.EndpointSlice{}}
}

// cachedKinds are cached, but changes are not reported: a node's change
// matters to a group only through its pods, which change too.
func cachedKinds() []client.Object {
	return []client.Object{&corev1.Node{}}
}

// A Connection is a running cache and client for one target cluster,
// reached through one provider config with one set of credentials.
type Connection struct {
	key         Key
	fingerprint string
	// config is what the credentials parsed to, reused while they stay
	// the same.
	config *rest.Config
	// settings are the provider config's, as last resolved.
	settings atomic.Pointer[Settings]
	onChange func(Key, client.Object)

	ctx    context.Context
	cancel context.CancelFunc

	// ready is closed when the dial finished; cluster, err and failedAt are
	// written before and read only after.
	ready    chan struct{}
	cluster  cluster.Cluster
	err      error
	failedAt time.Time

	// done is closed when the informers have stopped.
	done    chan struct{}
	stopped atomic.Bool
	// watchErr is the last error of any informer's list or watch.
	watchErr atomic.Pointer[watchError]
	// workloadPolicyKept is when the leaders' workload admission policy was
	// last found or made intact (UnixNano), 0 never (Manager.Gang).
	workloadPolicyKept atomic.Int64
	// gangAPIs are the gang APIs last discovered (Manager.Gang).
	gangAPIs atomic.Pointer[gangAPIs]
	// probeErr is the result of the last health probe, nil if it passed.
	// Reflectors retry refused connections silently, so only a probe
	// notices a cluster that went away.
	probeErr atomic.Pointer[error]
}

type watchError struct {
	err error
	at  time.Time
}

func newConnection(parent context.Context, k Key, t *target, onChange func(Key, client.Object)) *Connection {
	ctx, cancel := context.WithCancel(parent)
	return &Connection{
		key: k, fingerprint: t.fingerprint, config: t.config, onChange: onChange,
		ctx: ctx, cancel: cancel,
		ready: make(chan struct{}), done: make(chan struct{}),
	}
}

// Settings are what the provider config says of this cluster besides how
// to reach it, as last resolved.
func (c *Connection) Settings() Settings {
	if s := c.settings.Load(); s != nil {
		return *s
	}
	return Settings{}
}

// Key is the provider config this connection was made for.
func (c *Connection) Key() Key { return c.key }

// Fingerprint is a short, non-reversible identifier of the credentials, fit
// for logs.
func (c *Connection) Fingerprint() string { return c.fingerprint[:12] }

// Client reads from the connection's cache (only labelled objects and
// Nodes, see the package documentation) and writes to the API server.
func (c *Connection) Client() client.Client { return c.cluster.GetClient() }

// APIReader reads straight from the API server, for anything the cache
// does not hold.
func (c *Connection) APIReader() client.Reader { return c.cluster.GetAPIReader() }

// Cache is the connection's informer cache, for callers that need more
// informers or indexes. Informers added to it are stopped with the
// connection.
func (c *Connection) Cache() cache.Cache { return c.cluster.GetCache() }

// Done is closed once the connection is stopped and its informers have
// ended.
func (c *Connection) Done() <-chan struct{} { return c.done }

// Health is nil while the connection's watches are working. It wraps
// ErrStopped once the connection was stopped, and ErrUnavailable when the
// last health probe (every Options.HealthInterval) failed or a list or
// watch failed in the last minute. The informers keep retrying, and reads
// meanwhile return the last known state.
func (c *Connection) Health() error {
	if c.stopped.Load() {
		return fmt.Errorf("%s: %w", c.key, ErrStopped)
	}
	if err := c.probeErr.Load(); err != nil {
		return fmt.Errorf("%s: %w", c.key, *err)
	}
	if we := c.watchErr.Load(); we != nil && time.Since(we.at) < healthWindow {
		return fmt.Errorf("%s: watch failed %s ago: %w: %w", c.key, time.Since(we.at).Round(time.Second), we.err, ErrUnavailable)
	}
	return nil
}

// stop cancels the informers; Done is closed once they have ended.
func (c *Connection) stop() {
	if c.stopped.CompareAndSwap(false, true) {
		c.cancel()
	}
}

// failed reports whether the dial has finished with an error.
func (c *Connection) failed() bool {
	select {
	case <-c.ready:
		return c.err != nil
	default:
		return false
	}
}

type dialOptions struct {
	scheme         *runtime.Scheme
	timeout        time.Duration
	healthInterval time.Duration
}

// dial connects to the cluster and waits, at most o.timeout, until every
// informer has synced. On error the caller must stop the connection; done
// is closed either way once nothing runs any more.
func (c *Connection) dial(cfg *rest.Config, o dialOptions) (err error) {
	started := false
	defer func() {
		if !started {
			close(c.done)
		}
	}()
	ctx, cancel := context.WithTimeout(c.ctx, o.timeout)
	defer cancel()
	defer func() {
		if err != nil && c.ctx.Err() != nil {
			err = ErrStopped
		}
	}()

	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		// Only TLS material in the kubeconfig can fail here; crypto/tls
		// errors do not quote it.
		return fmt.Errorf("cannot build an HTTP client: %w: %w", err, ErrInvalidConfig)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return fmt.Errorf("cannot create discovery client: %w: %w", err, ErrInvalidConfig)
	}
	// One cheap request, bounded by ctx, tells an unreachable server or
	// rejected credentials at once, instead of after the sync timeout.
	if err := probe(ctx, cfg.Host, dc); err != nil {
		httpClient.CloseIdleConnections()
		return err
	}
	cl, err := cluster.New(cfg, func(co *cluster.Options) {
		co.Scheme = o.scheme
		co.HTTPClient = httpClient
		co.Cache = cacheOptions(c.recordWatchError)
	})
	if err != nil {
		httpClient.CloseIdleConnections()
		return fmt.Errorf("cannot create cache and client: %w: %w", err, ErrUnavailable)
	}
	c.cluster = cl
	started = true
	go func() {
		defer close(c.done)
		defer httpClient.CloseIdleConnections()
		_ = cl.Start(c.ctx) // Returns when c.ctx is cancelled; errors surface through the sync wait.
	}()

	var synced []func() bool
	for _, obj := range append(watchedKinds(), cachedKinds()...) {
		inf, err := cl.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil {
			return fmt.Errorf("cannot start informer for %T: %w: %w", obj, err, ErrUnavailable)
		}
		synced = append(synced, inf.HasSynced)
	}
	for _, obj := range watchedKinds() {
		inf, _ := cl.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    c.changed,
			UpdateFunc: func(_, obj any) { c.changed(obj) },
			DeleteFunc: c.changed,
		}); err != nil {
			return fmt.Errorf("cannot watch %T: %w: %w", obj, err, ErrUnavailable)
		}
	}
	if err := c.waitForSync(ctx, o.timeout, synced); err != nil {
		return err
	}
	go c.probeEvery(o.healthInterval, cfg.Host, dc)
	return nil
}

// probeEvery probes the API server until the connection stops.
func (c *Connection) probeEvery(interval time.Duration, host string, dc *discovery.DiscoveryClient) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, interval)
		err := probe(ctx, host, dc)
		cancel()
		if err != nil {
			c.probeErr.Store(&err)
		} else {
			c.probeErr.Store(nil)
		}
	}
}

// waitForSync waits until every informer has synced. A refused list (401
// or 403) fails at once: more waiting would not fix RBAC in time.
func (c *Connection) waitForSync(ctx context.Context, timeout time.Duration, synced []func() bool) error {
	began := time.Now()
	t := time.NewTicker(syncPoll)
	defer t.Stop()
	for {
		all := true
		for _, s := range synced {
			all = all && s()
		}
		if all {
			return nil
		}
		if we := c.watchErr.Load(); we != nil && we.at.After(began) && (kerrors.IsForbidden(we.err) || kerrors.IsUnauthorized(we.err)) {
			return fmt.Errorf("list refused: %w: %w", we.err, ErrUnavailable)
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("caches did not sync within %s", timeout)
			if we := c.watchErr.Load(); we != nil {
				msg += fmt.Sprintf(" (last error: %v)", we.err)
			}
			return fmt.Errorf("%s: %w", msg, ErrUnavailable)
		case <-t.C:
		}
	}
}

// probe asks for the server's version, which every authenticated user may
// read: it tells reachability and accepted credentials.
func probe(ctx context.Context, host string, dc *discovery.DiscoveryClient) error {
	if _, err := dc.RESTClient().Get().AbsPath("/version").Do(ctx).Raw(); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("API server %s did not answer in time: %w", host, ErrUnavailable)
		}
		if kerrors.IsUnauthorized(err) {
			return fmt.Errorf("API server %s rejected the credentials: %w: %w", host, err, ErrUnavailable)
		}
		return fmt.Errorf("API server %s: %w: %w", host, err, ErrUnavailable)
	}
	return nil
}

// changed reports a watched object's add, update or delete.
func (c *Connection) changed(obj any) {
	if c.onChange == nil || c.stopped.Load() {
		return
	}
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if o, ok := obj.(client.Object); ok {
		c.onChange(c.key, o)
	}
}

func (c *Connection) recordWatchError(ctx context.Context, r *toolscache.Reflector, err error) {
	c.watchErr.Store(&watchError{err: err, at: time.Now()})
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
}

// cacheOptions restrict the cache to what the provider manages.
func cacheOptions(onWatchError toolscache.WatchErrorHandlerWithContext) cache.Options {
	ours, err := labels.NewRequirement(lws.LabelName, selection.Exists, nil)
	if err != nil {
		panic(err) // A constant, valid label key.
	}
	// The EndpointSlice controller copies a Service's labels to its
	// EndpointSlices, so ours are told apart by their manager.
	managedByUs, err := labels.NewRequirement(discoveryv1.LabelManagedBy, selection.Equals, []string{lws.EndpointSliceManager})
	if err != nil {
		panic(err) // Constant, valid label key and value.
	}
	return cache.Options{
		DefaultLabelSelector:     labels.NewSelector().Add(*ours),
		DefaultTransform:         cache.TransformStripManagedFields(),
		DefaultWatchErrorHandler: onWatchError,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Node{}:               {Label: labels.Everything(), Transform: stripNode},
			&discoveryv1.EndpointSlice{}: {Label: labels.NewSelector().Add(*ours, *managedByUs)},
		},
	}
}

// stripNode drops what the provider never reads from a Node, chiefly its
// image list, the bulk of a node object.
func stripNode(in any) (any, error) {
	if n, ok := in.(*corev1.Node); ok {
		n.ManagedFields = nil
		n.Status.Images = nil
	}
	return in, nil
}
