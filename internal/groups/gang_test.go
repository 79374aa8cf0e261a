package groups

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

func gangScheduled(l *compose.LeaderWorkerSet) {
	l.Annotations = map[string]string{lws.AnnotationGangScheduling: string(lws.GangAuto)}
}

// gangCluster is a cluster whose gang scheduler resolved to g.
func gangCluster(t *testing.T, g lws.GangScheduler) *cluster {
	c := newCluster(t, params(t, 2, 3, gangScheduled))
	c.Gang = g
	return c
}

// TestGangObjectPerGroup: each group gets one gang object of the kind its
// cluster resolved, named for its group and revision and owned by its
// leader; without gang scheduling, none.
func TestGangObjectPerGroup(t *testing.T) {
	cases := map[string]struct {
		reason string
		gang   lws.GangScheduler
		kind   string
	}{
		"None":     {reason: "A cluster without gang scheduling gets no gang objects."},
		"Workload": {reason: "The Workload API: one Workload per group.", gang: lws.GangWorkload, kind: "Workload"},
		"Volcano":  {reason: "Volcano: one PodGroup per group, as upstream.", gang: lws.GangVolcano, kind: render.VolcanoPodGroupKind},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := gangCluster(t, tc.gang)
			c.converge()
			var got []string
			for _, o := range c.GangObjects {
				owner := o.GetOwnerReferences()
				if o.GetObjectKind().GroupVersionKind().Kind != tc.kind || len(owner) != 1 || owner[0].Name+"-"+c.Params.Revision.Key != o.GetName() {
					t.Errorf("%s\n%s %s owned by %+v", tc.reason, o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), owner)
				}
				got = append(got, o.GetName())
			}
			var want []string
			if tc.gang != "" {
				key := c.Params.Revision.Key
				want = []string{lws.GangName("lws", 0, key), lws.GangName("lws", 1, key)}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\ngang objects -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestLeaderAdmittedOutsideItsGang: a leader created before the admission
// policy took effect has no workload reference, which cannot be added: it
// is deleted while still gated, never released, and its successor joins
// the gang.
func TestLeaderAdmittedOutsideItsGang(t *testing.T) {
	c := gangCluster(t, lws.GangWorkload)
	c.WithoutAdmissionPolicy = true
	for range 2 { // The leader StatefulSet, then the leaders.
		p, err := Compute(&c.State, nil, 1, now)
		if err != nil {
			t.Fatal(err)
		}
		c.Apply(p)
	}
	p, err := Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	var readmit []string
	for _, pod := range p.Readmit {
		readmit = append(readmit, pod.Name)
	}
	slices.Sort(readmit)
	if diff := cmp.Diff([]string{"lws-0", "lws-1"}, readmit); diff != "" {
		t.Errorf("leaders to admit again -want +got:\n%s", diff)
	}
	for _, id := range p.Identities {
		if isLeader(id.Pod) {
			t.Errorf("leader %s released outside its gang", id.Pod.Name)
		}
	}
	if len(p.Events) == 0 || p.Events[len(p.Events)-1].Reason != ReasonFailedGang {
		t.Errorf("want a %s event, got %+v", ReasonFailedGang, p.Events)
	}
	c.WithoutAdmissionPolicy = false
	c.Apply(p)
	c.converge()
	for _, name := range []string{"lws-0", "lws-1-2"} {
		if ref := c.pod(name).Spec.WorkloadRef; ref == nil || ref.PodGroup != render.GangPodGroup {
			t.Errorf("pod %s: workloadRef %+v", name, ref)
		}
	}
}

// TestGangOfReplacedLeader: a new leader of a group (a group restart)
// finds its predecessor's gang object, which the garbage collector has not
// deleted yet: it is deleted and made anew at once, for nothing would plan
// again once the old one is gone. One being deleted is waited for.
func TestGangOfReplacedLeader(t *testing.T) {
	c := gangCluster(t, lws.GangWorkload)
	c.converge()
	leader := c.pod("lws-0")
	leader.UID = "replacement"
	p, err := Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	name := lws.GangName("lws", 0, c.Params.Revision.Key)
	if len(p.StaleGangs) != 1 || p.StaleGangs[0].Name != name {
		t.Fatalf("want %s deleted, got %+v", name, p.StaleGangs)
	}
	if len(p.Gangs) != 1 || p.Gangs[0].GetOwnerReferences()[0].UID != leader.UID {
		t.Fatalf("want %s created for the new leader, got %+v", name, p.Gangs)
	}
	c.Gangs[0].DeletionTimestamp = &now
	if p, _ := Compute(&c.State, nil, 1, now); len(p.StaleGangs)+len(p.Gangs) != 0 {
		t.Errorf("a gang object being deleted is waited for, got stale %v, new %v", p.StaleGangs, p.Gangs)
	}
}
