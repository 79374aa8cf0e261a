package podmeta

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// IsLeader tells a leader pod by its worker-index label, which its template
// sets to "0".
func IsLeader(pod *corev1.Pod) bool {
	return pod.Labels[lws.LabelWorkerIndex] == "0"
}

// Mutate does to a pod what upstream's pod webhook does when the pod is
// created (https://lws.sigs.k8s.io/docs/reference/labels-annotations-and-environment-variables/): group and worker labels, the subdomain of a
// UniquePerReplica leader, exclusive affinity, subgroup labels, then the TPU
// and LWS environment. A pod without the LeaderWorkerSet name label is left
// alone.
func Mutate(pod *corev1.Pod) error {
	if pod.Labels[lws.LabelName] == "" {
		return nil
	}
	size, err := strconv.Atoi(pod.Annotations[lws.AnnotationSize])
	if err != nil {
		return fmt.Errorf("pod %s: size annotation is missing or invalid: %w", pod.Name, err)
	}
	if IsLeader(pod) {
		err = leader(pod)
	} else {
		err = worker(pod, size)
	}
	if err != nil {
		return err
	}
	if err := addTPUVariables(pod, size); err != nil {
		return err
	}
	return addLWSVariables(pod)
}

func leader(pod *corev1.Pod) error {
	if pod.Labels[lws.LabelGroupIndex] == "" {
		_, ordinal := ParentNameAndOrdinal(pod.Name)
		if ordinal < 0 {
			return fmt.Errorf("pod %s: cannot parse the group index from the name", pod.Name)
		}
		pod.Labels[lws.LabelGroupIndex] = strconv.Itoa(ordinal)
	}
	if pod.Annotations[lws.AnnotationSubdomainPolicy] == string(v1alpha1.SubdomainUniquePerReplica) {
		pod.Spec.Subdomain = pod.Name
	}
	if pod.Labels[lws.LabelGroupKey] == "" {
		pod.Labels[lws.LabelGroupKey] = GroupKey(pod.Namespace, pod.Name)
	}
	if t := pod.Annotations[lws.AnnotationExclusiveTopology]; t != "" {
		ExclusiveAffinity(pod, pod.Labels[lws.LabelGroupKey], t, lws.LabelGroupKey)
	}
	_, subGroups := pod.Annotations[lws.AnnotationSubGroupSize]
	if subGroups && pod.Labels[lws.LabelSubGroupIndex] == "" && pod.Annotations[lws.AnnotationSubGroupPolicyType] != string(v1alpha1.SubGroupPolicyTypeLeaderExcluded) {
		setSubGroup(pod, pod.Name, 0)
	}
	return nil
}

func worker(pod *corev1.Pod, size int) error {
	_, ordinal := ParentNameAndOrdinal(pod.Name)
	if ordinal < 0 {
		return fmt.Errorf("pod %s: cannot parse the worker index from the name", pod.Name)
	}
	pod.Labels[lws.LabelWorkerIndex] = strconv.Itoa(ordinal)
	sgs, subGroups := pod.Annotations[lws.AnnotationSubGroupSize]
	if !subGroups || pod.Labels[lws.LabelSubGroupIndex] != "" {
		return nil
	}
	n, err := strconv.Atoi(sgs)
	if err != nil || n < 1 {
		return fmt.Errorf("pod %s: invalid subgroup size %q", pod.Name, sgs)
	}
	setSubGroup(pod, pod.Annotations[lws.AnnotationLeaderName], SubGroupIndex(size, n, ordinal))
	return nil
}

func setSubGroup(pod *corev1.Pod, leaderName string, index int) {
	pod.Labels[lws.LabelSubGroupIndex] = strconv.Itoa(index)
	pod.Labels[lws.LabelSubGroupKey] = SubGroupKey(leaderName, index)
	if t := pod.Annotations[lws.AnnotationSubGroupExclusiveTopology]; t != "" {
		ExclusiveAffinity(pod, pod.Labels[lws.LabelSubGroupKey], t, lws.LabelSubGroupKey)
	}
}
