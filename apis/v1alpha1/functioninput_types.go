package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FunctionInput configures the composition function in a Composition's
// pipeline step. It is never installed as a resource.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories=crossplane
type FunctionInput struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// TTL is how long Crossplane may reuse the function's response before it
	// calls the function again. Defaults to 60s.
	// +optional
	TTL *metav1.Duration `json:"ttl,omitempty"`
}
