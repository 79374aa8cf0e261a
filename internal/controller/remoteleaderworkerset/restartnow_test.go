package remoteleaderworkerset

import (
	"context"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/clusters"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/metrics"
)

// TestRestartNowFastPath: a restarted pod's change recreates its group
// from the cache, once however many changes of the pod follow, and tells
// of it once; what the managed resource forbids, or the fast path cannot
// decide alone, is left to the reconcile.
func TestRestartNowFastPath(t *testing.T) {
	cases := map[string]struct {
		reason string
		edit   func(mr *v1alpha1.RemoteLeaderWorkerSet)
		funcs  interceptor.Funcs
		// want: the group is recreated, and told of, once.
		want bool
	}{
		"RecreatesOnceForManyChanges": {
			reason: "Every later change of the restarted pod finds the recreation in flight.",
			want:   true,
		},
		"GroupRestartIsTheReconciles": {
			reason: "Under spec.groupRestart the backoff and budget are the reconcile's.",
			edit: func(mr *v1alpha1.RemoteLeaderWorkerSet) {
				mr.Spec.ForProvider.GroupRestart = &v1alpha1.GroupRestart{MaxRestarts: ptr.To[int32](2)}
			},
		},
		"PausedManagedResourceChangesNothing": {
			reason: "crossplane.io/paused stops every write.",
			edit: func(mr *v1alpha1.RemoteLeaderWorkerSet) {
				mr.Annotations[meta.AnnotationKeyReconciliationPaused] = "true"
			},
		},
		"ObserveOnlyChangesNothing": {
			reason: "A management policy without Update does not recreate groups.",
			edit: func(mr *v1alpha1.RemoteLeaderWorkerSet) {
				mr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
			},
		},
		"RefusedDeletionIsLeftToTheReconcile": {
			reason: "A deletion the cluster refuses is not told of, and not claimed, so that the reconcile makes it.",
			funcs: interceptor.Funcs{Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error {
				return kerrors.NewForbidden(corev1.Resource("pods"), "lws-1", nil)
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := compose.LeaderWorkerSet{Name: "lws", Namespace: "ns", Spec: v1alpha1.LeaderWorkerSetSpec{Replicas: ptr.To[int32](2),
				LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{Size: ptr.To[int32](2),
					WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}}
			targets, err := compose.Plan(l, nil)
			if err != nil {
				t.Fatal(err)
			}
			mr := targets[0].Resource
			// As the API server defaults them.
			mr.UID, mr.Annotations, mr.Spec.ManagementPolicies = "mr", map[string]string{}, xpv2.ManagementPolicies{xpv2.ManagementActionAll}
			if tc.edit != nil {
				tc.edit(mr)
			}
			sim := groups.NewSimulation(mr.Spec.ForProvider)
			if _, err := sim.Converge(metav1.Now()); err != nil {
				t.Fatal(err)
			}
			worker := sim.Pod("lws-1-1")
			worker.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 1}}
			var objs []client.Object
			for i := range sim.Pods {
				objs = append(objs, &sim.Pods[i])
			}
			for i := range sim.Workers {
				objs = append(objs, &sim.Workers[i])
			}
			s := runtime.NewScheme()
			if err := corev1.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			if err := appsv1.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			deletes := 0
			funcs := tc.funcs
			if funcs.Delete == nil {
				funcs.Delete = func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
					deletes++
					return c.Delete(ctx, obj, opts...)
				}
			}
			c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).WithInterceptorFuncs(funcs).Build()
			rec := &events{}
			m, err := metrics.New(prometheus.NewRegistry(), metav1.Now().Time)
			if err != nil {
				t.Fatal(err)
			}
			r := &restarter{clusters: oneCluster{c}, recorder: rec, metrics: m, inFlight: &inFlights{}}
			for range 3 {
				r.podChanged(context.Background(), mr, worker)
			}
			if got := deletes == 1 && len(rec.got) == 1; got != tc.want {
				t.Fatalf("%s\n%d deletions and events %v, want one of each: %t", tc.reason, deletes, rec.got, tc.want)
			}
			if tc.want && rec.got[0].Reason != groups.ReasonRecreateGroup {
				t.Errorf("event %+v, want reason %s", rec.got[0], groups.ReasonRecreateGroup)
			}
			if !tc.want && tc.funcs.Delete != nil && !r.inFlight.of(mr.UID).recreate(sim.Pod("lws-1"), metav1.Now().Time) {
				t.Error("a refused recreation is still claimed, want it left to the reconcile")
			}
		})
	}
}

// oneCluster is Clusters for one target cluster behind a client.
type oneCluster struct{ c client.Client }

func (o oneCluster) Client(context.Context, *v1alpha1.RemoteLeaderWorkerSet) (client.Client, client.Reader, error) {
	return o.c, o.c, nil
}

func (oneCluster) Settings(*v1alpha1.RemoteLeaderWorkerSet) clusters.Settings {
	return clusters.Settings{}
}

func (oneCluster) Gang(context.Context, *v1alpha1.RemoteLeaderWorkerSet) (lws.GangScheduler, error) {
	return "", nil
}

// events records the events of a recorder.
type events struct{ got []event.Event }

func (e *events) Event(_ runtime.Object, ev event.Event) { e.got = append(e.got, ev) }

func (e *events) WithAnnotations(...string) event.Recorder { return e }
