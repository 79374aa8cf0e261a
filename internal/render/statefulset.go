package render

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

var statefulSetType = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}

// Rollout is the leader StatefulSet's share of a rolling update: the replicas
// and partition the provider computed, and the resolved limits.
type Rollout struct {
	Replicas       int32
	Partition      int32
	MaxUnavailable int32
	MaxSurge       int32
}

// LeaderStatefulSet renders the leader StatefulSet: one pod per group, each
// the leader of its group (as upstream does).
func (in Input) LeaderStatefulSet(r Rollout) (*appsv1.StatefulSet, error) {
	upstream := in.upstreamLeaderTemplate()
	pod, err := in.UpstreamPod(0, 0)
	if err != nil {
		return nil, err
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: upstream.ObjectMeta, Spec: in.podSpec(upstream.Spec, pod, true)}
	gate(&tmpl.Spec)
	if t := in.exclusiveTopology(); t != "" {
		exclusiveLeaders(&tmpl.Spec, t)
	}
	return &appsv1.StatefulSet{
		TypeMeta: statefulSetType,
		ObjectMeta: metav1.ObjectMeta{
			Name:        in.Name,
			Namespace:   in.Namespace,
			Labels:      in.leaderStatefulSetLabels(),
			Annotations: in.leaderStatefulSetAnnotations(),
		},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(r.Replicas),
			Selector:            &metav1.LabelSelector{MatchLabels: map[string]string{lws.LabelName: in.Name, lws.LabelWorkerIndex: "0"}},
			Template:            tmpl,
			ServiceName:         in.Name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
				Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{
					Partition: ptr.To(r.Partition),
					// Leaders of surge groups and of updating groups may be
					// replaced at once; the partition bounds the rest.
					MaxUnavailable: ptr.To(intstr.FromInt32(max(1, r.MaxUnavailable+min(r.MaxSurge, *in.Spec.Replicas)))),
				},
			},
			VolumeClaimTemplates:                 in.volumeClaimTemplates(),
			PersistentVolumeClaimRetentionPolicy: in.Spec.LeaderWorkerTemplate.PersistentVolumeClaimRetentionPolicy.DeepCopy(),
		},
	}, nil
}

// WorkerStatefulSet renders the worker StatefulSet of a group: size-1 pods
// with ordinals from 1, named after the leader pod (as upstream does). Input
// must carry the template of the leader's revision (lws#280, lws#963). Under
// exclusive placement, leaderTopology is the topology value of the leader's
// node, which pins the workers to the leader's domain.
func (in Input) WorkerStatefulSet(group int, leaderTopology string) (*appsv1.StatefulSet, error) {
	if in.Size() < 2 {
		return nil, fmt.Errorf("a group of size %d has no workers", in.Size())
	}
	upstream := in.upstreamWorkerTemplate(group)
	pod, err := in.UpstreamPod(group, 1)
	if err != nil {
		return nil, err
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: upstream.ObjectMeta, Spec: in.podSpec(upstream.Spec, pod, false)}
	if in.workersWait(tmpl.Spec) {
		gate(&tmpl.Spec)
	}
	tmpl.Spec.WorkloadRef = in.workloadRef(group)
	if t := in.exclusiveTopology(); t != "" && leaderTopology != "" {
		tmpl.Spec.NodeSelector = merge(tmpl.Spec.NodeSelector, map[string]string{t: leaderTopology})
	}
	labels := in.groupLabels(group)
	name := lws.LeaderPodName(in.Name, group)
	return &appsv1.StatefulSet{
		TypeMeta: statefulSetType,
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   in.Namespace,
			Labels:      merge(in.Labels, labels),
			Annotations: merge(in.Annotations, nil),
		},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To(in.Size() - 1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{
				lws.LabelName: in.Name, lws.LabelGroupIndex: labels[lws.LabelGroupIndex], lws.LabelGroupKey: labels[lws.LabelGroupKey],
			}},
			Template:                             tmpl,
			ServiceName:                          in.subdomain(group),
			PodManagementPolicy:                  appsv1.ParallelPodManagement,
			Ordinals:                             &appsv1.StatefulSetOrdinals{Start: 1},
			VolumeClaimTemplates:                 in.volumeClaimTemplates(),
			PersistentVolumeClaimRetentionPolicy: in.Spec.LeaderWorkerTemplate.PersistentVolumeClaimRetentionPolicy.DeepCopy(),
		},
	}, nil
}

// volumeClaimTemplates keeps only what upstream copies of each claim
// template: access modes, storage class, volume mode and resources.
func (in Input) volumeClaimTemplates() []corev1.PersistentVolumeClaim {
	vcts := in.Spec.LeaderWorkerTemplate.VolumeClaimTemplates
	if len(vcts) == 0 {
		return nil
	}
	out := make([]corev1.PersistentVolumeClaim, 0, len(vcts))
	for _, c := range vcts {
		out = append(out, corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: in.Namespace},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      c.Spec.AccessModes,
				StorageClassName: c.Spec.StorageClassName,
				VolumeMode:       c.Spec.VolumeMode,
				Resources:        *c.Spec.Resources.DeepCopy(),
			},
		})
	}
	return out
}

// workersWait tells whether worker pods wait behind the scheduling gate
// for the provider: when a container reads a per-pod value from an
// annotation the provider sets (TPU variables), or the pods belong to
// subgroups, whose labels placement reads. Other workers differ only in
// their worker-index label, which nothing reads while they are scheduled
// and started, so they start at once and the provider labels them just
// after: a group of 8 then starts without waiting for 7 writes.
func (in Input) workersWait(spec corev1.PodSpec) bool {
	if in.Spec.LeaderWorkerTemplate.SubGroupPolicy != nil {
		return true
	}
	for _, cs := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for _, c := range cs {
			if slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { _, ok := envAnnotationKey(e); return ok }) {
				return true
			}
		}
	}
	return false
}

// gate holds pods until the provider has given them what their template
// cannot: the per-pod labels and environment values.
func gate(spec *corev1.PodSpec) {
	spec.SchedulingGates = append(spec.SchedulingGates, corev1.PodSchedulingGate{Name: lws.SchedulingGate})
}
