//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/groups"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// convergePools give a target cluster room for the floor's and the
// provider's 512 pods side by side.
var convergePools = []nodeagent.Pool{
	{Name: "pool-a", Nodes: 8, Zone: "zone-a", RackSize: 4},
	{Name: "pool-b", Nodes: 8, Zone: "zone-b", RackSize: 4},
}

// BenchmarkConvergence512 measures 64 groups of 8 pods, from the managed
// resource's creation to all 512 pods ready, divided by the floor: the same
// pods as bare StatefulSets created up front, measured in the same run on
// the same clusters. One target cluster, then the groups split over two.
// It also counts the provider's writes to the target clusters, per group
// created and per reconcile once everything is ready, and the CPU time the
// whole environment spends on each: on two cores, both runs are bound by
// it.
//
// It runs with each WorkerLabels policy: Patch, the default, and
// AdmissionPolicy, on clusters that serve MutatingAdmissionPolicies.
func BenchmarkConvergence512(b *testing.B) {
	for _, labels := range []v1alpha1.WorkerLabelsPolicy{v1alpha1.WorkerLabelsPatch, v1alpha1.WorkerLabelsAdmissionPolicy} {
		for _, clusters := range []int{1, 2} {
			b.Run(fmt.Sprintf("labels=%s/clusters=%d", labels, clusters), func(b *testing.B) {
				benchConvergence(b, labels, clusters)
			})
		}
	}
}

func benchConvergence(b *testing.B, labels v1alpha1.WorkerLabelsPolicy, clusters int) {
	policies := labels == v1alpha1.WorkerLabelsAdmissionPolicy
	e := startWith(b, testenv.Options{Name: "target", NodeAgent: nodeagent.Config{Pools: convergePools}, MutatingAdmissionPolicies: policies})
	targets := []*testenv.Cluster{e.target}
	if clusters == 2 {
		second := testenv.Start(b, testenv.Options{Name: "second", NodeAgent: nodeagent.Config{Pools: convergePools}, MutatingAdmissionPolicies: policies})
		e.addConfig(b, "second", second)
		targets = append(targets, second)
	}
	e.useWorkerLabels(b, labels, targets)
	var floor, provider, floorCPU, providerCPU time.Duration
	var writes, reconciles, steadyWrites, steadyReconciles float64
	for i := range b.N {
		cpu0 := e.cpu(b, targets)
		floor += e.floor(b, targets, convergeLWS("floor", clusters))
		cpu1 := e.cpu(b, targets)
		before, reconciles0 := e.targetWrites(b), e.reconciles(b)
		name := fmt.Sprintf("converge-%d", i)
		provider += e.converge(b, targets, name)
		providerCPU += e.cpu(b, targets) - cpu1
		floorCPU += cpu1 - cpu0
		writes += e.targetWrites(b) - before
		reconciles += e.reconciles(b) - reconciles0
		plans, err := compose.Plan(convergeLWS(name, clusters), nil)
		must(b, err)
		for _, t := range plans {
			e.groupsReady(b, t.Resource, t.Groups, time.Minute)
		}
		w, r := e.touch(b, targets[0], name+"-0", 10)
		steadyWrites, steadyReconciles = steadyWrites+w, steadyReconciles+r
	}
	b.ReportMetric(floor.Seconds()/float64(b.N), "s-floor")
	b.ReportMetric(provider.Seconds()/float64(b.N), "s-provider")
	b.ReportMetric(provider.Seconds()/floor.Seconds(), "ratio")
	b.ReportMetric(floorCPU.Seconds()/float64(b.N), "cpu-s-floor")
	b.ReportMetric(providerCPU.Seconds()/float64(b.N), "cpu-s-provider")
	b.ReportMetric(writes/float64(64*b.N), "writes/group")
	b.ReportMetric(reconciles/float64(64*b.N), "reconciles/group")
	b.ReportMetric(steadyWrites/steadyReconciles, "writes/steady-reconcile")
}

// useWorkerLabels sets the WorkerLabels of the targets' provider configs
// ("default", then "second") and, for AdmissionPolicy, waits until each
// target's API server applies the policy, which the provider-config
// controller applies.
func (e *env) useWorkerLabels(b testing.TB, labels v1alpha1.WorkerLabelsPolicy, targets []*testenv.Cluster) {
	for _, name := range []string{"default", "second"}[:len(targets)] {
		e.setWorkerLabels(b, name, labels)
	}
	if labels != v1alpha1.WorkerLabelsAdmissionPolicy {
		return
	}
	for _, c := range targets {
		e.policyAdmits(b, c)
	}
}

// floor runs l's floor on every cluster at once (lwsFloor) and returns the
// slowest. Each cluster's share follows l's placement, in targets' order.
func (e *env) floor(b *testing.B, targets []*testenv.Cluster, l compose.LeaderWorkerSet) time.Duration {
	plans, err := compose.Plan(l, nil)
	must(b, err)
	return slowest(b, targets, func(i int, c *testenv.Cluster) (testenv.ReadyTimes, error) {
		return lwsFloor(context.Background(), c, plans[i])
	})
}

