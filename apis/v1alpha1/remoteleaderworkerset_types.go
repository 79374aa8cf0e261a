package v1alpha1

import (
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// RemoteLeaderWorkerSetParameters is one target cluster's share of a
// LeaderWorkerSet: its intent, nothing rendered. The provider renders every
// object from it and runs the LeaderWorkerSet semantics (startup, rollout,
// restart) inside the target cluster, so that one binary owns rendering and
// a new rendering reaches running groups only through the provider.
type RemoteLeaderWorkerSetParameters struct {
	// Namespace in the target cluster that receives the objects.
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace"`

	// Name of the LeaderWorkerSet; every object name derives from it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// Replicas is the number of groups in this cluster. It is the scale
	// subresource's spec path.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// StartupPolicy decides when a group's workers are created.
	// +kubebuilder:validation:Enum=LeaderCreated;LeaderReady
	StartupPolicy StartupPolicyType `json:"startupPolicy"`

	// Rollout is this cluster's rollout budget, resolved to group counts.
	// An empty budget is left out rather than written as {}: a server-side
	// apply that empties the field leaves null behind, and {} on the next
	// apply would be one more update of the managed resource, which
	// Crossplane's circuit breaker counts. Nullable for objects written so.
	// +nullable
	// +optional
	Rollout RolloutBudget `json:"rollout,omitzero"`

	// Revision is the current template revision.
	Revision Revision `json:"revision"`

	// Metadata is the LeaderWorkerSet's own labels and annotations, which
	// are propagated to the StatefulSets and decide exclusive placement.
	// +optional
	Metadata ObjectMetadata `json:"metadata,omitempty"`

	// GroupRestart is the LeaderWorkerSet's spec.groupRestart, defaulted:
	// the backoff and budget of group recreations. It is not part of the
	// revision, so changing it changes no group.
	// +optional
	GroupRestart *GroupRestart `json:"groupRestart,omitempty"`

	// RoleService is a headless Service of this LeaderWorkerSet's pods
	// that a DisaggregatedSet asks for once its revision is ready in every
	// role (upstream's "<name>-prv"). Unset, it is deleted.
	// +optional
	RoleService *RoleService `json:"roleService,omitempty"`
}

// RoleService is a headless Service, without ports, that selects pods by
// labels of theirs.
type RoleService struct {
	// Name of the Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// Selector is both the Service's selector and its labels.
	// +kubebuilder:validation:MinProperties=1
	Selector map[string]string `json:"selector"`
}

// RolloutBudget is a rolling update's limits in groups of one cluster.
type RolloutBudget struct {
	// Partition: groups of this cluster with a local index at or above it are
	// updated.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Partition int32 `json:"partition,omitempty"`

	// MaxUnavailable groups during an update.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxUnavailable int32 `json:"maxUnavailable,omitempty"`

	// MaxSurge groups above replicas during an update.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxSurge int32 `json:"maxSurge,omitempty"`
}

// Revision is a template revision: its key and the payload it was hashed
// from. The provider keeps it as a ControllerRevision in the target cluster
// and builds every group's workers from the revision of its leader.
type Revision struct {
	// Key is the revision hash, the value of the template-revision-hash label.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Key string `json:"key"`

	// Payload holds spec.leaderWorkerTemplate and spec.networkConfig,
	// defaulted and normalised: the network config travels in the revision,
	// as upstream records it in its ControllerRevisions, so that a change of
	// subdomain policy rolls out like a template change.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Payload runtime.RawExtension `json:"payload"`
}

// ObjectMetadata is a subset of object metadata.
type ObjectMetadata struct {
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RemoteLeaderWorkerSetObservation is what the provider observed in the
// target cluster.
type RemoteLeaderWorkerSetObservation struct {
	// ReadyReplicas is the number of groups whose pods are all ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// UpdatedReplicas is the number of groups on the current revision.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`

	// Replicas is the leader StatefulSet's replicas, surge included.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// HPAPodSelector selects the leader pods.
	// +optional
	HPAPodSelector string `json:"hpaPodSelector,omitempty"`

	// ObservedGeneration is the generation the observation refers to.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are the LeaderWorkerSet conditions: Available, Progressing
	// and UpdateInProgress, and GroupRestartBudgetExhausted once a group
	// used up spec.groupRestart.maxRestarts.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// GroupRestarts are the recent recreations of each group, kept while
	// spec.groupRestart is set: the provider's memory for the backoff and
	// the budget, which survives a provider restart.
	// +listType=map
	// +listMapKey=group
	// +optional
	GroupRestarts []GroupRestartStatus `json:"groupRestarts,omitempty"`

	// UnschedulableGroups are the groups, below replicas, of which a pod
	// cannot be scheduled: what placement's spill moves elsewhere.
	// +listType=map
	// +listMapKey=group
	// +optional
	UnschedulableGroups []UnschedulableGroup `json:"unschedulableGroups,omitempty"`
}

// UnschedulableGroup is a group the cluster's scheduler cannot place.
type UnschedulableGroup struct {
	// Group is the leader pod's ordinal in this cluster.
	// +kubebuilder:validation:Minimum=0
	Group int32 `json:"group"`

	// Since is when the first of its pods still unschedulable became so.
	Since metav1.Time `json:"since"`
}

// GroupRestartStatus is the recreation history of one group. It goes when
// the group goes, moves to another revision, or was not recreated for
// resetSeconds and is not exhausted.
type GroupRestartStatus struct {
	// Group is the leader pod's ordinal in this cluster.
	// +kubebuilder:validation:Minimum=0
	Group int32 `json:"group"`

	// Revision is the template revision of the group's leader.
	Revision string `json:"revision"`

	// Count is the number of recreations in a row.
	// +kubebuilder:validation:Minimum=0
	Count int32 `json:"count"`

	// LastRestartTime is when the group was last recreated.
	// +optional
	LastRestartTime *metav1.MicroTime `json:"lastRestartTime,omitempty"`

	// LeaderUID is the leader pod the last recreation deleted: a retried
	// deletion, or a read from a cache that did not see it yet, is not
	// counted as another recreation.
	// +optional
	LeaderUID types.UID `json:"leaderUID,omitempty"`

	// Exhausted: the group triggered after maxRestarts recreations in a row
	// and is no longer recreated.
	// +optional
	Exhausted bool `json:"exhausted,omitempty"`
}

// RemoteLeaderWorkerSetSpec is the desired state of a RemoteLeaderWorkerSet.
type RemoteLeaderWorkerSetSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteLeaderWorkerSetParameters `json:"forProvider"`
}

// RemoteLeaderWorkerSetStatus is the observed state of a RemoteLeaderWorkerSet.
type RemoteLeaderWorkerSetStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteLeaderWorkerSetObservation `json:"atProvider,omitempty"`
}

// A RemoteLeaderWorkerSet is one target cluster's share of a LeaderWorkerSet.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.forProvider.replicas,statuspath=.status.atProvider.replicas,selectorpath=.status.atProvider.hpaPodSelector
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="DESIRED",type="integer",JSONPath=".spec.forProvider.replicas"
// +kubebuilder:printcolumn:name="READY-GROUPS",type="integer",JSONPath=".status.atProvider.readyReplicas"
// +kubebuilder:printcolumn:name="UPDATED",type="integer",JSONPath=".status.atProvider.updatedReplicas"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,lws},shortName=rlws
type RemoteLeaderWorkerSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteLeaderWorkerSetSpec   `json:"spec"`
	Status RemoteLeaderWorkerSetStatus `json:"status,omitempty"`
}

// RemoteLeaderWorkerSetList is a list of RemoteLeaderWorkerSet.
//
// +kubebuilder:object:root=true
type RemoteLeaderWorkerSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteLeaderWorkerSet `json:"items"`
}
