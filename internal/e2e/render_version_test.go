//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestProviderUpgradeRollsWithinTheBudget plays a provider upgrade that
// renders an unchanged LeaderWorkerSet differently: the provider is
// restarted at render version 2. Every group moves to the new rendering as
// a rolling update (GroupsUpdating events, each leader replaced once),
// sampled throughout, never with more than maxUnavailable (1 of 4) groups
// down.
func TestProviderUpgradeRollsWithinTheBudget(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", NodeAgent: nodeagent.Config{StartDelay: 300 * time.Millisecond}})
	ctx := context.Background()
	const replicas = 4
	l := sample("upgrade", "image:v1", replicas, 2)
	l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxUnavailable: intstr.FromInt32(1)}
	mr := managed(t, l)
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, replicas, time.Minute)
	_, before, err := groupsReadyIn(ctx, e.target, "upgrade")
	must(t, err)

	ready := sampleReady(t, "upgrade", e.target)
	e.stop()
	e.stop = e.runAt(t, 2)
	testenv.Eventually(t, 2*time.Minute, "every pod of upgrade rendered at version 2", func(ctx context.Context) (bool, error) {
		for _, p := range e.pods(t, "upgrade") {
			if render.VersionOf(p.Labels) != 2 {
				return false, testenv.Pendingf("pod %s at render version %d", p.Name, render.VersionOf(p.Labels))
			}
		}
		return true, nil
	})
	e.groupsReady(t, mr, replicas, time.Minute)
	ready.done(t, replicas-1, "the provider rolled its new rendering out")
	e.reasonEvent(t, mr, v1alpha1.ReasonGroupsUpdating)

	_, after, err := groupsReadyIn(ctx, e.target, "upgrade")
	must(t, err)
	for i := range replicas {
		if name := lws.LeaderPodName("upgrade", i); after[name] == before[name] {
			t.Errorf("leader %s was not replaced: its pods keep the old rendering", name)
		}
	}
}
