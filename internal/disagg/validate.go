package disagg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Limits of a DisaggregatedSet, as upstream's.
const (
	MinRoles  = 2
	MaxRoles  = 10
	MaxSlices = 100
	// maxServiceName bounds "<ds>-<slice>-<revision>-<role>-prv", the
	// longest name a DisaggregatedSet makes, by a Service name's limit.
	maxServiceName = 63
	// maxScalerName bounds "<ds>-<role>", an object name.
	maxScalerName = 253
)

var (
	specPath  = field.NewPath("spec")
	rolesPath = specPath.Child("roles")
)

// Validate checks a DisaggregatedSet whose slices are defaulted, as
// upstream's webhook does (KEP-766), and each role as the LeaderWorkerSet it
// becomes. Every message names its field.
func Validate(name string, s *v1alpha1.DisaggregatedSetSpec) error {
	var errs lws.FieldErrors
	add := func(p *field.Path, format string, args ...any) {
		errs = append(errs, lws.FieldError{Path: p.String(), Message: fmt.Sprintf(format, args...)})
	}
	if n := len(s.Roles); n < MinRoles || n > MaxRoles {
		add(rolesPath, "must have %d to %d roles, has %d", MinRoles, MaxRoles, n)
	}
	slices := int32(1)
	if s.Slices != nil {
		slices = *s.Slices
	}
	if slices < 1 || slices > MaxSlices {
		add(specPath.Child("slices"), "must be 1 to %d", MaxSlices)
	}
	policy := s.PlacementPolicy != nil && s.PlacementPolicy.Type != "" && s.PlacementPolicy.Type != v1alpha1.PlacementNone
	if policy && s.PlacementPolicy.Topology == "" {
		add(specPath.Child("placementPolicy", "topology"), "is required when type is %s", s.PlacementPolicy.Type)
	}

	seen := map[string]bool{}
	var zero, nonZero []string
	for i := range s.Roles {
		r := &s.Roles[i]
		p := rolesPath.Index(i)
		if seen[r.Name] {
			add(p.Child("name"), "duplicate role %q", r.Name)
		}
		seen[r.Name] = true
		if External(r) {
			if slices > 1 {
				add(p.Child("scaling", "mode"), "External cannot be used with more than one slice (spec.slices is %d)", slices)
			}
			if n := len(ScalerName(name, r.Name)); n > maxScalerName {
				add(p.Child("name"), "makes the DisaggregatedSetRoleScaler name %d characters long, more than %d", n, maxScalerName)
			}
		} else if replicas(r) == 0 {
			zero = append(zero, r.Name)
		} else {
			nonZero = append(nonZero, r.Name)
		}
		if r.Spec.Placement != nil {
			add(p.Child("spec", "placement"), "is set per DisaggregatedSet: use spec.placement")
		}
		validateRollout(add, p.Child("spec", "rolloutStrategy"), r.Spec.RolloutStrategy)
		if policy {
			validateNoExclusiveAnnotations(add, p, r)
		}
		longest := Set{DS: name, Slice: slices - 1, Revision: strings.Repeat("0", revisionLength), Role: r.Name}
		if n := len(longest.ServiceName()); n > maxServiceName {
			add(p.Child("name"), "makes the Service name %q %d characters long, more than %d: shorten the DisaggregatedSet or role name", longest.ServiceName(), n, maxServiceName)
			continue
		}
		errs = append(errs, roleErrors(longest.Name(), r, p)...)
	}
	if len(zero) > 0 && len(nonZero) > 0 {
		add(rolesPath, "replicas must be zero for all non-External roles or non-zero for all non-External roles: %s at 0, %s not", strings.Join(zero, ", "), strings.Join(nonZero, ", "))
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// External tells whether a role's replicas come from its
// DisaggregatedSetRoleScaler.
func External(r *v1alpha1.DisaggregatedRoleSpec) bool {
	return r.Scaling != nil && r.Scaling.Mode == v1alpha1.RoleScalingExternal
}

// Warnings are what a valid spec asks for that is ignored.
func Warnings(s *v1alpha1.DisaggregatedSetSpec) []string {
	var out []string
	for i := range s.Roles {
		if r := &s.Roles[i]; External(r) && replicas(r) > 1 {
			out = append(out, rolesPath.Index(i).Child("spec", "replicas").String()+": ignored for an External role, whose replicas its DisaggregatedSetRoleScaler sets")
		}
	}
	return out
}

// replicas is a role's replicas per slice: 1 unless set.
func replicas(r *v1alpha1.DisaggregatedRoleSpec) int32 {
	if r.Spec.Replicas == nil {
		return 1
	}
	return *r.Spec.Replicas
}

// validateRollout refuses what a DisaggregatedSet's own rollout cannot do:
// another strategy type, or a partition.
func validateRollout(add func(*field.Path, string, ...any), p *field.Path, s v1alpha1.RolloutStrategy) {
	if s.Type != "" && s.Type != v1alpha1.RollingUpdateStrategyType {
		add(p.Child("type"), "must be %s", v1alpha1.RollingUpdateStrategyType)
	}
	if c := s.RollingUpdateConfiguration; c != nil && c.Partition != nil && *c.Partition != 0 {
		add(p.Child("rollingUpdateConfiguration", "partition"), "partition is not supported by DisaggregatedSet: roles roll out together")
	}
}

// validateNoExclusiveAnnotations: a placement policy decides the
// topology of the role's pods; the LeaderWorkerSet's own exclusive
// placement would contradict it.
func validateNoExclusiveAnnotations(add func(*field.Path, string, ...any), p *field.Path, r *v1alpha1.DisaggregatedRoleSpec) {
	type annotated struct {
		path        *field.Path
		annotations map[string]string
	}
	t := r.Spec.LeaderWorkerTemplate
	template := p.Child("spec", "leaderWorkerTemplate")
	where := []annotated{
		{p.Child("metadata", "annotations"), r.Metadata.Annotations},
		{template.Child("workerTemplate", "metadata", "annotations"), t.WorkerTemplate.Annotations},
	}
	if t.LeaderTemplate != nil {
		where = append(where, annotated{template.Child("leaderTemplate", "metadata", "annotations"), t.LeaderTemplate.Annotations})
	}
	for _, w := range where {
		for _, key := range []string{lws.AnnotationExclusiveTopology, lws.AnnotationSubGroupExclusiveTopology} {
			if _, ok := w.annotations[key]; ok {
				add(w.path.Key(key), "cannot be set with spec.placementPolicy")
			}
		}
	}
}

// roleErrors validates a role as the LeaderWorkerSet it becomes, with the
// paths of its errors under the role.
func roleErrors(setName string, r *v1alpha1.DisaggregatedRoleSpec, p *field.Path) lws.FieldErrors {
	err := lws.Validate(setName, r.Metadata.Annotations, lws.Default(&r.Spec))
	var fes lws.FieldErrors
	if !errors.As(err, &fes) {
		if err != nil {
			return lws.FieldErrors{{Path: p.String(), Message: err.Error()}}
		}
		return nil
	}
	out := make(lws.FieldErrors, len(fes))
	for i, fe := range fes {
		switch {
		case strings.HasPrefix(fe.Path, "metadata.name"):
			fe = lws.FieldError{Path: p.Child("name").String(), Message: "the LeaderWorkerSet name " + strconv.Quote(setName) + ": " + fe.Message}
		default:
			fe.Path = p.String() + "." + fe.Path
		}
		out[i] = fe
	}
	return out
}
