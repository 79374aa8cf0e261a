package groups

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// TestRenderVersionRollsWithinTheBudget plays a provider upgrade that
// renders an unchanged LeaderWorkerSet differently: the new leader template
// is applied with every running group held at its partition, the update is
// reported in progress, and the partition then moves down by
// maxUnavailable (1 of 4), never to 0 at once.
func TestRenderVersionRollsWithinTheBudget(t *testing.T) {
	c := newCluster(t, params(t, 4, 2))
	done := c.converge()
	c.RenderVersion = 2

	p, err := Compute(&c.State, done.Observation.Conditions, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Leader == nil || *p.Leader.Spec.UpdateStrategy.RollingUpdate.Partition != 4 {
		t.Fatalf("want the leader StatefulSet applied at partition 4, holding every group, got %v", p.Leader)
	}
	if got := p.Leader.Spec.Template.Labels[render.LabelRenderVersion]; got != "2" {
		t.Errorf("leader template render version %q, want 2", got)
	}
	if p.Observation.UpdatedReplicas != 0 || !meta.IsStatusConditionTrue(p.Observation.Conditions, v1alpha1.ConditionUpdateInProgress) {
		t.Errorf("want 0 groups updated and UpdateInProgress, got %d and %v", p.Observation.UpdatedReplicas, p.Observation.Conditions)
	}
	c.apply(p)

	p, err = Compute(&c.State, p.Observation.Conditions, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Leader == nil || *p.Leader.Spec.UpdateStrategy.RollingUpdate.Partition != 3 {
		t.Fatalf("want the partition lowered to 3, one group at a time, got %v", p.Leader)
	}
}

// TestRenderVersionOneIsUnlabelled: the rendering from before render
// versions carries no label, so LeaderWorkerSets it created are adopted
// without a rollout.
func TestRenderVersionOneIsUnlabelled(t *testing.T) {
	c := newCluster(t, params(t, 2, 2))
	c.converge()
	if _, ok := c.Leader.Spec.Template.Labels[render.LabelRenderVersion]; ok {
		t.Errorf("version 1 labels the leader template: %v", c.Leader.Spec.Template.Labels)
	}
	if _, ok := c.worker("lws-0").Labels[render.LabelRenderVersion]; ok {
		t.Errorf("version 1 labels the worker StatefulSet: %v", c.worker("lws-0").Labels)
	}
}
