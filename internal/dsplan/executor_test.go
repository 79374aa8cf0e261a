package dsplan

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The current revision in these tests; old ones are "a", "b", ...
const rev = "c"

// lws is a ready LeaderWorkerSet of revision rv and role, named as the
// DisaggregatedSet controller would in slice 0.
func lws(rv, role string, replicas int32) LWS {
	return LWS{Name: name(rv, role), Revision: rv, Role: role, Replicas: replicas, ReadyReplicas: replicas}
}

func name(rv, role string) string { return "ds-0-" + rv + "-" + role }

func (l LWS) ready(n int32) LWS   { l.ReadyReplicas = n; return l }
func (l LWS) initial(n int32) LWS { l.InitialReplicas = ptr.To(n); return l }
func (l LWS) order(n int) LWS     { l.Order = n; return l }

// roles are prefill and decode, both wanted at target, default budgets.
func roles(target int32) []Role {
	return []Role{{Name: "prefill", Target: target}, {Name: "decode", Target: target}}
}

func ev(reason, msg string) Event { return Event{Type: EventTypeNormal, Reason: reason, Message: msg} }

func up(role string, from, to int32) Event {
	return ev(ReasonScalingUp, "Scaling up "+role+" LWS "+name(rev, role)+" from "+itoa(from)+" to "+itoa(to)+" replicas")
}

