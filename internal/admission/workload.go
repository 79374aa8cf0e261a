package admission

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// WorkloadPolicyName names the policy, and its binding, that links leaders
// to their group's Workload. One per cluster serves every LeaderWorkerSet
// gang-scheduled by the Workload API there.
const WorkloadPolicyName = "lws-crossplane-gang-workload"

// isGangWorkload matches pods whose template asks for a Workload and that
// have no workload reference yet. Kubernetes' CEL has no optional map
// lookup everywhere, hence the explicit membership test.
const isGangWorkload = `has(object.metadata.annotations) && "` + lws.AnnotationGangScheduling + `" in object.metadata.annotations && ` +
	`object.metadata.annotations["` + lws.AnnotationGangScheduling + `"] == "` + string(lws.GangWorkload) + `" && !has(object.spec.workloadRef)`

// setWorkloadRef is lws.GangName of the leader's group (its ordinal) and
// revision (its template's label), and render.GangPodGroup.
const setWorkloadRef = `Object{spec: Object.spec{workloadRef: Object.spec.workloadRef{` +
	`name: object.metadata.labels["` + lws.LabelName + `"] + "-" + object.metadata.labels["` + labelPodIndex + `"] + "-" + object.metadata.labels["` + lws.LabelRevisionKey + `"], ` +
	`podGroup: "` + render.GangPodGroup + `"}}}`

// LeaderWorkloadPolicy returns the policy and its binding that give a
// gang-scheduled leader its spec.workloadRef as it is created. A pod's
// workloadRef is immutable, also while it is gated, and one leader
// StatefulSet template serves every group, so neither the template nor the
// provider can set it per group; the leader's ordinal label, which the
// StatefulSet controller sets, can. Workers get theirs from their group's
// own StatefulSet template.
//
// It matches leaders (worker-index 0 from their template, an ordinal) whose
// template asks for a Workload. Its failure policy is Fail: a leader
// created without its reference would be scheduled alone, outside its gang.
func LeaderWorkloadPolicy(version string) (policy, binding *unstructured.Unstructured) {
	return mutatingPolicy(version, WorkloadPolicyName, "Fail",
		[]any{
			requirement(lws.LabelName, "Exists"),
			requirement(labelPodIndex, "Exists"),
			map[string]any{"key": lws.LabelWorkerIndex, "operator": "In", "values": []any{"0"}},
		},
		[]any{map[string]any{"name": "gang-workload", "expression": isGangWorkload}},
		setWorkloadRef)
}
