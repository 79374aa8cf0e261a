package lws

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// valid is a defaulted spec that passes validation: 2 groups of 2 pods.
func valid(opts ...func(*v1alpha1.LeaderWorkerSetSpec)) *v1alpha1.LeaderWorkerSetSpec {
	s := defaulted()
	s.Replicas = ptr.To[int32](2)
	s.LeaderWorkerTemplate.Size = ptr.To[int32](2)
	s.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers = []corev1.Container{{Name: "c", Image: "i"}}
	for _, o := range opts {
		o(s)
	}
	return s
}

func rolling(unavail, surge intstr.IntOrString) func(*v1alpha1.LeaderWorkerSetSpec) {
	return func(s *v1alpha1.LeaderWorkerSetSpec) {
		s.RolloutStrategy.RollingUpdateConfiguration.MaxUnavailable = unavail
		s.RolloutStrategy.RollingUpdateConfiguration.MaxSurge = surge
	}
}

func replicas(r int32) func(*v1alpha1.LeaderWorkerSetSpec) {
	return func(s *v1alpha1.LeaderWorkerSetSpec) { s.Replicas = ptr.To(r) }
}

func size(n int32) func(*v1alpha1.LeaderWorkerSetSpec) {
	return func(s *v1alpha1.LeaderWorkerSetSpec) { s.LeaderWorkerTemplate.Size = ptr.To(n) }
}

func subGroups(typ v1alpha1.SubGroupPolicyType, sgs int32) func(*v1alpha1.LeaderWorkerSetSpec) {
	return func(s *v1alpha1.LeaderWorkerSetSpec) {
		s.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{Type: ptr.To(typ), SubGroupSize: ptr.To(sgs)}
	}
}

func clusters(cs ...v1alpha1.ClusterTarget) func(*v1alpha1.LeaderWorkerSetSpec) {
	return func(s *v1alpha1.LeaderWorkerSetSpec) { s.Placement = &v1alpha1.Placement{Clusters: cs} }
}

func backoff(initial, maxDelay, reset int32) func(*v1alpha1.LeaderWorkerSetSpec) {
	return func(s *v1alpha1.LeaderWorkerSetSpec) {
		if s.GroupRestart == nil {
			s.GroupRestart = &v1alpha1.GroupRestart{}
		}
		s.GroupRestart.Backoff = &v1alpha1.GroupRestartBackoff{InitialSeconds: ptr.To(initial), MaxSeconds: ptr.To(maxDelay), ResetSeconds: ptr.To(reset)}
	}
}

func maxRestarts(n int32) func(*v1alpha1.LeaderWorkerSetSpec) {
	return func(s *v1alpha1.LeaderWorkerSetSpec) {
		if s.GroupRestart == nil {
			s.GroupRestart = &v1alpha1.GroupRestart{}
		}
		s.GroupRestart.MaxRestarts = ptr.To(n)
	}
}

