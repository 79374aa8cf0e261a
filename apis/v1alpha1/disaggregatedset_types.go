package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DisaggregatedSetSpec is the desired state of a DisaggregatedSet: roles
// (prefill and decode, say), each a LeaderWorkerSet, rolled out together so
// that no role is left without the others. Every field but placement keeps
// the name, type, default and meaning it has in disaggregatedset.x-k8s.io/v1,
// so a manifest moves over by changing only its apiVersion and kind.
//
// +kubebuilder:validation:XValidation:rule="self.roles.filter(r, !has(r.scaling) || !has(r.scaling.mode) || r.scaling.mode != 'External').all(r, !has(r.spec.replicas) || r.spec.replicas == 0) || self.roles.filter(r, !has(r.scaling) || !has(r.scaling.mode) || r.scaling.mode != 'External').all(r, !has(r.spec.replicas) || r.spec.replicas > 0)",message="replicas must be zero for all non-External roles or non-zero for all non-External roles"
type DisaggregatedSetSpec struct {
	// Roles are the parts of one slice, each a LeaderWorkerSet.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=10
	Roles []DisaggregatedRoleSpec `json:"roles"`

	// Slices is the number of independent copies of all the roles.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	Slices *int32 `json:"slices,omitempty"`

	// PlacementPolicy keeps a slice's roles together in one topology
	// domain and apart from other slices.
	// +optional
	PlacementPolicy *DisaggregatedPlacementPolicy `json:"placementPolicy,omitempty"`

	// Placement spreads the slices over target clusters. A slice never
	// spans clusters. It is not part of upstream DisaggregatedSet.
	// +optional
	Placement *SlicePlacement `json:"placement,omitempty"`
}

// DisaggregatedRoleSpec is one role: a LeaderWorkerSet template and how its
// replicas are scaled.
type DisaggregatedRoleSpec struct {
	// Name of the role, part of its LeaderWorkerSets' names.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Scaling says who sets the role's replicas.
	// +optional
	Scaling *RoleScaling `json:"scaling,omitempty"`

	// Metadata is the role's LeaderWorkerSets' own labels and annotations.
	// +optional
	Metadata metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the role's LeaderWorkerSet. Its leaderWorkerTemplate is part
	// of the DisaggregatedSet's revision; its replicas are per slice.
	Spec LeaderWorkerSetSpec `json:"spec"`
}

// RoleScaling says who sets a role's replicas.
type RoleScaling struct {
	// Mode: Static takes the role's spec.replicas; External takes them
	// from the role's DisaggregatedSetRoleScaler, for an autoscaler.
	// +kubebuilder:validation:Enum=Static;External
	// +kubebuilder:default=Static
	// +optional
	Mode RoleScalingMode `json:"mode,omitempty"`
}

// RoleScalingMode says who sets a role's replicas.
type RoleScalingMode string

// Role scaling modes, as upstream defines them.
const (
	RoleScalingStatic   RoleScalingMode = "Static"
	RoleScalingExternal RoleScalingMode = "External"
)

// DisaggregatedPlacementPolicy places slices within a cluster.
type DisaggregatedPlacementPolicy struct {
	// Type: None places pods freely. ExclusiveSlice puts each slice in a
	// topology domain of its own. ExclusiveTopology also keeps other
	// DisaggregatedSets' slices out of that domain.
	// +kubebuilder:validation:Enum=None;ExclusiveSlice;ExclusiveTopology
	// +kubebuilder:default=None
	// +optional
	Type DisaggregatedPlacementType `json:"type,omitempty"`

	// Topology is the node label whose values are the topology domains.
	// +optional
	Topology string `json:"topology,omitempty"`
}

// DisaggregatedPlacementType is a placement policy's type.
type DisaggregatedPlacementType string

// Placement policy types, as upstream defines them.
const (
	PlacementNone              DisaggregatedPlacementType = "None"
	PlacementExclusiveSlice    DisaggregatedPlacementType = "ExclusiveSlice"
	PlacementExclusiveTopology DisaggregatedPlacementType = "ExclusiveTopology"
)

