//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// The peer benchmarks (issue 15) run the same LeaderWorkerSet through ours,
// with each worker-labels policy, and through upstream LeaderWorkerSet
// v0.10.0's manager, each on a fresh target cluster of the same shape, in
// one run: `make bench-peer LWS_UPSTREAM=<checkout>`. Without the checkout
// upstream's runs skip and say why.
var peers = []string{"ours=Patch", "ours=AdmissionPolicy", "upstream"}

// system is one LeaderWorkerSet implementation running on a fresh target
// cluster: create submits a LeaderWorkerSet, update submits its new spec.
type system struct {
	target         *testenv.Cluster
	create, update func(context.Context, compose.LeaderWorkerSet) error
}

// startSystem starts the peer on a target cluster with options opts.
func startSystem(b *testing.B, peer string, opts testenv.Options) *system {
	b.Helper()
	ctx := context.Background()
	if peer == "upstream" {
		src, manager, err := testenv.UpstreamAssets()
		if errors.Is(err, testenv.ErrNoUpstream) {
			b.Skip(err)
		}
		must(b, err)
		c := testenv.Start(b, opts)
		must(b, testenv.StartUpstreamLWS(ctx, c, src, manager))
		return &system{
			target: c,
			create: func(ctx context.Context, l compose.LeaderWorkerSet) error {
				return c.Client.Create(ctx, upstreamLWS(b, l))
			},
			update: func(ctx context.Context, l compose.LeaderWorkerSet) error {
				spec, err := json.Marshal(map[string]any{"spec": upstreamLWS(b, l).Object["spec"]})
				if err != nil {
					return err
				}
				return c.Client.Patch(ctx, upstreamLWS(b, l), client.RawPatch(types.MergePatchType, spec))
			},
		}
	}
	policy := v1alpha1.WorkerLabelsPolicy(peer[len("ours="):])
	opts.MutatingAdmissionPolicies = policy == v1alpha1.WorkerLabelsAdmissionPolicy
	e := startWith(b, opts)
	e.useWorkerLabels(b, policy, []*testenv.Cluster{e.target})
	return &system{
		target: e.target,
		create: func(ctx context.Context, l compose.LeaderWorkerSet) error {
			return e.cp.Client.Create(ctx, managed(b, l))
		},
		update: func(_ context.Context, l compose.LeaderWorkerSet) error {
			e.update(b, managed(b, l), l)
			return nil
		},
	}
}

// upstreamLWS is l as upstream's LeaderWorkerSet: the same spec, defaulted
// as both default it, without what only ours has.
func upstreamLWS(b *testing.B, l compose.LeaderWorkerSet) *unstructured.Unstructured {
	b.Helper()
	data, err := json.Marshal(lws.Default(&l.Spec))
	must(b, err)
	spec := map[string]any{}
	must(b, json.Unmarshal(data, &spec))
	delete(spec, "placement")
	delete(spec, "groupRestart")
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "leaderworkerset.x-k8s.io/v1",
		"kind":       "LeaderWorkerSet",
		"metadata":   map[string]any{"name": l.Name, "namespace": l.Namespace},
		"spec":       spec,
	}}
}

// peerOptions is the target cluster of every peer benchmark: 16 nodes.
func peerOptions(startDelay time.Duration) testenv.Options {
	return testenv.Options{Name: "target", NodeAgent: nodeagent.Config{Pools: convergePools, StartDelay: startDelay}}
}

// BenchmarkPeerCreate: 64 groups of 8, from the LeaderWorkerSet's creation
// to all 512 pods ready and labelled with their worker index. The floor is the same pods as bare StatefulSets
// created up front (lwsFloor). Every pod must carry upstream's labels and
// environment, whoever made it.
func BenchmarkPeerCreate(b *testing.B) {
	const groups, size = 64, 8
	b.Run("floor", func(b *testing.B) {
		c := testenv.Start(b, peerOptions(0))
		plans, err := compose.Plan(sample("floor", "image:v1", groups, size), nil)
		must(b, err)
		r, err := lwsFloor(context.Background(), c, plans[0])
		must(b, err)
		b.ReportMetric(r.Pods.Seconds(), "s-create")
	})
	for _, peer := range peers {
		b.Run(peer, func(b *testing.B) {
			s := startSystem(b, peer, peerOptions(0))
			l := sample("create", "image:v1", groups, size)
			d, err := testenv.TimeToUpdate(context.Background(), s.target, "default", nameSelector(l.Name), groups*size, identified,
				func(ctx context.Context) error { return s.create(ctx, l) })
			must(b, err)
			b.ReportMetric(d.Seconds(), "s-create")
			podsAreUpstreams(b, s.target, l.Name)
		})
	}
}