func TestValidate(t *testing.T) {
	type args struct {
		name        string
		annotations map[string]string
		spec        *v1alpha1.LeaderWorkerSetSpec
	}
	cases := map[string]struct {
		reason string
		args   args
		want   string
	}{
		"Valid": {
			reason: "A defaulted LeaderWorkerSet with a container is valid.",
			args:   args{name: "test-sample", spec: valid()},
		},
		"NameNotDNS1035": {
			reason: "The name is also a Service name, so it must be a DNS-1035 label.",
			args:   args{name: "2cube", spec: valid()},
			want:   "metadata.name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
		},
		"ReplicasNegative": {
			reason: "replicas may not be negative.",
			args:   args{name: "a", spec: valid(replicas(-1))},
			want:   "spec.replicas: must be equal or greater than 0",
		},
		"ReplicasTooMany": {
			reason: "replicas may not exceed 1000000.",
			args:   args{name: "a", spec: valid(replicas(1000001))},
			want:   "spec.replicas: must be equal or less than 1000000",
		},
		"SizeNegative": {
			reason: "size must be at least 1.",
			args:   args{name: "a", spec: valid(size(-1))},
			want:   "spec.leaderWorkerTemplate.size: must be equal or greater than 1",
		},
		"ProductOverflows": {
			reason: "replicas times size must fit an int32 (100000 × 1000000).",
			args:   args{name: "a", spec: valid(replicas(100000), size(1000000))},
			want:   "spec.replicas: the product of replicas and size must not exceed 2147483647",
		},
		"NoContainers": {
			reason: "A worker template needs a container.",
			args: args{name: "a", spec: valid(func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers = nil
			})},
			want: "spec.leaderWorkerTemplate.workerTemplate.spec.containers: must have at least one container",
		},
		"PartitionNegative": {
			reason: "partition may not be negative.",
			args: args{name: "a", spec: valid(func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.RolloutStrategy.RollingUpdateConfiguration.Partition = ptr.To[int32](-1)
			})},
			want: "spec.rolloutStrategy.rollingUpdateConfiguration.partition: must be greater than or equal to 0",
		},
		"PartitionAboveReplicas": {
			reason: "A partition above replicas is allowed.",
			args: args{name: "a", spec: valid(func(s *v1alpha1.LeaderWorkerSetSpec) {
				s.RolloutStrategy.RollingUpdateConfiguration.Partition = ptr.To[int32](10)
			})},
		},
		"MaxUnavailableNegative": {
			reason: "maxUnavailable may not be negative.",
			args:   args{name: "a", spec: valid(rolling(intstr.FromInt32(-1), intstr.FromInt32(1)))},
			want:   "spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: must be greater than or equal to 0",
		},
		"MaxSurgeAbove100Percent": {
			reason: "A percentage may not exceed 100%.",
			args:   args{name: "a", spec: valid(rolling(intstr.FromInt32(1), intstr.FromString("101%")))},
			want:   "spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge: must not be greater than 100%",
		},
		"MaxSurgeMalformed": {
			reason: "A string must be a percentage.",
			args:   args{name: "a", spec: valid(rolling(intstr.FromInt32(1), intstr.FromString("two")))},
			want:   `spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge: must be an integer or a percentage, not "two"`,
		},
		"BothZero": {
			reason: "maxUnavailable and maxSurge may not both be 0.",
			args:   args{name: "a", spec: valid(rolling(intstr.FromInt32(0), intstr.FromInt32(0)))},
			want:   "spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: must not be 0 when maxSurge is 0",
		},
		"PercentRoundsDownToZero": {
			reason: "25% of 2 replicas rounds down to 0, so with maxSurge 0 it is rejected.",
			args:   args{name: "a", spec: valid(rolling(intstr.FromString("25%"), intstr.FromInt32(0)))},
			want:   "spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: must not be 0 when maxSurge is 0",
		},
		"BothZeroWithZeroReplicas": {
			reason: "replicas 0 allows any maxSurge and maxUnavailable.",
			args:   args{name: "a", spec: valid(replicas(0), rolling(intstr.FromInt32(0), intstr.FromInt32(0)))},
		},
		"LimitsAboveReplicas": {
			reason: "maxUnavailable and maxSurge larger than replicas are allowed.",
			args:   args{name: "a", spec: valid(rolling(intstr.FromInt32(10), intstr.FromInt32(10)))},
		},
		"SubGroupSizeNegative": {
			reason: "subGroupSize must be at least 1.",
			args:   args{name: "a", spec: valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, -1))},
			want:   "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: must be equal or greater than 1",
		},
		"SubGroupSizeZero": {
			reason: "A subGroupSize of 0 would divide by zero upstream; it is rejected.",
			args:   args{name: "a", spec: valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 0))},
			want:   "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: must be equal or greater than 1",
		},
		"SubGroupSizeAboveSize": {
			reason: "subGroupSize cannot be larger than size.",
			args:   args{name: "a", spec: valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 5))},
			want:   "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: cannot be larger than size; spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: size or size - 1 must be divisible by subGroupSize",
		},
		"SubGroupSizeNotDivisor": {
			reason: "size or size-1 must be divisible by subGroupSize.",
			args:   args{name: "a", spec: valid(size(8), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 3))},
			want:   "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: size or size - 1 must be divisible by subGroupSize",
		},
		"SubGroupSizeDividesSizeMinusOne": {
			reason: "size 5 with subGroupSize 2: the leader is the extra pod of subgroup 0.",
			args:   args{name: "a", spec: valid(size(5), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 2))},
		},
		"LeaderExcludedNeedsSizeMinusOne": {
			reason: "LeaderExcluded with size 4 and subGroupSize 2 leaves a worker without a subgroup.",
			args:   args{name: "a", spec: valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderExcluded, 2))},
			want:   "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: size-1 must be divisible by subGroupSize when using LeaderExcluded",
		},
		"SubGroupExclusiveWithoutSubGroups": {
			reason: "The subgroup exclusive annotation needs a subgroup policy.",
			args:   args{name: "a", annotations: map[string]string{AnnotationSubGroupExclusiveTopology: "zone"}, spec: valid()},
			want:   "metadata.annotations[leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology]: cannot have subgroup-exclusive-topology without subGroupSize set",
		},
		"ExclusiveTopologyNotALabelKey": {
			reason: "The exclusive topology is a node label key; anything else could never be scheduled.",
			args:   args{name: "a", annotations: map[string]string{AnnotationExclusiveTopology: "not a key"}, spec: valid()},
			want:   "metadata.annotations[leaderworkerset.sigs.k8s.io/exclusive-topology]: must be a node label key: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
		},
		"GangSchedulerUnknown": {
			reason: "A gang scheduler the provider does not know would otherwise be ignored, and groups scheduled pod by pod.",
			args:   args{name: "a", annotations: map[string]string{AnnotationGangScheduling: "volcano"}, spec: valid()},
			want:   `metadata.annotations[lws.crossplane.io/gang-scheduling]: must be one of Auto, Workload or Volcano, not "volcano"`,
		},
		"GangSchedulingWithExclusivePlacement": {
			reason: "Exclusive placement creates workers once their leader is scheduled, and a gang schedules its leader only with its workers: the group would never start.",
			args:   args{name: "a", annotations: map[string]string{AnnotationGangScheduling: "Auto", AnnotationExclusiveTopology: "zone"}, spec: valid()},
			want:   "metadata.annotations[lws.crossplane.io/gang-scheduling]: cannot be combined with leaderworkerset.sigs.k8s.io/exclusive-topology: its pods are placed after others are scheduled, which a gang waits for",
		},
		"GangSchedulerWorkload": {
			reason: "Workload is one of the gang schedulers.",
			args:   args{name: "a", annotations: map[string]string{AnnotationGangScheduling: "Workload"}, spec: valid()},
		},
		"NameTooLongLws410": {
			reason: "lws#410: a 52-character name makes worker pods' controller-revision-hash label longer than 63.",
			args:   args{name: strings.Repeat("a", 52), spec: valid()},
			want:   "metadata.name: must be no more than 50 characters (is 52) so that generated names and the controller-revision-hash label fit 63 characters with 2 groups of 2 pods",
		},
		"NameBudgetCountsSurge": {
			reason: "Surge groups get higher indices: 10 groups with surge 1 reach index 10.",
			args:   args{name: strings.Repeat("a", 50), spec: valid(replicas(10), rolling(intstr.FromInt32(1), intstr.FromInt32(1)))},
			want:   "metadata.name: must be no more than 49 characters (is 50) so that generated names and the controller-revision-hash label fit 63 characters with 11 groups of 2 pods",
		},
		"NameBudgetSizeOne": {
			reason: "Without workers only the leader StatefulSet's label counts: 52 characters fit.",
			args:   args{name: strings.Repeat("a", 52), spec: valid(size(1))},
		},
		"PlacementExplicitTooMany": {
			reason: "Explicit group counts may not exceed replicas.",
			args:   args{name: "a", spec: valid(clusters(v1alpha1.ClusterTarget{Name: "a", Groups: ptr.To[int32](3)}))},
			want:   "spec.placement.clusters: explicit groups add up to 3, more than spec.replicas 2",
		},
		"PlacementNothingForTheRest": {
			reason: "Groups left over need a weighted cluster.",
			args:   args{name: "a", spec: valid(clusters(v1alpha1.ClusterTarget{Name: "a", Groups: ptr.To[int32](1)}))},
			want:   "spec.placement.clusters: explicit groups add up to 1 of spec.replicas 2, and no cluster has a weight for the rest",
		},
		"PlacementDuplicate": {
			reason: "Cluster names are unique.",
			args:   args{name: "a", spec: valid(clusters(v1alpha1.ClusterTarget{Name: "a"}, v1alpha1.ClusterTarget{Name: "a"}))},
			want:   `spec.placement.clusters[1].name: duplicate cluster "a"`,
		},
		"PlacementGroupsAndWeight": {
			reason: "A cluster has an explicit count or a weight.",
			args: args{name: "a", spec: valid(clusters(
				v1alpha1.ClusterTarget{Name: "a", Groups: ptr.To[int32](1), Weight: ptr.To[int32](1)},
				v1alpha1.ClusterTarget{Name: "b"},
			))},
			want: "spec.placement.clusters[0]: set groups or weight, not both",
		},
		"GroupRestartDefaultsValid": {
			reason: "lws#1048: the default backoff with a budget of 5 is valid.",
			args:   args{name: "a", spec: valid(backoff(10, 300, 600), maxRestarts(5))},
		},
		"GroupRestartZeroBudget": {
			reason: "lws#820: maxRestarts 0 fails fast: a group is never recreated.",
			args:   args{name: "a", spec: valid(maxRestarts(0))},
		},
		"GroupRestartNegativeBudget": {
			reason: "maxRestarts may not be negative.",
			args:   args{name: "a", spec: valid(maxRestarts(-1))},
			want:   "spec.groupRestart.maxRestarts: must be greater than or equal to 0",
		},
		"GroupRestartInitialZero": {
			reason: "A backoff starts at one second or more; 0 would be no backoff.",
			args:   args{name: "a", spec: valid(backoff(0, 300, 600))},
			want:   "spec.groupRestart.backoff.initialSeconds: must be at least 1",
		},
		"GroupRestartMaxBelowInitial": {
			reason: "The cap may not be below the first delay.",
			args:   args{name: "a", spec: valid(backoff(60, 30, 600))},
			want:   "spec.groupRestart.backoff.maxSeconds: must be at least initialSeconds",
		},
		"GroupRestartResetNotAboveMax": {
			reason: "A group must not start over while it waits, or the budget could never run out.",
			args:   args{name: "a", spec: valid(backoff(10, 600, 600))},
			want:   "spec.groupRestart.backoff.resetSeconds: must be greater than maxSeconds",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := Validate(tc.args.name, tc.args.annotations, tc.args.spec)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nValidate(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	cases := map[string]struct {
		reason   string
		old, new *v1alpha1.LeaderWorkerSetSpec
		want     string
	}{
		"SizeMayChange": {
			reason: "size is mutable; a change rolls the groups.",
			old:    valid(size(2)),
			new:    valid(size(4)),
		},
		"SubGroupSizeImmutable": {
			reason: "subGroupSize cannot change.",
			old:    valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 2)),
			new:    valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 4)),
			want:   "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: is immutable",
		},
		"SubGroupPolicyCannotBeAdded": {
			reason: "A subgroup policy cannot be added after creation.",
			old:    valid(size(4)),
			new:    valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 2)),
			want:   "spec.leaderWorkerTemplate.subGroupPolicy: cannot enable subGroupSize after the LeaderWorkerSet is created",
		},
		"SubGroupPolicyCannotBeRemoved": {
			reason: "A subgroup policy cannot be removed.",
			old:    valid(size(4), subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, 2)),
			new:    valid(size(4)),
			want:   "spec.leaderWorkerTemplate.subGroupPolicy: cannot remove subGroupSize after it is enabled",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateUpdate(tc.old, tc.new)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nValidateUpdate(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
