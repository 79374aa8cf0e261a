//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// observeInterval is the provider's --observe-interval in tests.
const observeInterval = time.Second

// TestTargetClusterObservations: the provider keeps a TargetCluster for the
// ClusterProviderConfig of a target cluster, with its room (ready and free
// nodes, per node pool and zone); nodes running a group are no longer free;
// an idle cluster is not written; a cluster whose API server stops
// answering turns unreachable, keeping the room it was seen with and the
// time of its last contact, and reachable again when it answers.
func TestTargetClusterObservations(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	tc := &v1alpha1.TargetCluster{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	observed := func(what string, cond func(st v1alpha1.TargetClusterStatus) error) {
		t.Helper()
		testenv.EventuallyObject(t, e.cp, tc, &v1alpha1.TargetClusterList{}, time.Minute, what, func(got *v1alpha1.TargetCluster) (bool, error) {
			if err := cond(got.Status); err != nil {
				return false, testenv.Pendingf("%v: %+v", err, got.Status)
			}
			return true, nil
		})
	}
	reachable := func(st v1alpha1.TargetClusterStatus, want metav1.ConditionStatus) error {
		if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReachable); c == nil || c.Status != want {
			return testenv.Pendingf("Reachable is not %s", want)
		}
		return nil
	}

	// DefaultPools: pool-a in zone-a and pool-b in zone-b, 4 nodes each.
	observed("every node free, by pool and zone", func(st v1alpha1.TargetClusterStatus) error {
		if err := reachable(st, metav1.ConditionTrue); err != nil {
			return err
		}
		want := map[string]int32{"pool-a": 4, "pool-b": 4, "zone-a": 4, "zone-b": 4}
		for _, d := range st.Domains {
			if d.ReadyNodes != want[d.Value] || d.FreeNodes != want[d.Value] {
				return testenv.Pendingf("domain %s=%s: %d ready, %d free", d.Key, d.Value, d.ReadyNodes, d.FreeNodes)
			}
			delete(want, d.Value)
		}
		if st.Nodes != 8 || st.ReadyNodes != 8 || st.FreeNodes != 8 || len(want) > 0 || st.LastContactTime == nil {
			return testenv.Pendingf("want 8 nodes, ready and free, in every domain")
		}
		return nil
	})

	l := sample("observed", "image:v1", 1, 2)
	l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.NodeSelector = map[string]string{nodeagent.LabelNodePool: "pool-a"}
	mr := plan(t, l)[0]
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 1, time.Minute)
	observed("the group's nodes no longer free, and its own", func(st v1alpha1.TargetClusterStatus) error {
		owner := mr.Spec.ForProvider.Namespace + "/" + mr.Spec.ForProvider.Name
		for _, d := range st.Domains {
			if d.Value == "pool-a" && d.FreeNodes < 4 && st.FreeNodes == 8-(4-d.FreeNodes) && d.Occupant == owner {
				return nil
			}
		}
		return testenv.Pendingf("pool-a still free, or not %s's", owner)
	})

	t.Run("IdleClusterIsNotWritten", func(t *testing.T) {
		got := &v1alpha1.TargetCluster{}
		must(t, e.cp.Client.Get(ctx, client.ObjectKeyFromObject(tc), got))
		wc, err := client.NewWithWatch(e.cp.Config, client.Options{Scheme: e.cp.Client.Scheme(), Mapper: e.cp.Client.RESTMapper()})
		must(t, err)
		w, err := wc.Watch(ctx, &v1alpha1.TargetClusterList{}, client.MatchingFields{"metadata.name": "default"}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: got.ResourceVersion}})
		must(t, err)
		defer w.Stop()
		// Three intervals of an idle cluster: every one observes it.
		deadline := time.After(3 * observeInterval)
		for {
			select {
			case ev := <-w.ResultChan():
				if ev.Type == watch.Modified {
					t.Fatalf("an idle cluster's TargetCluster was written: %+v", ev.Object.(*v1alpha1.TargetCluster).Status)
				}
			case <-deadline:
				return
			}
		}
	})

	t.Run("UnreachableAndBack", func(t *testing.T) {
		before := &v1alpha1.TargetCluster{}
		must(t, e.cp.Client.Get(ctx, client.ObjectKeyFromObject(tc), before))
		resume := freeze(t, e.target)
		observed("unreachable, with the room and last contact it was seen with", func(st v1alpha1.TargetClusterStatus) error {
			if err := reachable(st, metav1.ConditionFalse); err != nil {
				return err
			}
			if st.FreeNodes != before.Status.FreeNodes {
				return testenv.Pendingf("room changed while unreachable")
			}
			// The last contact is the provider's last sight of the cluster,
			// though an idle cluster's is not written until then.
			if st.LastContactTime == nil || st.LastContactTime.Before(before.Status.LastContactTime) || st.LastContactTime.After(time.Now()) {
				return testenv.Pendingf("last contact %v, before the cluster was lost %v", st.LastContactTime, before.Status.LastContactTime)
			}
			return nil
		})
		resume()
		observed("reachable again", func(st v1alpha1.TargetClusterStatus) error {
			if err := reachable(st, metav1.ConditionTrue); err != nil {
				return err
			}
			if !st.LastContactTime.After(before.Status.LastContactTime.Time) {
				return testenv.Pendingf("last contact not renewed")
			}
			return nil
		})
	})
}
