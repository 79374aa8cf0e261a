package clusters

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// Defaults of Options.
const (
	DefaultQPS            = 200
	DefaultBurst          = 400
	DefaultSyncTimeout    = 10 * time.Second
	DefaultRetryInterval  = 5 * time.Second
	DefaultHealthInterval = 10 * time.Second
	DefaultPolicyInterval = time.Minute
	DefaultUserAgent      = "lws-crossplane"
)

// OnChangeFunc is told of every add, update and delete of a watched object
// (Pods, StatefulSets, Services, ControllerRevisions and the provider's
// EndpointSlices carrying the LeaderWorkerSet name label) in the cluster of provider config Key, and of
// every such object again when a connection is (re)made. It runs on the
// informer's goroutine: it must be quick and must not modify obj, which is
// the cache's copy.
type OnChangeFunc func(Key, client.Object)

// Options configure a Manager. Zero values take the defaults.
type Options struct {
	Logger logging.Logger
	// QPS and Burst are each connection's client-side rate limits.
	QPS   float32
	Burst int
	// SyncTimeout bounds making a connection: reaching the API server and
	// the initial list of every cached kind.
	SyncTimeout time.Duration
	// RetryInterval is how long a failed connection attempt is reported
	// again without redialling, unless the credentials change.
	RetryInterval time.Duration
	// HealthInterval is how often an established connection probes its
	// API server, for Connection.Health.
	HealthInterval time.Duration
	// PolicyInterval is how often the worker-index admission policy and
	// the leaders' workload policy of a connection that uses them are
	// looked at, and repaired if missing or changed (also how soon a failed
	// attempt is tried again), and how often the gang APIs a cluster serves
	// are discovered again (Gang).
	PolicyInterval time.Duration
	// UserAgent of the provider's requests in target clusters.
	UserAgent string
	// InClusterConfig serves the InjectedIdentity credentials source.
	// Default rest.InClusterConfig; tests override it.
	InClusterConfig func() (*rest.Config, error)
	// AllowExternalCredentials lets kubeconfigs of ClusterProviderConfigs
	// use exec plugins, auth providers and file references. Namespaced
	// ProviderConfigs may never.
	AllowExternalCredentials bool
	// AllowNamespacedInjectedIdentity lets namespaced ProviderConfigs use
	// the provider's own identity.
	AllowNamespacedInjectedIdentity bool
	// OnRequest, when set, is told of every request made to the cluster of
	// a provider config, before it is sent; the provider counts them.
	OnRequest func(k Key, r *http.Request)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = logging.NewNopLogger()
	}
	if o.QPS <= 0 {
		o.QPS = DefaultQPS
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = DefaultSyncTimeout
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	if o.PolicyInterval <= 0 {
		o.PolicyInterval = DefaultPolicyInterval
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.InClusterConfig == nil {
		o.InClusterConfig = rest.InClusterConfig
	}
	return o
}

// A Manager keeps one connection per provider config and credentials.
// It is safe for concurrent use.
type Manager struct {
	cp       client.Client
	scheme   *runtime.Scheme
	onChange OnChangeFunc
	opts     Options

	// ctx is the parent of every connection; Stop cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex // guards conns; never held while dialling
	conns map[Key]*Connection
}

// New returns a Manager that reads provider configs and their Secrets with
// cp, which should be the controller manager's cache-backed client: Get
// re-reads both on every call. remote is the scheme of target-cluster
// objects (client-go's scheme); onChange may be nil.
func New(cp client.Client, remote *runtime.Scheme, onChange OnChangeFunc, o Options) (*Manager, error) {
	for _, obj := range append(watchedKinds(), cachedKinds()...) {
		if _, err := apiutil.GVKForObject(obj, remote); err != nil {
			return nil, fmt.Errorf("remote scheme lacks a kind the connections cache: %w", err)
		}
	}
	for _, obj := range []client.Object{&v1alpha1.ProviderConfig{}, &v1alpha1.ClusterProviderConfig{}} {
		if _, err := apiutil.GVKForObject(obj, cp.Scheme()); err != nil {
			return nil, fmt.Errorf("control-plane client's scheme lacks provider config kinds: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		cp: cp, scheme: remote, onChange: onChange, opts: o.withDefaults(),
		ctx: ctx, cancel: cancel, conns: map[Key]*Connection{},
	}, nil
}

// Get returns the connection to the cluster of provider config k, making it
// if needed and waiting at most Options.SyncTimeout (or ctx) for it. The
// same *Connection is returned until the credentials change, the config is
// forgotten, or the connection failed. Errors name the provider config and
// wrap ErrInvalidConfig, ErrUnavailable or ErrStopped.
func (m *Manager) Get(ctx context.Context, k Key) (*Connection, error) {
	t, err := m.resolve(ctx, k)
	if err != nil {
		if errors.Is(err, ErrInvalidConfig) {
			// The config or Secret is gone or broken: stop using the
			// credentials it used to hold.
			m.drop(k, "provider config is no longer valid")
		}
		return nil, err
	}
	c := m.connection(k, t)
	c.settings.Store(&t.settings)
	timer := time.NewTimer(m.opts.SyncTimeout + time.Second)
	defer timer.Stop()
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: waiting for connection: %w", k, ctx.Err())
	case <-timer.C:
		// Only a dial stuck outside its own deadline gets here.
		return nil, fmt.Errorf("%s: connection not ready within %s: %w", k, m.opts.SyncTimeout, ErrUnavailable)
	}
	if c.err != nil {
		return nil, c.err
	}
	return c, nil
}

// Client is the cache-backed client for a managed resource's provider
// config, Get(ctx, KeyFor(mg)).Client(), and the reader straight from its
// API server, while the connection is healthy.
func (m *Manager) Client(ctx context.Context, mg *v1alpha1.RemoteLeaderWorkerSet) (client.Client, client.Reader, error) {
	c, err := m.Get(ctx, KeyFor(mg))
	if err != nil {
		return nil, nil, err
	}
	// A cache that stopped hearing from its cluster still answers reads
	// with what it last knew; planning from that would report a stale
	// state as current.
	if err := c.Health(); err != nil {
		return nil, nil, err
	}
	return c.Client(), c.APIReader(), nil
}

// connection returns the connection for k with the resolved credentials,
// starting a dial if there is none, the credentials changed, or the last
// attempt failed more than RetryInterval ago.
func (m *Manager) connection(k Key, t *target) *Connection {
	m.mu.Lock()
	old := m.conns[k]
	if old != nil && old.fingerprint == t.fingerprint &&
		(!old.failed() || time.Since(old.failedAt) < m.opts.RetryInterval) {
		m.mu.Unlock()
		return old
	}
	c := newConnection(m.ctx, k, t, m.onChange)
	m.conns[k] = c
	m.mu.Unlock()

	if old != nil {
		if old.fingerprint != t.fingerprint {
			m.opts.Logger.Info("Credentials changed, replacing connection", "config", k.String(),
				"old-fingerprint", old.Fingerprint(), "fingerprint", c.Fingerprint())
		}
		old.stop()
	}
	go m.dial(c, t.config)
	return c
}

func (m *Manager) dial(c *Connection, cfg *rest.Config) {
	began := time.Now()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst, cfg.UserAgent = m.opts.QPS, m.opts.Burst, m.opts.UserAgent
	if on := m.opts.OnRequest; on != nil {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				on(c.key, r)
				return rt.RoundTrip(r)
			})
		})
	}
	err := c.dial(cfg, dialOptions{scheme: m.scheme, timeout: m.opts.SyncTimeout, healthInterval: m.opts.HealthInterval})
	if err != nil {
		c.stop()
		c.err, c.failedAt = fmt.Errorf("%s: %w", c.key, err), time.Now()
		m.opts.Logger.Info("Cannot connect to target cluster", "config", c.key.String(), "fingerprint", c.Fingerprint(), "error", c.err)
	} else {
		m.opts.Logger.Info("Connected to target cluster", "config", c.key.String(), "fingerprint", c.Fingerprint(),
			"host", cfg.Host, "duration", time.Since(began).Round(time.Millisecond))
	}
	close(c.ready)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// current is the connection for k, whatever its state, if its credentials
