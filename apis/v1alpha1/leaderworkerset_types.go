package v1alpha1

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// LeaderWorkerSetSpec is the desired state of a LeaderWorkerSet. Every field
// but placement keeps the name, type, default and meaning it has in
// leaderworkerset.x-k8s.io/v1, so a manifest moves over by changing only its
// apiVersion and kind.
//
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || !has(self.leaderWorkerTemplate.size) || self.replicas * self.leaderWorkerTemplate.size <= 2147483647",message="the product of replicas and worker replicas must not exceed 2147483647"
type LeaderWorkerSetSpec struct {
	// Replicas is the number of groups. Changing it scales without a rollout.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// LeaderWorkerTemplate defines the pods of one group. Any change to it
	// starts a rolling update.
	LeaderWorkerTemplate LeaderWorkerTemplate `json:"leaderWorkerTemplate"`

	// RolloutStrategy controls how groups move to a new template.
	// +optional
	RolloutStrategy RolloutStrategy `json:"rolloutStrategy,omitempty"`

	// StartupPolicy decides when a group's workers are created.
	// +kubebuilder:default=LeaderCreated
	// +kubebuilder:validation:Enum=LeaderCreated;LeaderReady
	// +optional
	StartupPolicy StartupPolicyType `json:"startupPolicy"`

	// NetworkConfig controls the headless Services of the groups.
	// +optional
	NetworkConfig *NetworkConfig `json:"networkConfig,omitempty"`

	// Placement spreads the groups over target clusters. A group never spans
	// clusters. It is not part of upstream LeaderWorkerSet.
	// +optional
	Placement *Placement `json:"placement,omitempty"`

	// GroupRestart slows down and bounds the recreation of a group whose
	// pods keep restarting (lws#1048, lws#820). Without it a group is
	// recreated at once, every time, as upstream does. It is not part of
	// upstream LeaderWorkerSet, nor of the template revision: changing it
	// starts no rollout.
	// +optional
	GroupRestart *GroupRestart `json:"groupRestart,omitempty"`
}

// GroupRestart bounds how often a group is recreated after its pods restart.
type GroupRestart struct {
	// Backoff delays the second and later recreations of a group in a row.
	// Without it every recreation is immediate.
	// +optional
	Backoff *GroupRestartBackoff `json:"backoff,omitempty"`

	// MaxRestarts is how many recreations in a row a group is allowed. A
	// group that triggers once more is left as it is and reported by the
	// GroupRestartBudgetExhausted condition until it moves to another
	// revision or the budget is raised or removed. Unset, it is unlimited.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxRestarts *int32 `json:"maxRestarts,omitempty"`
}

// GroupRestartBackoff is an exponential delay between the recreations of a
// group. Recreations are "in a row" while each comes within resetSeconds of
// the previous one.
//
// +kubebuilder:validation:XValidation:rule="!has(self.initialSeconds) || !has(self.maxSeconds) || self.maxSeconds >= self.initialSeconds",message="maxSeconds must be at least initialSeconds"
// +kubebuilder:validation:XValidation:rule="!has(self.maxSeconds) || !has(self.resetSeconds) || self.resetSeconds > self.maxSeconds",message="resetSeconds must be greater than maxSeconds"
type GroupRestartBackoff struct {
	// InitialSeconds is the delay before the second recreation in a row;
	// the first is immediate, and each further one doubles the delay.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +optional
	InitialSeconds *int32 `json:"initialSeconds,omitempty"`

	// MaxSeconds caps the delay.
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxSeconds *int32 `json:"maxSeconds,omitempty"`

	// ResetSeconds: a group not recreated for this long starts over, with
	// an immediate recreation and its whole budget. Without a backoff, the
	// budget counts recreations in a row over 600 seconds.
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=1
	// +optional
	ResetSeconds *int32 `json:"resetSeconds,omitempty"`
}

