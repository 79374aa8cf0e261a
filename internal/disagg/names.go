// Package disagg holds what a DisaggregatedSet is made of, pure: the
// revision of its roles, the names and labels of each (slice, revision,
// role) LeaderWorkerSet and Service, validation, the affinity of its
// placement policy, and which cluster runs each slice. Behaviour follows
// upstream's DisaggregatedSet (KEP-766, KEP-846 slices, KEP-848 placement
// policy); the rollout itself is package dsplan.
package disagg

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Labels and annotations with upstream's keys.
const (
	LabelName     = "disaggregatedset.x-k8s.io/name"
	LabelRole     = "disaggregatedset.x-k8s.io/role"
	LabelSlice    = "disaggregatedset.x-k8s.io/slice"
	LabelRevision = "disaggregatedset.x-k8s.io/revision"

	// AnnotationInitialReplicas is an old revision's replicas when a
	// rollout began: the planner's starting point, kept across steps.
	AnnotationInitialReplicas = "disaggregatedset.x-k8s.io/initial-replicas"
)

// revisionLength is the number of hex digits of a revision.
const revisionLength = 8

// Revision identifies the roles' templates: the first 8 hex digits of the
// SHA-256 of their names and leaderWorkerTemplates, in role order. Replicas,
// slices and role metadata are not part of it, so changing them rolls
// nothing out.
func Revision(roles []v1alpha1.DisaggregatedRoleSpec) (string, error) {
	type entry struct {
		Name     string                        `json:"name"`
		Template v1alpha1.LeaderWorkerTemplate `json:"template"`
	}
	entries := make([]entry, len(roles))
	for i, r := range roles {
		entries[i] = entry{Name: r.Name, Template: r.Spec.LeaderWorkerTemplate}
	}
	raw, err := json.Marshal(entries)
	if err != nil {
		return "", fmt.Errorf("cannot serialise role templates: %w", err)
	}
	// Normalised as a template revision is: a null written by one client
	// and left out by another is the same template.
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("cannot normalise role templates: %w", err)
	}
	kube.DropNulls(v)
	if raw, err = json.Marshal(v); err != nil {
		return "", fmt.Errorf("cannot serialise role templates: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:revisionLength], nil
}

// ScalerName is the name of an External role's DisaggregatedSetRoleScaler.
func ScalerName(ds, role string) string { return ds + "-" + role }

// ScalerLabels label an External role's DisaggregatedSetRoleScaler.
func ScalerLabels(ds, role string) map[string]string {
	return map[string]string{LabelName: ds, LabelRole: role}
}

// ScalerSelector selects an External role's leader pods, for an
// autoscaler.
func ScalerSelector(ds, role string) string {
	return LabelName + "=" + ds + "," + LabelRole + "=" + role + "," + lws.LabelWorkerIndex + "=0"
}

// Set names one LeaderWorkerSet of a DisaggregatedSet.
type Set struct {
	DS       string
	Slice    int32
	Revision string
	Role     string
}

// Name is "<ds>-<slice>-<revision>-<role>".
func (s Set) Name() string {
	return fmt.Sprintf("%s-%d-%s-%s", s.DS, s.Slice, s.Revision, s.Role)
}

// ServiceName is the role Service of the set: "<name>-prv".
func (s Set) ServiceName() string { return s.Name() + "-prv" }

// Labels are the set's labels, on the LeaderWorkerSet and its pod
// templates: "app" names the slice's role across revisions.
func (s Set) Labels() map[string]string {
	return map[string]string{
		"app":         fmt.Sprintf("%s-%d-%s", s.DS, s.Slice, s.Role),
		LabelName:     s.DS,
		LabelRole:     s.Role,
		LabelSlice:    strconv.Itoa(int(s.Slice)),
		LabelRevision: s.Revision,
	}
}

// ServiceSelector selects the pods of the set, and labels its Service.
func (s Set) ServiceSelector() map[string]string {
	l := s.Labels()
	delete(l, "app")
	return l
}

// Merged returns base with the set's labels over it.
func (s Set) Merged(base map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, s.Labels())
	return out
}
