package disagg

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func role(name string, replicas int32, image string) v1alpha1.DisaggregatedRoleSpec {
	return v1alpha1.DisaggregatedRoleSpec{
		Name: name,
		Spec: v1alpha1.LeaderWorkerSetSpec{
			Replicas: ptr.To(replicas),
			LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
				Size:           ptr.To[int32](2),
				WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}}},
			},
		},
	}
}

func TestRevision(t *testing.T) {
	base := []v1alpha1.DisaggregatedRoleSpec{role("prefill", 2, "a"), role("decode", 2, "a")}
	key, err := Revision(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 8 || strings.Trim(key, "0123456789abcdef") != "" {
		t.Fatalf("revision %q is not 8 hex digits", key)
	}
	cases := map[string]struct {
		edit    func([]v1alpha1.DisaggregatedRoleSpec)
		changes bool
	}{
		"ReplicasDoNotChangeIt":       {edit: func(r []v1alpha1.DisaggregatedRoleSpec) { r[0].Spec.Replicas = ptr.To[int32](9) }},
		"RoleMetadataDoesNotChangeIt": {edit: func(r []v1alpha1.DisaggregatedRoleSpec) { r[1].Metadata.Labels = map[string]string{"a": "b"} }},
		"RolloutStrategyDoesNotChangeIt": {edit: func(r []v1alpha1.DisaggregatedRoleSpec) {
			r[0].Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxSurge: intstr.FromInt32(2)}
		}},
		"ATemplateChangesIt": {edit: func(r []v1alpha1.DisaggregatedRoleSpec) {
			r[1].Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "b"
		}, changes: true},
		"ARoleNameChangesIt": {edit: func(r []v1alpha1.DisaggregatedRoleSpec) { r[1].Name = "decoder" }, changes: true},
		"RoleOrderChangesIt": {edit: func(r []v1alpha1.DisaggregatedRoleSpec) { r[0], r[1] = r[1], r[0] }, changes: true},
		"AnEmptyLabelMapDoesNotChangeIt": {edit: func(r []v1alpha1.DisaggregatedRoleSpec) {
			r[0].Spec.LeaderWorkerTemplate.WorkerTemplate.Labels = nil
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			roles := []v1alpha1.DisaggregatedRoleSpec{role("prefill", 2, "a"), role("decode", 2, "a")}
			tc.edit(roles)
			got, err := Revision(roles)
			if err != nil {
				t.Fatal(err)
			}
			if (got != key) != tc.changes {
				t.Errorf("revision %s, before %s: changed %v, want %v", got, key, got != key, tc.changes)
			}
		})
	}
}

func TestSetNamesAndLabels(t *testing.T) {
	s := Set{DS: "llm", Slice: 1, Revision: "0a1b2c3d", Role: "decode"}
	if got, want := s.Name(), "llm-1-0a1b2c3d-decode"; got != want {
		t.Errorf("Name() = %s, want %s", got, want)
	}
	if got, want := s.ServiceName(), "llm-1-0a1b2c3d-decode-prv"; got != want {
		t.Errorf("ServiceName() = %s, want %s", got, want)
	}
	want := map[string]string{"app": "llm-1-decode", LabelName: "llm", LabelRole: "decode", LabelSlice: "1", LabelRevision: "0a1b2c3d"}
	if diff := cmp.Diff(want, s.Labels()); diff != "" {
		t.Errorf("Labels() (-want +got):\n%s", diff)
	}
	if _, ok := s.ServiceSelector()["app"]; ok {
		t.Error("the Service selector spans revisions through app")
	}
	merged := s.Merged(map[string]string{"app": "mine", "team": "x"})
	if merged["app"] != "llm-1-decode" || merged["team"] != "x" {
		t.Errorf("Merged() = %v: the set's labels go over the role's, the others stay", merged)
	}
}

