//go:build e2e

package e2e

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// unavailable counts the groups below replicas that are not ready in the
// target cluster (groupsReady), with the UIDs of their leaders.
func (e *env) unavailable(ctx context.Context, name string, replicas int) (int, map[string]types.UID, error) {
	ready, uids, err := groupsReadyIn(ctx, e.target, name)
	if err != nil {
		return 0, nil, err
	}
	n := 0
	for i := range replicas {
		if !ready[lws.LeaderPodName(name, i)] {
			n++
		}
	}
	return n, uids, nil
}

// groupsReadyIn tells, by leader pod name, which groups of a LeaderWorkerSet
// in c are ready: the leader running and ready, and as many of its worker
// StatefulSet's own pods ready as it has replicas; and the UIDs of the
// leaders. It reads the pods, as the provider does, not the StatefulSet's
// status, which the StatefulSet controller writes a while after: a group
// counted by that status is still unavailable when the provider has seen
// it ready and moved the partition on.
func groupsReadyIn(ctx context.Context, c *testenv.Cluster, name string) (map[string]bool, map[string]types.UID, error) {
	var pods corev1.PodList
	if err := c.Client.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: name}); err != nil {
		return nil, nil, err
	}
	var sts appsv1.StatefulSetList
	if err := c.Client.List(ctx, &sts, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: name}); err != nil {
		return nil, nil, err
	}
	leaders := map[string]bool{}
	readyOf := map[types.UID]int32{}
	uids := map[string]types.UID{}
	for _, p := range pods.Items {
		leader := p.Labels[lws.LabelWorkerIndex] == "0"
		if leader {
			uids[p.Name] = p.UID
		}
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || !testenv.PodReady(&p) {
			continue
		}
		if leader {
			leaders[p.Name] = true
		} else if owner := metav1.GetControllerOf(&p); owner != nil {
			readyOf[owner.UID]++
		}
	}
	ready := map[string]bool{}
	for _, s := range sts.Items {
		if s.DeletionTimestamp == nil && readyOf[s.UID] == ptr.Deref(s.Spec.Replicas, 1) && leaders[s.Name] {
			ready[s.Name] = true
		}
	}
	return ready, uids, nil
}

// TestProviderRestartMidRolloutLws225 stops the provider in the middle of a
// rolling update and starts a new one (lws#225: a restarted controller must
// not update every group at once). Sampled continuously, never more than
// maxUnavailable groups are unavailable, the rollout converges, and no group
// is recreated more than once.
func TestProviderRestartMidRolloutLws225(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", NodeAgent: nodeagent.Config{StartDelay: 300 * time.Millisecond}})
	ctx := context.Background()
	const replicas, maxUnavailable = 6, 2
	l := sample("midrollout", "image:v1", replicas, 2)
	l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxUnavailable: intstr.FromInt32(maxUnavailable)}
	mr := managed(t, l)
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, replicas, time.Minute)

	// Sample availability and leader generations while the rollout runs.
	var worst atomic.Int32
	generations := map[string]map[types.UID]bool{}
	var mu sync.Mutex
	sampling, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sampling.Err() == nil {
			n, uids, err := e.unavailable(sampling, "midrollout", replicas)
			if err == nil {
				if int32(n) > worst.Load() {
					worst.Store(int32(n))
				}
				mu.Lock()
				for name, uid := range uids {
					if generations[name] == nil {
						generations[name] = map[types.UID]bool{}
					}
					generations[name][uid] = true
				}
				mu.Unlock()
			}
			select {
			case <-sampling.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()

	l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "image:v2"
	e.update(t, mr, l)
	testenv.Eventually(t, 30*time.Second, "the rollout under way", func(ctx context.Context) (bool, error) {
		for _, p := range e.pods(t, "midrollout") {
			if p.Spec.Containers[0].Image == "image:v2" {
				return true, nil
			}
		}
		return false, nil
	})
	e.stop()
	e.stop = e.run(t)
	e.groupsReady(t, mr, replicas, 2*time.Minute)
	stopSampling()
	<-sampled

	if w := worst.Load(); w > maxUnavailable {
		t.Errorf("at worst %d groups were unavailable, more than maxUnavailable %d", w, maxUnavailable)
	}
	mu.Lock()
	defer mu.Unlock()
	for name, uids := range generations {
		if len(uids) > 2 {
			t.Errorf("leader %s had %d generations: recreated more than once by one rollout", name, len(uids))
		}
	}
}
