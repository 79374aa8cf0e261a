// Package targetcluster keeps a TargetCluster for every
// ClusterProviderConfig: what placement needs to know of the cluster it
// reaches (reachability, and room by package observation), where a
// composition function can read it as a required resource.
//
// Writes are paced: each cluster is observed once per interval and its
// TargetCluster written only when its room, or whether it is reachable,
// changed. An idle cluster costs no write, and a busy one at most one per
// interval, however fast its pods churn.
package targetcluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/observation"
)

// DefaultInterval is how often each cluster is observed.
const DefaultInterval = 5 * time.Second

// Keeper observes every ClusterProviderConfig's cluster once per interval.
type Keeper struct {
	kube     client.Client
	clusters *clusters.Manager
	interval time.Duration
	log      logging.Logger

	mu sync.Mutex
	// busy are the configs whose observation has not finished: a cluster
	// that does not answer holds up only itself.
	busy map[string]bool
	// contact is when each cluster was last observed reachable: written as
	// its last contact when it is lost, though not at every observation.
	contact map[string]time.Time
}

// Setup adds a Keeper to mgr.
func Setup(mgr ctrl.Manager, m *clusters.Manager, interval time.Duration, log logging.Logger) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	k := &Keeper{kube: mgr.GetClient(), clusters: m, interval: interval, log: log.WithValues("controller", "targetcluster"), busy: map[string]bool{}, contact: map[string]time.Time{}}
	if err := mgr.Add(k); err != nil {
		return fmt.Errorf("cannot add the target cluster keeper: %w", err)
	}
	return nil
}

// Start observes until ctx ends.
func (k *Keeper) Start(ctx context.Context) error {
	t := time.NewTicker(k.interval)
	defer t.Stop()
	for {
		k.observeAll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (k *Keeper) observeAll(ctx context.Context) {
	var pcs v1alpha1.ClusterProviderConfigList
	if err := k.kube.List(ctx, &pcs); err != nil {
		k.log.Info("Cannot list cluster provider configs", "error", err)
		return
	}
	for i := range pcs.Items {
		pc := &pcs.Items[i]
		if pc.DeletionTimestamp != nil || !k.claim(pc.Name) {
			continue
		}
		go func() {
			defer k.release(pc.Name)
			if err := k.observe(ctx, pc); err != nil && ctx.Err() == nil {
				k.log.Info("Cannot keep target cluster", "name", pc.Name, "error", err)
			}
		}()
	}
}

func (k *Keeper) claim(name string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.busy[name] {
		return false
	}
	k.busy[name] = true
	return true
}

func (k *Keeper) contacted(name string, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.contact[name] = at
}

func (k *Keeper) lastContact(name string) (time.Time, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	at, ok := k.contact[name]
	return at, ok
}

func (k *Keeper) release(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.busy, name)
}

// observe writes pc's TargetCluster if what it reports changed.
func (k *Keeper) observe(ctx context.Context, pc *v1alpha1.ClusterProviderConfig) error {
	tc, err := k.targetCluster(ctx, pc)
	if err != nil {
		return err
	}
	next, contacted := k.look(ctx, pc, tc.Status)
	now := time.Now()
	last, seen := k.lastContact(pc.Name)
	if contacted {
		k.contacted(pc.Name, now)
	}
	var write bool
	if next, write = stamped(tc.Status, next, contacted, last, seen, now); !write {
		return nil
	}
	tc.Status = next
	if err := k.kube.Status().Update(ctx, tc); err != nil {
		return fmt.Errorf("cannot update TargetCluster %s: %w", tc.Name, err)
	}
	return nil
}

// look observes the cluster, or reports it unreachable with the room it
// had when last seen.
func (k *Keeper) look(ctx context.Context, pc *v1alpha1.ClusterProviderConfig, prev v1alpha1.TargetClusterStatus) (v1alpha1.TargetClusterStatus, bool) {
	next := *prev.DeepCopy()
	obs, err := k.room(ctx, pc)
	if err != nil {
		meta.SetStatusCondition(&next.Conditions, metav1.Condition{Type: v1alpha1.ConditionReachable, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUnreachable, Message: err.Error()})
		return next, false
	}
	obs.Conditions = next.Conditions
	obs.LastContactTime = next.LastContactTime
	meta.SetStatusCondition(&obs.Conditions, metav1.Condition{Type: v1alpha1.ConditionReachable, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonContacted})
	obs.ProviderConfigRef = &v1alpha1.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: pc.Name}
	return obs, true
}

