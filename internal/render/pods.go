package render

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
)

// Labels the StatefulSet controller puts on every pod it creates.
const (
	LabelStatefulSetPodName = "statefulset.kubernetes.io/pod-name"
	LabelPodIndex           = "apps.kubernetes.io/pod-index"
)

// leaderTemplate is the leader pods' template as upstream builds it, before
// lws-crossplane's additions.
func (in Input) upstreamLeaderTemplate() corev1.PodTemplateSpec {
	t := in.Spec.LeaderWorkerTemplate.LeaderTemplate
	if t == nil {
		t = &in.Spec.LeaderWorkerTemplate.WorkerTemplate
	}
	out := *t.DeepCopy()
	out.Labels = merge(out.Labels, in.leaderPodLabels())
	out.Annotations = merge(out.Annotations, in.leaderPodAnnotations())
	return out
}

// upstreamWorkerTemplate is a group's worker pod template as upstream builds
// it, before lws-crossplane's additions.
func (in Input) upstreamWorkerTemplate(group int) corev1.PodTemplateSpec {
	out := *in.Spec.LeaderWorkerTemplate.WorkerTemplate.DeepCopy()
	out.Labels = merge(out.Labels, in.groupLabels(group))
	out.Annotations = merge(out.Annotations, in.workerPodAnnotations(group, in.leaderRequestsTPUs()))
	return out
}

func (in Input) leaderRequestsTPUs() bool {
	t := in.upstreamLeaderTemplate()
	return podmeta.PodRequestsTPUs(t.Spec)
}

// UpstreamPod is pod `worker` of a group (worker 0 is the leader) as upstream
// LeaderWorkerSet would run it: its StatefulSet's template instantiated the
// way the StatefulSet controller does, then mutated as upstream's pod webhook
// would. lws-crossplane's own pods must end up with the same labels,
// annotations and environment.
func (in Input) UpstreamPod(group, worker int) (*corev1.Pod, error) {
	var t corev1.PodTemplateSpec
	var name, subdomain string
	if worker == 0 {
		t = in.upstreamLeaderTemplate()
		name, subdomain = lws.LeaderPodName(in.Name, group), in.Name
	} else {
		t = in.upstreamWorkerTemplate(group)
		name, subdomain = lws.WorkerPodName(in.Name, group, worker), in.subdomain(group)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   in.Namespace,
			Labels:      merge(t.Labels, map[string]string{LabelStatefulSetPodName: name, LabelPodIndex: itoa(worker)}),
			Annotations: t.Annotations,
		},
		Spec: t.Spec,
	}
	if worker == 0 {
		pod.Labels[LabelPodIndex] = itoa(group)
	}
	pod.Spec.Hostname, pod.Spec.Subdomain = name, subdomain
	if err := podmeta.Mutate(pod); err != nil {
		return nil, fmt.Errorf("cannot compute pod %s: %w", name, err)
	}
	// Upstream's webhook names a leader's PodGroup too (step 4).
	maps.Copy(pod.Annotations, in.gangPodAnnotations(group))
	return pod, nil
}
