package podmeta

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// addLWSVariables puts LWS_LEADER_ADDRESS, LWS_GROUP_SIZE and
// LWS_WORKER_INDEX first in every container and init container, dropping a
// user's variables of the same names so that the injected values win
// (https://lws.sigs.k8s.io/docs/reference/labels-annotations-and-environment-variables/).
func addLWSVariables(pod *corev1.Pod) error {
	name, group := pod.Labels[lws.LabelName], pod.Labels[lws.LabelGroupIndex]
	size, worker := pod.Annotations[lws.AnnotationSize], pod.Labels[lws.LabelWorkerIndex]
	for k, v := range map[string]string{"label " + lws.LabelName: name, "label " + lws.LabelGroupIndex: group, "annotation " + lws.AnnotationSize: size, "label " + lws.LabelWorkerIndex: worker} {
		if v == "" {
			return fmt.Errorf("pod %s has no %s", pod.Name, k)
		}
	}
	injected := []corev1.EnvVar{
		{Name: lws.EnvLeaderAddress, Value: fmt.Sprintf("%s-%s.%s.%s", name, group, pod.Spec.Subdomain, pod.Namespace)},
		{Name: lws.EnvGroupSize, Value: size},
		{Name: lws.EnvWorkerIndex, Value: worker},
	}
	add := func(cs []corev1.Container) {
		for i := range cs {
			env := slices.Clone(injected)
			for _, e := range cs[i].Env {
				if !slices.ContainsFunc(injected, func(in corev1.EnvVar) bool { return in.Name == e.Name }) {
					env = append(env, e)
				}
			}
			cs[i].Env = env
		}
	}
	add(pod.Spec.Containers)
	add(pod.Spec.InitContainers)
	return nil
}

func lookup(env []corev1.EnvVar, name string) (string, bool) {
	for _, e := range env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}
