package function

import (
	stdcmp "cmp"
	"errors"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
)

// cluster is a managed resource of two groups as its provider last
// reported it, on revision "r1", carrying a part of maxUnavailable.
type cluster struct {
	part                 int32
	ready, updated       int32
	rolling, unsynced    bool
	revision             string // the revision it carries; "r1", the one wanted, by default
	observedGenerationOf int64  // the generation its provider reported on; 1 is the latest
}

func (c cluster) managed() *v1alpha1.RemoteLeaderWorkerSet {
	mr := &v1alpha1.RemoteLeaderWorkerSet{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	mr.Spec.ForProvider.Replicas = 2
	mr.Spec.ForProvider.Revision.Key = stdcmp.Or(c.revision, "r1")
	mr.Spec.ForProvider.Rollout.MaxUnavailable = c.part
	at := &mr.Status.AtProvider
	at.ReadyReplicas, at.UpdatedReplicas, at.ObservedGeneration = c.ready, c.updated, c.observedGenerationOf
	if c.rolling {
		at.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionUpdateInProgress, Status: metav1.ConditionTrue}}
	}
	synced := xpv2.ReconcileSuccess()
	if c.unsynced {
		synced = xpv2.ReconcileError(errors.New("cannot reach the cluster"))
	}
	mr.SetConditions(synced)
	return mr
}

func TestAllotBudget(t *testing.T) {
	cases := map[string]struct {
		reason   string
		clusters []cluster
		want     []int32 // each cluster's maxUnavailable, of 2
	}{
		"RollersShareTheBudget": {
			reason:   "Three clusters rolling, none down: the budget of 2 goes to the first two.",
			clusters: []cluster{{part: 1, ready: 2, rolling: true, observedGenerationOf: 1}, {part: 1, ready: 2, rolling: true, observedGenerationOf: 1}, {part: 0, ready: 2, rolling: true, observedGenerationOf: 1}},
			want:     []int32{1, 1, 0},
		},
		"AnUnreachedRollerCountsItsWholePart": {
			reason: "Chaos seed 2: the first cluster rolls with 1 of 2 and its provider loses it, its last report saying both groups ready. " +
				"It may have taken a group down since, so the others share the 1 left, not 2.",
			clusters: []cluster{{part: 1, ready: 2, rolling: true, unsynced: true, observedGenerationOf: 1}, {part: 1, ready: 2, rolling: true, observedGenerationOf: 1}, {part: 0, ready: 2, rolling: true, observedGenerationOf: 1}},
			want:     []int32{1, 1, 0},
		},
		"AnUnreachedClusterKeepsItsPartAndItsGroupsDown": {
			reason:   "An unreached cluster's budget is left as it is, and the groups it last reported down count: the roller gets what is left.",
			clusters: []cluster{{part: 2, ready: 1, unsynced: true, observedGenerationOf: 1}, {part: 0, ready: 2, rolling: true, observedGenerationOf: 1}},
			want:     []int32{2, 1},
		},
		"AnUnreachedClusterThatHadNotObservedItsPartCountsIt": {
			reason:   "A cluster lost before its provider observed the part it was given may have begun to use it.",
			clusters: []cluster{{part: 1, ready: 2, unsynced: true}, {part: 1, ready: 2, rolling: true, observedGenerationOf: 1}},
			want:     []int32{1, 1},
		},
		"AnUnreachedClusterAtRestCountsOnlyItsGroupsDown": {
			reason:   "A cluster that had nothing to roll and all groups ready leaves the whole budget to the roller.",
			clusters: []cluster{{part: 1, ready: 2, updated: 2, unsynced: true, observedGenerationOf: 1}, {part: 0, ready: 2, rolling: true, observedGenerationOf: 1}},
			want:     []int32{1, 2},
		},
		"ARestingClustersPartIsNotTakenIntoANewRolloutUnsettled": {
			reason: "Chaos seed 2: a new revision comes while the first cluster has not observed the 2 it was given. " +
				"The others' parts of 1 were a resting cluster's, not in use: they start at 0 until the first gives its part up.",
			clusters: []cluster{{part: 2, ready: 2, revision: "r0", rolling: true}, {part: 1, ready: 2, updated: 2, revision: "r0", observedGenerationOf: 1}, {part: 1, ready: 2, updated: 2, revision: "r0", observedGenerationOf: 1}},
			want:     []int32{1, 0, 0},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := &compose.Placement{MaxUnavailable: 2}
			mrs := observedSet{}
			for i, c := range tc.clusters {
				name := string(rune('a' + i))
				want := &v1alpha1.RemoteLeaderWorkerSet{}
				want.Spec.ForProvider.Replicas = 2
				want.Spec.ForProvider.Revision.Key = "r1"
				p.Targets = append(p.Targets, compose.Target{Share: placement.Share{Cluster: name, Groups: 2}, Resource: want})
				mrs[name] = c.managed()
			}
			allot(p, mrs)
			var got []int32
			for _, t := range p.Targets {
				got = append(got, t.Resource.Spec.ForProvider.Rollout.MaxUnavailable)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nallot(...): maxUnavailable by cluster, -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
