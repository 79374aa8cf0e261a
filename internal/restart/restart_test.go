package restart

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func ref(kind, name string, uid types.UID) []metav1.OwnerReference {
	t := true
	return []metav1.OwnerReference{{Kind: kind, Name: name, UID: uid, Controller: &t}}
}

func pod(name string, uid types.UID, owner []metav1.OwnerReference, phase corev1.PodPhase, restarts int32) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: uid, OwnerReferences: owner, Labels: map[string]string{lws.LabelRevisionKey: "r1"}},
		Status:     corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{RestartCount: restarts}}},
	}
}

func TestDecide(t *testing.T) {
	leader := pod("lws-0", "leader-uid", ref("StatefulSet", "lws", "leader-sts"), corev1.PodRunning, 0)
	workers := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "lws-0", UID: "workers-uid", OwnerReferences: ref("Pod", "lws-0", "leader-uid")}}
	worker := func(restarts int32, phase corev1.PodPhase) corev1.Pod {
		return pod("lws-0-1", "w1", ref("StatefulSet", "lws-0", "workers-uid"), phase, restarts)
	}
	group := func(policy v1alpha1.RestartPolicyType, pods ...corev1.Pod) Group {
		l := leader
		return Group{Policy: policy, Size: 2, Leader: &l, Workers: workers, Pods: pointers(append([]corev1.Pod{leader}, pods...))}
	}
	deleting := func(p corev1.Pod) corev1.Pod { now := metav1.Now(); p.DeletionTimestamp = &now; return p }

	cases := map[string]struct {
		reason string
		pod    corev1.Pod
		group  Group
		want   Outcome
	}{
		"NoRestart": {
			reason: "A pod whose containers never restarted triggers nothing.",
			pod:    worker(0, corev1.PodRunning),
			group:  group(v1alpha1.RecreateGroupOnPodRestart, worker(0, corev1.PodRunning)),
			want:   Nothing,
		},
		"WorkerRestartRecreatesGroup": {
			reason: "RecreateGroupOnPodRestart: a restarted worker recreates its group.",
			pod:    worker(1, corev1.PodRunning),
			group:  group(v1alpha1.RecreateGroupOnPodRestart, worker(1, corev1.PodRunning)),
			want:   Recreate,
		},
		"LeaderRestartRecreatesGroup": {
			reason: "A restarted leader recreates its group too.",
			pod:    pod("lws-0", "leader-uid", nil, corev1.PodRunning, 2),
			group:  group(v1alpha1.RecreateGroupOnPodRestart, worker(0, corev1.PodRunning)),
			want:   Recreate,
		},
		"DeletedWorkerRecreatesGroup": {
			reason: "A worker being deleted (a node loss, an eviction) recreates its group.",
			pod:    deleting(worker(0, corev1.PodRunning)),
			group:  group(v1alpha1.RecreateGroupOnPodRestart, worker(0, corev1.PodRunning)),
			want:   Recreate,
		},
		"FailedPodRestartsDoNotCount": {
			reason: "Restart counts of a failed pod do not trigger.",
			pod:    worker(3, corev1.PodFailed),
			group:  group(v1alpha1.RecreateGroupOnPodRestart, worker(3, corev1.PodFailed)),
			want:   Nothing,
		},
		"PolicyNone": {
			reason: "None leaves restarts to the StatefulSet.",
			pod:    worker(1, corev1.PodRunning),
			group:  group(v1alpha1.NoneRestartPolicy, worker(1, corev1.PodRunning)),
			want:   Nothing,
		},
		"AfterStartHeldWhilePending": {
			reason: "RecreateGroupAfterStart holds the restart while a pod of the group is pending.",
			pod:    worker(1, corev1.PodRunning),
			group:  group(v1alpha1.RecreateGroupAfterStart, worker(1, corev1.PodPending)),
			want:   Held,
		},
		"AfterStartHeldWhileMissing": {
			reason: "A group missing a pod is pending.",
			pod:    worker(1, corev1.PodRunning),
			group:  group(v1alpha1.RecreateGroupAfterStart),
			want:   Held,
		},
		"AfterStartAllRunning": {
			reason: "RecreateGroupAfterStart recreates once every pod runs.",
			pod:    worker(1, corev1.PodRunning),
			group:  group(v1alpha1.RecreateGroupAfterStart, worker(1, corev1.PodRunning)),
			want:   Recreate,
		},
		"AnnotationActsAsAfterStart": {
			reason: "The legacy annotation with RecreateGroupOnPodRestart behaves as RecreateGroupAfterStart.",
			pod:    worker(1, corev1.PodRunning),
			group: func() Group {
				g := group(v1alpha1.RecreateGroupOnPodRestart, worker(1, corev1.PodPending))
				g.AfterStartAnnotation = true
				return g
			}(),
			want: Held,
		},
		"LeaderAlreadyDeletingLws804": {
			reason: "lws#804: a leader already being deleted is not deleted again.",
			pod:    worker(1, corev1.PodRunning),
			group: func() Group {
				g := group(v1alpha1.RecreateGroupOnPodRestart, worker(1, corev1.PodRunning))
				l := deleting(leader)
				g.Leader = &l
				return g
			}(),
			want: Deleting,
		},
		"WorkerOfReplacedLeaderLws998": {
			reason: "lws#998: a worker of the previous worker StatefulSet, deleted in the background, does not restart the new group.",
			pod:    deleting(pod("lws-0-1", "old", ref("StatefulSet", "lws-0", "old-workers-uid"), corev1.PodRunning, 0)),
			group:  group(v1alpha1.RecreateGroupOnPodRestart, worker(0, corev1.PodRunning)),
			want:   Stale,
		},
		"WorkerOfOldRevision": {
			reason: "A worker on another revision than its leader is about to be replaced by the rollout.",
			pod: func() corev1.Pod {
				p := worker(1, corev1.PodRunning)
				p.Labels[lws.LabelRevisionKey] = "r0"
				return p
			}(),
			group: group(v1alpha1.RecreateGroupOnPodRestart, worker(1, corev1.PodRunning)),
			want:  Stale,
		},
		"NoLeader": {
			reason: "Without a leader there is nothing to delete.",
			pod:    worker(1, corev1.PodRunning),
			group:  Group{Policy: v1alpha1.RecreateGroupOnPodRestart, Size: 1, Pods: pointers([]corev1.Pod{worker(1, corev1.PodRunning)})},
			want:   Nothing,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Decide(&tc.pod, tc.group); got != tc.want {
				t.Errorf("%s\nDecide(...) = %d, want %d", tc.reason, got, tc.want)
			}
		})
	}
}

