package compose

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Labels Crossplane puts on a legacy composite resource to name its claim.
const (
	LabelClaimName      = "crossplane.io/claim-name"
	LabelClaimNamespace = "crossplane.io/claim-namespace"
)

// Read takes a LeaderWorkerSet from a claim or composite resource.
func Read(obj map[string]any) (LeaderWorkerSet, error) {
	m := ReadMeta(obj)
	l := LeaderWorkerSet{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}
	spec, ok := obj["spec"].(map[string]any)
	if !ok {
		return l, lws.FieldErrors{{Path: "spec", Message: "is required"}}
	}
	spec = runtime.DeepCopyJSON(spec)
	lws.DefaultUnstructured(spec)
	b, err := json.Marshal(spec)
	if err != nil {
		return l, fmt.Errorf("cannot read spec: %w", err)
	}
	if err := json.Unmarshal(b, &l.Spec); err != nil {
		return l, lws.FieldErrors{{Path: "spec", Message: err.Error()}}
	}
	return l, nil
}

// Meta is what the function reads of a claim's or composite resource's
// metadata.
type Meta struct {
	Name, Namespace     string
	Labels, Annotations map[string]string
}

// ReadMeta reads a claim's or composite resource's metadata. A legacy
// composite resource that backs a claim is named after the claim: the user
// named the claim, and the objects are named after it.
func ReadMeta(obj map[string]any) Meta {
	meta, _ := obj["metadata"].(map[string]any)
	m := Meta{
		Name:        str(meta["name"]),
		Namespace:   str(meta["namespace"]),
		Labels:      strMap(meta["labels"]),
		Annotations: strMap(meta["annotations"]),
	}
	if n := m.Labels[LabelClaimName]; n != "" {
		m.Name, m.Namespace = n, m.Labels[LabelClaimNamespace]
	}
	if m.Namespace == "" {
		m.Namespace = "default"
	}
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