// lwsFloor is the floor with the same pods: the objects one cluster's share
// renders (the leader StatefulSet, every group's worker StatefulSet and the
// headless Services), created up front in a namespace of their own, until
// every pod is ready. The leaders' scheduling gate is left out, since
// nothing lifts it; what only the provider can give (the per-pod labels,
// the order of creation) is the provider's cost, which the ratio measures.
func lwsFloor(ctx context.Context, c *testenv.Cluster, t compose.Target) (testenv.ReadyTimes, error) {
	return lwsFloorWith(ctx, c, t, testenv.FloorOf)
}

// lwsReplaceFloor is lwsFloor's objects, replaced once they are ready, as
// every step of a rolling update replaces groups (testenv.ReplaceFloorOf).
func lwsReplaceFloor(ctx context.Context, c *testenv.Cluster, t compose.Target) (testenv.ReadyTimes, error) {
	return lwsFloorWith(ctx, c, t, testenv.ReplaceFloorOf)
}

type floorFunc func(ctx context.Context, c *testenv.Cluster, pods, statefulSets int, objects func(namespace string) ([]client.Object, error)) (testenv.ReadyTimes, error)

func lwsFloorWith(ctx context.Context, c *testenv.Cluster, t compose.Target, floor floorFunc) (testenv.ReadyTimes, error) {
	fp := &t.Resource.Spec.ForProvider
	in, err := groups.CurrentInput(fp)
	if err != nil {
		return testenv.ReadyTimes{}, err
	}
	n, size := int(t.Groups), int(in.Size())
	workers := 0
	if size > 1 {
		workers = n
	}
	return floor(ctx, c, n*size, 1+workers, func(ns string) ([]client.Object, error) {
		in := in
		in.Namespace = ns
		leader, err := groups.LeaderStatefulSet(in, t.Rollout)
		if err != nil {
			return nil, err
		}
		leader.Spec.Template.Spec.SchedulingGates = slices.DeleteFunc(leader.Spec.Template.Spec.SchedulingGates, lws.IsSchedulingGate)
		objs := []client.Object{leader}
		for g := range workers {
			w, err := in.WorkerStatefulSet(g, "")
			if err != nil {
				return nil, err
			}
			objs = append(objs, w)
		}
		for _, svc := range in.Services() {
			objs = append(objs, svc)
		}
		return objs, nil
	})
}

// slowest runs measure on every cluster at once and returns the longest
// time to all pods ready.
func slowest(b *testing.B, targets []*testenv.Cluster, measure func(int, *testenv.Cluster) (testenv.ReadyTimes, error)) time.Duration {
	done := make(chan testenv.ReadyTimes, len(targets))
	errs := make(chan error, len(targets))
	for i, c := range targets {
		go func() {
			r, err := measure(i, c)
			errs <- err
			done <- r
		}()
	}
	var worst time.Duration
	for range targets {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		worst = max(worst, (<-done).Pods)
	}
	return worst
}

// convergeLWS is the LeaderWorkerSet of BenchmarkConvergence512: 64 groups
// of 8, split over clusters ("default", then "second").
func convergeLWS(name string, clusters int) compose.LeaderWorkerSet {
	l := sample(name, "image:v1", 64, 8)
	if clusters == 2 {
		l.Spec.Placement = &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "default"}, {Name: "second"}}}
	}
	return l
}

// converge creates a LeaderWorkerSet of 64 groups of 8 over the targets and
// waits until every pod is ready in every cluster.
func (e *env) converge(b *testing.B, targets []*testenv.Cluster, name string) time.Duration {
	l := convergeLWS(name, len(targets))
	plans, err := compose.Plan(l, nil)
	if err != nil {
		b.Fatal(err)
	}
	sel := labels.SelectorFromSet(labels.Set{lws.LabelName: name})
	started := make(chan struct{})
	return slowest(b, targets, func(i int, c *testenv.Cluster) (testenv.ReadyTimes, error) {
		return testenv.TimeToReady(context.Background(), c, "default", sel, 512/len(targets), 1+64/len(targets), func(context.Context) error {
			// Every cluster's clock is running before the first
			// managed resource is created.
			if i > 0 {
				<-started
				return nil
			}
			defer close(started)
			for _, t := range plans {
				if err := e.cp.Client.Create(context.Background(), t.Resource); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// cpu is the CPU time used so far by every process of the environment:
// the clusters' components, and this process, which runs the node agents
// and the provider.
func (e *env) cpu(b *testing.B, targets []*testenv.Cluster) time.Duration {
	total, err := testenv.ProcessCPUTime(os.Getpid())
	must(b, err)
	for _, c := range append([]*testenv.Cluster{e.cp}, targets...) {
		t, err := c.CPUTime()
		must(b, err)
		total += t
	}
	return total
}
