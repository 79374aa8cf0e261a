// Package apis holds the lws.crossplane.io API types.
package apis

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// AddToScheme adds every type of the project's API to a scheme.
func AddToScheme(s *runtime.Scheme) error {
	return v1alpha1.AddToScheme(s)
}
