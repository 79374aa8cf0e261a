package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
)

func input(replicas, size int32, opts ...func(*Input)) Input {
	in := Input{
		Name:      "test-sample",
		Namespace: "ns",
		Spec: lws.Default(&v1alpha1.LeaderWorkerSetSpec{
			Replicas: ptr.To(replicas),
			LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
				Size:           ptr.To(size),
				WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
			},
		}),
		RevisionKey: "rev",
	}
	for _, o := range opts {
		o(&in)
	}
	return in
}

func TestLeaderStatefulSet(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     Input
		r      Rollout
		check  func(t *testing.T, s *appsv1.StatefulSet)
	}{
		"Shape": {
			reason: "Name, selector, service, Parallel pods, partition and replicas as upstream renders them.",
			in:     input(3, 4),
			r:      Rollout{Replicas: 3, Partition: 1, MaxUnavailable: 1},
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				want := appsv1.StatefulSetSpec{
					Replicas:            ptr.To[int32](3),
					Selector:            &metav1.LabelSelector{MatchLabels: map[string]string{lws.LabelName: "test-sample", lws.LabelWorkerIndex: "0"}},
					ServiceName:         "test-sample",
					PodManagementPolicy: appsv1.ParallelPodManagement,
					UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{
						Partition: ptr.To[int32](1), MaxUnavailable: ptr.To(intstr.FromInt32(1)),
					}},
				}
				got := s.Spec.DeepCopy()
				got.Template = corev1.PodTemplateSpec{}
				if diff := cmp.Diff(&want, got); diff != "" {
					t.Errorf("spec: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff(map[string]string{lws.LabelName: "test-sample", lws.LabelRevisionKey: "rev"}, s.Labels); diff != "" {
					t.Errorf("labels: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff(map[string]string{lws.AnnotationReplicas: "3"}, s.Annotations); diff != "" {
					t.Errorf("annotations: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff(map[string]string{lws.LabelName: "test-sample", lws.LabelRevisionKey: "rev", lws.LabelWorkerIndex: "0"}, s.Spec.Template.Labels); diff != "" {
					t.Errorf("template labels: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff([]corev1.PodSchedulingGate{{Name: lws.SchedulingGate}}, s.Spec.Template.Spec.SchedulingGates); diff != "" {
					t.Errorf("leaders wait for their identity behind a scheduling gate: -want, +got:\n%s", diff)
				}
			},
		},
		"MetadataPropagatedControllerWins": {
			reason: "The LWS's labels and annotations reach the StatefulSet; controller keys override user keys.",
			in: input(1, 1, func(in *Input) {
				in.Labels = map[string]string{"team": "a", lws.LabelName: "user"}
				in.Annotations = map[string]string{"note": "b", lws.AnnotationReplicas: "99"}
			}),
			r: Rollout{Replicas: 1, MaxUnavailable: 1},
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				if diff := cmp.Diff(map[string]string{"team": "a", lws.LabelName: "test-sample", lws.LabelRevisionKey: "rev"}, s.Labels); diff != "" {
					t.Errorf("labels: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff(map[string]string{"note": "b", lws.AnnotationReplicas: "1"}, s.Annotations); diff != "" {
					t.Errorf("annotations: -want, +got:\n%s", diff)
				}
			},
		},
		"MaxUnavailableAddsSurge": {
			reason: "maxUnavailable 2 and maxSurge 1 with 1 replica: the StatefulSet may replace 2+min(1,1) = 3 leaders at once.",
			in:     input(1, 1),
			r:      Rollout{Replicas: 1, MaxUnavailable: 2, MaxSurge: 1},
			check:  statefulSetMaxUnavailable(3),
		},
		"MaxUnavailableAtLeastOne": {
			reason: "maxUnavailable 0 and maxSurge 0 with 0 replicas still gives the StatefulSet 1.",
			in:     input(0, 1),
			r:      Rollout{},
			check:  statefulSetMaxUnavailable(1),
		},
		"ExclusiveAnnotationAndAntiAffinity": {
			reason: "The exclusive-topology annotation reaches the StatefulSet and the pod template, and leaders repel other leaders on that key.",
			in: input(2, 2, func(in *Input) {
				in.Annotations = map[string]string{lws.AnnotationExclusiveTopology: "topology.kubernetes.io/zone"}
			}),
			r: Rollout{Replicas: 2, MaxUnavailable: 1},
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				if s.Annotations[lws.AnnotationExclusiveTopology] != "topology.kubernetes.io/zone" || s.Spec.Template.Annotations[lws.AnnotationExclusiveTopology] != "topology.kubernetes.io/zone" {
					t.Errorf("annotation missing: sts %v, template %v", s.Annotations, s.Spec.Template.Annotations)
				}
				want := &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
						{Key: lws.LabelName, Operator: metav1.LabelSelectorOpExists},
						{Key: lws.LabelWorkerIndex, Operator: metav1.LabelSelectorOpIn, Values: []string{"0"}},
					}},
					MismatchLabelKeys: []string{LabelStatefulSetPodName},
					TopologyKey:       "topology.kubernetes.io/zone",
				}}}}
				if diff := cmp.Diff(want, s.Spec.Template.Spec.Affinity); diff != "" {
					t.Errorf("affinity: -want, +got:\n%s", diff)
				}
			},
		},
		"SubGroupAnnotations": {
			reason: "A subgroup policy puts size, type, subgroup size and the subgroup exclusive key on the template.",
			in: input(1, 4, func(in *Input) {
				in.Spec.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{Type: ptr.To(v1alpha1.SubGroupPolicyTypeLeaderWorker), SubGroupSize: ptr.To[int32](2)}
				in.Annotations = map[string]string{lws.AnnotationSubGroupExclusiveTopology: "rack"}
			}),
			r: Rollout{Replicas: 1, MaxUnavailable: 1},
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				want := map[string]string{lws.AnnotationSize: "4", lws.AnnotationSubGroupSize: "2", lws.AnnotationSubGroupPolicyType: "LeaderWorker", lws.AnnotationSubGroupExclusiveTopology: "rack"}
				if diff := cmp.Diff(want, s.Spec.Template.Annotations); diff != "" {
					t.Errorf("template annotations: -want, +got:\n%s", diff)
				}
			},
		},
		"VolumeClaimTemplatesAndRetention": {
			reason: "Claim templates keep only access modes, class, volume mode and resources; the retention policy is copied.",
			in: input(1, 2, func(in *Input) {
				in.Spec.LeaderWorkerTemplate.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
					ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: map[string]string{"dropped": "yes"}},
					Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						StorageClassName: ptr.To("default"),
						Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
						VolumeName:       "dropped",
					},
				}}
				in.Spec.LeaderWorkerTemplate.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
			}),
			r: Rollout{Replicas: 1, MaxUnavailable: 1},
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				want := []corev1.PersistentVolumeClaim{{
					ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns"},
					Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						StorageClassName: ptr.To("default"),
						Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
					},
				}}
				if diff := cmp.Diff(want, s.Spec.VolumeClaimTemplates); diff != "" {
					t.Errorf("volumeClaimTemplates: -want, +got:\n%s", diff)
				}
				if s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
					t.Errorf("retention policy not copied: %v", s.Spec.PersistentVolumeClaimRetentionPolicy)
				}
			},
		},
		"LeaderEnvFirstAndOverrides": {
			reason: "LWS_LEADER_ADDRESS, LWS_GROUP_SIZE and LWS_WORKER_INDEX come first in every container and init container, replacing the user's.",
			in: input(1, 3, func(in *Input) {
				in.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "i"}}
				in.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "a"}, {Name: lws.EnvWorkerIndex, Value: "user"}}
			}),
			r: Rollout{Replicas: 1, MaxUnavailable: 1},
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				address := corev1.EnvVar{Name: lws.EnvLeaderAddress, ValueFrom: envSource(lws.EnvLeaderAddress, "c0")}
				want := []corev1.EnvVar{address, {Name: lws.EnvGroupSize, Value: "3"}, {Name: lws.EnvWorkerIndex, Value: "0"}, {Name: "A", Value: "a"}}
				if diff := cmp.Diff(want, s.Spec.Template.Spec.Containers[0].Env); diff != "" {
					t.Errorf("container env: -want, +got:\n%s", diff)
				}
				if got := s.Spec.Template.Spec.InitContainers[0].Env; len(got) != 3 || got[0].Name != lws.EnvLeaderAddress {
					t.Errorf("init container env: want the three LWS variables, got %v", got)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := tc.in.LeaderStatefulSet(tc.r)
			if err != nil {
				t.Fatalf("%s\nLeaderStatefulSet(...): %v", tc.reason, err)
			}
			tc.check(t, s)
		})
	}
}

