//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/chaos"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// The claim of the chaos suite: groups of two over three clusters, rolled
// out two groups at a time.
const (
	chaosClaim          = "chaos"
	chaosReplicas       = 6
	chaosMaxUnavailable = 2
	// chaosConvergence bounds the time from the last step to a claim whose
	// every group is ready on the last template.
	chaosConvergence = 4 * time.Minute
)

// TestChaos runs the product from its packages on three target clusters
// while a schedule generated from a seed edits, scales and disrupts a
// claim and SIGKILLs the provider, the function and Crossplane core and
// restarts a target's API server and etcd at random moments. The
// invariants of chaos.Checker are checked on every snapshot of the
// clusters, every 20 ms, throughout; after the last step the claim must
// converge within chaosConvergence.
//
// CHAOS_SEED (default 1) and CHAOS_STEPS (default 12) choose the schedule;
// a failing run reproduces by its seed, and CHAOS_TIMELINE=1 logs what
// changed in a passing one too. `make chaos` runs several long ones.
func TestChaos(t *testing.T) {
	seed := uint64(envInt(t, "CHAOS_SEED", 1))
	schedule, err := chaos.NewSchedule(seed, chaosReplicas, chaos.Options{
		Steps: envInt(t, "CHAOS_STEPS", 12), Clusters: 3,
		MinReplicas: 3, MaxReplicas: 9,
		MinWait: 500 * time.Millisecond, MaxWait: 4 * time.Second,
	})
	must(t, err)
	t.Logf("seed %d: %v", seed, schedule)

	e, targets, x := packagedClusters(t, 3, testenv.Options{MutatingAdmissionPolicies: true})
	ctx := context.Background()
	r := &chaosRun{e: e, targets: targets, x: x, template: chaosTemplate{image: 1}, replicas: chaosReplicas}
	must(t, e.cp.Client.Create(ctx, r.claim()))
	r.converged(t, 2*time.Minute)

	checker := chaos.NewChecker(chaosMaxUnavailable)
	r.observer = observe(t, targets, chaosClaim, checker, r.template.current)
	r.observer.noteBudgets(t, e.cp)
	began := time.Now()
	faults := map[chaos.Kind]int{}
	for i, s := range schedule {
		time.Sleep(s.Wait) // the schedule's pace, not a wait for a condition
		t.Logf("%s step %d: %s", time.Now().Format("15:04:05.000"), i, s)
		r.observer.note("step %d: %s", i, s)
		if err := r.step(ctx, t, s); err != nil {
			t.Fatalf("seed %d, step %d (%s): %v", seed, i, s, err)
		}
		faults[s.Kind]++
	}
	last := time.Now()
	agreed, reported := r.converged(t, chaosConvergence)
	r.observer.stop()

	violations := append(checker.Violations(), checker.Unrecreated()...)
	for _, v := range violations {
		t.Errorf("seed %d: %s", seed, v)
	}
	if len(violations) > 0 {
		t.Logf("reproduce: CHAOS_SEED=%d CHAOS_STEPS=%d go test -tags e2e ./internal/e2e -run '^TestChaos$'", seed, len(schedule))
	}
	opened, triggers := breakerOpen(t, x)
	t.Logf("chaos: seed %d, %d steps in %s (%s), the clusters converged %s after the last and the claim said so %s later; at worst %d groups unavailable; new generations by cause %v; core reconciled the composite %d times with its circuit breaker open (triggered by %v); target components that exited and were started again: %v",
		seed, len(schedule), last.Sub(began).Round(time.Second), kindCounts(faults), agreed.Sub(last).Round(100*time.Millisecond), reported.Sub(agreed).Round(100*time.Millisecond),
		checker.Worst, checker.Generations, opened, triggers, componentRestarts(targets))
}

// triggeredBy is the source core names when it finds a composite
// resource's circuit breaker open.
var triggeredBy = regexp.MustCompile(`triggered-by"?[:=] ?"?([^",}]*)`)

// breakerOpen counts the reconciles core logged with a composite
// resource's circuit breaker open, over all its runs, and the sources
// it named.
func breakerOpen(t testing.TB, x *testenv.Crossplane) (int, map[string]int) {
	t.Helper()
	logs, err := x.LogFiles()
	must(t, err)
	n, sources := 0, map[string]int{}
	for _, path := range logs {
		if !strings.HasPrefix(filepath.Base(path), testenv.ComponentCrossplane) {
			continue
		}
		data, err := os.ReadFile(path)
		must(t, err)
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "Circuit breaker is open") {
				continue
			}
			n++
			if m := triggeredBy.FindStringSubmatch(line); m != nil {
				sources[m[1]]++
			}
		}
	}
	return n, sources
}