// have fingerprint fp.
func (m *Manager) current(k Key, fp string) *Connection {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.conns[k]; c != nil && c.fingerprint == fp {
		return c
	}
	return nil
}

// Lookup returns the established connection for k, without reading the
// provider config, or false if there is none (yet).
func (m *Manager) Lookup(k Key) (*Connection, bool) {
	m.mu.Lock()
	c := m.conns[k]
	m.mu.Unlock()
	if c == nil {
		return nil, false
	}
	select {
	case <-c.ready:
		return c, c.err == nil
	default:
		return nil, false
	}
}

// Refresh re-reads provider config k and replaces its connection if the
// credentials changed, so that watches move to the new credentials without
// waiting for a managed resource to call Get. A config without a
// connection is left alone: connections are made on first use.
func (m *Manager) Refresh(ctx context.Context, k Key) error {
	m.mu.Lock()
	_, ok := m.conns[k]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	_, err := m.Get(ctx, k)
	return err
}

// Forget stops and drops the connection of provider config k, for a
// deleted provider config. Done of the connection is closed once its
// informers have ended.
func (m *Manager) Forget(k Key) {
	m.drop(k, "provider config forgotten")
}

func (m *Manager) drop(k Key, why string) {
	m.mu.Lock()
	c := m.conns[k]
	delete(m.conns, k)
	m.mu.Unlock()
	if c != nil {
		m.opts.Logger.Info("Stopping connection", "config", k.String(), "fingerprint", c.Fingerprint(), "reason", why)
		c.stop()
	}
}

// Stop stops every connection; Get fails afterwards.
func (m *Manager) Stop() {
	m.cancel()
	m.mu.Lock()
	conns := m.conns
	m.conns = map[Key]*Connection{}
	m.mu.Unlock()
	for _, c := range conns {
		c.stop()
	}
}

// Start implements manager.Runnable: it blocks until ctx is done, then
// stops every connection, so that target-cluster watches end with the
// controller manager.
func (m *Manager) Start(ctx context.Context) error {
	<-ctx.Done()
	m.Stop()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable. Connections
// are only made by reconcilers, which run on the leader; stopping them must
// happen on every replica.
func (m *Manager) NeedLeaderElection() bool { return false }

// Settings are what the provider config of a managed resource says of its
// cluster besides how to reach it, as last resolved by Get; zero before.
func (m *Manager) Settings(mr *v1alpha1.RemoteLeaderWorkerSet) Settings {
	c, ok := m.Lookup(KeyFor(mr))
	if !ok {
		return Settings{}
	}
	return c.Settings()
}