// LeaderWorkerTemplate defines the pods of one group: a leader and size-1
// workers.
type LeaderWorkerTemplate struct {
	// LeaderTemplate is the leader pod's template. The worker template is used
	// when it is unset.
	// +optional
	LeaderTemplate *corev1.PodTemplateSpec `json:"leaderTemplate,omitempty"`

	// WorkerTemplate is the worker pods' template.
	WorkerTemplate corev1.PodTemplateSpec `json:"workerTemplate"`

	// Size is the number of pods in a group, leader included.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +optional
	Size *int32 `json:"size,omitempty"`

	// RestartPolicy decides what happens to a group when one of its pods
	// restarts.
	// +kubebuilder:default=RecreateGroupOnPodRestart
	// +kubebuilder:validation:Enum=RecreateGroupOnPodRestart;RecreateGroupAfterStart;None;Default
	// +optional
	RestartPolicy RestartPolicyType `json:"restartPolicy,omitempty"`

	// SubGroupPolicy splits a group into subgroups, for example one per
	// accelerator slice. It cannot be added or removed after creation.
	// +optional
	SubGroupPolicy *SubGroupPolicy `json:"subGroupPolicy,omitempty"`

	// VolumeClaimTemplates are added to both the leader and the worker
	// StatefulSets.
	// +optional
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates,omitempty"`

	// PersistentVolumeClaimRetentionPolicy is copied to both StatefulSets.
	// +optional
	PersistentVolumeClaimRetentionPolicy *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy `json:"persistentVolumeClaimRetentionPolicy,omitempty"`
}

// SubGroupPolicy splits the pods of a group into subgroups.
//
// +kubebuilder:validation:XValidation:rule="!has(self.subGroupSize) || self.subGroupSize >= 1",message="subGroupSize must be equal or greater than 1"
type SubGroupPolicy struct {
	// Type decides whether the leader belongs to subgroup 0.
	// +kubebuilder:default=LeaderWorker
	// +kubebuilder:validation:Enum=LeaderWorker;LeaderExcluded
	// +optional
	Type *SubGroupPolicyType `json:"subGroupPolicyType,omitempty"`

	// SubGroupSize is the number of pods per subgroup. It is immutable.
	// +optional
	SubGroupSize *int32 `json:"subGroupSize,omitempty"`
}

// RolloutStrategy controls rolling updates.
type RolloutStrategy struct {
	// Type of the rollout; RollingUpdate is the only one.
	// +kubebuilder:default=RollingUpdate
	// +kubebuilder:validation:Enum=RollingUpdate
	// +optional
	Type RolloutStrategyType `json:"type,omitempty"`

	// RollingUpdateConfiguration tunes the rolling update.
	// +optional
	RollingUpdateConfiguration *RollingUpdateConfiguration `json:"rollingUpdateConfiguration,omitempty"`
}

// RollingUpdateConfiguration tunes a rolling update.
type RollingUpdateConfiguration struct {
	// Partition: groups with an index at or above it are updated, the others
	// keep their revision.
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +optional
	Partition *int32 `json:"partition,omitempty"`

	// MaxUnavailable is how many groups may be unavailable during the update,
	// a number or a percentage of replicas rounded down.
	// +kubebuilder:default=1
	// +kubebuilder:validation:XIntOrString
	// +optional
	MaxUnavailable intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// MaxSurge is how many groups may be created above replicas during the
	// update, a number or a percentage of replicas rounded up.
	// +kubebuilder:default=0
	// +kubebuilder:validation:XIntOrString
	// +optional
	MaxSurge intstr.IntOrString `json:"maxSurge,omitempty"`
}

// NetworkConfig controls the headless Services of the groups.
type NetworkConfig struct {
	// SubdomainPolicy: Shared puts every pod behind one Service,
	// UniquePerReplica gives each group its own.
	// +kubebuilder:validation:Enum=Shared;UniquePerReplica
	SubdomainPolicy *SubdomainPolicy `json:"subdomainPolicy"`
}

// Placement spreads groups over target clusters.
type Placement struct {
	// Clusters are the target clusters. With none, every group goes to the
	// cluster of the ClusterProviderConfig named "default".
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Clusters []ClusterTarget `json:"clusters,omitempty"`

	// Failover moves the groups of a cluster the provider cannot reach to
	// the other clusters. Without it, a lost cluster's groups are only
	// reported missing.
	// +optional
	Failover *Failover `json:"failover,omitempty"`

	// Spill moves the groups a cluster cannot schedule to the other
	// clusters. Without it, such groups stay pending where they are.
	// +optional
	Spill *Spill `json:"spill,omitempty"`

	// Rollout orders a template change over the clusters.
	// +optional
	Rollout *PlacementRollout `json:"rollout,omitempty"`
}