// componentRestarts counts, by cluster and component, the target
// components started again after they exited on their own.
func componentRestarts(targets []*testenv.Cluster) map[string]int {
	out := map[string]int{}
	for _, c := range targets {
		for name, n := range c.Restarts() {
			out[c.Name+"/"+name] = n
		}
	}
	return out
}

func envInt(t testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

func kindCounts(m map[chaos.Kind]int) string {
	var parts []string
	for _, k := range slices.Concat(chaos.Edits, chaos.Faults) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// chaosTemplate is the template last set: an image and the value of an
// environment variable, each edit a new revision.
type chaosTemplate struct{ image, edit int }

func (c chaosTemplate) containers() []any {
	return []any{map[string]any{
		"name": "c", "image": fmt.Sprintf("image:v%d", c.image),
		"env": []any{map[string]any{"name": "CHAOS_EDIT", "value": strconv.Itoa(c.edit)}},
	}}
}

// current tells whether a leader runs this template.
func (c chaosTemplate) current(p *corev1.Pod) bool {
	if len(p.Spec.Containers) == 0 || p.Spec.Containers[0].Image != fmt.Sprintf("image:v%d", c.image) {
		return false
	}
	for _, v := range p.Spec.Containers[0].Env {
		if v.Name == "CHAOS_EDIT" {
			return v.Value == strconv.Itoa(c.edit)
		}
	}
	return false
}

// chaosRun is the state of one run: what the claim was last set to.
type chaosRun struct {
	e        *env
	targets  []*testenv.Cluster
	x        *testenv.Crossplane
	observer *observer
	template chaosTemplate
	replicas int
}

func (r *chaosRun) claim() *unstructured.Unstructured {
	var clusters []any
	for _, name := range targetNames {
		clusters = append(clusters, map[string]any{"name": name})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "lws.crossplane.io/v1alpha1",
		"kind":       "LeaderWorkerSet",
		"metadata":   map[string]any{"name": chaosClaim, "namespace": "default"},
		"spec": map[string]any{
			"replicas":  int64(r.replicas),
			"placement": map[string]any{"clusters": clusters},
			"rolloutStrategy": map[string]any{
				"type":                       "RollingUpdate",
				"rollingUpdateConfiguration": map[string]any{"maxUnavailable": int64(chaosMaxUnavailable)},
			},
			"leaderWorkerTemplate": map[string]any{
				"size":           int64(2),
				"workerTemplate": map[string]any{"spec": map[string]any{"containers": r.template.containers()}},
			},
		},
	}}
}

// edit writes the claim's replicas and template as r holds them.
func (r *chaosRun) edit(t testing.TB) {
	r.e.editClaim(t, chaosClaim, func(c *unstructured.Unstructured) error {
		want := r.claim()
		for _, f := range []string{"replicas", "leaderWorkerTemplate"} {
			c.Object["spec"].(map[string]any)[f] = want.Object["spec"].(map[string]any)[f]
		}
		return nil
	})
	r.observer.setCurrent(r.template.current)
}

// step runs one step of the schedule.
func (r *chaosRun) step(ctx context.Context, t testing.TB, s chaos.Step) error {
	switch s.Kind {
	case chaos.Rollout:
		r.template.image++
	case chaos.TemplateEdit:
		r.template.edit++
	case chaos.Scale:
		r.replicas = s.Replicas
	case chaos.PodRestart, chaos.PodDelete:
		return r.disrupt(ctx, s)
	case chaos.KillProvider:
		return r.kill("lws-crossplane-provider-lws")
	case chaos.KillFunction:
		return r.kill("lws-crossplane-function-lws")
	case chaos.KillCore:
		return r.x.RestartCore()
	case chaos.RestartAPIServer:
		return r.targets[s.Cluster].RestartAPIServer(ctx)
	}
	r.edit(t)
	return nil
}

// kill SIGKILLs a package's process. One killed moments ago may not run
// again yet (the runtime backs off restarts as the kubelet does): that is
// a fault survived already, not a failure of the run.
func (r *chaosRun) kill(pkg string) error {
	if err := r.x.KillPackage(pkg); err != nil && !strings.Contains(err.Error(), "no running revision") {
		return err
	}
	return nil
}

// disrupt restarts a container of, or deletes, a pod of a ready group,
// chosen by s.Pick among the groups of cluster s.Cluster ready now, and
// tells the checker first.
func (r *chaosRun) disrupt(ctx context.Context, s chaos.Step) error {
	c := r.targets[s.Cluster]
	var ready []chaos.Group
	for _, g := range r.observer.latest(c.Name).Groups {
		if g.Ready {
			ready = append(ready, g)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	g := ready[s.Pick%len(ready)]
	pod := g.Pods[(s.Pick/len(ready))%len(g.Pods)]
	r.observer.disrupted(c.Name, g)
	// A pod gone since the snapshot was taken by a rollout, a scale-down or
	// a group restart: its group is replaced already.
	if s.Kind == chaos.PodRestart {
		return client.IgnoreNotFound(c.Nodes.RestartContainer(ctx, "default", pod, "c"))
	}
	p := &corev1.Pod{}
	p.Name, p.Namespace = pod, "default"
	return client.IgnoreNotFound(c.Client.Delete(ctx, p))
}

// converged waits until the clusters agree, the groups 0..n-1 of each, n
// in all, ready on the last template, and the claim says every group is
// ready and updated. It returns when the clusters last came to agree and
// when the claim caught up: the gap is the time core and the provider took
// to report what the clusters already showed.
func (r *chaosRun) converged(t *testing.T, timeout time.Duration) (clusters, claim time.Time) {
	t.Helper()
	testenv.Eventually(t, timeout, fmt.Sprintf("%d groups ready on %+v", r.replicas, r.template), func(ctx context.Context) (bool, error) {
		var snaps []chaos.Cluster
		for _, c := range r.targets {
			snap, err := snapshotOf(ctx, c.Client, c.Name, chaosClaim, r.template.current)
			if err != nil {
				return false, err
			}
			snaps = append(snaps, snap)
		}
		if err := chaos.Converged(snaps, r.replicas); err != nil {
			clusters = time.Time{}
			return false, testenv.Pendingf("%v", err)
		}
		if clusters.IsZero() {
			clusters = time.Now()
		}
		c := r.claim()
		if err := r.e.cp.Client.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
			return false, err
		}
		status, _, _ := unstructured.NestedMap(c.Object, "status")
		n := int64(r.replicas)
		if status["readyReplicas"] != n || status["updatedReplicas"] != n {
			return false, testenv.Pendingf("claim status %v", status)
		}
		claim = time.Now()
		return true, nil
	})
	return clusters, claim
}

// snapshotOf reads the groups of a LeaderWorkerSet from a cluster, live or
// from a cache.
func snapshotOf(ctx context.Context, r client.Reader, cluster, name string, current func(*corev1.Pod) bool) (chaos.Cluster, error) {
	sel := client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(labels.Set{lws.LabelName: name})}
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace("default"), sel); err != nil {
		return chaos.Cluster{}, fmt.Errorf("listing pods of %s: %w", cluster, err)
	}
	var sets appsv1.StatefulSetList
	if err := r.List(ctx, &sets, client.InNamespace("default"), sel); err != nil {
		return chaos.Cluster{}, fmt.Errorf("listing StatefulSets of %s: %w", cluster, err)
	}
	return chaos.Snapshot(cluster, pods.Items, sets.Items, current), nil
}

