package clusters

import (
	"errors"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// Errors that classify a failed Get; test with errors.Is.
var (
	// ErrInvalidConfig means the provider config, its Secret or its
	// kubeconfig is missing or unusable. Retrying will not help until one of
	// them changes.
	ErrInvalidConfig = errors.New("invalid provider config")
	// ErrUnavailable means the target cluster did not answer, refused the
	// credentials, or its caches did not sync in time.
	ErrUnavailable = errors.New("target cluster unavailable")
	// ErrStopped means the connection was stopped (forgotten or replaced)
	// while it was being made.
	ErrStopped = errors.New("connection stopped")
)

// Key identifies a provider config: a namespaced ProviderConfig, or a
// ClusterProviderConfig (empty Namespace).
type Key struct {
	Kind      string
	Namespace string
	Name      string
}

// String names the provider config as in errors and logs, e.g.
// "ProviderConfig team-a/gpu-east" or "ClusterProviderConfig default".
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + " " + k.Name
	}
	return k.Kind + " " + k.Namespace + "/" + k.Name
}

// validate rejects keys that cannot name a provider config, so that a typo
// in a managed resource fails with a clear message.
func (k Key) validate() error {
	switch {
	case k.Name == "":
		return fmt.Errorf("%s: empty name: %w", k, ErrInvalidConfig)
	case k.Kind == v1alpha1.ProviderConfigKind && k.Namespace == "":
		return fmt.Errorf("%s: a ProviderConfig is namespaced but the key has no namespace: %w", k, ErrInvalidConfig)
	case k.Kind == v1alpha1.ClusterProviderConfigKind && k.Namespace != "":
		return fmt.Errorf("%s: a ClusterProviderConfig is cluster-scoped but the key has a namespace: %w", k, ErrInvalidConfig)
	case k.Kind != v1alpha1.ProviderConfigKind && k.Kind != v1alpha1.ClusterProviderConfigKind:
		return fmt.Errorf("%s: unsupported provider config kind %q (want %s or %s): %w",
			k, k.Kind, v1alpha1.ProviderConfigKind, v1alpha1.ClusterProviderConfigKind, ErrInvalidConfig)
	}
	return nil
}

// KeyFor is the provider config a managed resource references. A missing
// reference means ClusterProviderConfig "default", the API's default; a
// ProviderConfig is looked up in the managed resource's namespace. This
// matches the key the OnChange callback reports for the same config.
func KeyFor(mg resource.ModernManaged) Key {
	k := Key{Kind: v1alpha1.ClusterProviderConfigKind, Name: "default"}
	if ref := mg.GetProviderConfigReference(); ref != nil {
		k.Kind, k.Name = ref.Kind, ref.Name
	}
	if k.Kind == v1alpha1.ProviderConfigKind {
		k.Namespace = mg.GetNamespace()
	}
	return k
}
