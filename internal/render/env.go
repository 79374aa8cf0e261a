package render

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Upstream computes some environment variables per pod in its webhook. A
// StatefulSet template is shared by many pods, so those variables read their
// value through the downward API from an annotation (or label) that the
// provider sets while the pod waits behind its scheduling gate. Variables
// whose value is the same for every pod of the template stay literal.

// perPodEnv lists, for a leader or a worker template, the variables whose
// value differs between the pods of that template.
func (in Input) perPodEnv(leader bool) []string {
	if leader {
		// One template serves every group's leader.
		return []string{lws.EnvLeaderAddress, lws.EnvTPUWorkerHostnames, lws.EnvTPUProcessAddresses, lws.EnvTPUName}
	}
	vars := []string{lws.EnvWorkerIndex, lws.EnvTPUWorkerID}
	if in.Spec.LeaderWorkerTemplate.SubGroupPolicy != nil {
		// Each subgroup lists only its own hosts.
		vars = append(vars, lws.EnvTPUWorkerHostnames, lws.EnvTPUProcessAddresses)
	}
	return vars
}

// perContainerEnv are the variables whose value also differs between the
// containers of one pod.
var perContainerEnv = []string{lws.EnvTPUWorkerID}

// lwsEnv are the variables upstream always injects, replacing a user's.
var lwsEnv = []string{lws.EnvLeaderAddress, lws.EnvGroupSize, lws.EnvWorkerIndex}

// EnvAnnotation is the annotation that carries a pod's value of a variable
// for one container: "c<i>" for containers[i], "i<i>" for initContainers[i].
func EnvAnnotation(name, container string) string {
	if slices.Contains(perContainerEnv, name) {
		return lws.AnnotationEnvPrefix + name + "." + container
	}
	return lws.AnnotationEnvPrefix + name
}

// podSpec is a template's pod spec: the user's, with the environment of the
// upstream pod's containers, where each injected per-pod variable reads its
// value from the pod.
func (in Input) podSpec(user corev1.PodSpec, upstream *corev1.Pod, leader bool) corev1.PodSpec {
	perPod := in.perPodEnv(leader)
	spec := *user.DeepCopy()
	rewrite := func(cs, up []corev1.Container, prefix string) {
		for i := range cs {
			env := slices.Clone(up[i].Env)
			for j, e := range env {
				if slices.Contains(perPod, e.Name) && injected(e.Name, cs[i].Env) {
					env[j] = corev1.EnvVar{Name: e.Name, ValueFrom: envSource(e.Name, prefix+strconv.Itoa(i))}
				}
			}
			cs[i].Env = env
		}
	}
	rewrite(spec.Containers, upstream.Spec.Containers, "c")
	rewrite(spec.InitContainers, upstream.Spec.InitContainers, "i")
	return spec
}

// injected tells whether upstream put a variable there rather than the user:
// the LWS variables always replace the user's, the TPU ones never do.
func injected(name string, own []corev1.EnvVar) bool {
	if slices.Contains(lwsEnv, name) {
		return true
	}
	return !slices.ContainsFunc(own, func(e corev1.EnvVar) bool { return e.Name == name })
}

func envSource(name, container string) *corev1.EnvVarSource {
	path := "metadata.annotations['" + EnvAnnotation(name, container) + "']"
	if name == lws.EnvWorkerIndex {
		// The StatefulSet controller labels each pod with its ordinal, which
		// is a worker's index, before the pod even exists.
		path = "metadata.labels['" + LabelPodIndex + "']"
	}
	return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
}
