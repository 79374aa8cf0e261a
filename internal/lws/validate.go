package lws

import (
	"fmt"
	"math"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// A FieldError says what is wrong with one field.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// FieldErrors are all the problems found in one object. Its message lists
// every field, so one round trip shows the user everything to fix.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e *FieldErrors) add(p *field.Path, format string, args ...any) {
	*e = append(*e, FieldError{Path: p.String(), Message: fmt.Sprintf(format, args...)})
}

// err returns nil when there is nothing to report, so callers can compare
// with nil without meeting a typed nil.
func (e FieldErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

var (
	specPath     = field.NewPath("spec")
	templatePath = specPath.Child("leaderWorkerTemplate")
	rollingPath  = specPath.Child("rolloutStrategy", "rollingUpdateConfiguration")
	subGroupPath = templatePath.Child("subGroupPolicy")
	restartPath  = specPath.Child("groupRestart")
)

// Validate checks a defaulted LeaderWorkerSet (as upstream's webhook does, plus the generated
// name budget of lws#410). Every message names its field.
func Validate(name string, annotations map[string]string, s *v1alpha1.LeaderWorkerSetSpec) error {
	var errs FieldErrors
	for _, msg := range validation.IsDNS1035Label(name) {
		errs.add(field.NewPath("metadata", "name"), "%s", msg)
	}

	replicas, size := *s.Replicas, *s.LeaderWorkerTemplate.Size
	if replicas < 0 {
		errs.add(specPath.Child("replicas"), "must be equal or greater than 0")
	}
	if replicas > 1000000 {
		errs.add(specPath.Child("replicas"), "must be equal or less than 1000000")
	}
	if size < 1 {
		errs.add(templatePath.Child("size"), "must be equal or greater than 1")
	}
	if int64(replicas)*int64(size) > math.MaxInt32 {
		errs.add(specPath.Child("replicas"), "the product of replicas and size must not exceed 2147483647")
	}
	if len(s.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers) == 0 {
		errs.add(templatePath.Child("workerTemplate", "spec", "containers"), "must have at least one container")
	}
	if lt := s.LeaderWorkerTemplate.LeaderTemplate; lt != nil && len(lt.Spec.Containers) == 0 {
		errs.add(templatePath.Child("leaderTemplate", "spec", "containers"), "must have at least one container")
	}

	for _, key := range []string{AnnotationExclusiveTopology, AnnotationSubGroupExclusiveTopology} {
		if v := annotations[key]; v != "" {
			for _, msg := range validation.IsQualifiedName(v) {
				errs.add(field.NewPath("metadata", "annotations").Key(key), "must be a node label key: %s", msg)
			}
		}
	}
	validateGang(&errs, annotations)
	surge := validateRollingUpdate(&errs, s.RolloutStrategy.RollingUpdateConfiguration, replicas)
	validateSubGroups(&errs, annotations, s.LeaderWorkerTemplate.SubGroupPolicy, size)
	validateNameBudget(&errs, name, replicas, surge, size)
	validatePlacement(&errs, s.Placement, replicas)
	validateGroupRestart(&errs, s.GroupRestart)
	return errs.err()
}

// validateGang checks the gang scheduler, and that nothing holds part of
// a group back until another part is scheduled: exclusive placement creates
// workers once their leader has a node, and places subgroups one anchor at
// a time, while a gang admits none of its pods until all can be placed.
// (startupPolicy LeaderReady gangs the leader alone, render.gangMinCount.)
func validateGang(errs *FieldErrors, annotations map[string]string) {
	path := field.NewPath("metadata", "annotations").Key(AnnotationGangScheduling)
	g, err := GangOf(annotations)
	if err != nil {
		errs.add(path, "%s", err)
	}
	if g == "" {
		return
	}
	for _, key := range []string{AnnotationExclusiveTopology, AnnotationSubGroupExclusiveTopology} {
		if annotations[key] != "" {
			errs.add(path, "cannot be combined with %s: its pods are placed after others are scheduled, which a gang waits for", key)
		}
	}
}

// validateGroupRestart checks the backoff and budget of group recreations.
// The reset must outlast the longest delay: otherwise a delayed recreation
// would be due only once the group had started over, and the budget could
// never run out.
func validateGroupRestart(errs *FieldErrors, g *v1alpha1.GroupRestart) {
	if g == nil {
		return
	}
	if g.MaxRestarts != nil && *g.MaxRestarts < 0 {
		errs.add(restartPath.Child("maxRestarts"), "must be greater than or equal to 0")
	}
	b := g.Backoff
	if b == nil {
		return
	}
	p := restartPath.Child("backoff")
	initial, maxDelay, reset := ptr.Deref(b.InitialSeconds, DefaultInitialSeconds), ptr.Deref(b.MaxSeconds, DefaultMaxSeconds), ptr.Deref(b.ResetSeconds, DefaultResetSeconds)
	if initial < 1 {
		errs.add(p.Child("initialSeconds"), "must be at least 1")
		return
	}
	if maxDelay < initial {
		errs.add(p.Child("maxSeconds"), "must be at least initialSeconds")
		return
	}
	if reset <= maxDelay {
		errs.add(p.Child("resetSeconds"), "must be greater than maxSeconds")
	}
}

// validateRollingUpdate checks the rolling update limits and returns the
// resolved maxSurge for the name budget.
func validateRollingUpdate(errs *FieldErrors, c *v1alpha1.RollingUpdateConfiguration, replicas int32) int32 {
	if c == nil {
		return 0
	}
	if c.Partition != nil && *c.Partition < 0 {
		errs.add(rollingPath.Child("partition"), "must be greater than or equal to 0")
	}
	unavailOK := validateIntOrPercent(errs, rollingPath.Child("maxUnavailable"), c.MaxUnavailable)
	surgeOK := validateIntOrPercent(errs, rollingPath.Child("maxSurge"), c.MaxSurge)
	if !unavailOK || !surgeOK {
		return 0
	}
	unavail, _ := MaxUnavailable(c.MaxUnavailable, replicas)
	surge, _ := MaxSurge(c.MaxSurge, replicas)
	if unavail == 0 && surge == 0 && replicas != 0 {
		errs.add(rollingPath.Child("maxUnavailable"), "must not be 0 when maxSurge is 0")
	}
	return surge
}

func validateIntOrPercent(errs *FieldErrors, p *field.Path, v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		if v.IntVal < 0 {
			errs.add(p, "must be greater than or equal to 0")
			return false
		}
		return true
	}
	pct, err := percent(v.StrVal)
	switch {
	case err != nil:
		errs.add(p, "must be an integer or a percentage, not %q", v.StrVal)
	case pct < 0:
		errs.add(p, "must be greater than or equal to 0")
	case pct > 100:
		errs.add(p, "must not be greater than 100%%")
	default:
		return true
	}
	return false
}

