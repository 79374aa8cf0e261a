package render

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
)

// identityLabels are the per-pod labels upstream's webhook sets.
var identityLabels = []string{lws.LabelGroupIndex, lws.LabelGroupKey, lws.LabelWorkerIndex, lws.LabelSubGroupIndex, lws.LabelSubGroupKey}

// PodIdentity returns what a pod created from this LeaderWorkerSet's
// templates must be given before it is scheduled: upstream's per-pod labels,
// and the annotations its per-pod environment variables read. Input must
// carry the template of the pod's revision.
func (in Input) PodIdentity(pod *corev1.Pod) (labels, annotations map[string]string, err error) {
	group, worker, err := in.position(pod)
	if err != nil {
		return nil, nil, err
	}
	up, err := in.UpstreamPod(group, worker)
	if err != nil {
		return nil, nil, err
	}
	labels = map[string]string{}
	for _, k := range identityLabels {
		if v, ok := up.Labels[k]; ok {
			labels[k] = v
		}
	}
	annotations = map[string]string{}
	// A leader's Volcano group differs per group, and its template is
	// shared: it is named while the leader is gated.
	if v := up.Annotations[lws.AnnotationVolcanoGroupName]; v != "" && pod.Annotations[lws.AnnotationVolcanoGroupName] != v {
		annotations[lws.AnnotationVolcanoGroupName] = v
	}
	if err := envAnnotations(annotations, pod.Spec.Containers, up.Spec.Containers); err != nil {
		return nil, nil, fmt.Errorf("pod %s: %w", pod.Name, err)
	}
	if err := envAnnotations(annotations, pod.Spec.InitContainers, up.Spec.InitContainers); err != nil {
		return nil, nil, fmt.Errorf("pod %s: %w", pod.Name, err)
	}
	return labels, annotations, nil
}

// position finds a pod's group and index within the group from its name. A
// leader carries worker-index 0 from its template; a worker's name is its
// leader's name and its ordinal.
func (in Input) position(pod *corev1.Pod) (group, worker int, err error) {
	if pod.Labels[lws.LabelWorkerIndex] == "0" {
		parent, g := podmeta.ParentNameAndOrdinal(pod.Name)
		if parent != in.Name {
			return 0, 0, fmt.Errorf("pod %s is not a leader of %s", pod.Name, in.Name)
		}
		return g, 0, nil
	}
	leader, w := podmeta.ParentNameAndOrdinal(pod.Name)
	parent, g := podmeta.ParentNameAndOrdinal(leader)
	if parent != in.Name || w < 1 {
		return 0, 0, fmt.Errorf("pod %s is not a worker of %s", pod.Name, in.Name)
	}
	return g, w, nil
}

// envAnnotations finds the variables of live containers that read an
// lws-crossplane annotation and records the value upstream would give them.
func envAnnotations(out map[string]string, live, upstream []corev1.Container) error {
	for i, c := range live {
		for _, e := range c.Env {
			key, ok := envAnnotationKey(e)
			if !ok {
				continue
			}
			if i >= len(upstream) {
				return fmt.Errorf("container %s is not in the template", c.Name)
			}
			v, found := lookupEnv(upstream[i].Env, e.Name)
			if !found {
				return fmt.Errorf("container %s: no value for %s", c.Name, e.Name)
			}
			out[key] = v
		}
	}
	return nil
}

func envAnnotationKey(e corev1.EnvVar) (string, bool) {
	if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
		return "", false
	}
	k, ok := strings.CutPrefix(e.ValueFrom.FieldRef.FieldPath, "metadata.annotations['"+lws.AnnotationEnvPrefix)
	if !ok {
		return "", false
	}
	k, ok = strings.CutSuffix(k, "']")
	return lws.AnnotationEnvPrefix + k, ok
}

func lookupEnv(env []corev1.EnvVar, name string) (string, bool) {
	for _, e := range env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}