func (k *Keeper) room(ctx context.Context, pc *v1alpha1.ClusterProviderConfig) (v1alpha1.TargetClusterStatus, error) {
	conn, err := k.clusters.Get(ctx, clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: pc.Name})
	if err != nil {
		return v1alpha1.TargetClusterStatus{}, err
	}
	if err := conn.Health(); err != nil {
		return v1alpha1.TargetClusterStatus{}, err
	}
	var nodes corev1.NodeList
	if err := conn.Cache().List(ctx, &nodes); err != nil {
		return v1alpha1.TargetClusterStatus{}, fmt.Errorf("cannot list nodes: %w", err)
	}
	// The cache holds the pods of LeaderWorkerSets only.
	var pods corev1.PodList
	if err := conn.Cache().List(ctx, &pods); err != nil {
		return v1alpha1.TargetClusterStatus{}, fmt.Errorf("cannot list pods: %w", err)
	}
	keys := pc.Spec.TopologyKeys
	if len(keys) == 0 {
		keys = observation.DefaultTopologyKeys
	}
	return observation.Of(nodes.Items, pods.Items, keys), nil
}

// stamped decides whether an observation is written, and with which last
// contact. It is written when changed, and at this process's first contact
// with the cluster: its last contact, which an idle cluster does not
// rewrite, must not be older than this process's start. The last contact
// written is this process's (now, when it reached the cluster now); for a
// cluster it has never reached, that of the status when the cluster was
// already unreachable there, else the moment it was first seen lost, so
// that a failover never counts from a contact older than the provider.
func stamped(prev, next v1alpha1.TargetClusterStatus, contacted bool, last time.Time, seen bool, now time.Time) (v1alpha1.TargetClusterStatus, bool) {
	switch {
	case contacted:
		next.LastContactTime = &metav1.MicroTime{Time: now}
		return next, !seen || changed(prev, next)
	case !changed(prev, next):
		return next, false
	case seen:
		next.LastContactTime = &metav1.MicroTime{Time: last}
	case !unreachable(prev):
		next.LastContactTime = &metav1.MicroTime{Time: now}
	}
	return next, true
}

func unreachable(st v1alpha1.TargetClusterStatus) bool {
	c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReachable)
	return c != nil && c.Status == metav1.ConditionFalse
}

// changed: the room differs, or the cluster turned reachable or
// unreachable. A new error message alone is no reason to write.
func changed(prev, next v1alpha1.TargetClusterStatus) bool {
	if !observation.Same(prev, next) {
		return true
	}
	a, b := meta.FindStatusCondition(prev.Conditions, v1alpha1.ConditionReachable), meta.FindStatusCondition(next.Conditions, v1alpha1.ConditionReachable)
	return a == nil || b == nil || a.Status != b.Status || a.Reason != b.Reason
}

// targetCluster is pc's TargetCluster, created if missing and owned by pc,
// so that it goes with it.
func (k *Keeper) targetCluster(ctx context.Context, pc *v1alpha1.ClusterProviderConfig) (*v1alpha1.TargetCluster, error) {
	tc := &v1alpha1.TargetCluster{}
	err := k.kube.Get(ctx, client.ObjectKey{Name: pc.Name}, tc)
	if err == nil || !kerrors.IsNotFound(err) {
		return tc, err
	}
	tc = &v1alpha1.TargetCluster{ObjectMeta: metav1.ObjectMeta{
		Name: pc.Name,
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.ClusterProviderConfigKind, Name: pc.Name, UID: pc.UID,
		}},
	}}
	if err := k.kube.Create(ctx, tc); err != nil {
		return nil, fmt.Errorf("cannot create TargetCluster %s: %w", pc.Name, err)
	}
	return tc, nil
}
