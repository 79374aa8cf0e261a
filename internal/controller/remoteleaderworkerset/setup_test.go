package remoteleaderworkerset

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/lws-crossplane/lws-crossplane/apis"
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// TestChangedUrgentSkipsTheBatch: a change that follows a reconcile within
// the batch period waits for the batch, unless it is a restarted container
// or a pod held by our scheduling gate.
func TestChangedUrgentSkipsTheBatch(t *testing.T) {
	labelled := metav1.ObjectMeta{Namespace: "ns", Name: "lws-0-1", Labels: map[string]string{lws.LabelName: "lws"}}
	running := func(restarts int32) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: labelled, Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{RestartCount: restarts}}}}
	}
	cases := map[string]struct {
		change     client.Object
		wantUrgent bool
	}{
		"PodReadyWaits":                 {change: running(0)},
		"ServiceWaits":                  {change: &corev1.Service{ObjectMeta: labelled}},
		"RestartedContainerIsUrgent":    {change: running(1), wantUrgent: true},
		"PodHeldByOurGateIsUrgent":      {change: &corev1.Pod{ObjectMeta: labelled, Spec: corev1.PodSpec{SchedulingGates: []corev1.PodSchedulingGate{{Name: lws.SchedulingGate}}}}, wantUrgent: true},
		"PodHeldByAnotherGateWaits":     {change: &corev1.Pod{ObjectMeta: labelled, Spec: corev1.PodSpec{SchedulingGates: []corev1.PodSchedulingGate{{Name: "example.com/quota"}}}}},
		"RestartedButBeingDeletedWaits": {change: func() client.Object { p := running(1); p.DeletionTimestamp = &metav1.Time{Time: time.Now()}; return p }()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e, q := enqueuerFor(t, time.Hour)
			ctx := context.Background()
			e.Changed(ctx, clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: "default"}, running(0))
			if got := len(e.events); got != 1 {
				t.Fatalf("a first change: %d reconciles now, want 1", got)
			}
			<-e.events
			e.Changed(ctx, clusters.Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: "default"}, tc.change)
			if urgent := len(e.events) == 1; urgent != tc.wantUrgent {
				t.Errorf("a change within the batch reconciled now: %t, want %t (delayed in the queue: %d)", urgent, tc.wantUrgent, q.Len())
			}
		})
	}
}

// enqueuerFor is an Enqueuer with a started queue, over one managed
// resource that runs LeaderWorkerSet ns/lws through the "default"
// ClusterProviderConfig.
func enqueuerFor(t *testing.T, batch time.Duration) (*Enqueuer, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	t.Helper()
	s := runtime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	mr := &v1alpha1.RemoteLeaderWorkerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "lws-default"}}
	mr.Spec.ForProvider.Namespace, mr.Spec.ForProvider.Name = "ns", "lws"
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(mr).WithIndex(&v1alpha1.RemoteLeaderWorkerSet{}, indexTarget, func(o client.Object) []string {
		return []string{TargetOf(o.(*v1alpha1.RemoteLeaderWorkerSet)).String()}
	}).Build()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	t.Cleanup(q.ShutDown)
	e := NewEnqueuer(c, batch)
	if err := e.start(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	return e, q
}
