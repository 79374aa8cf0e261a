// Package lws holds the LeaderWorkerSet contract as pure functions: the label,
// annotation and environment variable keys, object names, defaulting and
// validation. It imports no client.
package lws

import corev1 "k8s.io/api/core/v1"

// Labels, with the keys upstream LeaderWorkerSet uses: pods and objects made
// by lws-crossplane carry the same keys, so selectors and tooling written for
// upstream keep working.
const (
	LabelName          = "leaderworkerset.sigs.k8s.io/name"
	LabelGroupIndex    = "leaderworkerset.sigs.k8s.io/group-index"
	LabelWorkerIndex   = "leaderworkerset.sigs.k8s.io/worker-index"
	LabelGroupKey      = "leaderworkerset.sigs.k8s.io/group-key"
	LabelRevisionKey   = "leaderworkerset.sigs.k8s.io/template-revision-hash"
	LabelSubGroupIndex = "leaderworkerset.sigs.k8s.io/subgroup-index"
	LabelSubGroupKey   = "leaderworkerset.sigs.k8s.io/subgroup-key"
)

// Annotations with upstream's keys.
const (
	AnnotationSize                      = "leaderworkerset.sigs.k8s.io/size"
	AnnotationReplicas                  = "leaderworkerset.sigs.k8s.io/replicas"
	AnnotationLeaderName                = "leaderworkerset.sigs.k8s.io/leader-name"
	AnnotationExclusiveTopology         = "leaderworkerset.sigs.k8s.io/exclusive-topology"
	AnnotationSubGroupExclusiveTopology = "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology"
	AnnotationSubGroupSize              = "leaderworkerset.sigs.k8s.io/subgroup-size"
	AnnotationSubGroupPolicyType        = "leaderworkerset.sigs.k8s.io/subgroup-policy-type"
	AnnotationSubdomainPolicy           = "leaderworkerset.sigs.k8s.io/subdomainPolicy"
	AnnotationRecreateGroupAfterStart   = "leaderworkerset.sigs.k8s.io/experimental-recreate-group-after-start"
	AnnotationLeaderRequestsTPUs        = "leaderworkerset.sigs.k8s.io/leader-requests-tpus"
)

// Environment variables injected into every container and init container.
const (
	EnvLeaderAddress = "LWS_LEADER_ADDRESS"
	EnvGroupSize     = "LWS_GROUP_SIZE"
	EnvWorkerIndex   = "LWS_WORKER_INDEX"
)

// TPU environment variables, injected when a container requests TPUs.
const (
	EnvTPUWorkerHostnames  = "TPU_WORKER_HOSTNAMES"
	EnvTPUWorkerID         = "TPU_WORKER_ID"
	EnvTPUName             = "TPU_NAME"
	EnvTPUProcessAddresses = "TPU_PROCESS_ADDRESSES"
	EnvTPUProcessPort      = "TPU_PROCESS_PORT"

	// TPUResourceName is the extended resource that marks a TPU container.
	TPUResourceName = "google.com/tpu"
	// DefaultTPUProcessPort is the first TPU process port.
	DefaultTPUProcessPort = 8476
)

// Keys that belong to lws-crossplane itself. Upstream sets per-pod values with
// a pod webhook; target clusters run nothing of ours, so pods are created
// behind a scheduling gate and the provider sets these values before lifting
// it (see internal/render/DESIGN.md).
const (
	// SchedulingGate holds a pod until the provider has given it the labels
	// and annotations its template cannot carry.
	SchedulingGate = "lws.crossplane.io/pod-identity"

	// AnnotationEnvPrefix prefixes the annotations that carry a pod's own
	// value of an environment variable; the template reads them through the
	// downward API. Per-container values add ".<index>" to the key.
	AnnotationEnvPrefix = "env.lws.crossplane.io/"

	// EndpointSliceManager is the endpointslice.kubernetes.io/managed-by
	// value of the EndpointSlices the provider writes: any other value than
	// the EndpointSlice controller's keeps that controller off them.
	EndpointSliceManager = "lws.crossplane.io"

	// LabelRoleService marks a DisaggregatedSet role's Service among the
	// Services of a LeaderWorkerSet, so that it is deleted once no longer
	// asked for.
	LabelRoleService = "lws.crossplane.io/role-service"

	// FieldOwner is the provider's field manager in target clusters.
	FieldOwner = "lws-crossplane"
)

// IsSchedulingGate tells whether g is the provider's SchedulingGate.
func IsSchedulingGate(g corev1.PodSchedulingGate) bool { return g.Name == SchedulingGate }