func statefulSetMaxUnavailable(want int32) func(t *testing.T, s *appsv1.StatefulSet) {
	return func(t *testing.T, s *appsv1.StatefulSet) {
		if got := s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.IntVal; got != want {
			t.Errorf("updateStrategy.rollingUpdate.maxUnavailable: want %d, got %d", want, got)
		}
	}
}

func TestWorkerStatefulSet(t *testing.T) {
	key := podmeta.GroupKey("ns", "test-sample-1")
	cases := map[string]struct {
		reason   string
		in       Input
		topology string
		check    func(t *testing.T, s *appsv1.StatefulSet)
	}{
		"Shape": {
			reason: "Named after the leader, size-1 replicas from ordinal 1, selected by group, under the shared Service.",
			in:     input(2, 4),
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				if s.Name != "test-sample-1" || *s.Spec.Replicas != 3 || s.Spec.Ordinals.Start != 1 || s.Spec.ServiceName != "test-sample" || s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
					t.Errorf("name %s, replicas %d, ordinals %v, service %s, policy %s", s.Name, *s.Spec.Replicas, s.Spec.Ordinals, s.Spec.ServiceName, s.Spec.PodManagementPolicy)
				}
				group := map[string]string{lws.LabelName: "test-sample", lws.LabelGroupIndex: "1", lws.LabelGroupKey: key}
				if diff := cmp.Diff(group, s.Spec.Selector.MatchLabels); diff != "" {
					t.Errorf("selector: -want, +got:\n%s", diff)
				}
				group[lws.LabelRevisionKey] = "rev"
				if diff := cmp.Diff(group, s.Labels); diff != "" {
					t.Errorf("labels: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff(group, s.Spec.Template.Labels); diff != "" {
					t.Errorf("template labels: -want, +got:\n%s", diff)
				}
				if diff := cmp.Diff(map[string]string{lws.AnnotationSize: "4", lws.AnnotationLeaderName: "test-sample-1"}, s.Spec.Template.Annotations); diff != "" {
					t.Errorf("template annotations: -want, +got:\n%s", diff)
				}
				if s.Spec.UpdateStrategy.Type != "" {
					t.Errorf("worker StatefulSets keep Kubernetes' update strategy, got %v", s.Spec.UpdateStrategy)
				}
			},
		},
		"UniquePerReplicaService": {
			reason: "Under UniquePerReplica the workers live under their group's own Service.",
			in: input(2, 2, func(in *Input) {
				in.Spec.NetworkConfig.SubdomainPolicy = ptr.To(v1alpha1.SubdomainUniquePerReplica)
			}),
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				if s.Spec.ServiceName != "test-sample-1" {
					t.Errorf("serviceName: want test-sample-1, got %s", s.Spec.ServiceName)
				}
				if got := s.Spec.Template.Spec.Containers[0].Env[0]; got.Value != "test-sample-1.test-sample-1.ns" {
					t.Errorf("LWS_LEADER_ADDRESS: want test-sample-1.test-sample-1.ns, got %v", got)
				}
			},
		},
		"ExclusivePinsToLeaderDomain": {
			reason: "Under exclusive placement the workers get the leader's topology value as nodeSelector, beside the user's.",
			in: input(2, 2, func(in *Input) {
				in.Annotations = map[string]string{lws.AnnotationExclusiveTopology: "pool"}
				in.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.NodeSelector = map[string]string{"gpu": "a100"}
			}),
			topology: "pool-3",
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				if diff := cmp.Diff(map[string]string{"gpu": "a100", "pool": "pool-3"}, s.Spec.Template.Spec.NodeSelector); diff != "" {
					t.Errorf("nodeSelector: -want, +got:\n%s", diff)
				}
				if s.Spec.Template.Spec.Affinity != nil {
					t.Errorf("workers get no group affinity from the template, got %v", s.Spec.Template.Spec.Affinity)
				}
			},
		},
		"WorkerIndexFromOrdinal": {
			reason: "LWS_WORKER_INDEX reads the ordinal label the StatefulSet controller sets.",
			in:     input(2, 2),
			check: func(t *testing.T, s *appsv1.StatefulSet) {
				want := corev1.EnvVar{Name: lws.EnvWorkerIndex, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels['apps.kubernetes.io/pod-index']"}}}
				if diff := cmp.Diff(want, s.Spec.Template.Spec.Containers[0].Env[2]); diff != "" {
					t.Errorf("LWS_WORKER_INDEX: -want, +got:\n%s", diff)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := tc.in.WorkerStatefulSet(1, tc.topology)
			if err != nil {
				t.Fatalf("%s\nWorkerStatefulSet(...): %v", tc.reason, err)
			}
			tc.check(t, s)
		})
	}
}

