package groups

import (
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
