package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TargetClusterStatus is what placement needs to know of a target cluster:
// whether the provider reaches it, and its room for groups.
type TargetClusterStatus struct {
	// ProviderConfigRef is the provider config that reaches the cluster.
	// +optional
	ProviderConfigRef *ProviderConfigReference `json:"providerConfigRef,omitempty"`

	// LastContactTime is when the provider last reached the cluster's API
	// server, as of the last change of this status: while the cluster is
	// reachable it is not rewritten (an idle cluster costs no write), and
	// once it is not, it is the last contact before it was lost, from which
	// a failover's afterSeconds count (hence microseconds).
	// +optional
	LastContactTime *metav1.MicroTime `json:"lastContactTime,omitempty"`

	// Nodes is the number of nodes, and ReadyNodes of those the Ready and
	// schedulable ones.
	// +optional
	Nodes int32 `json:"nodes"`
	// +optional
	ReadyNodes int32 `json:"readyNodes"`

	// FreeNodes are the ready, schedulable nodes running no pod of a
	// LeaderWorkerSet, and Allocatable their extended resources (such as
	// nvidia.com/gpu or google.com/tpu), summed.
	// +optional
	FreeNodes int32 `json:"freeNodes"`
	// +optional
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`

	// Occupants are the LeaderWorkerSets that alone run pods on ready
	// nodes with extended resources: the nodes and resources each holds.
	// A LeaderWorkerSet's room is the free nodes and its own, as both are
	// read from one observation: counting its groups from its managed
	// resource instead counts twice a group created but not yet scheduled.
	// +listType=map
	// +listMapKey=leaderWorkerSet
	// +optional
	Occupants []Occupant `json:"occupants,omitempty"`

	// Domains are the topology domains (accelerator islands) of the
	// provider config's topology keys: for each key and value, the same
	// counts over the nodes carrying it. An exclusive-topology group needs
	// a domain whose ready nodes are all free.
	// +listType=map
	// +listMapKey=key
	// +listMapKey=value
	// +optional
	Domains []TopologyDomain `json:"domains,omitempty"`

	// Conditions: Reachable.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// TopologyDomain is one value of a topology key, and its room.
type TopologyDomain struct {
	// Key is the node label, Value its value on the domain's nodes.
	Key   string `json:"key"`
	Value string `json:"value"`

	// ReadyNodes are its Ready, schedulable nodes; FreeNodes those running
	// no pod of a LeaderWorkerSet; Allocatable the ready nodes' extended
	// resources, summed (an exclusive group takes the whole domain).
	ReadyNodes int32 `json:"readyNodes"`
	FreeNodes  int32 `json:"freeNodes"`
	// +optional
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`

	// Occupant is the LeaderWorkerSet (namespace/name) whose pods run on
	// every busy node of the domain, when one alone does: the domain is
	// then as much room for its groups as a free one.
	// +optional
	Occupant string `json:"occupant,omitempty"`
}

// Occupant is a LeaderWorkerSet alone on some nodes, and their room.
type Occupant struct {
	// LeaderWorkerSet is its namespace/name in the target cluster.
	LeaderWorkerSet string `json:"leaderWorkerSet"`
	Nodes           int32  `json:"nodes"`
	// +optional
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`
}

// TargetCluster is what the provider observes of one target cluster, kept
// by the provider for each ClusterProviderConfig and named after it. It has
// no spec: composition functions read it as a required resource to place
// groups by capacity and to fail over from clusters that are lost.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="REACHABLE",type="string",JSONPath=".status.conditions[?(@.type=='Reachable')].status"
// +kubebuilder:printcolumn:name="NODES",type="integer",JSONPath=".status.readyNodes"
// +kubebuilder:printcolumn:name="FREE",type="integer",JSONPath=".status.freeNodes"
// +kubebuilder:printcolumn:name="LAST-CONTACT",type="date",JSONPath=".status.lastContactTime"
// +kubebuilder:resource:scope=Cluster,categories={crossplane,lws}
type TargetCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Status TargetClusterStatus `json:"status,omitempty"`
}

// TargetClusterList is a list of TargetCluster.
//
// +kubebuilder:object:root=true
type TargetClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TargetCluster `json:"items"`
}
