package v1alpha1

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Package type metadata.
const (
	Group   = "lws.crossplane.io"
	Version = "v1alpha1"
)

var (
	// SchemeGroupVersion is the group version used to register these objects.
	SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder registers the Go types of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Kinds of this package, as used in GVKs and provider-config references.
var (
	RemoteLeaderWorkerSetKind             = reflect.TypeFor[RemoteLeaderWorkerSet]().Name()
	RemoteLeaderWorkerSetGroupVersionKind = SchemeGroupVersion.WithKind(RemoteLeaderWorkerSetKind)

	ProviderConfigKind                      = reflect.TypeFor[ProviderConfig]().Name()
	ProviderConfigGroupVersionKind          = SchemeGroupVersion.WithKind(ProviderConfigKind)
	ClusterProviderConfigKind               = reflect.TypeFor[ClusterProviderConfig]().Name()
	ClusterProviderConfigGroupVersionKind   = SchemeGroupVersion.WithKind(ClusterProviderConfigKind)
	TargetClusterKind                       = reflect.TypeFor[TargetCluster]().Name()
	DisaggregatedSetRoleScalerKind          = reflect.TypeFor[DisaggregatedSetRoleScaler]().Name()
	TargetClusterGroupVersionKind           = SchemeGroupVersion.WithKind(TargetClusterKind)
	ProviderConfigUsageKind                 = reflect.TypeFor[ProviderConfigUsage]().Name()
	ProviderConfigUsageGroupVersionKind     = SchemeGroupVersion.WithKind(ProviderConfigUsageKind)
	ProviderConfigUsageListKind             = reflect.TypeFor[ProviderConfigUsageList]().Name()
	ProviderConfigUsageListGroupVersionKind = SchemeGroupVersion.WithKind(ProviderConfigUsageListKind)
)

func init() {
	SchemeBuilder.Register(
		&XLeaderWorkerSet{}, &XLeaderWorkerSetList{},
		&XDisaggregatedSet{}, &XDisaggregatedSetList{},
		&DisaggregatedSetRoleScaler{}, &DisaggregatedSetRoleScalerList{},
		&FunctionInput{},
		&RemoteLeaderWorkerSet{}, &RemoteLeaderWorkerSetList{},
		&ProviderConfig{}, &ProviderConfigList{},
		&ClusterProviderConfig{}, &ClusterProviderConfigList{},
		&ProviderConfigUsage{}, &ProviderConfigUsageList{},
		&TargetCluster{}, &TargetClusterList{},
	)
}