// observer feeds a checker with snapshots of every target cluster, read
// from a watch cache of each every 20 ms, until stop; its timeline, logged
// when the test fails (or CHAOS_TIMELINE is set), says what changed before.
type observer struct {
	mu       sync.Mutex
	checker  *chaos.Checker
	timeline *chaos.Timeline
	current  func(*corev1.Pod) bool
	snaps    map[string]chaos.Cluster
	stop     func()
}

func observe(t testing.TB, targets []*testenv.Cluster, name string, checker *chaos.Checker, current func(*corev1.Pod) bool) *observer {
	t.Helper()
	// The caches' reflectors log their reconnections, which are expected.
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	o := &observer{checker: checker, timeline: chaos.NewTimeline(3000), current: current, snaps: map[string]chaos.Cluster{}}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("CHAOS_TIMELINE") != "" {
			o.mu.Lock()
			defer o.mu.Unlock()
			t.Logf("what changed, last %d lines:\n%s", o.timeline.Max, strings.Join(o.timeline.Lines(), "\n"))
		}
	})
	caches := make([]cache.Cache, len(targets))
	for i, c := range targets {
		cc, err := cache.New(c.Config, cache.Options{
			DefaultNamespaces:    map[string]cache.Config{"default": {}},
			DefaultLabelSelector: labels.SelectorFromSet(labels.Set{lws.LabelName: name}),
		})
		must(t, err)
		for _, obj := range []client.Object{&corev1.Pod{}, &appsv1.StatefulSet{}} {
			_, err := cc.GetInformer(ctx, obj)
			must(t, err)
		}
		go func() { _ = cc.Start(ctx) }()
		if !cc.WaitForCacheSync(ctx) {
			t.Fatalf("the watch cache of cluster %s did not sync", c.Name)
		}
		caches[i] = cc
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case at := <-tick.C:
				o.observe(ctx, at, targets, caches, name)
			}
		}
	}()
	o.stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(o.stop)
	return o
}