func TestValidate(t *testing.T) {
	valid := func() *v1alpha1.DisaggregatedSetSpec {
		return &v1alpha1.DisaggregatedSetSpec{Roles: []v1alpha1.DisaggregatedRoleSpec{role("prefill", 2, "a"), role("decode", 1, "a")}}
	}
	cases := map[string]struct {
		name  string
		edit  func(*v1alpha1.DisaggregatedSetSpec)
		paths []string
	}{
		"Valid":            {edit: func(*v1alpha1.DisaggregatedSetSpec) {}},
		"OneRoleIsTooFew":  {edit: func(s *v1alpha1.DisaggregatedSetSpec) { s.Roles = s.Roles[:1] }, paths: []string{"spec.roles"}},
		"DuplicateRoles":   {edit: func(s *v1alpha1.DisaggregatedSetSpec) { s.Roles[1].Name = "prefill" }, paths: []string{"spec.roles[1].name"}},
		"SlicesAboveLimit": {edit: func(s *v1alpha1.DisaggregatedSetSpec) { s.Slices = ptr.To[int32](101) }, paths: []string{"spec.slices"}},
		"ZeroAndNonZeroReplicas": {
			edit:  func(s *v1alpha1.DisaggregatedSetSpec) { s.Roles[1].Spec.Replicas = ptr.To[int32](0) },
			paths: []string{"spec.roles"},
		},
		"AllRolesAtZeroIsValid": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Roles[0].Spec.Replicas = ptr.To[int32](0)
			s.Roles[1].Spec.Replicas = ptr.To[int32](0)
		}},
		"PartitionIsRefused": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Roles[0].Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{Partition: ptr.To[int32](1), MaxUnavailable: intstr.FromInt32(1)}
		}, paths: []string{"spec.roles[0].spec.rolloutStrategy.rollingUpdateConfiguration.partition"}},
		"BothLimitsZero": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Roles[1].Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{}
		}, paths: []string{"spec.roles[1].spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable"}},
		"SurgeAbove100Percent": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Roles[0].Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxSurge: intstr.FromString("150%")}
		}, paths: []string{"spec.roles[0].spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge"}},
		"AnExternalRoleIsNotCountedAmongZeroReplicas": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Roles[1].Scaling = &v1alpha1.RoleScaling{Mode: v1alpha1.RoleScalingExternal}
			s.Roles[1].Spec.Replicas = ptr.To[int32](0)
		}},
		"ExternalWithSlices": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Slices = ptr.To[int32](2)
			s.Roles[1].Scaling = &v1alpha1.RoleScaling{Mode: v1alpha1.RoleScalingExternal}
		}, paths: []string{"spec.roles[1].scaling.mode"}},
		"RolePlacementIsRefused": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Roles[0].Spec.Placement = &v1alpha1.Placement{}
		}, paths: []string{"spec.roles[0].spec.placement"}},
		"ServiceNameTooLong": {name: strings.Repeat("d", 40), edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Slices = ptr.To[int32](10)
			s.Roles[1].Name = "decode-role"
		}, paths: []string{"spec.roles[0].name", "spec.roles[1].name"}}, // prefill's LeaderWorkerSet name is too long for its pods' names
		"PolicyWithoutTopology": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.PlacementPolicy = &v1alpha1.DisaggregatedPlacementPolicy{Type: v1alpha1.PlacementExclusiveSlice}
		}, paths: []string{"spec.placementPolicy.topology"}},
		"PolicyWithExclusiveTopologyAnnotations": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.PlacementPolicy = &v1alpha1.DisaggregatedPlacementPolicy{Type: v1alpha1.PlacementExclusiveTopology, Topology: "rack"}
			s.Roles[0].Metadata.Annotations = map[string]string{lws.AnnotationExclusiveTopology: "rack"}
			s.Roles[1].Spec.LeaderWorkerTemplate.WorkerTemplate.Annotations = map[string]string{lws.AnnotationSubGroupExclusiveTopology: "rack"}
		}, paths: []string{
			"spec.roles[0].metadata.annotations[leaderworkerset.sigs.k8s.io/exclusive-topology]",
			"spec.roles[1].spec.leaderWorkerTemplate.workerTemplate.metadata.annotations[leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology]",
		}},
		"RoleTemplateErrorsNameTheRole": {edit: func(s *v1alpha1.DisaggregatedSetSpec) {
			s.Roles[1].Spec.LeaderWorkerTemplate.Size = ptr.To[int32](0)
		}, paths: []string{"spec.roles[1].spec.leaderWorkerTemplate.size"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := valid()
			tc.edit(s)
			ds := tc.name
			if ds == "" {
				ds = "llm"
			}
			err := Validate(ds, s)
			var paths []string
			if err != nil {
				var fes lws.FieldErrors
				if !errors.As(err, &fes) {
					t.Fatalf("error %v is not a list of field errors", err)
				}
				for _, fe := range fes {
					paths = append(paths, fe.Path)
				}
			}
			slices.Sort(paths)
			if diff := cmp.Diff(tc.paths, paths); diff != "" {
				t.Errorf("paths of %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestPlaceSlice(t *testing.T) {
	policy := func(typ v1alpha1.DisaggregatedPlacementType) *v1alpha1.DisaggregatedPlacementPolicy {
		return &v1alpha1.DisaggregatedPlacementPolicy{Type: typ, Topology: "rack"}
	}
	cases := map[string]struct {
		policy              *v1alpha1.DisaggregatedPlacementPolicy
		slice               int32
		affinity, antiTerms int
		sliceZeroExists     bool
	}{
		"NoPolicyAddsNothing":               {policy: nil},
		"NoneAddsNothing":                   {policy: policy(v1alpha1.PlacementNone)},
		"ExclusiveSliceKeepsASliceTogether": {policy: policy(v1alpha1.PlacementExclusiveSlice), slice: 1, affinity: 1, antiTerms: 1},
		"SliceZeroRepelsOnlyLabelledSlices": {policy: policy(v1alpha1.PlacementExclusiveSlice), slice: 0, affinity: 1, antiTerms: 1, sliceZeroExists: true},
		"ExclusiveTopologyRepelsOtherSets":  {policy: policy(v1alpha1.PlacementExclusiveTopology), slice: 2, affinity: 1, antiTerms: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl := role("r", 1, "a").Spec.LeaderWorkerTemplate
			tmpl.LeaderTemplate = tmpl.WorkerTemplate.DeepCopy()
			PlaceSlice(&tmpl, "llm", tc.slice, tc.policy)
			for _, pod := range []*corev1.PodTemplateSpec{tmpl.LeaderTemplate, &tmpl.WorkerTemplate} {
				a := pod.Spec.Affinity
				if tc.affinity == 0 {
					if a != nil {
						t.Fatalf("affinity %v, want none", a)
					}
					continue
				}
				if n := len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution); n != tc.affinity {
					t.Errorf("%d affinity terms, want %d", n, tc.affinity)
				}
				anti := a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
				if len(anti) != tc.antiTerms {
					t.Fatalf("%d anti-affinity terms, want %d", len(anti), tc.antiTerms)
				}
				exists := slices.ContainsFunc(anti[0].LabelSelector.MatchExpressions, func(r metav1.LabelSelectorRequirement) bool {
					return r.Key == LabelSlice && r.Operator == "Exists"
				})
				if exists != tc.sliceZeroExists {
					t.Errorf("slice Exists in the slice anti-affinity: %v, want %v", exists, tc.sliceZeroExists)
				}
				if anti[0].TopologyKey != "rack" {
					t.Errorf("topology key %q, want rack", anti[0].TopologyKey)
				}
			}
		})
	}
}

func TestPlaceSlices(t *testing.T) {
	cases := map[string]struct {
		weights []int64
		slices  int32
		running map[int32]int
		want    []int
	}{
		"EqualWeightsAlternate":           {weights: []int64{1, 1}, slices: 4, want: []int{0, 1, 0, 1}},
		"WeightsShareInProportion":        {weights: []int64{2, 1}, slices: 6, want: []int{0, 1, 0, 0, 1, 0}},
		"AZeroWeightGetsNone":             {weights: []int64{0, 1}, slices: 2, want: []int{1, 1}},
		"NoWeightNoCluster":               {weights: []int64{0}, slices: 1, want: []int{-1}},
		"ARunningSliceStays":              {weights: []int64{1, 1}, slices: 2, running: map[int32]int{0: 1}, want: []int{1, 0}},
		"ASliceOfARemovedClusterMoves":    {weights: []int64{1, 1}, slices: 2, running: map[int32]int{1: 5}, want: []int{0, 1}},
		"ASliceOfAWeightlessClusterMoves": {weights: []int64{0, 1}, slices: 1, running: map[int32]int{0: 0}, want: []int{1}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PlaceSlices(tc.weights, tc.slices, tc.running)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("AddingSlicesMovesNone", func(t *testing.T) {
		weights := []int64{3, 1, 2}
		for n := int32(1); n < 30; n++ {
			if a, b := PlaceSlices(weights, n, nil), PlaceSlices(weights, n+1, nil); !slices.Equal(a, b[:n]) {
				t.Fatalf("%d slices %v, %d slices %v", n, a, n+1, b)
			}
		}
	})
}

func TestWarnings(t *testing.T) {
	s := &v1alpha1.DisaggregatedSetSpec{Roles: []v1alpha1.DisaggregatedRoleSpec{role("prefill", 3, "a"), role("decode", 3, "a")}}
	s.Roles[1].Scaling = &v1alpha1.RoleScaling{Mode: v1alpha1.RoleScalingExternal}
	got := Warnings(s)
	if len(got) != 1 || !strings.HasPrefix(got[0], "spec.roles[1].spec.replicas: ") {
		t.Errorf("warnings %q, want one for the External role's replicas", got)
	}
}

func TestScalerSelector(t *testing.T) {
	want := "disaggregatedset.x-k8s.io/name=llm,disaggregatedset.x-k8s.io/role=decode,leaderworkerset.sigs.k8s.io/worker-index=0"
	if got := ScalerSelector("llm", "decode"); got != want {
		t.Errorf("ScalerSelector() = %s, want %s", got, want)
	}
}

func TestScalerStatus(t *testing.T) {
	now := metav1.NewTime(time.Unix(1000, 0))
	set := func(ds, role string, replicas int32) v1alpha1.RemoteLeaderWorkerSet {
		mr := v1alpha1.RemoteLeaderWorkerSet{}
		mr.Labels = map[string]string{LabelName: ds, LabelRole: role}
		mr.Status.AtProvider.Replicas = replicas
		return mr
	}
	sets := []v1alpha1.RemoteLeaderWorkerSet{set("llm", "decode", 2), set("llm", "decode", 1), set("llm", "prefill", 5), set("other", "decode", 7)}
	cases := map[string]struct {
		labels   map[string]string
		replicas int32
		selector string
		reason   string
	}{
		"SumsTheRoleOverRevisionsAndSlices": {labels: ScalerLabels("llm", "decode"), replicas: 3, selector: ScalerSelector("llm", "decode"), reason: ReasonBound},
		"UnlabelledScalesNothing":           {labels: nil, reason: ReasonUnbound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &v1alpha1.DisaggregatedSetRoleScaler{}
			s.Labels, s.Generation = tc.labels, 4
			st := ScalerStatus(s, sets, now)
			if st.Replicas != tc.replicas || st.Selector != tc.selector || st.ObservedGeneration != 4 {
				t.Errorf("status %+v, want replicas %d, selector %q, generation 4", st, tc.replicas, tc.selector)
			}
			if len(st.Conditions) != 1 || st.Conditions[0].Reason != tc.reason {
				t.Errorf("conditions %+v, want Ready with reason %s", st.Conditions, tc.reason)
			}
		})
	}
}