// PlacementRollout orders a template change over the clusters.
type PlacementRollout struct {
	// Strategy: Parallel (the default) rolls every cluster at once, each
	// within its part of the budget. Sequential rolls one cluster at a time
	// in the order of clusters: the next gets the new template only once
	// the previous has every group updated and ready.
	// +kubebuilder:validation:Enum=Parallel;Sequential
	// +kubebuilder:default=Parallel
	// +optional
	Strategy RolloutOrder `json:"strategy,omitempty"`

	// ProgressDeadlineSeconds: a Sequential rollout whose current cluster
	// has made no progress (no group updated or turned ready) this long is
	// halted, with the RolloutHalted condition: the clusters after it keep
	// their template until it progresses again.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=600
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
}

// RolloutOrder is how a template change proceeds over clusters.
type RolloutOrder string

// Rollout orders.
const (
	RolloutParallel   RolloutOrder = "Parallel"
	RolloutSequential RolloutOrder = "Sequential"
)

// Failover decides when a lost cluster's groups are created elsewhere. When
// the cluster returns it gets its share back (failback), and the groups
// created for it elsewhere go once its own are ready again, so that the
// LeaderWorkerSet converges to its placement and never has fewer ready
// groups than during the failover.
type Failover struct {
	// AfterSeconds is how long a cluster must stay unreachable before its
	// groups are created in the other clusters, within their room; a
	// cluster that blinks for less moves nothing. Nothing in the lost
	// cluster is deleted while it cannot be reached.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=60
	// +optional
	AfterSeconds *int32 `json:"afterSeconds,omitempty"`
}

// Spill re-creates, in clusters with room, the groups a cluster leaves
// unschedulable: the cluster is then held to the groups it ran (its
// spillLimit in status.clusters), and the rest go to the other clusters by
// their weights, a cluster with groups: 0 included. The full cluster keeps
// its groups until the replacements are ready elsewhere. The limit is
// forgotten once the cluster's TargetCluster shows room for more groups
// (free accelerator islands or extended resources); a cluster bounded only
// by CPU or memory keeps it while the LeaderWorkerSet exists.
type Spill struct {
	// AfterSeconds is how long a group must stay unschedulable (a pod of it
	// with PodScheduled False, reason Unschedulable) before it is moved. The
	// default leaves a cluster autoscaler time to add nodes.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=300
	// +optional
	AfterSeconds *int32 `json:"afterSeconds,omitempty"`
}

// ClusterTarget is one target cluster and its share of the groups.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.groups) && has(self.weight))",message="set groups or weight, not both"
type ClusterTarget struct {
	// Name identifies the cluster in status and in the names of the managed
	// resources. It is also the default provider config name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// ProviderConfigRef is the provider config that reaches the cluster.
	// Defaults to the ClusterProviderConfig named after the cluster.
	// +optional
	ProviderConfigRef *ProviderConfigReference `json:"providerConfigRef,omitempty"`

	// Groups is an explicit number of groups for this cluster.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Groups *int32 `json:"groups,omitempty"`

	// Weight shares the groups not given out explicitly, in proportion to
	// the weights. Defaults to 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Weight *int32 `json:"weight,omitempty"`
}

