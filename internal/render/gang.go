package render

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1alpha1 "k8s.io/api/scheduling/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Gang scheduling: one gang object per group and revision, named
// lws.GangName and owned by the group's leader pod (the provider sets the
// owner), so that a group restart or a rolled group starts a gang of its own
// and the garbage collector removes the old one with its leader
// (internal/render/DESIGN.md, "Gang scheduling").

// GangPodGroup is the name of the one pod group of a group's Workload.
const GangPodGroup = "group"

// VolcanoPodGroupAPIVersion and VolcanoPodGroupKind are Volcano's PodGroup.
const (
	VolcanoPodGroupAPIVersion = "scheduling.volcano.sh/v1beta1"
	VolcanoPodGroupKind       = "PodGroup"
)

// volcanoAnnotationPrefix marks the LeaderWorkerSet annotations a PodGroup
// inherits, as upstream's.
const volcanoAnnotationPrefix = "volcano.sh/"

// gangMinCount is how many pods of a group must fit together. With
// LeaderReady, workers are created only once the leader is Ready, so a gang
// of size would never admit the leader: the gang is the leader alone, as
// upstream's PodGroup minMember 1.
func (in Input) gangMinCount() int32 {
	if in.Spec.StartupPolicy == v1alpha1.LeaderReadyStartupPolicy {
		return 1
	}
	return in.Size()
}

// gangLabels identify a group's gang object.
func (in Input) gangLabels(group int) map[string]string {
	return map[string]string{lws.LabelName: in.Name, lws.LabelGroupIndex: itoa(group), lws.LabelRevisionKey: in.RevisionKey}
}

// gangPodAnnotations are the gang annotations of a group's pods: which gang
// scheduler carries them, which the leaders' workload admission policy
// matches on, and Volcano's group name.
func (in Input) gangPodAnnotations(group int) map[string]string {
	switch in.Gang {
	case lws.GangWorkload:
		return map[string]string{lws.AnnotationGangScheduling: string(lws.GangWorkload)}
	case lws.GangVolcano:
		return map[string]string{
			lws.AnnotationGangScheduling:   string(lws.GangVolcano),
			lws.AnnotationVolcanoGroupName: lws.GangName(in.Name, group, in.RevisionKey),
		}
	}
	return nil
}

// workloadRef links a group's workers to its Workload. A pod's workloadRef
// is immutable, so leaders, which share one template, get theirs at
// admission (admission.LeaderWorkloadPolicy).
func (in Input) workloadRef(group int) *corev1.WorkloadReference {
	if in.Gang != lws.GangWorkload {
		return nil
	}
	return &corev1.WorkloadReference{Name: lws.GangName(in.Name, group, in.RevisionKey), PodGroup: GangPodGroup}
}

// Workload renders a group's Workload: one gang pod group of gangMinCount.
func (in Input) Workload(group int) *schedulingv1alpha1.Workload {
	return &schedulingv1alpha1.Workload{
		TypeMeta: metav1.TypeMeta{APIVersion: schedulingv1alpha1.SchemeGroupVersion.String(), Kind: "Workload"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      lws.GangName(in.Name, group, in.RevisionKey),
			Namespace: in.Namespace,
			Labels:    in.gangLabels(group),
		},
		Spec: schedulingv1alpha1.WorkloadSpec{
			ControllerRef: &schedulingv1alpha1.TypedLocalObjectReference{APIGroup: "apps", Kind: "StatefulSet", Name: in.Name},
			PodGroups: []schedulingv1alpha1.PodGroup{{
				Name:   GangPodGroup,
				Policy: schedulingv1alpha1.PodGroupPolicy{Gang: &schedulingv1alpha1.GangSchedulingPolicy{MinCount: in.gangMinCount()}},
			}},
		},
	}
}

// VolcanoPodGroup renders a group's Volcano PodGroup as upstream's: the
// LeaderWorkerSet's volcano.sh/ annotations, minMember, the requests of
// the whole group (leader plus size-1 workers, by Kubernetes' pod request
// rules), the queue from the LeaderWorkerSet's annotation, and the leader
// template's priority class.
func (in Input) VolcanoPodGroup(group int) (*unstructured.Unstructured, error) {
	leader, err := in.UpstreamPod(group, 0)
	if err != nil {
		return nil, err
	}
	total := resourcehelper.PodRequests(leader, resourcehelper.PodResourcesOptions{})
	if in.Size() > 1 {
		worker, err := in.UpstreamPod(group, 1)
		if err != nil {
			return nil, err
		}
		each := resourcehelper.PodRequests(worker, resourcehelper.PodResourcesOptions{})
		for name, q := range each {
			sum := total[name]
			for range in.Size() - 1 {
				sum.Add(q)
			}
			total[name] = sum
		}
	}
	minResources := map[string]any{}
	for name, q := range total {
		minResources[string(name)] = q.String()
	}
	spec := map[string]any{"minMember": int64(in.gangMinCount()), "minResources": minResources}
	if q := in.Annotations[lws.AnnotationVolcanoQueue]; q != "" {
		spec["queue"] = q
	}
	if pc := leader.Spec.PriorityClassName; pc != "" {
		spec["priorityClassName"] = pc
	}
	pg := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	pg.SetAPIVersion(VolcanoPodGroupAPIVersion)
	pg.SetKind(VolcanoPodGroupKind)
	pg.SetName(lws.GangName(in.Name, group, in.RevisionKey))
	pg.SetNamespace(in.Namespace)
	pg.SetLabels(in.gangLabels(group))
	annotations := map[string]string{}
	for k, v := range in.Annotations {
		if strings.HasPrefix(k, volcanoAnnotationPrefix) {
			annotations[k] = v
		}
	}
	if len(annotations) > 0 {
		pg.SetAnnotations(annotations)
	}
	return pg, nil
}
