//go:build e2e

package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestUniquePerReplicaLeaderAddress: under UniquePerReplica upstream's
// leader address <lws>-<i>.<lws>-<i>.<ns> names the leader in its group's
// Service, whose EndpointSlice controller gives the leader no hostname there
// (its subdomain is <lws>). The provider's EndpointSlice does, at the
// leader's current IP, and follows a recreated group's new leader. There is
// no DNS server here, so the test resolves as cluster DNS does: the ready
// endpoints with that hostname in any EndpointSlice of the Service.
func TestUniquePerReplicaLeaderAddress(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	l := sample("upr", "image:v1", 2, 2)
	l.Spec.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
	mr := managed(t, l)
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 2, time.Minute)

	leaders := map[int]*corev1.Pod{}
	for i := range 2 {
		leaders[i] = e.leaderResolves(t, "upr", i, "")
	}

	t.Run("SteadyStateWritesNothing", func(t *testing.T) {
		if w, _ := e.touch(t, e.target, "upr-0", 3); w != 0 {
			t.Errorf("steady state: want no writes, got %v", w)
		}
	})

	t.Run("FollowsARecreatedLeader", func(t *testing.T) {
		old := leaders[1]
		must(t, e.target.Client.Delete(ctx, old))
		e.leaderResolves(t, "upr", 1, old.UID)
		e.groupsReady(t, mr, 2, time.Minute)
		// The node agent never hands out an address twice, so the slice
		// must have followed the new pod.
		if now := e.leaderResolves(t, "upr", 1, old.UID); now.Status.PodIP == old.Status.PodIP {
			t.Errorf("the recreated leader kept IP %s: want a new one to follow", old.Status.PodIP)
		}
	})
}

// leaderResolves waits until the leader of group i of LeaderWorkerSet name,
// a pod other than notUID, resolves at upstream's address, with its first
// worker alongside, and returns it. The provider's EndpointSlice must be the
// one naming the leader, owned by the pod, serving exactly when it is ready.
func (e *env) leaderResolves(t *testing.T, name string, i int, notUID types.UID) *corev1.Pod {
	t.Helper()
	leaderName, workerName := lws.LeaderPodName(name, i), lws.WorkerPodName(name, i, 1)
	var leader *corev1.Pod
	testenv.Eventually(t, time.Minute, leaderName+"."+leaderName+".default resolving to the leader", func(ctx context.Context) (bool, error) {
		pods := map[string]*corev1.Pod{}
		for _, n := range []string{leaderName, workerName} {
			p := &corev1.Pod{}
			if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: n}, p); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			if p.Status.PodIP == "" || p.DeletionTimestamp != nil {
				return false, testenv.Pendingf("pod %s: IP %q, deleting %v", n, p.Status.PodIP, p.DeletionTimestamp != nil)
			}
			pods[n] = p
		}
		leader = pods[leaderName]
		if leader.UID == notUID {
			return false, testenv.Pendingf("leader %s not recreated yet", leaderName)
		}
		var all discoveryv1.EndpointSliceList
		if err := e.target.Client.List(ctx, &all, client.InNamespace("default"), client.MatchingLabels{discoveryv1.LabelServiceName: leaderName}); err != nil {
			return false, err
		}
		for _, n := range []string{leaderName, workerName} {
			if got, want := resolve(all.Items, n), []string{pods[n].Status.PodIP}; !slices.Equal(got, want) {
				return false, testenv.Pendingf("%s.%s resolves to %v, want %v", n, leaderName, got, want)
			}
		}
		var ours []discoveryv1.EndpointSlice
		for _, s := range all.Items {
			if s.Labels[discoveryv1.LabelManagedBy] == lws.EndpointSliceManager {
				ours = append(ours, s)
			}
		}
		if len(ours) != 1 || ours[0].Name != lws.LeaderEndpointSliceName(name, i) {
			return false, testenv.Pendingf("want the provider's EndpointSlice %s, got %d of the provider's", lws.LeaderEndpointSliceName(name, i), len(ours))
		}
		s := ours[0]
		if c := metav1.GetControllerOf(&s); c == nil || c.UID != leader.UID || s.Labels[lws.LabelName] != name {
			return false, testenv.Pendingf("EndpointSlice %s: controller %v, labels %v; want the leader pod %s and label %s", s.Name, c, s.Labels, leader.UID, lws.LabelName)
		}
		ready := testenv.PodReady(leader)
		if len(s.Endpoints) != 1 || ptr.Deref(s.Endpoints[0].Conditions.Serving, !ready) != ready || s.Endpoints[0].TargetRef == nil || s.Endpoints[0].TargetRef.UID != leader.UID {
			return false, testenv.Pendingf("EndpointSlice %s: endpoints %+v, want the leader, serving %v", s.Name, s.Endpoints, ready)
		}
		return true, nil
	})
	return leader
}

// resolve is what cluster DNS answers for <host>.<service>: the addresses of
// the ready endpoints with that hostname in the Service's EndpointSlices.
func resolve(all []discoveryv1.EndpointSlice, host string) []string {
	var out []string
	for _, s := range all {
		for _, ep := range s.Endpoints {
			if ptr.Deref(ep.Hostname, "") == host && ptr.Deref(ep.Conditions.Ready, true) {
				out = append(out, ep.Addresses...)
			}
		}
	}
	return out
}
