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

// Read takes a LeaderWorkerSet from a claim or composite resource. A legacy
// composite resource that backs a claim is named after the claim: the user
// named the claim, and the pods are named after it.
func Read(obj map[string]any) (LeaderWorkerSet, error) {
	meta, _ := obj["metadata"].(map[string]any)
	l := LeaderWorkerSet{
		Name:        str(meta["name"]),
		Namespace:   str(meta["namespace"]),
		Labels:      strMap(meta["labels"]),
		Annotations: strMap(meta["annotations"]),
	}
	if n := l.Labels[LabelClaimName]; n != "" {
		l.Name, l.Namespace = n, l.Labels[LabelClaimNamespace]
	}
	if l.Namespace == "" {
		l.Namespace = "default"
	}
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