// BenchmarkPeerRollout: a rolling update of 64 groups of 8 at
// maxUnavailable 2 and maxSurge 2, pods taking 1 s to start, from the
// template change to every pod of the 64 groups ready on the new template.
// The floor is 16 steps of replacing one bare group (lwsReplaceFloor).
func BenchmarkPeerRollout(b *testing.B) {
	const groups, size, steps = 64, 8, 16
	b.Run("floor", func(b *testing.B) {
		c := testenv.Start(b, peerOptions(time.Second))
		plans, err := compose.Plan(sample("group-replace", "image:v0", 1, size), nil)
		must(b, err)
		r, err := lwsReplaceFloor(context.Background(), c, plans[0])
		must(b, err)
		b.ReportMetric(steps*r.Pods.Seconds(), "s-rollout")
	})
	for _, peer := range peers {
		b.Run(peer, func(b *testing.B) {
			s := startSystem(b, peer, peerOptions(time.Second))
			ctx := context.Background()
			l := sample("rollout", "image:v0", groups, size)
			l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxUnavailable: intstr.FromInt32(2), MaxSurge: intstr.FromInt32(2)}
			_, err := testenv.TimeToReady(ctx, s.target, "default", nameSelector(l.Name), groups*size, 1+groups,
				func(ctx context.Context) error { return s.create(ctx, l) })
			must(b, err)
			l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "image:v1"
			d, err := testenv.TimeToUpdate(ctx, s.target, "default", nameSelector(l.Name), groups*size, func(p *corev1.Pod) bool {
				return p.Spec.Containers[0].Image == "image:v1" && groupIndex(p) < groups && identified(p)
			}, func(ctx context.Context) error { return s.update(ctx, l) })
			must(b, err)
			b.ReportMetric(d.Seconds(), "s-rollout")
		})
	}
}

// BenchmarkPeerRestart: a worker container restarts (its restart count
// bumped by the node agent, as a kubelet would) and the group is
// recreated; timed from the bump to the deletion of the group's leader,
// seen through a watch of the leader opened before the bump. 50 restarts
// over 10 groups of 2, each group back and ready before the next.
func BenchmarkPeerRestart(b *testing.B) {
	const groups, size, restarts = 10, 2, 50
	for _, peer := range peers {
		b.Run(peer, func(b *testing.B) {
			s := startSystem(b, peer, peerOptions(0))
			ctx := context.Background()
			l := sample("restart", "image:v1", groups, size)
			_, err := testenv.TimeToReady(ctx, s.target, "default", nameSelector(l.Name), groups*size, 1+groups,
				func(ctx context.Context) error { return s.create(ctx, l) })
			must(b, err)
			var latencies []time.Duration
			for i := range restarts {
				latencies = append(latencies, restartGroup(b, s.target, l.Name, i%groups, groups*size))
			}
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// restartGroup restarts the first worker's container of group g and returns
// how long the leader took to be deleted; it returns once the group is back
// with new pods, all ready.
func restartGroup(b *testing.B, c *testenv.Cluster, name string, g, pods int) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	leader := lws.LeaderPodName(name, g)
	var before corev1.PodList
	must(b, c.Client.List(ctx, &before, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: name, lws.LabelGroupIndex: strconv.Itoa(g)}))
	old := map[types.UID]bool{}
	var rv string
	for _, p := range before.Items {
		old[p.UID] = true
		if p.Name == leader {
			rv = p.ResourceVersion
		}
	}
	w, err := c.Clientset.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + leader, ResourceVersion: rv})
	must(b, err)
	defer w.Stop()
	began := time.Now()
	must(b, c.Nodes.RestartContainer(ctx, "default", leader+"-1", "c"))
	for deleted := false; !deleted; {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				b.Fatalf("the watch of %s ended before its deletion", leader)
			}
			p, isPod := ev.Object.(*corev1.Pod)
			deleted = ev.Type == watch.Deleted || isPod && (p.DeletionTimestamp != nil || !old[p.UID])
		case <-ctx.Done():
			b.Fatalf("leader %s not deleted a minute after a restart", leader)
		}
	}
	took := time.Since(began)
	_, err = testenv.TimeToUpdate(ctx, c, "default", nameSelector(name), pods, func(p *corev1.Pod) bool { return (!old[p.UID] || groupIndex(p) != g) && identified(p) },
		func(context.Context) error { return nil })
	must(b, err)
	return took
}

// identified: a pod has its worker index. Ours may start a plain worker
// before the provider's patch gives it the label, and counts its group
// ready only once it has it; upstream's webhook labels it at creation.
func identified(p *corev1.Pod) bool { return p.Labels[lws.LabelWorkerIndex] != "" }

// podsAreUpstreams checks that every pod of a LeaderWorkerSet has
// upstream's identity: group index, group key, worker index and the
// leader's address in its environment.
func podsAreUpstreams(b *testing.B, c *testenv.Cluster, name string) {
	b.Helper()
	var pods corev1.PodList
	must(b, c.Client.List(context.Background(), &pods, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: name}))
	for _, p := range pods.Items {
		for _, label := range []string{lws.LabelGroupIndex, lws.LabelGroupKey, lws.LabelWorkerIndex} {
			if p.Labels[label] == "" {
				b.Fatalf("pod %s has no %s label: %v", p.Name, label, p.Labels)
			}
		}
		if !slices.ContainsFunc(p.Spec.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == lws.EnvLeaderAddress }) {
			b.Fatalf("pod %s has no %s", p.Name, lws.EnvLeaderAddress)
		}
	}
}

func nameSelector(name string) labels.Selector {
	return labels.SelectorFromSet(labels.Set{lws.LabelName: name})
}

// groupIndex is a pod's group, -1 without the label.
func groupIndex(p *corev1.Pod) int {
	i, err := strconv.Atoi(p.Labels[lws.LabelGroupIndex])
	if err != nil {
		return -1
	}
	return i
}
