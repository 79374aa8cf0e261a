package dsplan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// The events Plan asks the caller to record, all of type EventTypeNormal.
const (
	EventTypeNormal = "Normal"

	ReasonRollingUpdateStarted   = "RollingUpdateStarted"
	ReasonRollingUpdateCompleted = "RollingUpdateCompleted"
	ReasonScalingUp              = "ScalingUp"
	ReasonScalingDown            = "ScalingDown"
	ReasonLWSDeleted             = "LWSDeleted"
)

// RequeueInterval is how soon a slice in the middle of a rollout should be
// looked at again. A step waits for readiness, which nothing in the
// Decision announces, so the caller polls.
const RequeueInterval = time.Second

// Role is one role's rollout parameters in one slice.
type Role struct {
	Name string
	// Target is the replicas wanted at the current revision.
	Target int32
	// MaxSurge and MaxUnavailable come from the role's
	// rolloutStrategy.rollingUpdateConfiguration; nil when unset.
	MaxSurge, MaxUnavailable *intstr.IntOrString
}

// LWS is one observed LeaderWorkerSet of the slice.
type LWS struct {
	Name, Revision, Role string
	// Replicas is spec.replicas (1 when unset, as the API defaults it).
	Replicas int32
	// ReadyReplicas is status.readyReplicas.
	ReadyReplicas int32
	// InitialReplicas is the initial-replicas annotation's value
	// (disagg.AnnotationInitialReplicas), recorded on every old
	// LeaderWorkerSet when the rollout started; nil when the
	// annotation is absent; Replicas stands in for it then.
	InitialReplicas *int32
	// Order ranks the creation of its revision: higher is newer. Old
	// revisions drain newest first, so that the oldest, the one longest
	// proven, serves longest.
	Order int
}

// Creation asks for the current revision's LeaderWorkerSet of Role, with
// Replicas. The caller names and renders it.
type Creation struct {
	Role     string
	Replicas int32
}

// Event is an event to record on the DisaggregatedSet.
type Event struct {
	Type, Reason, Message string
}

// Decision is what to do with one slice. The caller applies every part of
// it; any order works, since each part is stated as an end value.
type Decision struct {
	// Create lists the current revision's LeaderWorkerSets to create, in
	// role order.
	Create []Creation
	// Scale maps LeaderWorkerSet names to their new spec.replicas.
	Scale map[string]int32
	// Annotate maps LeaderWorkerSet names to the initial-replicas
	// value to set.
	Annotate map[string]int32
	// Delete lists LeaderWorkerSet names to delete.
	Delete []string
	// Events are the events to record, in order.
	Events []Event
	// RollingUpdate: old revisions still serve, and the slice is moving off
	// them.
	RollingUpdate bool
	// RequeueAfter, when not zero, is how soon to plan the slice again.
	RequeueAfter time.Duration
}

// Plan decides the next move of one slice from its LeaderWorkerSets.
//
// Old revisions whose roles are all at 0 replicas are deleted whole, as are
// current-revision LeaderWorkerSets of roles that are gone. If an old
// revision still has replicas, the slice is in a rolling update (see
// NextStep): its first reconcile annotates the old LeaderWorkerSets with
// their replicas and creates the current revision's at 0; each later one
// waits until every current-revision LeaderWorkerSet is ready, then applies
// one step. Otherwise each role's current-revision LeaderWorkerSet is
// created or scaled to its target.
//
// roles are in the DisaggregatedSet's order, which is the order of
// creations and events. An error means the input is inconsistent (a
// duplicate, a negative count, a malformed percentage); nothing should be
// applied then.
func Plan(revision string, roles []Role, observed []LWS) (Decision, error) {
	s, err := observe(revision, roles, observed)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	s.deleteStrays(&d)
	live, drained := s.deleteDrained(&d)
	if len(live) > 0 {
		s.roll(&d, live)
		return d, nil
	}
	if drained && len(s.current) > 0 {
		// The last old revision went in this reconcile, after a rollout
		// created the current one: the rollout is over.
		d.event(ReasonRollingUpdateCompleted, "Completed rolling update to revision %s", revision)
	}
	s.settle(&d)
	return d, nil
}

// slice is the observed state of one slice, indexed.
type slice struct {
	revision string
	roles    []Role
	budgets  []Budget
	// current holds the current revision's LeaderWorkerSets of the roles.
	current map[string]LWS
	// strays are current-revision LeaderWorkerSets of roles that are gone.
	strays []LWS
	// old are the other revisions, newest first.
	old []*oldRevision
}

// oldRevision is the LeaderWorkerSets of one old revision, by role.
type oldRevision struct {
	name    string
	order   int
	members map[string]LWS
}