func validateSubGroups(errs *FieldErrors, annotations map[string]string, p *v1alpha1.SubGroupPolicy, size int32) {
	if p == nil {
		if annotations[AnnotationSubGroupExclusiveTopology] != "" {
			errs.add(field.NewPath("metadata", "annotations").Key(AnnotationSubGroupExclusiveTopology), "cannot have subgroup-exclusive-topology without subGroupSize set")
		}
		return
	}
	sizePath := subGroupPath.Child("subGroupSize")
	if p.SubGroupSize == nil {
		errs.add(sizePath, "must be set when subGroupPolicy is set")
		return
	}
	sgs := *p.SubGroupSize
	if sgs < 1 {
		errs.add(sizePath, "must be equal or greater than 1")
		return
	}
	if size < 1 {
		return
	}
	if sgs > size {
		errs.add(sizePath, "cannot be larger than size")
	}
	if size%sgs != 0 && (size-1)%sgs != 0 {
		errs.add(sizePath, "size or size - 1 must be divisible by subGroupSize")
	}
	if p.Type != nil && *p.Type == v1alpha1.SubGroupPolicyTypeLeaderExcluded && (size-1)%sgs != 0 {
		errs.add(sizePath, "size-1 must be divisible by subGroupSize when using LeaderExcluded")
	}
}

// validateNameBudget rejects names whose generated objects would break
// (lws#410): upstream accepts them and its worker pods then fail on the
// 63-character controller-revision-hash label.
func validateNameBudget(errs *FieldErrors, name string, replicas, surge, size int32) {
	if replicas < 0 || size < 1 {
		return
	}
	maxLen := MaxLWSNameLength(replicas+surge-1, size)
	if len(name) > maxLen {
		errs.add(field.NewPath("metadata", "name"), "must be no more than %d characters (is %d) so that generated names and the controller-revision-hash label fit 63 characters with %d groups of %d pods", maxLen, len(name), replicas+surge, size)
	}
}

// ValidateUpdate checks the rules that compare an update with the existing
// object (as upstream's webhook does): the subgroup policy cannot be added or removed, and its
// size cannot change.
func ValidateUpdate(old, updated *v1alpha1.LeaderWorkerSetSpec) error {
	var errs FieldErrors
	o, n := old.LeaderWorkerTemplate.SubGroupPolicy, updated.LeaderWorkerTemplate.SubGroupPolicy
	switch {
	case o == nil && n != nil:
		errs.add(subGroupPath, "cannot enable subGroupSize after the LeaderWorkerSet is created")
	case o != nil && n == nil:
		errs.add(subGroupPath, "cannot remove subGroupSize after it is enabled")
	case o != nil && n != nil && !equalInt32(o.SubGroupSize, n.SubGroupSize):
		errs.add(subGroupPath.Child("subGroupSize"), "is immutable")
	}
	return errs.err()
}

func equalInt32(a, b *int32) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