// ProviderConfigReference names a ProviderConfig or ClusterProviderConfig.
type ProviderConfigReference struct {
	// Kind of the provider config.
	// +kubebuilder:default=ClusterProviderConfig
	// +kubebuilder:validation:Enum=ProviderConfig;ClusterProviderConfig
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the provider config.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// LeaderWorkerSetStatus is the observed state, aggregated over clusters.
type LeaderWorkerSetStatus struct {
	// ReadyReplicas is the number of groups whose pods are all ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// UpdatedReplicas is the number of groups on the current revision.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`

	// Replicas is the number of groups that exist, surge included.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// HPAPodSelector selects the leader pods, for autoscaling.
	// +optional
	HPAPodSelector string `json:"hpaPodSelector,omitempty"`

	// ObservedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Clusters is the per-cluster breakdown.
	// +listType=map
	// +listMapKey=name
	// +optional
	Clusters []ClusterStatus `json:"clusters,omitempty"`

	// ClustersReady is "<ready>/<total>": the clusters whose groups serve
	// (their managed resource is Ready), of those of the placement.
	// +optional
	ClustersReady string `json:"clustersReady,omitempty"`
}

// ClusterStatus is one target cluster's part of the status.
type ClusterStatus struct {
	// Name of the cluster, as in spec.placement.
	Name string `json:"name"`

	// Groups is the number of groups placed in this cluster.
	// +optional
	Groups int32 `json:"groups,omitempty"`

	// DesiredGroups is the cluster's share as the placement gives it,
	// before capacity, failover and spill move groups: Groups less the
	// groups moved in, plus those moved out. An autoscaled LeaderWorkerSet
	// counts a cluster's own groups by it.
	// +optional
	DesiredGroups *int32 `json:"desiredGroups,omitempty"`

	// ReadyReplicas is the number of ready groups in this cluster.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// UpdatedReplicas is the number of updated groups in this cluster.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`

	// Replicas is the number of existing groups in this cluster.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// Ready and Synced mirror the managed resource's conditions.
	// +optional
	Ready string `json:"ready,omitempty"`
	// +optional
	Synced string `json:"synced,omitempty"`

	// Message explains a cluster that is not ready or not synced.
	// +optional
	Message string `json:"message,omitempty"`

	// Reachable is the cluster's TargetCluster Reachable condition status:
	// whether the provider reaches it. Empty when it has none.
	// +optional
	Reachable string `json:"reachable,omitempty"`

	// LostSince is when the cluster was first seen unreachable, kept while
	// it stays so: placement moves its groups once it has been lost for
	// spec.placement.failover.afterSeconds.
	// +optional
	LostSince *metav1.MicroTime `json:"lostSince,omitempty"`

	// FailedOver: the cluster's groups were moved to the others because it
	// was lost, and have not come back yet.
	// +optional
	FailedOver bool `json:"failedOver,omitempty"`

	// Capacity is how many groups of this LeaderWorkerSet the cluster can
	// run: those it runs and those its free room fits, by its
	// TargetCluster. Absent when nothing bounds it.
	// +optional
	Capacity *int32 `json:"capacity,omitempty"`

	// Unschedulable is the number of the cluster's groups its scheduler
	// cannot place now.
	// +optional
	Unschedulable int32 `json:"unschedulable,omitempty"`

	// SpillLimit is how many groups the cluster was found to run when the
	// others it was given stayed unschedulable (spec.placement.spill): it
	// is given no more until its TargetCluster shows room for them.
	// +optional
	SpillLimit *int32 `json:"spillLimit,omitempty"`

	// Revision is the template revision the cluster's groups are given.
	// +optional
	Revision string `json:"revision,omitempty"`

	// ProgressTime is when the cluster's rollout last made progress (a
	// group updated or turned ready), kept while a Sequential rollout waits
	// for it.
	// +optional
	ProgressTime *metav1.MicroTime `json:"progressTime,omitempty"`
}

// StartupPolicyType decides when workers are created.
type StartupPolicyType string

// RestartPolicyType decides how a group reacts to a pod restart.
type RestartPolicyType string

// SubGroupPolicyType decides the leader's subgroup membership.
type SubGroupPolicyType string

// RolloutStrategyType is the kind of rollout.
type RolloutStrategyType string

// SubdomainPolicy decides the headless Services of the groups.
type SubdomainPolicy string

// Enumerations, as upstream defines them.
const (
	LeaderCreatedStartupPolicy StartupPolicyType = "LeaderCreated"
	LeaderReadyStartupPolicy   StartupPolicyType = "LeaderReady"

	RecreateGroupOnPodRestart RestartPolicyType = "RecreateGroupOnPodRestart"
	RecreateGroupAfterStart   RestartPolicyType = "RecreateGroupAfterStart"
	NoneRestartPolicy         RestartPolicyType = "None"
	// DefaultRestartPolicy is deprecated upstream and defaulted to None.
	DefaultRestartPolicy RestartPolicyType = "Default"

	SubGroupPolicyTypeLeaderWorker   SubGroupPolicyType = "LeaderWorker"
	SubGroupPolicyTypeLeaderExcluded SubGroupPolicyType = "LeaderExcluded"

	RollingUpdateStrategyType RolloutStrategyType = "RollingUpdate"

	SubdomainShared           SubdomainPolicy = "Shared"
	SubdomainUniquePerReplica SubdomainPolicy = "UniquePerReplica"
)

// XLeaderWorkerSet is the namespaced composite resource. The Go type exists
// to generate the XRD schemas; Crossplane serves the real kind from the XRD.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:subresource:status
type XLeaderWorkerSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   LeaderWorkerSetSpec   `json:"spec"`
	Status LeaderWorkerSetStatus `json:"status,omitempty"`
}

// XLeaderWorkerSetList is a list of XLeaderWorkerSet.
//
// +kubebuilder:object:root=true
type XLeaderWorkerSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []XLeaderWorkerSet `json:"items"`
}