// observe indexes the slice's LeaderWorkerSets by revision and role, and
// refuses input that cannot be planned rather than guess which of two
// LeaderWorkerSets counts.
func observe(revision string, roles []Role, observed []LWS) (*slice, error) {
	if revision == "" {
		return nil, errors.New("empty current revision")
	}
	if len(roles) == 0 {
		return nil, errors.New("no roles")
	}
	s := &slice{revision: revision, roles: roles, current: map[string]LWS{}}
	known := map[string]bool{}
	for _, r := range roles {
		if r.Name == "" {
			return nil, errors.New("role with an empty name")
		}
		if known[r.Name] {
			return nil, fmt.Errorf("role %q listed twice", r.Name)
		}
		known[r.Name] = true
		if r.Target < 0 {
			return nil, fmt.Errorf("role %q: negative target %d", r.Name, r.Target)
		}
		b, err := ResolveBudget(r.Target, r.MaxSurge, r.MaxUnavailable)
		if err != nil {
			return nil, fmt.Errorf("role %q: %w", r.Name, err)
		}
		s.budgets = append(s.budgets, b)
	}
	names := map[string]bool{}
	byRevision := map[string]*oldRevision{}
	for _, l := range observed {
		switch {
		case l.Name == "" || l.Revision == "" || l.Role == "":
			return nil, fmt.Errorf("LeaderWorkerSet %q: name, revision and role are required", l.Name)
		case names[l.Name]:
			return nil, fmt.Errorf("LeaderWorkerSet %q observed twice", l.Name)
		case l.Replicas < 0 || l.ReadyReplicas < 0 || (l.InitialReplicas != nil && *l.InitialReplicas < 0):
			return nil, fmt.Errorf("LeaderWorkerSet %q: negative replicas", l.Name)
		}
		names[l.Name] = true
		if l.Revision == revision {
			if prev, ok := s.current[l.Role]; ok {
				return nil, fmt.Errorf("LeaderWorkerSets %q and %q are both revision %s of role %q", prev.Name, l.Name, l.Revision, l.Role)
			}
			if known[l.Role] {
				s.current[l.Role] = l
			} else {
				s.strays = append(s.strays, l)
			}
			continue
		}
		rev := byRevision[l.Revision]
		if rev == nil {
			rev = &oldRevision{name: l.Revision, order: l.Order, members: map[string]LWS{}}
			byRevision[l.Revision] = rev
			s.old = append(s.old, rev)
		}
		if prev, ok := rev.members[l.Role]; ok {
			return nil, fmt.Errorf("LeaderWorkerSets %q and %q are both revision %s of role %q", prev.Name, l.Name, l.Revision, l.Role)
		}
		rev.members[l.Role] = l
		rev.order = max(rev.order, l.Order)
	}
	slices.SortFunc(s.old, func(a, b *oldRevision) int {
		return cmp.Or(cmp.Compare(b.order, a.order), strings.Compare(a.name, b.name))
	})
	return s, nil
}

// deleteStrays deletes current-revision LeaderWorkerSets of removed roles.
// (A role's removal changes the revision, so these only appear when the
// revision was computed differently or objects were made by hand.)
func (s *slice) deleteStrays(d *Decision) {
	slices.SortFunc(s.strays, func(a, b LWS) int { return strings.Compare(a.Name, b.Name) })
	for _, l := range s.strays {
		d.Delete = append(d.Delete, l.Name)
		d.event(ReasonLWSDeleted, "Deleted LWS %s of removed role %s", l.Name, l.Role)
	}
}

// deleteDrained deletes every old revision whose LeaderWorkerSets are all
// at 0 replicas, whole, so a revision's roles go together. It returns the
// old revisions that still have replicas, newest first, and whether any
// was deleted.
func (s *slice) deleteDrained(d *Decision) (live []*oldRevision, drained bool) {
	for _, rev := range s.old {
		if rev.total() > 0 {
			live = append(live, rev)
			continue
		}
		drained = true
		for _, l := range rev.sorted() {
			d.Delete = append(d.Delete, l.Name)
			d.event(ReasonLWSDeleted, "Deleted drained LWS %s", l.Name)
		}
	}
	return live, drained
}

// settle creates or scales each role's current-revision LeaderWorkerSet to
// its target: no old revision serves, so there is nothing to keep in step.
func (s *slice) settle(d *Decision) {
	for _, r := range s.roles {
		l, ok := s.current[r.Name]
		switch {
		case !ok:
			d.Create = append(d.Create, Creation{Role: r.Name, Replicas: r.Target})
		case l.Replicas != r.Target:
			d.scale(l.Name, r.Target)
		}
	}
}

