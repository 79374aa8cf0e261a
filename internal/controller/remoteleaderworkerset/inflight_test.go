package remoteleaderworkerset

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func TestInFlight(t *testing.T) {
	now := time.Unix(1000, 0)
	pod := func(rv string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lws-0", UID: "pod-uid", ResourceVersion: rv}}
	}
	workers := func(owner string) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "lws-0", Namespace: "ns",
			OwnerReferences: []metav1.OwnerReference{{UID: types.UID("leader-" + owner)}}}}
	}
	cases := map[string]struct {
		reason string
		do     func(f *inFlight) bool
		want   bool
	}{
		"ReleasedPodNotYetCached": {
			reason: "A pod given its identity is not patched again while the cache does not show it.",
			do:     func(f *inFlight) bool { f.release(pod("1"), now); return f.releasing(pod("2"), now.Add(time.Second)) },
			want:   true,
		},
		"ReleaseNeverSeen": {
			reason: "A release that the cache never shows is made again after inFlightTTL.",
			do:     func(f *inFlight) bool { f.release(pod("1"), now); return f.releasing(pod("1"), now.Add(inFlightTTL)) },
		},
		"RecreatedPod": {
			reason: "A pod recreated under the same name is another pod, and is released at once.",
			do: func(f *inFlight) bool {
				f.release(pod("1"), now)
				p := pod("1")
				p.UID = "new"
				return f.releasing(p, now.Add(time.Second))
			},
		},
		"CreatedWorkersNotYetCached": {
			reason: "A worker StatefulSet just created is not created again.",
			do: func(f *inFlight) bool {
				f.create("StatefulSet", workers("a"), now)
				return f.creating("StatefulSet", workers("a"), now.Add(time.Second))
			},
			want: true,
		},
		"RecreatedGroupsWorkers": {
			reason: "A recreated group's worker StatefulSet has the old name but a new owner, and is created at once.",
			do: func(f *inFlight) bool {
				f.create("StatefulSet", workers("a"), now)
				return f.creating("StatefulSet", workers("b"), now.Add(time.Second))
			},
		},
		"ExpiredCreate": {
			reason: "expire forgets old writes.",
			do: func(f *inFlight) bool {
				f.create("StatefulSet", workers("a"), now)
				f.expire(now.Add(inFlightTTL))
				return len(f.created.at) != 0
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.do((&inFlights{}).of("mr")); got != tc.want {
				t.Errorf("%s\nwant %v, got %v", tc.reason, tc.want, got)
			}
		})
	}
}

func TestInFlightRetain(t *testing.T) {
	now := time.Unix(1000, 0)
	workers := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "lws-0", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{UID: "leader"}}}}
	f := (&inFlights{}).of("mr")
	f.create("StatefulSet", workers, now)
	f.retain(&groups.Plan{Workers: []*appsv1.StatefulSet{workers}})
	if !f.creating("StatefulSet", workers, now.Add(time.Second)) {
		t.Error("while the plan still asks for it, a created StatefulSet is in flight")
	}
	f.retain(&groups.Plan{})
	if f.creating("StatefulSet", workers, now.Add(2*time.Second)) {
		t.Error("once a plan no longer asks for it, the cache has it: deleted later, it is created again at once")
	}
}

func TestInFlightsPerManagedResource(t *testing.T) {
	fs := &inFlights{}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "lws", Namespace: "ns"}}
	fs.of("us-east").create("Service", svc, time.Unix(1000, 0))
	if fs.of("eu-west").creating("Service", svc, time.Unix(1001, 0)) {
		t.Error("a Service created for one managed resource is not in flight for another, whose cluster has one of the same name")
	}
	fs.forget("us-east")
	if fs.of("us-east").creating("Service", svc, time.Unix(1001, 0)) {
		t.Error("a deleted managed resource's writes are forgotten")
	}
}

// TestReleasingIn: planning learns which gated pods' releases are in
// flight, and no others (a subgroup anchor must stay first while its
// release is not cached, TestSubGroupPlacement).
func TestReleasingIn(t *testing.T) {
	now := time.Unix(1000, 0)
	gate := []corev1.PodSchedulingGate{{Name: lws.SchedulingGate}}
	pods := []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "released-not-cached", UID: "a"}, Spec: corev1.PodSpec{SchedulingGates: gate}},
		{ObjectMeta: metav1.ObjectMeta{Name: "released-and-cached", UID: "b"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "never-released", UID: "c"}, Spec: corev1.PodSpec{SchedulingGates: gate}},
	}
	f := (&inFlights{}).of("mr")
	f.release(&pods[0], now)
	f.release(&pods[1], now)
	got := f.releasingIn(pods, now.Add(time.Second))
	if len(got) != 1 || !got["a"] {
		t.Errorf("releasingIn = %v, want only the gated pod released in flight", got)
	}
}