// SlicePlacement spreads slices over target clusters.
type SlicePlacement struct {
	// Clusters are the target clusters. With none, every slice goes to the
	// cluster of the ClusterProviderConfig named "default".
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Clusters []SliceTarget `json:"clusters,omitempty"`
}

// SliceTarget is one target cluster and its weight among them.
type SliceTarget struct {
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

	// Weight shares the slices in proportion to the weights. Defaults to 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Weight *int32 `json:"weight,omitempty"`
}

// DisaggregatedSetStatus is the observed state, aggregated over slices and
// clusters.
type DisaggregatedSetStatus struct {
	// ObservedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// RoleStatuses are the roles' replicas summed over slices, in the order
	// of spec.roles.
	// +optional
	RoleStatuses []RoleStatus `json:"roleStatuses,omitempty"`

	// Revision is the revision the roles are rolled to. Ours.
	// +optional
	Revision string `json:"revision,omitempty"`

	// Slices are where each slice runs. Ours.
	// +listType=map
	// +listMapKey=slice
	// +optional
	Slices []SliceStatus `json:"slices,omitempty"`
}

// RoleStatus is one role's groups, over all slices.
type RoleStatus struct {
	// Name of the role.
	Name string `json:"name"`

	// Replicas is the number of groups that exist, of every revision.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// ReadyReplicas is the number of groups whose pods are all ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// UpdatedReplicas is the number of groups of the current revision.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`
}

// SliceStatus is where one slice runs.
type SliceStatus struct {
	// Slice is the slice's index.
	Slice int32 `json:"slice"`

	// Cluster is the target cluster that runs it.
	Cluster string `json:"cluster"`
}

// XDisaggregatedSet is the namespaced composite resource. The Go type exists
// to generate the XRD schemas; Crossplane serves the real kind from the XRD.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
// +kubebuilder:subresource:status
type XDisaggregatedSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DisaggregatedSetSpec   `json:"spec"`
	Status DisaggregatedSetStatus `json:"status,omitempty"`
}

// XDisaggregatedSetList is a list of XDisaggregatedSet.
//
// +kubebuilder:object:root=true
type XDisaggregatedSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []XDisaggregatedSet `json:"items"`
}

// DisaggregatedSetRoleScalerSpec is the replicas an autoscaler or a user
// wants of an External role.
type DisaggregatedSetRoleScalerSpec struct {
	// Replicas is the role's groups per slice. It is the scale
	// subresource's spec path.
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`
}

// DisaggregatedSetRoleScalerStatus is the role's groups as they are.
type DisaggregatedSetRoleScalerStatus struct {
	// Replicas is the number of the role's groups that exist, over every
	// revision and slice.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// Selector selects the role's leader pods, for an autoscaler.
	// +optional
	Selector string `json:"selector,omitempty"`

	// ObservedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (reason Bound) while the scaler belongs to a role
	// of a DisaggregatedSet.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// A DisaggregatedSetRoleScaler scales an External role of a
// DisaggregatedSet: the function composes one per External role, named
// "<ds>-<role>", takes the role's replicas from its spec, and the provider
// reports the role's groups in its status, so that a
// HorizontalPodAutoscaler can scale the role through its scale subresource.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:printcolumn:name="DESIRED",type="integer",JSONPath=".spec.replicas"
// +kubebuilder:printcolumn:name="CURRENT",type="integer",JSONPath=".status.replicas"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:resource:scope=Namespaced,categories={lws},shortName=dsrs
type DisaggregatedSetRoleScaler struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DisaggregatedSetRoleScalerSpec   `json:"spec,omitempty"`
	Status DisaggregatedSetRoleScalerStatus `json:"status,omitempty"`
}

// DisaggregatedSetRoleScalerList is a list of DisaggregatedSetRoleScaler.
//
// +kubebuilder:object:root=true
type DisaggregatedSetRoleScalerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DisaggregatedSetRoleScaler `json:"items"`
}
