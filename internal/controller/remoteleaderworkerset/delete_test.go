package remoteleaderworkerset

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// TestDelete: deleting a managed resource removes, in its target cluster,
// the leader StatefulSet (and through it the groups), the shared Services
// and the revisions, and nothing else, whatever is gone already.
func TestDelete(t *testing.T) {
	ours := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{lws.LabelName: "lws"}}
	}
	owned := ours("lws-0")
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "lws-0", UID: "leader"}}
	objects := func() []client.Object {
		return []client.Object{
			&appsv1.StatefulSet{ObjectMeta: ours("lws")},
			&corev1.Service{ObjectMeta: ours("lws")},
			&corev1.Service{ObjectMeta: owned},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "someone-elses"}},
			&appsv1.ControllerRevision{ObjectMeta: ours("lws-abc")},
		}
	}
	cases := map[string]struct {
		reason   string
		existing []client.Object
		funcs    interceptor.Funcs
		wantErr  string
		// left are the Services left in the cluster.
		left []string
	}{
		"RemovesWhatTheProviderMade": {
			reason:   "The leader StatefulSet, the shared Service and the revision go; a group's Service goes with its leader, and others' objects stay.",
			existing: objects(),
			left:     []string{"lws-0", "someone-elses"},
		},
		"NothingLeftIsDone": {
			reason: "A LeaderWorkerSet gone already (a retried deletion) deletes nothing, without error.",
		},
		"AServiceGoneMeanwhileIsNoError": {
			reason:   "The shared Service deleted between the list and the delete: nothing more to do.",
			existing: objects(),
			funcs: interceptor.Funcs{Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				if _, ok := obj.(*corev1.Service); ok {
					_ = c.Delete(ctx, obj, opts...)
					return kerrors.NewNotFound(schema.GroupResource{Resource: "services"}, obj.GetName())
				}
				return c.Delete(ctx, obj, opts...)
			}},
			left: []string{"lws-0", "someone-elses"},
		},
		"RefusedNamesWhat": {
			reason:   "A refused deletion is the reconcile's error, saying what could not be deleted.",
			existing: objects(),
			funcs: interceptor.Funcs{Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error {
				return kerrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "lws", nil)
			}},
			wantErr: "cannot delete leader StatefulSet",
			left:    []string{"lws", "lws-0", "someone-elses"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithObjects(tc.existing...).WithInterceptorFuncs(tc.funcs).Build()
			e := &external{remote: c, live: c, forget: func() {}}
			mr := &v1alpha1.RemoteLeaderWorkerSet{}
			mr.Spec.ForProvider.Namespace, mr.Spec.ForProvider.Name = "ns", "lws"
			_, err := e.Delete(context.Background(), mr)
			wantError(t, tc.reason, err, tc.wantErr)
			var svcs corev1.ServiceList
			if err := c.List(context.Background(), &svcs); err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, s := range svcs.Items {
				left = append(left, s.Name)
			}
			if strings.Join(left, ",") != strings.Join(tc.left, ",") {
				t.Errorf("%s\nServices left %v, want %v", tc.reason, left, tc.left)
			}
			if tc.wantErr == "" {
				if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "lws"}, &appsv1.StatefulSet{}); !kerrors.IsNotFound(err) {
					t.Errorf("%s\nleader StatefulSet: %v, want it deleted", tc.reason, err)
				}
				var revs appsv1.ControllerRevisionList
				if err := c.List(context.Background(), &revs); err != nil || len(revs.Items) != 0 {
					t.Errorf("%s\nrevisions %d (%v), want none", tc.reason, len(revs.Items), err)
				}
			}
		})
	}
}
