package compose

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// FuzzPlan plans and renders arbitrary LeaderWorkerSets. Planning may reject
// them but never panics, and every object of a plan it accepts has a valid
// name, valid labels and valid annotations, as the API server would check.
func FuzzPlan(f *testing.F) {
	f.Add("test-sample", int32(3), int32(4), int32(0), false, false, "1", "0", "", uint8(1))
	f.Add("tpu", int32(2), int32(5), int32(2), true, true, "50%", "1", "cloud.google.com/gke-nodepool", uint8(2))
	f.Add(strings.Repeat("a", 49), int32(9), int32(3), int32(1), false, false, "0", "100%", "zone", uint8(3))
	f.Fuzz(func(t *testing.T, name string, replicas, size, sgs int32, excluded, unique bool, unavail, surge, topology string, clusters uint8) {
		if replicas > 64 || size > 64 {
			return // Bounded so that a run renders quickly; names scale with digits only.
		}
		s := v1alpha1.LeaderWorkerSetSpec{
			Replicas: &replicas,
			LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
				Size:           &size,
				WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
			},
			RolloutStrategy: v1alpha1.RolloutStrategy{RollingUpdateConfiguration: &v1alpha1.RollingUpdateConfiguration{
				MaxUnavailable: intstr.Parse(unavail), MaxSurge: intstr.Parse(surge),
			}},
		}
		if sgs != 0 {
			typ := v1alpha1.SubGroupPolicyTypeLeaderWorker
			if excluded {
				typ = v1alpha1.SubGroupPolicyTypeLeaderExcluded
			}
			s.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{Type: &typ, SubGroupSize: &sgs}
		}
		if unique {
			s.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
		}
		p := &v1alpha1.Placement{}
		for i := range int(clusters % 4) {
			p.Clusters = append(p.Clusters, v1alpha1.ClusterTarget{Name: fmt.Sprintf("c%d", i)})
		}
		s.Placement = p
		l := LeaderWorkerSet{Name: name, Namespace: "ns", Annotations: map[string]string{lws.AnnotationExclusiveTopology: topology}, Spec: s}
		targets, err := Plan(l, nil)
		if err != nil {
			return
		}
		for _, tg := range targets {
			fp := &tg.Resource.Spec.ForProvider
			in, err := groups.CurrentInput(fp)
			if err != nil {
				t.Fatalf("Input: %v", err)
			}
			leader, err := groups.LeaderStatefulSet(in, tg.Rollout)
			if err != nil {
				t.Fatalf("LeaderStatefulSet: %v", err)
			}
			checkStatefulSet(t, leader, int(tg.Groups+tg.Rollout.MaxSurge))
			for g := range int(tg.Groups + tg.Rollout.MaxSurge) {
				checkName(t, "leader pod", lws.LeaderPodName(name, g))
				if in.UniquePerReplica() {
					checkName(t, "group Service", in.GroupService(g).Name)
				}
				if in.Size() < 2 {
					continue
				}
				w, err := in.WorkerStatefulSet(g, "x")
				if err != nil {
					t.Fatalf("WorkerStatefulSet: %v", err)
				}
				checkStatefulSet(t, w, int(in.Size()))
			}
		}
	})
}

func checkStatefulSet(t *testing.T, s *appsv1.StatefulSet, pods int) {
	t.Helper()
	checkName(t, "StatefulSet", s.Name)
	// The StatefulSet controller labels pods with "<name>-<hash>".
	for _, msg := range validation.IsValidLabelValue(s.Name + "-" + strings.Repeat("b", 10)) {
		t.Errorf("controller-revision-hash of %s: %s", s.Name, msg)
	}
	start := int32(0)
	if s.Spec.Ordinals != nil {
		start = s.Spec.Ordinals.Start
	}
	checkName(t, "pod", fmt.Sprintf("%s-%d", s.Name, int(start)+pods-1))
	for _, m := range []map[string]string{s.Labels, s.Spec.Template.Labels} {
		for k, v := range m {
			for _, msg := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
				t.Errorf("%s label %s=%s: %s", s.Name, k, v, msg)
			}
		}
	}
	for k := range s.Spec.Template.Spec.NodeSelector {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s nodeSelector key %s: %s", s.Name, k, msg)
		}
	}
	for _, m := range []map[string]string{s.Annotations, s.Spec.Template.Annotations} {
		for k := range m {
			for _, msg := range validation.IsQualifiedName(k) {
				t.Errorf("%s annotation %s: %s", s.Name, k, msg)
			}
		}
	}
}

func checkName(t *testing.T, kind, name string) {
	t.Helper()
	for _, msg := range validation.IsDNS1123Label(name) {
		t.Errorf("%s name %q: %s", kind, name, msg)
	}
}
