package chaos

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func uid(s string) types.UID { return types.UID(s) }

func owned(by string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{UID: uid(by), Controller: ptr.To(true)}}
}

func set(name, u, owner string, replicas int32) appsv1.StatefulSet {
	s := appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name, UID: uid(u)}, Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(replicas)}}
	if owner != "" {
		s.OwnerReferences = owned(owner)
	}
	return s
}

func pod(name, u, owner, revision, index string, isReady bool) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: uid(u), OwnerReferences: owned(owner),
		Labels: map[string]string{lws.LabelRevisionKey: revision, appsv1.PodIndexLabel: index}}}
	p.Status.Phase = corev1.PodRunning
	status := corev1.ConditionFalse
	if isReady {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	return p
}

func terminating(p corev1.Pod) corev1.Pod {
	p.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	return p
}

func TestSnapshotGroupsPodsByOwnership(t *testing.T) {
	sets := []appsv1.StatefulSet{
		set("x", "leaders", "", 3),
		set("x-0", "w0", "l0", 1),
		set("x-1", "w1", "l1", 2),
		// The worker set of group 2's previous leader, being removed.
		set("x-2", "w2-old", "l2-old", 1),
	}
	pods := []corev1.Pod{
		pod("x-0", "l0", "leaders", "r1", "0", true),
		pod("x-0-1", "p01", "w0", "r1", "1", true),
		pod("x-1", "l1", "leaders", "r2", "1", true),
		pod("x-1-1", "p11", "w1", "r2", "1", true),
		pod("x-1-2", "p12", "w1", "r2", "2", false),
		// Group 2's new leader; its predecessor's worker is not its own.
		pod("x-2", "l2", "leaders", "r2", "2", true),
		pod("x-2-1", "p21-old", "w2-old", "r1", "1", true),
		terminating(pod("x-3", "l3-old", "leaders", "r1", "3", true)),
	}
	got := Snapshot("a", pods, sets, func(p *corev1.Pod) bool { return p.Labels[lws.LabelRevisionKey] == "r2" })
	want := Cluster{Name: "a", Replicas: 3, Groups: []Group{
		{Index: 0, Leader: "l0", Revision: "r1", Ready: true, WorkerRevisions: []string{"r1"}, WorkerSets: 1, Pods: []string{"x-0", "x-0-1"}},
		{Index: 1, Leader: "l1", Revision: "r2", Ready: false, Current: true, WorkerRevisions: []string{"r2", "r2"}, WorkerSets: 1, Pods: []string{"x-1", "x-1-1", "x-1-2"}},
		{Index: 2, Leader: "l2", Revision: "r2", Ready: false, Current: true, Pods: []string{"x-2"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Snapshot:\n got %+v\nwant %+v", got, want)
	}
}