// roll moves a rolling update on by at most one step.
func (s *slice) roll(d *Decision, live []*oldRevision) {
	d.RollingUpdate = true
	d.RequeueAfter = RequeueInterval
	if len(s.current) == 0 {
		s.start(d, live)
		return
	}
	missing := false
	for _, r := range s.roles {
		if _, ok := s.current[r.Name]; !ok {
			// Only after a partial start: create the rest, then wait.
			d.Create = append(d.Create, Creation{Role: r.Name})
			missing = true
		}
	}
	if missing {
		return
	}
	for _, r := range s.roles {
		if l := s.current[r.Name]; l.ReadyReplicas != l.Replicas {
			return // the previous step has not settled yet
		}
	}
	names, st := s.state(live)
	step, ok := NextStep(st)
	if !ok {
		// Nothing can move. With old replicas left the planner always has
		// a step, so this is defensive: wait rather than declare the
		// rollout complete.
		return
	}
	for i, r := range s.roles {
		if step.New[i] > st.New[i] {
			l := s.current[r.Name]
			d.scale(l.Name, step.New[i])
			d.event(ReasonScalingUp, "Scaling up %s LWS %s from %d to %d replicas", r.Name, l.Name, l.Replicas, step.New[i])
		}
	}
	need := make([]int32, len(names))
	for i := range need {
		need[i] = max(0, st.Old[i]-step.Old[i])
	}
	drain(d, live, names, need)
}

// start begins a rolling update: every old LeaderWorkerSet records its
// replicas as the rollout's baseline, and the current revision appears at
// 0 replicas. The first step comes in a later reconcile, once the new
// LeaderWorkerSets are there to be observed.
func (s *slice) start(d *Decision, live []*oldRevision) {
	for _, rev := range live {
		for _, l := range rev.members {
			if d.Annotate == nil {
				d.Annotate = map[string]int32{}
			}
			d.Annotate[l.Name] = l.Replicas
		}
	}
	for _, r := range s.roles {
		d.Create = append(d.Create, Creation{Role: r.Name})
	}
	d.event(ReasonRollingUpdateStarted, "Started rolling update to revision %s", s.revision)
}

// state sums the slice into the planner's view. Its roles are the
// DisaggregatedSet's, then those only old revisions have (by name), which
// are wanted at 0 and drain with the default budget.
func (s *slice) state(live []*oldRevision) ([]string, State) {
	var names []string
	var st State
	known := map[string]bool{}
	for i, r := range s.roles {
		names = append(names, r.Name)
		known[r.Name] = true
		st.New = append(st.New, s.current[r.Name].Replicas)
		st.Target = append(st.Target, r.Target)
		st.Budgets = append(st.Budgets, s.budgets[i])
	}
	var gone []string
	for _, rev := range live {
		for role := range rev.members {
			if !known[role] {
				known[role] = true
				gone = append(gone, role)
			}
		}
	}
	slices.Sort(gone)
	for _, role := range gone {
		names = append(names, role)
		st.New = append(st.New, 0)
		st.Target = append(st.Target, 0)
		st.Budgets = append(st.Budgets, DefaultBudget)
	}
	for _, role := range names {
		var initial, now int32
		for _, rev := range live {
			if l, ok := rev.members[role]; ok {
				now += l.Replicas
				if l.InitialReplicas != nil {
					initial += *l.InitialReplicas
				} else {
					initial += l.Replicas
				}
			}
		}
		st.InitialOld = append(st.InitialOld, initial)
		st.Old = append(st.Old, now)
	}
	return names, st
}

// drain takes need[i] replicas of role names[i] off the old revisions,
// newest revision first, so older revisions are touched only when newer
// ones run out. A revision in which some role would reach 0 goes to 0 in
// every role: the planner keeps roles together on the totals, and this
// keeps them together per revision, which is what serves requests. Such a
// revision may lose more replicas of a role than needed; older revisions
// then give that role only what was still needed, not more to make up.
func drain(d *Decision, live []*oldRevision, names []string, need []int32) {
	for _, rev := range live {
		if !slices.ContainsFunc(need, func(n int32) bool { return n > 0 }) {
			return
		}
		after := map[string]int32{}
		emptied := false
		for i, role := range names {
			l, ok := rev.members[role]
			if !ok {
				continue
			}
			take := min(need[i], l.Replicas)
			need[i] -= take
			after[role] = l.Replicas - take
			if l.Replicas > 0 && after[role] == 0 {
				emptied = true
			}
		}
		for _, role := range names {
			l, ok := rev.members[role]
			if !ok {
				continue
			}
			if emptied {
				after[role] = 0
			}
			if after[role] < l.Replicas {
				d.scale(l.Name, after[role])
				d.event(ReasonScalingDown, "Scaling down %s LWS %s from %d to %d replicas", role, l.Name, l.Replicas, after[role])
			}
		}
	}
}

func (r *oldRevision) total() int32 {
	var n int32
	for _, l := range r.members {
		n += l.Replicas
	}
	return n
}

func (r *oldRevision) sorted() []LWS {
	out := make([]LWS, 0, len(r.members))
	for _, l := range r.members {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b LWS) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (d *Decision) scale(name string, replicas int32) {
	if d.Scale == nil {
		d.Scale = map[string]int32{}
	}
	d.Scale[name] = replicas
}

func (d *Decision) event(reason, format string, args ...any) {
	d.Events = append(d.Events, Event{Type: EventTypeNormal, Reason: reason, Message: fmt.Sprintf(format, args...)})
}
