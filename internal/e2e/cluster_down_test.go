//go:build e2e

package e2e

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestTargetClusterDown freezes the API server of one of two target
// clusters in the middle of a LeaderWorkerSet's life: the other cluster
// carries on with a rolling update, the frozen one's managed resource turns
// unavailable and says why, nothing is deleted there, and once the API
// server is back its groups converge too. Deleting the LeaderWorkerSet while
// the cluster is frozen again removes the other cluster's groups at once
// and the frozen one's when it answers.
func TestTargetClusterDown(t *testing.T) {
	e := start(t)
	second := testenv.Start(t, testenv.Options{Name: "second"})
	e.addConfig(t, "second", second)
	ctx := context.Background()

	l := sample("down", "image:v1", 4, 2)
	l.Spec.Placement = &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "default"}, {Name: "second"}}}
	mrs := plan(t, l)
	for _, mr := range mrs {
		must(t, e.cp.Client.Create(ctx, mr))
	}
	for _, mr := range mrs {
		e.groupsReady(t, mr, 2, time.Minute)
	}
	before := len(pods(t, second, "down"))

	resume := freeze(t, second)

	l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "image:v2"
	for i, mr := range plan(t, l) {
		e.updateParams(t, mrs[i], mr.Spec.ForProvider)
	}
	e.groupsReady(t, mrs[0], 2, time.Minute)
	testenv.Eventually(t, time.Minute, "the frozen cluster's managed resource unavailable, naming its cluster", func(ctx context.Context) (bool, error) {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mrs[1]), got); err != nil {
			return false, err
		}
		ready, synced := got.GetCondition(xpv2.TypeReady), got.GetCondition(xpv2.TypeSynced)
		if ready.Status != corev1.ConditionFalse || synced.Status != corev1.ConditionFalse || !strings.Contains(synced.Message, "second") {
			return false, testenv.Pendingf("Ready %s: %s; Synced %s: %s", ready.Status, ready.Message, synced.Status, synced.Message)
		}
		return true, nil
	})

	resume()
	if after := len(pods(t, second, "down")); after != before {
		t.Errorf("pods in the frozen cluster: %d before, %d right after it came back; nothing may be deleted for want of reading it", before, after)
	}
	// kube-scheduler can come out of the freeze with its cache corrupted
	// and exit, to be started again as a kubelet would. The watches
	// reconnect first, and the controller manager's StatefulSet controller
	// retries what failed while the API server was frozen after its own
	// backoff: under the load of a full test run that has taken over three
	// minutes.
	e.groupsReady(t, mrs[1], 2, 5*time.Minute)
	for _, p := range pods(t, second, "down") {
		if p.Spec.Containers[0].Image != "image:v2" {
			t.Errorf("pod %s in the recovered cluster runs %s, want image:v2", p.Name, p.Spec.Containers[0].Image)
		}
	}

	t.Run("DeletionWaitsForTheCluster", func(t *testing.T) {
		resume := freeze(t, second)
		for _, mr := range mrs {
			must(t, e.cp.Client.Delete(ctx, mr))
		}
		testenv.Eventually(t, time.Minute, "the reachable cluster's managed resource deleted", func(ctx context.Context) (bool, error) {
			err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mrs[0]), &v1alpha1.RemoteLeaderWorkerSet{})
			return kerrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
		testenv.Eventually(t, time.Minute, "the frozen cluster's managed resource kept, deleting, saying why", func(ctx context.Context) (bool, error) {
			got := &v1alpha1.RemoteLeaderWorkerSet{}
			if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mrs[1]), got); err != nil {
				return false, err
			}
			synced := got.GetCondition(xpv2.TypeSynced)
			if got.DeletionTimestamp == nil || len(got.Finalizers) == 0 || synced.Status != corev1.ConditionFalse || !strings.Contains(synced.Message, "second") {
				return false, testenv.Pendingf("deleting %v, finalizers %v, Synced %s: %s", got.DeletionTimestamp != nil, got.Finalizers, synced.Status, synced.Message)
			}
			return true, nil
		})
		resume()
		testenv.Eventually(t, time.Minute, "the recovered cluster's groups removed and its managed resource gone", func(ctx context.Context) (bool, error) {
			if n := len(pods(t, second, "down")); n != 0 {
				return false, testenv.Pendingf("%d pods left", n)
			}
			err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mrs[1]), &v1alpha1.RemoteLeaderWorkerSet{})
			return kerrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
	})
}

// freeze stops the API server of c (SIGSTOP), as a cluster whose control
// plane went away while its pods run on; resume lets it run again, and
// runs when the test ends if the test did not call it.
func freeze(t testing.TB, c *testenv.Cluster) (resume func()) {
	t.Helper()
	apiserver := c.ProcessIDs()[testenv.ComponentAPIServer]
	must(t, syscall.Kill(apiserver, syscall.SIGSTOP))
	resume = sync.OnceFunc(func() { must(t, syscall.Kill(apiserver, syscall.SIGCONT)) })
	t.Cleanup(resume)
	return resume
}

// plan renders a LeaderWorkerSet into its managed resources, one per
// cluster of its placement.
func plan(t testing.TB, l compose.LeaderWorkerSet) []*v1alpha1.RemoteLeaderWorkerSet {
	t.Helper()
	targets, err := compose.Plan(l, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*v1alpha1.RemoteLeaderWorkerSet, len(targets))
	for i, tg := range targets {
		out[i] = tg.Resource
	}
	return out
}

func pods(t testing.TB, c *testenv.Cluster, name string) []corev1.Pod {
	t.Helper()
	var l corev1.PodList
	must(t, c.Client.List(context.Background(), &l, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: name}))
	return l.Items
}
