package groups

import (
	"slices"
	"strings"
	"testing"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// TestNoRecursiveStatefulSetsLws394: on a cluster without
// StatefulSetStartOrdinal a worker StatefulSet's pods start at ordinal 0,
// so a worker is named like a leader. Creating workers for it would recurse
// without end; the plan creates none and says why.
func TestNoRecursiveStatefulSetsLws394(t *testing.T) {
	c := newCluster(t, params(t, 1, 2))
	p, err := Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	c.apply(p)
	c.pod("lws-0").Annotations[lws.AnnotationLeaderName] = "lws-0"
	p, err = Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Workers) != 0 {
		t.Errorf("want no worker StatefulSet for a pod that is a worker, got %d", len(p.Workers))
	}
	var warned bool
	for _, ev := range p.Events {
		warned = warned || ev.Warning && ev.Reason == "FailedCreate" && strings.Contains(ev.Message, "lws-0")
	}
	if !warned {
		t.Errorf("want a FailedCreate warning naming the pod, got %+v", p.Events)
	}
}

// TestWorkersOfReplacedLeaderDeleted: a recreated or rolled leader pod finds
// the worker StatefulSet of the pod it replaced. The plan deletes it rather
// than wait for the garbage collector, and creates the new workers only
// once it is gone: they have its name.
func TestWorkersOfReplacedLeaderDeleted(t *testing.T) {
	c := newCluster(t, params(t, 2, 2))
	c.converge()
	c.pod("lws-0").UID = "replacement"
	p, err := Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.StaleWorkers) != 1 || p.StaleWorkers[0].Name != "lws-0" {
		t.Errorf("want the old worker StatefulSet lws-0 deleted, got %v", p.StaleWorkers)
	}
	if len(p.Workers) != 0 {
		t.Errorf("want no new workers while the old ones exist, got %d", len(p.Workers))
	}
	c.worker("lws-0").DeletionTimestamp = &now
	if p, _ := Compute(&c.State, nil, 1, now); len(p.StaleWorkers) != 0 {
		t.Errorf("a worker StatefulSet being deleted is not deleted again, got %v", p.StaleWorkers)
	}
}

// TestWorkerPodsOfReplacedLeaderDeleted: the worker StatefulSet of a
// replaced leader is gone and the new leader's is created, but the garbage
// collector has not deleted the old one's pods yet. They hold the names of
// the new workers, which cannot be created until they are gone: the plan
// deletes them, and only them (chaos seed 5: the garbage collector of a
// cluster whose API server had restarted left a group down for minutes).
func TestWorkerPodsOfReplacedLeaderDeleted(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *cluster)
		want []string
	}{
		{"PodsOfTheOldStatefulSet", func(*cluster) {}, []string{"lws-0-1", "lws-0-2"}},
		{"OneAlreadyTerminating", func(c *cluster) { c.pod("lws-0-1").DeletionTimestamp = &now }, []string{"lws-0-2"}},
		{"OneOfTheNewStatefulSet", func(c *cluster) { c.pod("lws-0-2").OwnerReferences[0].UID = "new-workers" }, []string{"lws-0-1"}},
		{"OneGone", func(c *cluster) { c.pod("lws-0-2").Name = "gone" }, []string{"lws-0-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, params(t, 2, 3))
			c.converge()
			c.pod("lws-0").UID = "replacement"
			w := c.worker("lws-0")
			w.UID, w.OwnerReferences[0].UID = "new-workers", "replacement"
			tc.edit(c)
			p, err := Compute(&c.State, nil, 1, now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, pod := range p.StaleWorkerPods {
				got = append(got, pod.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("stale worker pods: got %v, want %v", got, tc.want)
			}
			if len(p.StaleWorkers) != 0 {
				t.Errorf("the leader's own workers are not stale, got %v", p.StaleWorkers)
			}
		})
	}
}
