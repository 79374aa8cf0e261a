package lws

import (
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// Defaults of spec.groupRestart, our extension: the backoff's first delay,
// its cap, and how long a group must go without a recreation to start over.
// DefaultResetSeconds also bounds "in a row" for a budget without a backoff.
const (
	DefaultInitialSeconds = 10
	DefaultMaxSeconds     = 300
	DefaultResetSeconds   = 600
)

// Default fills in every default of a LeaderWorkerSet spec: the schema's
// defaults first, then the ones upstream's mutating webhook sets (https://lws.sigs.k8s.io/docs/reference/leaderworkerset.v1/).
// It is idempotent and returns a copy.
func Default(in *v1alpha1.LeaderWorkerSetSpec) *v1alpha1.LeaderWorkerSetSpec {
	s := in.DeepCopy()
	if s.Replicas == nil {
		s.Replicas = ptr.To[int32](1)
	}
	t := &s.LeaderWorkerTemplate
	if t.Size == nil {
		t.Size = ptr.To[int32](1)
	}
	switch t.RestartPolicy {
	case "":
		t.RestartPolicy = v1alpha1.RecreateGroupOnPodRestart
	case v1alpha1.DefaultRestartPolicy:
		t.RestartPolicy = v1alpha1.NoneRestartPolicy
	}
	if p := t.SubGroupPolicy; p != nil && p.Type == nil {
		p.Type = ptr.To(v1alpha1.SubGroupPolicyTypeLeaderWorker)
	}
	if s.StartupPolicy == "" {
		s.StartupPolicy = v1alpha1.LeaderCreatedStartupPolicy
	}
	if s.RolloutStrategy.Type == "" {
		s.RolloutStrategy.Type = v1alpha1.RollingUpdateStrategyType
	}
	if s.RolloutStrategy.Type == v1alpha1.RollingUpdateStrategyType && s.RolloutStrategy.RollingUpdateConfiguration == nil {
		s.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{
			MaxUnavailable: intstr.FromInt32(1),
			MaxSurge:       intstr.FromInt32(0),
		}
	}
	if c := s.RolloutStrategy.RollingUpdateConfiguration; c != nil && c.Partition == nil {
		c.Partition = ptr.To[int32](0)
	}
	if s.NetworkConfig == nil {
		s.NetworkConfig = &v1alpha1.NetworkConfig{}
	}
	if s.NetworkConfig.SubdomainPolicy == nil {
		s.NetworkConfig.SubdomainPolicy = ptr.To(v1alpha1.SubdomainShared)
	}
	// A groupRestart without a backoff keeps recreations immediate; only a
	// backoff that is there gets its defaults.
	if g := s.GroupRestart; g != nil && g.Backoff != nil {
		b := g.Backoff
		if b.InitialSeconds == nil {
			b.InitialSeconds = ptr.To[int32](DefaultInitialSeconds)
		}
		if b.MaxSeconds == nil {
			b.MaxSeconds = ptr.To[int32](DefaultMaxSeconds)
		}
		if b.ResetSeconds == nil {
			b.ResetSeconds = ptr.To[int32](DefaultResetSeconds)
		}
	}
	return s
}

// DefaultUnstructured applies the schema defaults that cannot be told apart
// from zero values once decoded into Go types: an absent maxUnavailable
// defaults to 1, an explicit 0 stays 0. The API server applies them from the
// schema; this serves input that never went through one (lws render).
func DefaultUnstructured(spec map[string]any) {
	rs, ok := spec["rolloutStrategy"].(map[string]any)
	if !ok {
		return
	}
	c, ok := rs["rollingUpdateConfiguration"].(map[string]any)
	if !ok {
		return
	}
	if _, ok := c["maxUnavailable"]; !ok {
		c["maxUnavailable"] = int64(1)
	}
}
