package render

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// podFromTemplate instantiates a StatefulSet template the way the StatefulSet
// controller does: name, namespace, its own labels, hostname and subdomain.
func podFromTemplate(t corev1.PodTemplateSpec, name, namespace, subdomain string, ordinal int) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   namespace,
			Labels:      merge(t.Labels, map[string]string{LabelStatefulSetPodName: name, LabelPodIndex: fmt.Sprint(ordinal)}),
			Annotations: maps.Clone(t.Annotations),
		},
		Spec: *t.Spec.DeepCopy(),
	}
	pod.Spec.Hostname, pod.Spec.Subdomain = name, subdomain
	return pod
}

// resolve returns a container's environment as the kubelet hands it to the
// process: every fieldRef to a label or annotation replaced by its value.
func resolve(t *testing.T, pod *corev1.Pod, env []corev1.EnvVar) []corev1.EnvVar {
	t.Helper()
	out := make([]corev1.EnvVar, 0, len(env))
	for _, e := range env {
		if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
			out = append(out, e)
			continue
		}
		p := e.ValueFrom.FieldRef.FieldPath
		var src map[string]string
		switch {
		case strings.HasPrefix(p, "metadata.labels['"):
			src, p = pod.Labels, strings.TrimPrefix(p, "metadata.labels['")
		case strings.HasPrefix(p, "metadata.annotations['"):
			src, p = pod.Annotations, strings.TrimPrefix(p, "metadata.annotations['")
		default:
			t.Fatalf("unexpected fieldRef %q", p)
		}
		v, ok := src[strings.TrimSuffix(p, "']")]
		if !ok {
			t.Fatalf("pod %s: %s reads %s, which the pod does not have", pod.Name, e.Name, e.ValueFrom.FieldRef.FieldPath)
		}
		out = append(out, corev1.EnvVar{Name: e.Name, Value: v})
	}
	return out
}

// realise runs pod `worker` of a group as lws-crossplane does: from the
// rendered StatefulSet's template, then given its identity by the provider.
func realise(t *testing.T, in Input, group, worker int) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	if worker == 0 {
		sts, err := in.LeaderStatefulSet(Rollout{Replicas: *in.Spec.Replicas, MaxUnavailable: 1})
		if err != nil {
			t.Fatal(err)
		}
		pod = podFromTemplate(sts.Spec.Template, lws.LeaderPodName(in.Name, group), in.Namespace, sts.Spec.ServiceName, group)
	} else {
		sts, err := in.WorkerStatefulSet(group, "")
		if err != nil {
			t.Fatal(err)
		}
		pod = podFromTemplate(sts.Spec.Template, lws.WorkerPodName(in.Name, group, worker), in.Namespace, sts.Spec.ServiceName, worker)
	}
	labels, annotations, err := in.PodIdentity(pod)
	if err != nil {
		t.Fatalf("PodIdentity(%s): %v", pod.Name, err)
	}
	maps.Copy(pod.Labels, labels)
	maps.Copy(pod.Annotations, annotations)
	return pod
}

// TestPodsEqualUpstream checks the design of DESIGN.md end to end: every pod
// of every shape, run from our templates and given its identity by the
// provider, has upstream's labels, upstream's annotations (plus ours), and,
// once the kubelet resolves its fieldRefs, upstream's environment.
func TestPodsEqualUpstream(t *testing.T) {
	for name, in := range shapes() {
		t.Run(name, func(t *testing.T) {
			for g := range int(*in.Spec.Replicas) {
				for w := range int(in.Size()) {
					got := realise(t, in, g, w)
					want, err := in.UpstreamPod(g, w)
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range want.Labels {
						if got.Labels[k] != v {
							t.Errorf("pod %s: label %s = %q, upstream %q", got.Name, k, got.Labels[k], v)
						}
					}
					for k, v := range want.Annotations {
						if got.Annotations[k] != v {
							t.Errorf("pod %s: annotation %s = %q, upstream %q", got.Name, k, got.Annotations[k], v)
						}
					}
					for k := range got.Annotations {
						if _, ok := want.Annotations[k]; !ok && !strings.HasPrefix(k, lws.AnnotationEnvPrefix) {
							t.Errorf("pod %s: annotation %s is neither upstream's nor an env carrier", got.Name, k)
						}
					}
					compare := func(kind string, gs, ws []corev1.Container) {
						for i := range ws {
							if diff := cmp.Diff(ws[i].Env, resolve(t, got, gs[i].Env)); diff != "" {
								t.Errorf("pod %s %s %s env: -upstream, +ours:\n%s", got.Name, kind, ws[i].Name, diff)
							}
						}
					}
					compare("container", got.Spec.Containers, want.Spec.Containers)
					compare("init container", got.Spec.InitContainers, want.Spec.InitContainers)
				}
			}
		})
	}
}