func TestWorkerStatefulSetSizeOne(t *testing.T) {
	if _, err := input(1, 1).WorkerStatefulSet(0, ""); err == nil {
		t.Error("a group of size 1 has no worker StatefulSet: want an error")
	}
}

func TestServices(t *testing.T) {
	shared := input(2, 2).Services()
	want := []*corev1.Service{{
		TypeMeta:   serviceType,
		ObjectMeta: metav1.ObjectMeta{Name: "test-sample", Namespace: "ns", Labels: map[string]string{lws.LabelName: "test-sample"}},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{lws.LabelName: "test-sample"}, PublishNotReadyAddresses: true},
	}}
	if diff := cmp.Diff(want, shared); diff != "" {
		t.Errorf("Shared: -want, +got:\n%s", diff)
	}
	unique := input(2, 2, func(in *Input) { in.Spec.NetworkConfig.SubdomainPolicy = ptr.To(v1alpha1.SubdomainUniquePerReplica) })
	if got := unique.Services(); len(got) != 0 {
		t.Errorf("UniquePerReplica shares no Service, got %d", len(got))
	}
	g := unique.GroupService(1)
	if g.Name != "test-sample-1" || !cmp.Equal(g.Spec.Selector, map[string]string{lws.LabelName: "test-sample", lws.LabelGroupIndex: "1"}) {
		t.Errorf("group Service: name %s, selector %v", g.Name, g.Spec.Selector)
	}
}
