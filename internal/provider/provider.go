// Package provider assembles the provider: a controller manager on the
// control-plane cluster running the RemoteLeaderWorkerSet and provider
// config controllers, with one watched connection per target cluster.
package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/lws-crossplane/lws-crossplane/apis"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/controller/config"
	"github.com/lws-crossplane/lws-crossplane/internal/controller/remoteleaderworkerset"
	"github.com/lws-crossplane/lws-crossplane/internal/controller/rolescaler"
	"github.com/lws-crossplane/lws-crossplane/internal/controller/targetcluster"
	"github.com/lws-crossplane/lws-crossplane/internal/metrics"
)

// Options are the provider's flags, named as Crossplane providers name them.
type Options struct {
	Debug                  bool          `short:"d" help:"Emit debug logs in addition to info logs."`
	LeaderElection         bool          `help:"Use leader election, for running several replicas." env:"LEADER_ELECTION"`
	Poll                   time.Duration `default:"1m" help:"How often each managed resource, and the worker-index admission policy of a target cluster, is checked even without a change; changes in target clusters are watched."`
	Sync                   time.Duration `default:"1h" help:"How often all resources are resynced from the control plane's cache."`
	MaxReconcileRate       int           `default:"100" help:"The global maximum rate per second at which resources may be checked for drift."`
	MetricsBindAddress     string        `default:":8080" help:"The address the metrics endpoint binds to."`
	HealthProbeBindAddress string        `default:":8081" help:"The address the health probes bind to."`
	TargetQPS              float32       `default:"200" help:"Client-side rate limit of requests per second to each target cluster."`
	TargetBurst            int           `default:"400" help:"Burst above --target-qps allowed to each target cluster."`
	StatusInterval         time.Duration `default:"2s" help:"Shortest time between status writes of a managed resource that change only its group counts; conditions are written at once."`
	ObserveInterval        time.Duration `default:"5s" help:"How often each target cluster's TargetCluster (reachability and room for groups) is observed; it is written only when it changed, so at most once per interval."`
	ChangeBatchPeriod      time.Duration `default:"50ms" help:"A change in a target cluster reconciles its managed resource at once; changes that follow within this period share one reconcile at its end, except a restarted container, which never waits. 0 reconciles at every change."`

	// LogOutput receives the logs; standard error when nil.
	LogOutput io.Writer `kong:"-"`
	// RenderVersion renders at another render version than render.Version:
	// a provider upgrade, played by tests, is a restart with another one.
	RenderVersion int `kong:"-"`
	// InProcess lets Run run again in one process after a stop, as tests
	// restart the provider mid-rollout the way a crash would: controller
	// names, unique per process, are then not checked.
	InProcess bool `kong:"-"`
}

// Run runs the provider against the control-plane cluster of cfg until ctx
// ends.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	zo := []zap.Opts{zap.UseDevMode(o.Debug)}
	if o.LogOutput != nil {
		zo = append(zo, zap.WriteTo(o.LogOutput))
	}
	zl := zap.New(zo...)
	log := logging.NewLogrLogger(zl.WithName("provider-lws"))
	ctrl.SetLogger(zl)

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apis.AddToScheme} {
		if err := add(scheme); err != nil {
			return fmt.Errorf("cannot build scheme: %w", err)
		}
	}
	// The default spam filter lets 25 events through per object and then
	// one per 5 minutes. Crossplane records an event at every update of a
	// managed resource, so a rollout's own events (the surge release, the
	// groups recreated) would be dropped after a few steps. Repeated events
	// are still counted rather than written again.
	// The manager does not shut a broadcaster it was given down, and it
	// starts it lazily, possibly while stopping: it lives with the process.
	events := record.NewBroadcasterWithCorrelatorOptions(record.CorrelatorOptions{BurstSize: 500, QPS: 1})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		EventBroadcaster:       events, //nolint:staticcheck // The events API recorder offers no correlator options.
		LeaderElection:         o.LeaderElection,
		LeaderElectionID:       "provider-lws.lws.crossplane.io",
		Cache:                  cache.Options{SyncPeriod: &o.Sync},
		Metrics:                metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress: o.HealthProbeBindAddress,
		Controller:             ctrlconfig.Controller{SkipNameValidation: ptr.To(o.InProcess)},
	})
	if err != nil {
		return fmt.Errorf("cannot create controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("cannot add health check: %w", err)
	}

	m, err := metrics.New(ctrlmetrics.Registry, time.Now())
	if err != nil {
		return fmt.Errorf("cannot register metrics: %w", err)
	}
	enqueuer := remoteleaderworkerset.NewEnqueuer(mgr.GetCache(), o.ChangeBatchPeriod)
	remote := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(remote); err != nil {
		return fmt.Errorf("cannot build scheme: %w", err)
	}
	cm, err := clusters.New(mgr.GetClient(), remote, func(k clusters.Key, obj client.Object) {
		enqueuer.Changed(ctx, k, obj)
	}, clusters.Options{Logger: log, QPS: o.TargetQPS, Burst: o.TargetBurst, PolicyInterval: o.Poll, OnRequest: func(k clusters.Key, r *http.Request) {
		m.Requested(metrics.Cluster(k.Namespace, k.Name), r.Method)
	}})
	if err != nil {
		return fmt.Errorf("cannot create cluster connections: %w", err)
	}
	if err := mgr.Add(cm); err != nil {
		return fmt.Errorf("cannot add cluster connections: %w", err)
	}

	co := controller.Options{
		Logger:                  log,
		MaxConcurrentReconciles: 10,
		PollInterval:            o.Poll,
		GlobalRateLimiter:       ratelimiter.NewGlobal(o.MaxReconcileRate),
		Features:                &feature.Flags{},
	}
	if err := config.Setup(mgr, co, cm); err != nil {
		return fmt.Errorf("cannot set up provider config controllers: %w", err)
	}
	if err := remoteleaderworkerset.Setup(mgr, co, cm, enqueuer, m, o.StatusInterval, o.RenderVersion); err != nil {
		return fmt.Errorf("cannot set up the RemoteLeaderWorkerSet controller: %w", err)
	}
	if err := targetcluster.Setup(mgr, cm, o.ObserveInterval, log); err != nil {
		return err
	}
	if err := rolescaler.Setup(mgr); err != nil {
		return err
	}
	return mgr.Start(ctx)
}
