package groups

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// TestRestartNow: the fast path decides a recreation from one pod's change
// and its group exactly as a whole plan would, and leaves to the plan what
// it cannot decide alone.
func TestRestartNow(t *testing.T) {
	restarted := func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 1}}
	}
	policy := func(rp v1alpha1.RestartPolicyType) func(*compose.LeaderWorkerSet) {
		return func(l *compose.LeaderWorkerSet) { l.Spec.LeaderWorkerTemplate.RestartPolicy = rp }
	}
	cases := map[string]struct {
		reason string
		edit   []func(*compose.LeaderWorkerSet)
		// pod is the pod that changed; change changes the cluster.
		pod    string
		change func(c *cluster)
		// want is the leader recreated now, "" for none.
		want string
	}{
		"RestartedWorkerRecreatesItsGroup": {
			reason: "A worker's restarted container recreates its group by deleting the group's leader.",
			pod:    "lws-1-1", change: func(c *cluster) { restarted(c.pod("lws-1-1")) }, want: "lws-1",
		},
		"RestartedLeaderRecreatesItsGroup": {
			reason: "So does the leader's own.",
			pod:    "lws-1", change: func(c *cluster) { restarted(c.pod("lws-1")) }, want: "lws-1",
		},
		"NoRestartNoRecreation": {
			reason: "A pod that changed without a restart triggers nothing.",
			pod:    "lws-1-1", change: func(*cluster) {},
		},
		"PolicyNoneRecreatesNothing": {
			reason: "restartPolicy None leaves the group as it is.",
			edit:   []func(*compose.LeaderWorkerSet){policy(v1alpha1.NoneRestartPolicy)},
			pod:    "lws-1-1", change: func(c *cluster) { restarted(c.pod("lws-1-1")) },
		},
		"LeaderBeingDeletedLws804": {
			reason: "A leader already being deleted is not deleted again, which would restart the new group.",
			pod:    "lws-1-1", change: func(c *cluster) {
				restarted(c.pod("lws-1-1"))
				c.pod("lws-1").DeletionTimestamp = &metav1.Time{Time: now.Time}
			},
		},
		"WorkerOfAReplacedLeaderLws998": {
			reason: "A worker still controlled by the worker StatefulSet of a replaced leader does not restart the new group.",
			pod:    "lws-1-1", change: func(c *cluster) {
				restarted(c.pod("lws-1-1"))
				c.pod("lws-1").UID = "new-leader"
			},
		},
		"AfterStartHeldWhileAPodIsPending": {
			reason: "Under RecreateGroupAfterStart a group with a pending pod is left to start.",
			edit:   []func(*compose.LeaderWorkerSet){policy(v1alpha1.RecreateGroupAfterStart)},
			pod:    "lws-1-1", change: func(c *cluster) {
				restarted(c.pod("lws-1-1"))
				c.pod("lws-1-1").Status.Phase = corev1.PodPending
			},
		},
		"GroupRestartIsTheReconcilesToDecide": {
			reason: "Under spec.groupRestart the backoff and budget read the history in the managed resource's status.",
			edit: []func(*compose.LeaderWorkerSet){func(l *compose.LeaderWorkerSet) {
				l.Spec.GroupRestart = &v1alpha1.GroupRestart{MaxRestarts: ptr.To[int32](3)}
			}},
			pod: "lws-1-1", change: func(c *cluster) { restarted(c.pod("lws-1-1")) },
		},
		"LeaderOfAnotherRevisionIsTheReconcilesToDecide": {
			reason: "A leader of an older revision restarts under that revision's policy, which only its ControllerRevision holds.",
			pod:    "lws-1", change: func(c *cluster) {
				restarted(c.pod("lws-1"))
				c.pod("lws-1").Labels[lws.LabelRevisionKey] = "older"
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, params(t, 2, 2, tc.edit...))
			c.converge()
			tc.change(c)
			pod := c.pod(tc.pod)
			c.reindex()
			g := Group{Leader: c.pod(LeaderOf(pod)), Workers: c.worker(LeaderOf(pod)), Pods: c.idx.groups[pod.Labels[lws.LabelGroupIndex]]}
			r, err := RestartNow(&c.Params, pod, g)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r != nil {
				got = r.Leader.Name
			}
			if got != tc.want {
				t.Fatalf("%s\nrecreated %q, want %q", tc.reason, got, tc.want)
			}
			if r == nil {
				return
			}
			want := &Event{Reason: ReasonRecreateGroup, Message: "Worker pod " + tc.pod + " failed, deleted leader pod lws-1 to recreate group 1"}
			if diff := cmp.Diff(want, r.Event); diff != "" {
				t.Errorf("event: -want, +got:\n%s", diff)
			}
			p, err := Compute(&c.State, nil, 1, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(p.Restarts, []Recreation{*r}); diff != "" {
				t.Errorf("a whole plan decides otherwise: -plan, +fast path:\n%s", diff)
			}
		})
	}
}
