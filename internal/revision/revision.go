// Package revision computes a LeaderWorkerSet's template revision: the
// payload that identifies it (spec.leaderWorkerTemplate and
// spec.networkConfig) and the short key derived from it, which labels every
// object of that revision.
package revision

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
)

// Template is what a revision records: the two parts of the spec whose change
// starts a rolling update.
type Template struct {
	LeaderWorkerTemplate v1alpha1.LeaderWorkerTemplate `json:"leaderWorkerTemplate"`
	NetworkConfig        *v1alpha1.NetworkConfig       `json:"networkConfig,omitempty"`
}

// Of returns the revision template of a defaulted spec.
func Of(s *v1alpha1.LeaderWorkerSetSpec) Template {
	return Template{LeaderWorkerTemplate: *s.LeaderWorkerTemplate.DeepCopy(), NetworkConfig: s.NetworkConfig.DeepCopy()}
}

// Payload is the normalised JSON of a revision template. Decoding into Go
// types, dropping nulls and sorting keys makes the payload, and so the key,
// independent of how a client serialised the same template: an old
// "creationTimestamp": null inside template metadata must not start a
// rollout (lws#798).
func Payload(t Template) ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("cannot serialise revision template: %w", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("cannot normalise revision template: %w", err)
	}
	kube.DropNulls(v)
	return json.Marshal(v)
}

// Key is the revision key of a payload: its FNV-32a hash as a decimal, safe
// encoded (no vowels) the way Kubernetes encodes hashes in names.
func Key(payload []byte) string {
	h := fnv.New32a()
	_, _ = h.Write(payload)
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// Compute returns the normalised payload and key of a defaulted spec.
func Compute(s *v1alpha1.LeaderWorkerSetSpec) (payload []byte, key string, err error) {
	payload, err = Payload(Of(s))
	if err != nil {
		return nil, "", err
	}
	return payload, Key(payload), nil
}

// Decode reads a payload back into a revision template.
func Decode(payload []byte) (Template, error) {
	var t Template
	if err := json.Unmarshal(payload, &t); err != nil {
		return Template{}, fmt.Errorf("cannot decode revision payload: %w", err)
	}
	return t, nil
}

// Apply returns a copy of a spec with the revision's template in place of
// its own: what a group built from that revision sees.
func Apply(s *v1alpha1.LeaderWorkerSetSpec, t Template) *v1alpha1.LeaderWorkerSetSpec {
	out := s.DeepCopy()
	out.LeaderWorkerTemplate = *t.LeaderWorkerTemplate.DeepCopy()
	out.NetworkConfig = t.NetworkConfig.DeepCopy()
	return out
}
