// Package metrics records what LeaderWorkerSet users ask to see and
// upstream does not export (lws#87): group recreations, rollout duration
// and the time for a group to become ready, per target cluster. The
// provider serves them beside controller-runtime's and crossplane-runtime's
// metrics.
package metrics

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/internal/groups"
)

// LabelCluster names the target cluster: its provider config, as
// "<name>" for a ClusterProviderConfig and "<namespace>/<name>" for a
// ProviderConfig.
const LabelCluster = "cluster"

// Cluster is the LabelCluster value of a provider config.
func Cluster(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// retention bounds the memory of groups already recorded ready: a group
// that became ready longer ago than this is not recorded any more.
const retention = time.Hour

// Recorder records the metrics. It is safe for concurrent use.
type Recorder struct {
	requests    *prometheus.CounterVec
	recreations *prometheus.CounterVec
	rollouts    *prometheus.HistogramVec
	groupReady  *prometheus.HistogramVec

	// since is when the recorder started: groups ready before then were
	// recorded by an earlier process, or never will be.
	since time.Time
	mu    sync.Mutex
	seen  map[types.UID]time.Time
}

// New returns a Recorder whose metrics are registered with reg. A metric
// that reg already has (a provider restarted in the same process) is
// reused.
func New(reg prometheus.Registerer, now time.Time) (*Recorder, error) {
	r := &Recorder{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lws_target_requests_total",
			Help: "Requests the provider made to target clusters' API servers, by HTTP method.",
		}, []string{LabelCluster, "method"}),
		recreations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lws_group_recreations_total",
			Help: "Groups recreated as a whole by their restart policy.",
		}, []string{LabelCluster}),
		rollouts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lws_rollout_duration_seconds",
			Help:    "Duration of rolling updates, from UpdateInProgress turning True to it turning False, per cluster.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
		}, []string{LabelCluster}),
		groupReady: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lws_group_ready_seconds",
			Help:    "Time from a group's leader pod creation to every pod of the group ready.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800},
		}, []string{LabelCluster}),
		since: now,
		seen:  map[types.UID]time.Time{},
	}
	var err error
	if r.requests, err = register(reg, r.requests); err != nil {
		return nil, err
	}
	if r.recreations, err = register(reg, r.recreations); err != nil {
		return nil, err
	}
	if r.rollouts, err = register(reg, r.rollouts); err != nil {
		return nil, err
	}
	if r.groupReady, err = register(reg, r.groupReady); err != nil {
		return nil, err
	}
	return r, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// Requested records a request to a cluster.
func (r *Recorder) Requested(cluster, method string) {
	r.requests.WithLabelValues(cluster, method).Inc()
}

// Recreated records n group recreations in a cluster.
func (r *Recorder) Recreated(cluster string, n int) {
	if n > 0 {
		r.recreations.WithLabelValues(cluster).Add(float64(n))
	}
}

// Observe records the measures of one reconcile of a cluster. Each ready
// group is recorded once, by its leader pod's UID: a recreated group has a
// new leader and counts again.
func (r *Recorder) Observe(cluster string, m groups.Measures, now time.Time) {
	if m.RolloutDuration > 0 {
		r.rollouts.WithLabelValues(cluster).Observe(m.RolloutDuration.Seconds())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	oldest := now.Add(-retention)
	for uid, at := range r.seen {
		if at.Before(oldest) {
			delete(r.seen, uid)
		}
	}
	// API timestamps have whole seconds: a group that became ready in the
	// second the recorder started counts.
	since := r.since.Truncate(time.Second)
	for _, g := range m.Ready {
		if _, done := r.seen[g.Leader]; done || g.At.Before(since) || g.At.Before(oldest) {
			continue
		}
		r.seen[g.Leader] = g.At
		r.groupReady.WithLabelValues(cluster).Observe(max(g.After, 0).Seconds())
	}
}
