// Package admission renders the MutatingAdmissionPolicies the provider
// keeps in target clusters: the one that labels worker pods with their
// worker-index as they are created, where the provider config asks for it
// (ProviderConfigSpec.WorkerLabels), and the one that links gang-scheduled
// leaders to their group's Workload (LeaderWorkloadPolicy). It is pure: the
// provider applies what it returns.
//
// Upstream LeaderWorkerSet sets worker-index in its pod webhook; our target
// clusters run nothing of ours, so by default the provider patches each
// worker after creation, one write per pod and most of the writes of a
// group of 8 (internal/render/DESIGN.md). A MutatingAdmissionPolicy is
// declarative: the API server evaluates it, nothing of ours runs. It needs
// the worker's ordinal at admission, which the StatefulSet controller
// writes into the apps.kubernetes.io/pod-index label of the pod it
// creates; a worker StatefulSet's ordinals start at 1, so the ordinal is
// the worker index. The leaders' labels (a SHA-1 group key) are beyond CEL
// and stay a patch.
package admission

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Group is the API group of MutatingAdmissionPolicies.
const Group = "admissionregistration.k8s.io"

// Versions are the API versions the policy is rendered at, preferred
// first: GA, then beta (Kubernetes 1.34 and 1.35, behind the
// MutatingAdmissionPolicy feature gate), whose schemas agree on every
// field used here.
var Versions = []string{"v1", "v1beta1"}

// PolicyName names the policy and its binding. One per cluster serves
// every LeaderWorkerSet in it.
const PolicyName = "lws-crossplane-worker-index"

// labelPodIndex is the ordinal label the StatefulSet controller sets.
const labelPodIndex = "apps.kubernetes.io/pod-index"

// setWorkerIndex is the mutation: the worker-index label from the ordinal.
const setWorkerIndex = `Object{metadata: Object.metadata{labels: {"` + lws.LabelWorkerIndex + `": object.metadata.labels["` + labelPodIndex + `"]}}}`

// WorkerIndexPolicy returns the policy and its binding at apiVersion
// admissionregistration.k8s.io/<version>.
//
// It matches pods being created that carry a group key and an ordinal but
// no worker-index: the workers of a LeaderWorkerSet, whose StatefulSet
// template carries the group key, and not its leaders, which get both
// labels from the provider. Its failure policy is Ignore: a worker the
// policy fails on is created unlabelled, and the provider patches it.
func WorkerIndexPolicy(version string) (policy, binding *unstructured.Unstructured) {
	return mutatingPolicy(version, PolicyName, "Ignore",
		[]any{
			requirement(lws.LabelGroupKey, "Exists"),
			requirement(labelPodIndex, "Exists"),
			requirement(lws.LabelWorkerIndex, "DoesNotExist"),
		}, nil, setWorkerIndex)
}

// mutatingPolicy renders a MutatingAdmissionPolicy on pods being created
// that match selector and conditions, applying expression, and its binding
// of the same name.
func mutatingPolicy(version, name, failurePolicy string, selector, conditions []any, expression string) (policy, binding *unstructured.Unstructured) {
	apiVersion := Group + "/" + version
	spec := map[string]any{
		"failurePolicy":      failurePolicy,
		"reinvocationPolicy": "Never",
		"matchConstraints": map[string]any{
			"resourceRules": []any{map[string]any{
				"apiGroups":   []any{""},
				"apiVersions": []any{"v1"},
				"operations":  []any{"CREATE"},
				"resources":   []any{"pods"},
			}},
			"objectSelector": map[string]any{"matchExpressions": selector},
		},
		"mutations": []any{map[string]any{
			"patchType":          "ApplyConfiguration",
			"applyConfiguration": map[string]any{"expression": expression},
		}},
	}
	if len(conditions) > 0 {
		spec["matchConditions"] = conditions
	}
	policy = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       "MutatingAdmissionPolicy",
		"metadata":   map[string]any{"name": name},
		"spec":       spec,
	}}
	binding = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       "MutatingAdmissionPolicyBinding",
		"metadata":   map[string]any{"name": name},
		"spec":       map[string]any{"policyName": name},
	}}
	return policy, binding
}

func requirement(key, operator string) map[string]any {
	return map[string]any{"key": key, "operator": operator}
}
