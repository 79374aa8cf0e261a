package render

import (
	"maps"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
)

// The metadata of each object, as upstream places it (https://lws.sigs.k8s.io/docs/reference/labels-annotations-and-environment-variables/).

func (in Input) leaderStatefulSetLabels() map[string]string {
	return in.versionLabels(merge(in.Labels, map[string]string{lws.LabelName: in.Name, lws.LabelRevisionKey: in.RevisionKey}))
}

func (in Input) leaderStatefulSetAnnotations() map[string]string {
	return merge(in.Annotations, map[string]string{lws.AnnotationReplicas: itoa(*in.Spec.Replicas)})
}

func (in Input) leaderPodLabels() map[string]string {
	return in.versionLabels(map[string]string{lws.LabelWorkerIndex: "0", lws.LabelName: in.Name, lws.LabelRevisionKey: in.RevisionKey})
}

func (in Input) leaderPodAnnotations() map[string]string {
	a := in.podAnnotations()
	if in.UniquePerReplica() {
		a[lws.AnnotationSubdomainPolicy] = string(v1alpha1.SubdomainUniquePerReplica)
	}
	if in.Gang != "" {
		a[lws.AnnotationGangScheduling] = string(in.Gang)
	}
	return a
}

// groupLabels are the labels that identify a group's worker StatefulSet and
// its pods.
func (in Input) groupLabels(group int) map[string]string {
	return in.versionLabels(map[string]string{
		lws.LabelName:        in.Name,
		lws.LabelGroupIndex:  itoa(group),
		lws.LabelGroupKey:    in.groupKey(group),
		lws.LabelRevisionKey: in.RevisionKey,
	})
}

// groupKey identifies a group across namespaces: a hash of the leader pod's
// namespace and name.
func (in Input) groupKey(group int) string {
	return podmeta.GroupKey(in.Namespace, lws.LeaderPodName(in.Name, group))
}

func (in Input) workerPodAnnotations(group int, leaderRequestsTPUs bool) map[string]string {
	a := in.podAnnotations()
	a[lws.AnnotationLeaderName] = lws.LeaderPodName(in.Name, group)
	if leaderRequestsTPUs {
		a[lws.AnnotationLeaderRequestsTPUs] = "true"
	}
	maps.Copy(a, in.gangPodAnnotations(group))
	return a
}

// podAnnotations are the annotations leader and worker pods share: the size,
// exclusive placement and the subgroup policy.
func (in Input) podAnnotations() map[string]string {
	a := map[string]string{lws.AnnotationSize: itoa(in.Size())}
	if t := in.exclusiveTopology(); t != "" {
		a[lws.AnnotationExclusiveTopology] = t
	}
	if p := in.Spec.LeaderWorkerTemplate.SubGroupPolicy; p != nil {
		if p.Type != nil {
			a[lws.AnnotationSubGroupPolicyType] = string(*p.Type)
		}
		if p.SubGroupSize != nil {
			a[lws.AnnotationSubGroupSize] = itoa(*p.SubGroupSize)
		}
		if t := in.subGroupExclusiveTopology(); t != "" {
			a[lws.AnnotationSubGroupExclusiveTopology] = t
		}
	}
	return a
}
