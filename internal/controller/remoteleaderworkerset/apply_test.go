package remoteleaderworkerset

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1alpha1 "k8s.io/api/scheduling/v1alpha1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// The shell's write paths against controller-runtime's fake client, with
// the API server's answers that real clusters rarely give on cue
// (conflicts, objects gone or there already) injected by interceptors.
func TestApply(t *testing.T) {
	meta := func(name string, uid types.UID) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "ns", Name: name, UID: uid}
	}
	workers := func() *appsv1.StatefulSet { return &appsv1.StatefulSet{ObjectMeta: meta("lws-0", "")} }
	gatedPod := func() *corev1.Pod {
		return &corev1.Pod{ObjectMeta: meta("lws-0-1", "pod-uid"), Spec: corev1.PodSpec{SchedulingGates: []corev1.PodSchedulingGate{{Name: lws.SchedulingGate}}}}
	}
	leader := func(uid types.UID) *corev1.Pod { return &corev1.Pod{ObjectMeta: meta("lws-0", uid)} }
	gr := func(resource string) schema.GroupResource { return schema.GroupResource{Resource: resource} }
	workload := func(owner, uid types.UID) *schedulingv1alpha1.Workload {
		w := &schedulingv1alpha1.Workload{TypeMeta: metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1alpha1", Kind: "Workload"}, ObjectMeta: meta("lws-0-rev", uid)}
		w.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "lws-0", UID: owner, Controller: ptr.To(true)}}
		return w
	}

	cases := map[string]struct {
		reason string
		// existing objects, and the plan to apply
		existing []client.Object
		plan     func() *groups.Plan
		funcs    interceptor.Funcs
		// before prepares the writes in flight.
		before func(f *inFlight)
		// wantErr is a substring of the error, empty for none.
		wantErr string
		check   func(t *testing.T, c client.Client, f *inFlight)
	}{
		"CreateAlreadyExistsIsDone": {
			reason: "A worker StatefulSet the cache did not show yet is there already: nothing to do, and it is remembered as written.",
			plan:   func() *groups.Plan { return &groups.Plan{Workers: []*appsv1.StatefulSet{workers()}} },
			funcs: interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
				return kerrors.NewAlreadyExists(gr("statefulsets"), "lws-0")
			}},
			check: func(t *testing.T, _ client.Client, f *inFlight) {
				if len(f.created.at) != 1 {
					t.Errorf("in flight %v, want the worker StatefulSet remembered", f.created.at)
				}
			},
		},
		"CreateRefusedNamesTheObject": {
			reason: "Any other refusal is the reconcile's error, naming what could not be created.",
			plan:   func() *groups.Plan { return &groups.Plan{Workers: []*appsv1.StatefulSet{workers()}} },
			funcs: interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
				return kerrors.NewForbidden(gr("statefulsets"), "lws-0", nil)
			}},
			wantErr: "cannot create worker StatefulSet lws-0",
			check: func(t *testing.T, _ client.Client, f *inFlight) {
				if len(f.created.at) != 0 {
					t.Errorf("in flight %v, want nothing remembered of a refused create", f.created.at)
				}
			},
		},
		"IdentifyReleasesAGatedPod": {
			reason:   "A gated pod gets its labels and loses the gate in one patch, and is remembered as released.",
			existing: []client.Object{gatedPod()},
			plan: func() *groups.Plan {
				// As the cache has it: at the version the fake gave it.
				pod := gatedPod()
				pod.ResourceVersion = "999"
				return &groups.Plan{Identities: []groups.Identity{{Pod: pod, Labels: map[string]string{lws.LabelWorkerIndex: "1"}}}}
			},
			check: func(t *testing.T, c client.Client, f *inFlight) {
				pod := &corev1.Pod{}
				if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "lws-0-1"}, pod); err != nil {
					t.Fatal(err)
				}
				if len(pod.Spec.SchedulingGates) != 0 || pod.Labels[lws.LabelWorkerIndex] != "1" || len(f.released.at) != 1 {
					t.Errorf("pod gates %v, labels %v, released %v; want released with its worker index", pod.Spec.SchedulingGates, pod.Labels, f.released.at)
				}
			},
		},
		"IdentifyConflictWaitsForTheNextPlan": {
			reason:   "A pod changed since it was planned from: no error, not remembered, so the plan its change triggers releases it.",
			existing: []client.Object{gatedPod()},
			plan:     func() *groups.Plan { return &groups.Plan{Identities: []groups.Identity{{Pod: gatedPod()}}} },
			funcs: interceptor.Funcs{Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
				return kerrors.NewConflict(gr("pods"), "lws-0-1", nil)
			}},
			check: func(t *testing.T, _ client.Client, f *inFlight) {
				if len(f.released.at) != 0 {
					t.Errorf("released %v, want nothing after a conflict", f.released.at)
				}
			},
		},
		"IdentifyNotFoundIsNoError": {
			reason: "A pod deleted since it was planned from needs no identity.",
			plan:   func() *groups.Plan { return &groups.Plan{Identities: []groups.Identity{{Pod: gatedPod()}}} },
		},
		"IdentifyRefusedIsAnError": {
			reason:   "Any other refusal is the reconcile's error, naming the pod.",
			existing: []client.Object{gatedPod()},
			plan:     func() *groups.Plan { return &groups.Plan{Identities: []groups.Identity{{Pod: gatedPod()}}} },
			funcs: interceptor.Funcs{Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
				return kerrors.NewForbidden(gr("pods"), "lws-0-1", nil)
			}},
			wantErr: "cannot release pod lws-0-1",
		},
		"RestartDeletesTheLeaderPlannedFrom": {
			reason:   "A group restart deletes the leader it saw, by UID precondition, in the foreground.",
			existing: []client.Object{leader("leader-1")},
			plan:     func() *groups.Plan { return &groups.Plan{Restarts: []groups.Recreation{{Leader: leader("leader-1")}}} },
			check: func(t *testing.T, c client.Client, _ *inFlight) {
				err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "lws-0"}, &corev1.Pod{})
				if !kerrors.IsNotFound(err) {
					t.Errorf("leader still there (%v), want it deleted", err)
				}
			},
		},
		"RestartOfAReplacedLeaderIsLeftAlone": {
			reason:   "The leader was replaced since (another UID): the UID precondition fails with a conflict, which is no error, and the new leader stays.",
			existing: []client.Object{leader("leader-2")},
			plan:     func() *groups.Plan { return &groups.Plan{Restarts: []groups.Recreation{{Leader: leader("leader-1")}}} },
			funcs: interceptor.Funcs{Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				o := &client.DeleteOptions{}
				o.ApplyOptions(opts)
				current := &corev1.Pod{}
				if err := c.Get(ctx, client.ObjectKeyFromObject(obj), current); err != nil {
					return err
				}
				if o.Preconditions == nil || o.Preconditions.UID == nil || *o.Preconditions.UID != current.UID {
					return kerrors.NewConflict(gr("pods"), obj.GetName(), nil)
				}
				return c.Delete(ctx, obj, opts...)
			}},
			check: func(t *testing.T, c client.Client, _ *inFlight) {
				pod := &corev1.Pod{}
				if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "lws-0"}, pod); err != nil || pod.UID != "leader-2" {
					t.Errorf("leader %v (%v), want the new leader-2 kept", pod.UID, err)
				}
			},
		},
		"RestartMadeAlreadyIsNotMadeAgain": {
			reason:   "A recreation the fast path made, or a plan from a cache that does not show it yet, is not made again.",
			existing: []client.Object{leader("leader-1")},
			plan:     func() *groups.Plan { return &groups.Plan{Restarts: []groups.Recreation{{Leader: leader("leader-1")}}} },
			before:   func(f *inFlight) { f.recreate(leader("leader-1"), time.Now()) },
			check: func(t *testing.T, c client.Client, _ *inFlight) {
				if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "lws-0"}, &corev1.Pod{}); err != nil {
					t.Errorf("leader deleted again (%v), want it left to the recreation in flight", err)
				}
			},
		},
		"RestartRefusedIsGivenUp": {
			reason:   "A refused deletion is the reconcile's error, and its claim is given up so that the next plan makes it.",
			existing: []client.Object{leader("leader-1")},
			plan:     func() *groups.Plan { return &groups.Plan{Restarts: []groups.Recreation{{Leader: leader("leader-1")}}} },
			funcs: interceptor.Funcs{Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error {
				return kerrors.NewForbidden(gr("pods"), "lws-0", nil)
			}},
			wantErr: "cannot delete leader pod lws-0",
			check: func(t *testing.T, _ client.Client, f *inFlight) {
				if !f.recreate(leader("leader-1"), time.Now()) {
					t.Error("the refused recreation is still claimed, want it given up")
				}
			},
		},
		"RestartOfAGoneLeaderIsNoError": {
			reason: "The leader is gone already: nothing to delete.",
			plan:   func() *groups.Plan { return &groups.Plan{Restarts: []groups.Recreation{{Leader: leader("leader-1")}}} },
		},
		"EndpointSliceConflictWaitsForTheNextPlan": {
			reason: "An EndpointSlice updated since it was planned from: the change that did it is watched, and plans again.",
			plan: func() *groups.Plan {
				return &groups.Plan{EndpointSliceUpdates: []*discoveryv1.EndpointSlice{{ObjectMeta: meta("lws-0", "")}}}
			},
			funcs: interceptor.Funcs{Update: func(context.Context, client.WithWatch, client.Object, ...client.UpdateOption) error {
				return kerrors.NewConflict(gr("endpointslices"), "lws-0", nil)
			}},
		},
		"GangOfAReplacedLeaderMadeAnew": {
			reason:   "A group's Workload owned by the leader it had is deleted, by UID, and made again for the new leader in the same apply.",
			existing: []client.Object{workload("old-leader", "w-old")},
			plan: func() *groups.Plan {
				stale := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1alpha1", Kind: "Workload"}, ObjectMeta: meta("lws-0-rev", "w-old")}
				return &groups.Plan{StaleGangs: []*metav1.PartialObjectMetadata{stale}, Gangs: []groups.GangObject{workload("new-leader", "")}}
			},
			check: func(t *testing.T, c client.Client, _ *inFlight) {
				w := &schedulingv1alpha1.Workload{}
				if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "lws-0-rev"}, w); err != nil {
					t.Fatal(err)
				}
				if o := metav1.GetControllerOf(w); o == nil || o.UID != "new-leader" {
					t.Errorf("Workload owned by %+v, want the new leader", o)
				}
			},
		},
		"GangCreateRefusedNamesTheObject": {
			reason: "A refused gang object is the reconcile's error, naming its kind and name.",
			plan:   func() *groups.Plan { return &groups.Plan{Gangs: []groups.GangObject{workload("leader", "")}} },
			funcs: interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
				return kerrors.NewForbidden(gr("workloads"), "lws-0-rev", nil)
			}},
			wantErr: "cannot create Workload lws-0-rev",
		},
		"PruneOfAGoneRevisionIsNoError": {
			reason: "A revision deleted already needs no pruning.",
			plan: func() *groups.Plan {
				return &groups.Plan{Prune: []*appsv1.ControllerRevision{{ObjectMeta: meta("lws-abc", "")}}}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithObjects(tc.existing...).WithInterceptorFuncs(tc.funcs).Build()
			f := (&inFlights{}).of("mr")
			if tc.before != nil {
				tc.before(f)
			}
			wantError(t, tc.reason, apply(context.Background(), c, tc.plan(), f), tc.wantErr)
			if tc.check != nil {
				tc.check(t, c, f)
			}
		})
	}
}

// wantError fails t unless err contains want, or is nil when want is empty.
func wantError(t *testing.T, reason string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("%s\n%v, want no error", reason, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("%s\n%v, want an error containing %q", reason, err, want)
	}
}
