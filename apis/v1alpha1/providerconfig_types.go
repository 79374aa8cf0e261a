package v1alpha1

import (
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProviderConfigSpec says how to reach a target cluster.
type ProviderConfigSpec struct {
	// Credentials to reach the cluster: a kubeconfig in a Secret, or
	// InjectedIdentity for the cluster the provider runs in.
	Credentials ProviderCredentials `json:"credentials"`

	// WorkerLabels says how worker pods get their worker-index label,
	// which differs between the pods of one StatefulSet template. Patch:
	// the provider patches each worker once it exists, one write per pod.
	// AdmissionPolicy: the provider keeps a MutatingAdmissionPolicy in the
	// cluster (lws-crossplane-worker-index) that sets the label when a
	// worker is created, from its StatefulSet ordinal; the cluster must
	// serve admissionregistration.k8s.io MutatingAdmissionPolicies (v1,
	// or v1beta1 with the MutatingAdmissionPolicy feature gate) and the
	// provider's identity manage them. Auto, the default: AdmissionPolicy
	// where the cluster serves them, Patch where it does not. Workers the
	// policy missed are patched, so the setting never loses a label.
	// +kubebuilder:validation:Enum=Auto;Patch;AdmissionPolicy
	// +kubebuilder:default=Auto
	// +optional
	WorkerLabels WorkerLabelsPolicy `json:"workerLabels,omitempty"`

	// TopologyKeys are the node labels whose values are the cluster's
	// topology domains (accelerator islands), for which the cluster's
	// TargetCluster reports room. Default: cloud.google.com/gke-nodepool
	// and topology.kubernetes.io/zone.
	// +kubebuilder:validation:MaxItems=8
	// +listType=set
	// +optional
	TopologyKeys []string `json:"topologyKeys,omitempty"`

	// Namespaces says who makes the namespaces of LeaderWorkerSets in the
	// cluster. Create: the provider creates a missing namespace, labelled
	// lws.crossplane.io/created-by=provider-lws, and deletes it with the
	// last LeaderWorkerSet in it if it created it and nothing else is left
	// there. Existing: namespaces are managed elsewhere, and a missing one
	// fails the managed resource with a message naming the cluster and the
	// namespace.
	// +kubebuilder:validation:Enum=Create;Existing
	// +kubebuilder:default=Create
	// +optional
	Namespaces NamespacePolicy `json:"namespaces,omitempty"`
}

// NamespacePolicy is who makes the namespaces of LeaderWorkerSets.
type NamespacePolicy string

// Namespace policies.
const (
	NamespacesCreate   NamespacePolicy = "Create"
	NamespacesExisting NamespacePolicy = "Existing"
)

// WorkerLabelsPolicy is how worker pods get their worker-index label.
type WorkerLabelsPolicy string

// Worker label policies.
const (
	WorkerLabelsAuto            WorkerLabelsPolicy = "Auto"
	WorkerLabelsPatch           WorkerLabelsPolicy = "Patch"
	WorkerLabelsAdmissionPolicy WorkerLabelsPolicy = "AdmissionPolicy"
)

// ProviderCredentials are the credentials of a target cluster.
type ProviderCredentials struct {
	// Source of the credentials.
	// +kubebuilder:validation:Enum=Secret;InjectedIdentity
	Source xpv2.CredentialsSource `json:"source"`

	xpv2.CommonCredentialSelectors `json:",inline"`
}

// ProviderConfigStatus is the status of a provider config.
type ProviderConfigStatus struct {
	xpv2.ProviderConfigStatus `json:",inline"`
}

// A ProviderConfig reaches a target cluster, for managed resources in its
// namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="SECRET-NAME",type="string",JSONPath=".spec.credentials.secretRef.name",priority=1
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,provider,lws}
type ProviderConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProviderConfigSpec   `json:"spec"`
	Status ProviderConfigStatus `json:"status,omitempty"`
}

// ProviderConfigList is a list of ProviderConfig.
//
// +kubebuilder:object:root=true
type ProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfig `json:"items"`
}

// A ClusterProviderConfig reaches a target cluster, for managed resources in
// any namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="SECRET-NAME",type="string",JSONPath=".spec.credentials.secretRef.name",priority=1
// +kubebuilder:resource:scope=Cluster,categories={crossplane,provider,lws}
type ClusterProviderConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProviderConfigSpec   `json:"spec"`
	Status ProviderConfigStatus `json:"status,omitempty"`
}

// ClusterProviderConfigList is a list of ClusterProviderConfig.
//
// +kubebuilder:object:root=true
type ClusterProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterProviderConfig `json:"items"`
}

// A ProviderConfigUsage records that a managed resource uses a
// ProviderConfig or ClusterProviderConfig, so that it is not deleted while in
// use.
//
// +kubebuilder:object:root=true
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="CONFIG-NAME",type="string",JSONPath=".providerConfigRef.name"
// +kubebuilder:printcolumn:name="RESOURCE-KIND",type="string",JSONPath=".resourceRef.kind"
// +kubebuilder:printcolumn:name="RESOURCE-NAME",type="string",JSONPath=".resourceRef.name"
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,provider,lws}
type ProviderConfigUsage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	xpv2.TypedProviderConfigUsage `json:",inline"`
}

// ProviderConfigUsageList is a list of ProviderConfigUsage.
//
// +kubebuilder:object:root=true
type ProviderConfigUsageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfigUsage `json:"items"`
}