func tpu(name string, n string) corev1.Container {
	return corev1.Container{Name: name, Image: "i", Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{lws.TPUResourceName: resource.MustParse(n)},
	}}
}

// shapes are LeaderWorkerSets covering every path of the renderer.
func shapes() map[string]Input {
	base := func(replicas, size int32, opts ...func(*v1alpha1.LeaderWorkerSetSpec)) Input {
		s := &v1alpha1.LeaderWorkerSetSpec{
			Replicas: ptr.To(replicas),
			LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
				Size:           ptr.To(size),
				WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i", Env: []corev1.EnvVar{{Name: "USER", Value: "u"}, {Name: lws.EnvGroupSize, Value: "user"}}}}}},
			},
		}
		for _, o := range opts {
			o(s)
		}
		return Input{Name: "test-sample", Namespace: "ns", Spec: lws.Default(s), RevisionKey: "rev"}
	}
	tpuWorkers := func(s *v1alpha1.LeaderWorkerSetSpec) {
		s.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers = []corev1.Container{tpu("w", "4")}
	}
	tpuLeader := func(s *v1alpha1.LeaderWorkerSetSpec) {
		s.LeaderWorkerTemplate.LeaderTemplate = &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "i"}},
			Containers:     []corev1.Container{tpu("l1", "4"), tpu("l2", "4")},
		}}
	}
	subGroups := func(typ v1alpha1.SubGroupPolicyType, n int32) func(*v1alpha1.LeaderWorkerSetSpec) {
		return func(s *v1alpha1.LeaderWorkerSetSpec) {
			s.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{Type: ptr.To(typ), SubGroupSize: ptr.To(n)}
		}
	}
	unique := func(s *v1alpha1.LeaderWorkerSetSpec) {
		s.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
	}
	volcano, workload := base(2, 3), base(2, 3)
	volcano.Gang, workload.Gang = lws.GangVolcano, lws.GangWorkload
	exclusive := base(3, 2)
	exclusive.Annotations = map[string]string{lws.AnnotationExclusiveTopology: "cloud.google.com/gke-nodepool"}
	return map[string]Input{
		"SizeOne":                    base(2, 1),
		"Shared":                     base(3, 4),
		"UniquePerReplica":           base(2, 3, unique),
		"Exclusive":                  exclusive,
		"GangVolcano":                volcano,
		"GangWorkload":               workload,
		"TPUWorkersOnly":             base(2, 5, tpuWorkers),
		"TPULeaderTwoContainers":     base(2, 3, tpuWorkers, tpuLeader),
		"TPUSubGroupsLeaderWorker":   base(2, 5, tpuWorkers, tpuLeader, subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 2)),
		"TPUSubGroupsLeaderExcluded": base(2, 5, tpuWorkers, subGroups(v1alpha1.SubGroupPolicyTypeLeaderExcluded, 2)),
		"TPUSubGroupSizeOneUnique":   base(2, 3, tpuWorkers, tpuLeader, unique, subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 1)),
		"MaxSurgeTwo": base(4, 2, func(s *v1alpha1.LeaderWorkerSetSpec) {
			s.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxUnavailable: intstr.FromInt32(2), MaxSurge: intstr.FromInt32(2)}
		}),
	}
}