func TestContainerRestarted(t *testing.T) {
	deleting := pod("lws-0-1", "w", nil, corev1.PodRunning, 1)
	deleting.DeletionTimestamp = &metav1.Time{}
	initRestarted := pod("lws-0-1", "w", nil, corev1.PodPending, 0)
	initRestarted.Status.InitContainerStatuses = []corev1.ContainerStatus{{RestartCount: 2}}
	cases := map[string]struct {
		pod  corev1.Pod
		want bool
	}{
		"RunningContainerRestarted": {pod: pod("lws-0-1", "w", nil, corev1.PodRunning, 1), want: true},
		"InitContainerRestarted":    {pod: initRestarted, want: true},
		"NeverRestarted":            {pod: pod("lws-0-1", "w", nil, corev1.PodRunning, 0)},
		// Its restarts are history: a failed pod's group is not urgent.
		"FailedPod": {pod: pod("lws-0-1", "w", nil, corev1.PodFailed, 3)},
		// A pod being deleted triggers a restart, but not as a restarted
		// container: it goes with its group's teardown too.
		"BeingDeleted": {pod: deleting},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ContainerRestarted(&tc.pod); got != tc.want {
				t.Errorf("ContainerRestarted(...) = %t, want %t", got, tc.want)
			}
		})
	}
}

func pointers(pods []corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, len(pods))
	for i := range pods {
		out[i] = &pods[i]
	}
	return out
}
