package lws

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// defaulted is the fully defaulted form of an empty spec.
func defaulted() *v1alpha1.LeaderWorkerSetSpec {
	return &v1alpha1.LeaderWorkerSetSpec{
		Replicas: ptr.To[int32](1),
		LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
			Size:          ptr.To[int32](1),
			RestartPolicy: v1alpha1.RecreateGroupOnPodRestart,
		},
		RolloutStrategy: v1alpha1.RolloutStrategy{
			Type: v1alpha1.RollingUpdateStrategyType,
			RollingUpdateConfiguration: &v1alpha1.RollingUpdateConfiguration{
				Partition:      ptr.To[int32](0),
				MaxUnavailable: intstr.FromInt32(1),
				MaxSurge:       intstr.FromInt32(0),
			},
		},
		StartupPolicy: v1alpha1.LeaderCreatedStartupPolicy,
		NetworkConfig: &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainShared)},
	}
}

func TestDefault(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     func(*v1alpha1.LeaderWorkerSetSpec)
		want   func(*v1alpha1.LeaderWorkerSetSpec)
	}{
		"Empty": {
			reason: "Every field gets the default the CRD and upstream's webhook give it.",
			in:     func(*v1alpha1.LeaderWorkerSetSpec) {},
			want:   func(*v1alpha1.LeaderWorkerSetSpec) {},
		},
		"DefaultRestartPolicyBecomesNone": {
			reason: "The deprecated Default restart policy is rewritten to None.",
			in: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.LeaderWorkerTemplate.RestartPolicy = v1alpha1.DefaultRestartPolicy
			},
			want: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.LeaderWorkerTemplate.RestartPolicy = v1alpha1.NoneRestartPolicy
			},
		},
		"NilSubdomainPolicyBecomesShared": {
			reason: "A networkConfig without subdomainPolicy gets Shared.",
			in:     func(s *v1alpha1.LeaderWorkerSetSpec) { s.NetworkConfig = &v1alpha1.NetworkConfig{} },
			want:   func(*v1alpha1.LeaderWorkerSetSpec) {},
		},
		"ExplicitValuesKept": {
			reason: "Explicit values such as partition 2, maxUnavailable 2 and maxSurge 1 are kept.",
			in: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.Replicas = ptr.To[int32](4)
				s.StartupPolicy = v1alpha1.LeaderReadyStartupPolicy
				s.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{
					Partition: ptr.To[int32](2), MaxUnavailable: intstr.FromInt32(2), MaxSurge: intstr.FromInt32(1),
				}
				s.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
			},
			want: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.Replicas = ptr.To[int32](4)
				s.StartupPolicy = v1alpha1.LeaderReadyStartupPolicy
				s.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{
					Partition: ptr.To[int32](2), MaxUnavailable: intstr.FromInt32(2), MaxSurge: intstr.FromInt32(1),
				}
				s.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
			},
		},
		"SubGroupPolicyTypeDefaultsToLeaderWorker": {
			reason: "A subgroup policy without a type is LeaderWorker.",
			in: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{SubGroupSize: ptr.To[int32](2)}
			},
			want: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{
					Type: ptr.To(v1alpha1.SubGroupPolicyTypeLeaderWorker), SubGroupSize: ptr.To[int32](2),
				}
			},
		},
		"GroupRestartBackoffDefaults": {
			reason: "An empty backoff waits 10s, doubling up to 300s, and starts over after 600s.",
			in: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.GroupRestart = &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{}, MaxRestarts: ptr.To[int32](5)}
			},
			want: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.GroupRestart = &v1alpha1.GroupRestart{Backoff: &v1alpha1.GroupRestartBackoff{
					InitialSeconds: ptr.To[int32](10), MaxSeconds: ptr.To[int32](300), ResetSeconds: ptr.To[int32](600),
				}, MaxRestarts: ptr.To[int32](5)}
			},
		},
		"GroupRestartBudgetOnlyHasNoBackoff": {
			reason: "A budget without a backoff keeps every recreation immediate: no backoff is made up.",
			in: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.GroupRestart = &v1alpha1.GroupRestart{MaxRestarts: ptr.To[int32](3)}
			},
			want: func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.GroupRestart = &v1alpha1.GroupRestart{MaxRestarts: ptr.To[int32](3)}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := &v1alpha1.LeaderWorkerSetSpec{}
			tc.in(in)
			want := defaulted()
			tc.want(want)
			got := Default(in)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nDefault(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(got, Default(got)); diff != "" {
				t.Errorf("Default is not idempotent: -first, +second:\n%s", diff)
			}
		})
	}
}

func TestDefaultUnstructured(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     map[string]any
		want   map[string]any
	}{
		"AbsentMaxUnavailableIsOne": {
			reason: "An absent maxUnavailable gets the schema default 1.",
			in:     map[string]any{"rolloutStrategy": map[string]any{"rollingUpdateConfiguration": map[string]any{"maxSurge": int64(2)}}},
			want:   map[string]any{"rolloutStrategy": map[string]any{"rollingUpdateConfiguration": map[string]any{"maxSurge": int64(2), "maxUnavailable": int64(1)}}},
		},
		"ExplicitZeroKept": {
			reason: "An explicit maxUnavailable 0 stays 0.",
			in:     map[string]any{"rolloutStrategy": map[string]any{"rollingUpdateConfiguration": map[string]any{"maxUnavailable": int64(0)}}},
			want:   map[string]any{"rolloutStrategy": map[string]any{"rollingUpdateConfiguration": map[string]any{"maxUnavailable": int64(0)}}},
		},
		"NoConfiguration": {
			reason: "Without a rollingUpdateConfiguration, Default fills in the whole object.",
			in:     map[string]any{"replicas": int64(2)},
			want:   map[string]any{"replicas": int64(2)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			DefaultUnstructured(tc.in)
			if diff := cmp.Diff(tc.want, tc.in); diff != "" {
				t.Errorf("%s\nDefaultUnstructured(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
