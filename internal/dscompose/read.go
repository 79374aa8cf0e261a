// Package dscompose plans what a DisaggregatedSet becomes: one
// RemoteLeaderWorkerSet per (slice, revision, role), in the cluster of its
// slice, at the replicas the rollout (package dsplan) gives it, with its
// role Service once the revision is ready in every role, and the status
// summed over slices. It is pure: the composition function and `lws
// render` are shells over it. Each LeaderWorkerSet is then composed as any
// other (package compose), so the provider runs it as any other.
package dscompose

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// DisaggregatedSet is a DisaggregatedSet as its user wrote it, read from a
// claim or a composite resource.
type DisaggregatedSet struct {
	Name        string
	Namespace   string
	Labels      map[string]string
	Annotations map[string]string
	Spec        v1alpha1.DisaggregatedSetSpec
}

// Read takes a DisaggregatedSet from a claim or composite resource; a legacy
// composite resource is named after its claim.
func Read(obj map[string]any) (DisaggregatedSet, error) {
	m := compose.ReadMeta(obj)
	d := DisaggregatedSet{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}
	spec, ok := obj["spec"].(map[string]any)
	if !ok {
		return d, lws.FieldErrors{{Path: "spec", Message: "is required"}}
	}
	b, err := json.Marshal(runtime.DeepCopyJSON(spec))
	if err != nil {
		return d, fmt.Errorf("cannot read spec: %w", err)
	}
	if err := json.Unmarshal(b, &d.Spec); err != nil {
		return d, lws.FieldErrors{{Path: "spec", Message: err.Error()}}
	}
	return d, nil
}