func (o *observer) observe(ctx context.Context, at time.Time, targets []*testenv.Cluster, caches []cache.Cache, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	snaps := make([]chaos.Cluster, len(targets))
	for i, c := range targets {
		snap, err := snapshotOf(ctx, caches[i], c.Name, name, o.current)
		if err != nil {
			return // the cache is stopping
		}
		if o.checker.Judging() {
			snap.Replicas = liveReplicas(ctx, c, name, snap.Replicas)
		}
		snaps[i] = snap
		o.snaps[c.Name] = snap
	}
	o.checker.Observe(at, snaps)
	o.timeline.Observe(at, snaps)
}

// liveReplicas reads the replicas of a cluster's leader StatefulSet from
// its API server, for a checker that judges a moment by them: the watch
// cache can lag by seconds after an API server restart. It returns cached
// when the API server does not answer in time.
func liveReplicas(ctx context.Context, c *testenv.Cluster, name string, cached int) int {
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	sts := &appsv1.StatefulSet{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, sts); err != nil {
		return cached
	}
	return int(ptr.Deref(sts.Spec.Replicas, 1))
}

// note adds a line to the timeline.
func (o *observer) note(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.timeline.Note(time.Now(), format, args...)
}

// noteBudgets adds to the timeline every change of a managed resource's
// revision, rolling update budget, generations and reported groups: what
// the function gave each cluster's provider, and what it reported back.
func (o *observer) noteBudgets(t testing.TB, cp *testenv.Cluster) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cc, err := cache.New(cp.Config, cache.Options{Scheme: cp.Client.Scheme()})
	must(t, err)
	inf, err := cc.GetInformer(ctx, &v1alpha1.RemoteLeaderWorkerSet{})
	must(t, err)
	last := map[string]string{}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { o.noteBudget(last, obj) },
		UpdateFunc: func(_, obj any) { o.noteBudget(last, obj) },
	})
	must(t, err)
	go func() { _ = cc.Start(ctx) }()
	if !cc.WaitForCacheSync(ctx) {
		t.Fatal("the watch cache of managed resources did not sync")
	}
}

// noteBudget notes a managed resource's state if it changed; last is
// touched by the informer's one handler goroutine only.
func (o *observer) noteBudget(last map[string]string, obj any) {
	mr, ok := obj.(*v1alpha1.RemoteLeaderWorkerSet)
	if !ok {
		return
	}
	fp, at := mr.Spec.ForProvider, mr.Status.AtProvider
	line := fmt.Sprintf("managed resource of %s: replicas %d, revision %.8s, maxUnavailable %d, maxSurge %d; generation %d, observed %d; ready %d, updated %d; Synced %s",
		mr.Spec.ProviderConfigReference.Name, fp.Replicas, fp.Revision.Key, fp.Rollout.MaxUnavailable, fp.Rollout.MaxSurge,
		mr.Generation, at.ObservedGeneration, at.ReadyReplicas, at.UpdatedReplicas, mr.GetCondition(xpv2.TypeSynced).Status)
	if last[mr.Name] != line {
		last[mr.Name] = line
		o.note("%s", line)
	}
}

// latest is the last snapshot of a cluster.
func (o *observer) latest(cluster string) chaos.Cluster {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.snaps[cluster]
}

// disrupted tells the checker that a group is about to be disrupted.
func (o *observer) disrupted(cluster string, g chaos.Group) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.checker.Disrupted(cluster, g.Index, g.Leader)
}

func (o *observer) setCurrent(current func(*corev1.Pod) bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.current = current
}
