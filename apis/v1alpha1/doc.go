// Package v1alpha1 holds the lws.crossplane.io API: the LeaderWorkerSet spec
// that claims and composite resources carry (wire-compatible with
// leaderworkerset.x-k8s.io/v1), the RemoteLeaderWorkerSet managed resource
// that the composition function emits once per target cluster, and the
// provider's ProviderConfig types.
//
// +kubebuilder:object:generate=true
// +groupName=lws.crossplane.io
// +versionName=v1alpha1
package v1alpha1
