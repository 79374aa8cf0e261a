//go:build e2e

package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/podmeta"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestSubGroupExclusivePlacement: with subgroup-exclusive-topology on the
// rack, two groups of two subgroups of two fill the four racks of the
// cluster, one subgroup per rack, with upstream's subgroup labels; a
// recreated group finds its racks again; a steady cluster costs no write.
func TestSubGroupExclusivePlacement(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", NodeAgent: nodeagent.Config{Pools: []nodeagent.Pool{
		{Name: "pool-a", Nodes: 4, Zone: "zone-a", RackSize: 2},
		{Name: "pool-b", Nodes: 4, Zone: "zone-b", RackSize: 2},
	}}})
	ctx := context.Background()
	l := sample("subgroups", "image:v1", 2, 4)
	l.Annotations = map[string]string{lws.AnnotationSubGroupExclusiveTopology: nodeagent.LabelRack}
	l.Spec.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{SubGroupSize: ptr.To[int32](2)}
	mr := managed(t, l)
	start := time.Now()
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 2, 90*time.Second)
	t.Logf("2 groups of 2 subgroups ready in %v", time.Since(start).Round(time.Millisecond))
	e.subGroupsApart(t, "subgroups", 4)

	t.Run("RecreatedGroupPlacedAgain", func(t *testing.T) {
		before := &corev1.Pod{}
		must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "subgroups-1"}, before))
		must(t, e.target.Nodes.RestartContainer(ctx, "default", "subgroups-1-3", "c"))
		testenv.Eventually(t, 30*time.Second, "group 1 recreated", func(ctx context.Context) (bool, error) {
			now := &corev1.Pod{}
			if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "subgroups-1"}, now); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return now.UID != before.UID, nil
		})
		e.groupsReady(t, mr, 2, 90*time.Second)
		e.subGroupsApart(t, "subgroups", 4)
	})

	t.Run("SteadyStateWritesNothing", func(t *testing.T) {
		if w, _ := e.touch(t, e.target, "subgroups-0-2", 3); w != 0 {
			t.Errorf("steady state: want no writes, got %v", w)
		}
	})
}

// subGroupsApart checks that every pod of LeaderWorkerSet name (groups of
// 4 in subgroups of 2, the leader in subgroup 0) carries upstream's
// subgroup labels, the pods of a subgroup share a rack, and no two
// subgroups do.
func (e *env) subGroupsApart(t *testing.T, name string, subGroups int) {
	t.Helper()
	var nodes corev1.NodeList
	must(t, e.target.Client.List(context.Background(), &nodes))
	rackOfNode := map[string]string{}
	for _, n := range nodes.Items {
		rackOfNode[n.Name] = n.Labels[nodeagent.LabelRack]
	}
	rackOf := map[string]string{} // subgroup key → rack
	keyOf := map[string]string{}  // rack → subgroup key
	for _, p := range e.pods(t, name) {
		if p.DeletionTimestamp != nil {
			continue
		}
		group, err1 := strconv.Atoi(p.Labels[lws.LabelGroupIndex])
		worker, err2 := strconv.Atoi(p.Labels[lws.LabelWorkerIndex])
		if err1 != nil || err2 != nil {
			t.Errorf("pod %s: no group or worker index: %v", p.Name, p.Labels)
			continue
		}
		index := worker / 2
		key := podmeta.SubGroupKey(lws.LeaderPodName(name, group), index)
		if got := p.Labels[lws.LabelSubGroupIndex]; got != strconv.Itoa(index) || p.Labels[lws.LabelSubGroupKey] != key {
			t.Errorf("pod %s: subgroup index %s key %s, want upstream's %d and %s", p.Name, got, p.Labels[lws.LabelSubGroupKey], index, key)
		}
		r := rackOfNode[p.Spec.NodeName]
		if r == "" {
			t.Errorf("pod %s is not on a node with a rack (node %q)", p.Name, p.Spec.NodeName)
			continue
		}
		if had, ok := rackOf[key]; ok && had != r {
			t.Errorf("pod %s is on rack %s, the rest of its subgroup on %s", p.Name, r, had)
		}
		if other, ok := keyOf[r]; ok && other != key {
			t.Errorf("pod %s (group %d, subgroup %d) shares rack %s with another subgroup", p.Name, group, index, r)
		}
		rackOf[key], keyOf[r] = r, key
	}
	if len(rackOf) != subGroups {
		t.Errorf("want %d subgroups placed, got %d: %v", subGroups, len(rackOf), rackOf)
	}
}