func down(rv, role string, from, to int32) Event {
	return ev(ReasonScalingDown, "Scaling down "+role+" LWS "+name(rv, role)+" from "+itoa(from)+" to "+itoa(to)+" replicas")
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// rolling is the Decision of a slice in a rolling update, before its parts.
func rolling(d Decision) Decision {
	d.RollingUpdate = true
	d.RequeueAfter = RequeueInterval
	return d
}

func TestPlan(t *testing.T) {
	percent := intstr.FromString("50%")
	cases := map[string]struct {
		roles    []Role
		observed []LWS
		want     Decision
	}{
		"NewSliceCreatesEveryRoleAtTarget": {
			roles: roles(2),
			want:  Decision{Create: []Creation{{"prefill", 2}, {"decode", 2}}},
		},
		"SteadyStateDoesNothing": {
			roles:    roles(2),
			observed: []LWS{lws(rev, "prefill", 2), lws(rev, "decode", 2)},
		},
		"ScalesCurrentRevisionToTarget": {
			roles:    []Role{{Name: "prefill", Target: 3}, {Name: "decode", Target: 1}},
			observed: []LWS{lws(rev, "prefill", 2), lws(rev, "decode", 2)},
			want:     Decision{Scale: map[string]int32{name(rev, "prefill"): 3, name(rev, "decode"): 1}},
		},
		"StartAnnotatesOldCreatesNewAtZero": {
			roles:    roles(2),
			observed: []LWS{lws("a", "prefill", 2), lws("a", "decode", 3)},
			want: rolling(Decision{
				Create:   []Creation{{"prefill", 0}, {"decode", 0}},
				Annotate: map[string]int32{name("a", "prefill"): 2, name("a", "decode"): 3},
				Events:   []Event{ev(ReasonRollingUpdateStarted, "Started rolling update to revision c")},
			}),
		},
		"StartAnnotatesEveryOldRevision": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 1).initial(2), lws("a", "decode", 1).initial(2),
				lws("b", "prefill", 1).order(1), lws("b", "decode", 2).order(1),
			},
			want: rolling(Decision{
				Create: []Creation{{"prefill", 0}, {"decode", 0}},
				Annotate: map[string]int32{
					name("a", "prefill"): 1, name("a", "decode"): 1,
					name("b", "prefill"): 1, name("b", "decode"): 2,
				},
				Events: []Event{ev(ReasonRollingUpdateStarted, "Started rolling update to revision c")},
			}),
		},
		"WaitsUntilEveryNewRoleIsReady": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 2).initial(2), lws("a", "decode", 2).initial(2),
				lws(rev, "prefill", 1).ready(0), lws(rev, "decode", 1),
			},
			want: rolling(Decision{}),
		},
		"StepScalesNewUp": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 2).initial(2), lws("a", "decode", 2).initial(2),
				lws(rev, "prefill", 0), lws(rev, "decode", 0),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name(rev, "prefill"): 1, name(rev, "decode"): 1},
				Events: []Event{up("prefill", 0, 1), up("decode", 0, 1)},
			}),
		},
		"StepScalesOldDown": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 2).initial(2), lws("a", "decode", 2).initial(2),
				lws(rev, "prefill", 1), lws(rev, "decode", 1),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name("a", "prefill"): 1, name("a", "decode"): 1},
				Events: []Event{down("a", "prefill", 2, 1), down("a", "decode", 2, 1)},
			}),
		},
		"NewAtTargetEmptiesOld": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 1).initial(2), lws("a", "decode", 1).initial(2),
				lws(rev, "prefill", 2), lws(rev, "decode", 2),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name("a", "prefill"): 0, name("a", "decode"): 0},
				Events: []Event{down("a", "prefill", 1, 0), down("a", "decode", 1, 0)},
			}),
		},
		"DrainedOldRevisionIsDeletedAndTheRolloutCompletes": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 0).initial(2), lws("a", "decode", 0).initial(2),
				lws(rev, "prefill", 2), lws(rev, "decode", 2),
			},
			want: Decision{
				Delete: []string{name("a", "decode"), name("a", "prefill")},
				Events: []Event{
					ev(ReasonLWSDeleted, "Deleted drained LWS ds-0-a-decode"),
					ev(ReasonLWSDeleted, "Deleted drained LWS ds-0-a-prefill"),
					ev(ReasonRollingUpdateCompleted, "Completed rolling update to revision c"),
				},
			},
		},
		"DrainedRevisionIsDeletedWhileTheRolloutGoesOn": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 0).initial(5), lws("a", "decode", 0).initial(5),
				lws("b", "prefill", 2).initial(2).order(1), lws("b", "decode", 2).initial(2).order(1),
				lws(rev, "prefill", 1), lws(rev, "decode", 1),
			},
			want: rolling(Decision{
				Delete: []string{name("a", "decode"), name("a", "prefill")},
				Scale:  map[string]int32{name("b", "prefill"): 1, name("b", "decode"): 1},
				Events: []Event{
					ev(ReasonLWSDeleted, "Deleted drained LWS ds-0-a-decode"),
					ev(ReasonLWSDeleted, "Deleted drained LWS ds-0-a-prefill"),
					down("b", "prefill", 2, 1), down("b", "decode", 2, 1),
				},
			}),
		},
		"FirstStepWithTwoOldRevisionsOnlyRaisesNew": {
			roles: roles(4),
			observed: []LWS{
				lws("a", "prefill", 2).initial(2), lws("a", "decode", 2).initial(2),
				lws("b", "prefill", 2).initial(2).order(1), lws("b", "decode", 2).initial(2).order(1),
				lws(rev, "prefill", 0), lws(rev, "decode", 0),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name(rev, "prefill"): 1, name(rev, "decode"): 1},
				Events: []Event{up("prefill", 0, 1), up("decode", 0, 1)},
			}),
		},
		"OldRevisionsDrainNewestFirst": {
			roles: roles(4),
			observed: []LWS{
				lws("b", "prefill", 2).initial(2).order(1), lws("b", "decode", 2).initial(2).order(1),
				lws("a", "prefill", 2).initial(2), lws("a", "decode", 2).initial(2),
				lws(rev, "prefill", 2), lws(rev, "decode", 2),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name("b", "prefill"): 1, name("b", "decode"): 1},
				Events: []Event{down("b", "prefill", 2, 1), down("b", "decode", 2, 1)},
			}),
		},
		"NewKeepsGrowingWhileTheLastOldRevisionServes": {
			roles: roles(4),
			observed: []LWS{
				lws("b", "prefill", 2).initial(2).order(1), lws("b", "decode", 2).initial(2).order(1),
				lws(rev, "prefill", 2), lws(rev, "decode", 2),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name(rev, "prefill"): 3, name(rev, "decode"): 3},
				Events: []Event{up("prefill", 2, 3), up("decode", 2, 3)},
			}),
		},
		"PartialStartCreatesTheMissingRolesThenWaits": {
			roles:    roles(2),
			observed: []LWS{lws("a", "prefill", 2).initial(2), lws("a", "decode", 2).initial(2), lws(rev, "prefill", 0)},
			want:     rolling(Decision{Create: []Creation{{"decode", 0}}}),
		},
		"CurrentRevisionOfARemovedRoleIsDeleted": {
			roles:    roles(2),
			observed: []LWS{lws(rev, "prefill", 2), lws(rev, "decode", 2), lws(rev, "encode", 2)},
			want: Decision{
				Delete: []string{name(rev, "encode")},
				Events: []Event{ev(ReasonLWSDeleted, "Deleted LWS ds-0-c-encode of removed role encode")},
			},
		},
		"RemovedRoleDrainsWithItsRevision": {
			roles: roles(1),
			observed: []LWS{
				lws("a", "prefill", 1).initial(1), lws("a", "decode", 1).initial(1), lws("a", "encode", 1).initial(1),
				lws(rev, "prefill", 1), lws(rev, "decode", 1),
			},
			want: rolling(Decision{
				Scale: map[string]int32{name("a", "prefill"): 0, name("a", "decode"): 0, name("a", "encode"): 0},
				Events: []Event{
					down("a", "prefill", 1, 0), down("a", "decode", 1, 0), down("a", "encode", 1, 0),
				},
			}),
		},
		"OldScaledUpByHandIsClampedToItsBaseline": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 3).initial(2), lws("a", "decode", 2).initial(2),
				lws(rev, "prefill", 1), lws(rev, "decode", 1),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name("a", "prefill"): 2},
				Events: []Event{down("a", "prefill", 3, 2)},
			}),
		},
		"MissingAnnotationFallsBackToReplicas": {
			roles: roles(2),
			observed: []LWS{
				lws("a", "prefill", 2), lws("a", "decode", 2),
				lws(rev, "prefill", 1), lws(rev, "decode", 1),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name("a", "prefill"): 1, name("a", "decode"): 1},
				Events: []Event{down("a", "prefill", 2, 1), down("a", "decode", 2, 1)},
			}),
		},
		"PercentSurgeIsOfTheTarget": {
			roles: []Role{
				{Name: "prefill", Target: 4, MaxSurge: &percent},
				{Name: "decode", Target: 4, MaxSurge: &percent},
			},
			observed: []LWS{
				lws("a", "prefill", 4).initial(4), lws("a", "decode", 4).initial(4),
				lws(rev, "prefill", 0), lws(rev, "decode", 0),
			},
			want: rolling(Decision{
				Scale:  map[string]int32{name(rev, "prefill"): 2, name(rev, "decode"): 2},
				Events: []Event{up("prefill", 0, 2), up("decode", 0, 2)},
			}),
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			got, err := Plan(rev, tc.roles, tc.observed)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanRefusesInconsistentInput(t *testing.T) {
	bad := intstr.FromString("half")
	cases := map[string]struct {
		revision string
		roles    []Role
		observed []LWS
		want     string
	}{
		"NoRevision":         {roles: roles(1), want: "empty current revision"},
		"NoRoles":            {revision: rev, want: "no roles"},
		"UnnamedRole":        {revision: rev, roles: []Role{{Target: 1}}, want: "empty name"},
		"RoleTwice":          {revision: rev, roles: []Role{{Name: "p"}, {Name: "p"}}, want: `role "p" listed twice`},
		"NegativeTarget":     {revision: rev, roles: []Role{{Name: "p", Target: -1}}, want: `role "p": negative target`},
		"MalformedPercent":   {revision: rev, roles: []Role{{Name: "p", MaxSurge: &bad}}, want: `role "p": maxSurge`},
		"UnlabelledLWS":      {revision: rev, roles: roles(1), observed: []LWS{{Name: "x", Revision: rev}}, want: `"x": name, revision and role are required`},
		"LWSTwice":           {revision: rev, roles: roles(1), observed: []LWS{lws(rev, "prefill", 1), lws(rev, "prefill", 1)}, want: "observed twice"},
		"NegativeReplicas":   {revision: rev, roles: roles(1), observed: []LWS{lws("a", "prefill", -1)}, want: "negative replicas"},
		"TwoCurrentForARole": {revision: rev, roles: roles(1), observed: []LWS{lws(rev, "prefill", 1), {Name: "y", Revision: rev, Role: "prefill"}}, want: "are both revision c"},
		"TwoOldForARole":     {revision: rev, roles: roles(1), observed: []LWS{lws("a", "prefill", 1), {Name: "y", Revision: "a", Role: "prefill"}}, want: "are both revision a"},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			_, err := Plan(tc.revision, tc.roles, tc.observed)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Plan: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestState sums the old revisions that still serve into the planner's
// view: a drained revision's baseline no longer counts, and roles only old
// revisions have come last, wanted at 0.
func TestState(t *testing.T) {
	s, err := observe(rev, roles(3), []LWS{
		lws("a", "prefill", 0).initial(5), lws("a", "decode", 0).initial(5),
		lws("b", "prefill", 2).initial(4).order(1), lws("b", "decode", 1).order(1), lws("b", "encode", 2).order(1),
		lws("d", "prefill", 1).initial(1).order(2), lws("d", "decode", 1).initial(1).order(2),
		lws(rev, "prefill", 2), lws(rev, "decode", 1),
	})
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	var d Decision
	live, drained := s.deleteDrained(&d)
	if !drained || len(live) != 2 || live[0].name != "d" || live[1].name != "b" {
		t.Fatalf("deleteDrained: live %v, drained %v; want d then b, drained", live, drained)
	}
	names, st := s.state(live)
	want := State{
		InitialOld: r(5, 2, 2),
		Old:        r(3, 2, 2),
		New:        r(2, 1, 0),
		Target:     r(3, 3, 0),
		Budgets:    []Budget{DefaultBudget, DefaultBudget, DefaultBudget},
	}
	if diff := cmp.Diff([]string{"prefill", "decode", "encode"}, names); diff != "" {
		t.Errorf("state names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

// TestDrain spreads a step's old-replica reduction over old revisions.
func TestDrain(t *testing.T) {
	pd := []string{"prefill", "decode"}
	cases := map[string]struct {
		names []string
		// old revisions, newest first
		old  [][]LWS
		need []int32
		want map[string]int32
	}{
		"OneRevision": {
			names: pd, old: [][]LWS{{lws("a", "prefill", 4), lws("a", "decode", 4)}},
			need: r(2, 2), want: map[string]int32{name("a", "prefill"): 2, name("a", "decode"): 2},
		},
		"NewestFirst": {
			names: pd, old: [][]LWS{
				{lws("b", "prefill", 2), lws("b", "decode", 2)},
				{lws("a", "prefill", 2), lws("a", "decode", 2)},
			},
			need: r(2, 2), want: map[string]int32{name("b", "prefill"): 0, name("b", "decode"): 0},
		},
		"NewestThenTheNext": {
			names: pd, old: [][]LWS{
				{lws("c", "prefill", 2), lws("c", "decode", 2)},
				{lws("b", "prefill", 2), lws("b", "decode", 2)},
				{lws("a", "prefill", 2), lws("a", "decode", 2)},
			},
			need: r(4, 4),
			want: map[string]int32{
				name("c", "prefill"): 0, name("c", "decode"): 0,
				name("b", "prefill"): 0, name("b", "decode"): 0,
			},
		},
		"NewestPartlyWithoutTouchingOlder": {
			names: pd, old: [][]LWS{
				{lws("b", "prefill", 3), lws("b", "decode", 3)},
				{lws("a", "prefill", 1), lws("a", "decode", 2)},
			},
			need: r(1, 1), want: map[string]int32{name("b", "prefill"): 2, name("b", "decode"): 2},
		},
		"ARoleReachingZeroEmptiesItsRevision": {
			names: pd, old: [][]LWS{{lws("a", "prefill", 3), lws("a", "decode", 2)}},
			need: r(1, 2), want: map[string]int32{name("a", "prefill"): 0, name("a", "decode"): 0},
		},
		"AnEmptiedRevisionPushesNoMoreOntoOlderOnes": {
			names: pd, old: [][]LWS{
				{lws("b", "prefill", 3), lws("b", "decode", 1)},
				{lws("a", "prefill", 2), lws("a", "decode", 2)},
			},
			need: r(1, 1), want: map[string]int32{name("b", "prefill"): 0, name("b", "decode"): 0},
		},
		"ARoleTheRevisionLacksDoesNotEmptyIt": {
			names: []string{"prefill", "decode", "encode"},
			old:   [][]LWS{{lws("a", "prefill", 4), lws("a", "decode", 4)}},
			need:  r(0, 1, 0), want: map[string]int32{name("a", "decode"): 3},
		},
		"ARoleAlreadyAtZeroDoesNotEmptyIt": {
			names: pd, old: [][]LWS{{lws("a", "prefill", 0), lws("a", "decode", 4)}},
			need: r(0, 1), want: map[string]int32{name("a", "decode"): 3},
		},
		"NothingNeeded": {
			names: pd, old: [][]LWS{{lws("a", "prefill", 2), lws("a", "decode", 2)}},
			need: r(0, 0),
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			var live []*oldRevision
			for _, members := range tc.old {
				rev := &oldRevision{name: members[0].Revision, members: map[string]LWS{}}
				for _, l := range members {
					rev.members[l.Role] = l
				}
				live = append(live, rev)
			}
			var d Decision
			drain(&d, live, tc.names, tc.need)
			if diff := cmp.Diff(tc.want, d.Scale, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("drain (-want +got):\n%s", diff)
			}
		})
	}
}
