package groups

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

var now = metav1.NewTime(time.Unix(1000, 0))

// params renders a LeaderWorkerSet through the composition function's own
// planning, as the provider receives it.
func params(t testing.TB, replicas, size int32, edit ...func(*compose.LeaderWorkerSet)) v1alpha1.RemoteLeaderWorkerSetParameters {
	t.Helper()
	l := compose.LeaderWorkerSet{Name: "lws", Namespace: "ns", Spec: v1alpha1.LeaderWorkerSetSpec{
		Replicas: ptr.To(replicas),
		LeaderWorkerTemplate: v1alpha1.LeaderWorkerTemplate{
			Size:           ptr.To(size),
			WorkerTemplate: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
		},
	}}
	for _, e := range edit {
		e(&l)
	}
	targets, err := compose.Plan(l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return targets[0].Resource.Spec.ForProvider
}

// cluster is a simulated target cluster that fails its test when the
// planner does not converge; with nodes, its scheduler places pods on them.
type cluster struct {
	t testing.TB
	*Simulation
}

func (c *cluster) pod(name string) *corev1.Pod { return c.Pod(name) }

func (c *cluster) worker(name string) *appsv1.StatefulSet { return c.Worker(name) }

func newCluster(t testing.TB, p v1alpha1.RemoteLeaderWorkerSetParameters) *cluster {
	c := &cluster{t: t, Simulation: NewSimulation(p)}
	c.Schedule = c.schedule
	return c
}

func (c *cluster) converge() *Plan {
	c.t.Helper()
	p, err := c.Converge(now)
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cluster) apply(p *Plan) { c.Apply(p) }

func itoa(i int) string { return strconv.Itoa(i) }

func intOr(i int32) intstr.IntOrString { return intstr.FromInt32(i) }

func TestComputeFromScratch(t *testing.T) {
	c := newCluster(t, params(t, 2, 3))
	p, err := Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Revision == nil || p.Leader == nil || len(p.Services) != 1 {
		t.Fatalf("a new LeaderWorkerSet needs its revision, leader StatefulSet and Service: %+v", p)
	}
	if *p.Leader.Spec.Replicas != 2 || *p.Leader.Spec.UpdateStrategy.RollingUpdate.Partition != 0 {
		t.Errorf("leader StatefulSet: replicas %d partition %d, want 2 and 0", *p.Leader.Spec.Replicas, *p.Leader.Spec.UpdateStrategy.RollingUpdate.Partition)
	}
	if diff := cmp.Diff([]Event{{Reason: "GroupsProgressing", Message: "Created leader statefulset lws"}}, p.Events); diff != "" {
		t.Errorf("events: -want, +got:\n%s", diff)
	}
	if p.Available {
		t.Error("a LeaderWorkerSet without groups is not available")
	}
}

func TestConverges(t *testing.T) {
	c := newCluster(t, params(t, 2, 3))
	p := c.converge()
	if len(c.Workers) != 2 || len(c.Pods) != 6 {
		t.Fatalf("want 2 worker StatefulSets and 6 pods, got %d and %d", len(c.Workers), len(c.Pods))
	}
	for _, pod := range c.Pods {
		if len(pod.Spec.SchedulingGates) > 0 || pod.Labels[lws.LabelGroupIndex] == "" || pod.Labels[lws.LabelWorkerIndex] == "" {
			t.Errorf("pod %s was not given its identity: labels %v gates %v", pod.Name, pod.Labels, pod.Spec.SchedulingGates)
		}
	}
	if !p.Available || p.Observation.ReadyReplicas != 2 || p.Observation.UpdatedReplicas != 2 {
		t.Errorf("converged: want available with 2 ready and updated groups, got %+v", p.Observation)
	}
	// Steady state writes nothing.
	again, err := Compute(&c.State, p.Observation.Conditions, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changes() || again.StatusEvent != nil {
		t.Errorf("steady state: want no change and no event, got %+v", again)
	}
}

func TestStartupPolicyLeaderReady(t *testing.T) {
	c := newCluster(t, params(t, 1, 2, func(l *compose.LeaderWorkerSet) { l.Spec.StartupPolicy = v1alpha1.LeaderReadyStartupPolicy }))
	p, _ := Compute(&c.State, nil, 1, now)
	c.apply(p) // leader StatefulSet and its pod, gated
	p, _ = Compute(&c.State, nil, 1, now)
	if len(p.Workers) != 0 || len(p.Identities) != 1 {
		t.Fatalf("LeaderReady: no workers before the leader is ready, want 0 workers and 1 identity, got %d and %d", len(p.Workers), len(p.Identities))
	}
	c.apply(p) // leader released, running and ready
	p, _ = Compute(&c.State, nil, 1, now)
	if len(p.Workers) != 1 {
		t.Errorf("LeaderReady: workers once the leader is ready, got %d", len(p.Workers))
	}
}

func TestExclusivePlacementWaitsForLeaderNode(t *testing.T) {
	c := newCluster(t, params(t, 1, 2, func(l *compose.LeaderWorkerSet) {
		l.Annotations = map[string]string{lws.AnnotationExclusiveTopology: "pool"}
	}))
	p, _ := Compute(&c.State, nil, 1, now)
	c.apply(p)
	p, _ = Compute(&c.State, nil, 1, now)
	if len(p.Workers) != 0 {
		t.Fatalf("workers wait until the leader is scheduled, got %d", len(p.Workers))
	}
	c.apply(p)
	leader := c.pod("lws-0")
	c.Nodes[leader.Spec.NodeName] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: leader.Spec.NodeName, Labels: map[string]string{"pool": "pool-a"}}}
	p, _ = Compute(&c.State, nil, 1, now)
	if len(p.Workers) != 1 || p.Workers[0].Spec.Template.Spec.NodeSelector["pool"] != "pool-a" {
		t.Fatalf("workers are pinned to the leader's pool: %+v", p.Workers)
	}
}

func TestRestartRecreatesGroup(t *testing.T) {
	c := newCluster(t, params(t, 2, 2))
	c.converge()
	w := c.pod("lws-1-1")
	w.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 1}}
	p, _ := Compute(&c.State, nil, 1, now)
	if len(p.Restarts) != 1 || p.Restarts[0].Leader.Name != "lws-1" {
		t.Fatalf("a restarted worker recreates its group by deleting leader lws-1, got %v", p.Restarts)
	}
	if diff := cmp.Diff(&Event{Reason: "RecreateGroup", Message: "Worker pod lws-1-1 failed, deleted leader pod lws-1 to recreate group 1"}, p.Restarts[0].Event); diff != "" {
		t.Errorf("event: -want, +got:\n%s", diff)
	}
}

func TestOldGroupRebuiltFromItsRevisionLws963(t *testing.T) {
	old := params(t, 2, 4)
	c := newCluster(t, old)
	c.converge()
	// The template changes size 4 → 2; group 0, below the partition, loses
	// its workers and must get them back from the old revision.
	c.Params = params(t, 2, 2, func(l *compose.LeaderWorkerSet) {
		l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{Partition: ptr.To[int32](1), MaxUnavailable: intOr(1)}
	})
	c.Workers = c.Workers[1:]
	p, err := Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	var w *appsv1.StatefulSet
	for _, x := range p.Workers {
		if x.Name == "lws-0" {
			w = x
		}
	}
	if w == nil {
		t.Fatalf("group 0's worker StatefulSet is recreated: %+v", p.Workers)
	}
	if *w.Spec.Replicas != 3 || w.Spec.Template.Annotations[lws.AnnotationSize] != "4" || w.Labels[lws.LabelRevisionKey] != old.Revision.Key {
		t.Errorf("rebuilt from the old revision: replicas %d, size %s, revision %s (old %s)", *w.Spec.Replicas, w.Spec.Template.Annotations[lws.AnnotationSize], w.Labels[lws.LabelRevisionKey], old.Revision.Key)
	}
}

func TestUpdateDonePrunesOldRevisions(t *testing.T) {
	c := newCluster(t, params(t, 1, 1))
	c.converge()
	c.Revisions = append(c.Revisions, appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "old", Labels: map[string]string{lws.LabelRevisionKey: "old"}}, Data: runtime.RawExtension{Raw: c.Params.Revision.Payload.Raw}})
	p, _ := Compute(&c.State, nil, 1, now)
	if len(p.Prune) != 1 || p.Prune[0].Name != "old" {
		t.Errorf("a finished update prunes old revisions, got %v", p.Prune)
	}
}

// TestServingWithinTheRolloutBudget: a LeaderWorkerSet serves while no more
// groups are down than maxUnavailable lets a rolling update take down, as a
// Deployment stays Available; it is Available only with every group ready.
func TestServingWithinTheRolloutBudget(t *testing.T) {
	for _, tc := range []struct {
		name              string
		maxUnavailable    int32
		down              int
		serving, allReady bool
	}{
		{name: "every group ready", maxUnavailable: 1, serving: true, allReady: true},
		{name: "one down, budget one", maxUnavailable: 1, down: 1, serving: true},
		{name: "two down, budget one", maxUnavailable: 1, down: 2},
		{name: "two down, budget two", maxUnavailable: 2, down: 2, serving: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, params(t, 4, 2, func(l *compose.LeaderWorkerSet) {
				l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxUnavailable: intOr(tc.maxUnavailable)}
			}))
			c.converge()
			for g := range tc.down {
				c.pod(lws.LeaderPodName("lws", g)).Status.Conditions[0].Status = corev1.ConditionFalse
			}
			p, err := Compute(&c.State, nil, 1, now)
			if err != nil {
				t.Fatal(err)
			}
			if p.Serving != tc.serving || p.Available != tc.allReady {
				t.Errorf("%d of 4 groups down, maxUnavailable %d: Serving %v, Available %v; want %v, %v", tc.down, tc.maxUnavailable, p.Serving, p.Available, tc.serving, tc.allReady)
			}
		})
	}
}

// TestReadyTurnsOnWhenAllAreReadyAndHoldsWhileServing: Crossplane's Ready
// is never early, and a rolling update within its budget keeps it.
func TestReadyTurnsOnWhenAllAreReadyAndHoldsWhileServing(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		available, serving, wasReady bool
		want                         bool
	}{
		{name: "every group ready", available: true, serving: true, want: true},
		{name: "serving but never all ready yet", serving: true},
		{name: "a rollout within its budget", serving: true, wasReady: true, want: true},
		{name: "more groups down than the budget", wasReady: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Plan{Available: tc.available, Serving: tc.serving}
			if got := p.Ready(tc.wasReady); got != tc.want {
				t.Errorf("Ready(%v) with Available %v, Serving %v = %v, want %v", tc.wasReady, tc.available, tc.serving, got, tc.want)
			}
		})
	}
}

// TestGroupReadyFromItsWorkerPods: a group is ready when its leader and
// its workers, pods of its worker StatefulSet, are Ready and labelled,
// without waiting for the StatefulSet controller to count them in its
// status, which lags at every step of a rolling update.
func TestGroupReadyFromItsWorkerPods(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(c *cluster)
		ready int32
	}{
		{"StatusNotWrittenYet", func(c *cluster) { c.worker("lws-0").Status = appsv1.StatefulSetStatus{} }, 2},
		{"WorkerNotReady", func(c *cluster) { c.pod("lws-0-2").Status.Conditions[0].Status = corev1.ConditionFalse }, 1},
		{"WorkerTerminating", func(c *cluster) { c.pod("lws-0-1").DeletionTimestamp = &now }, 1},
		{"WorkerMissing", func(c *cluster) { c.pod("lws-0-2").Name = "lws-0-3" }, 1},
		{"WorkerOfAnotherStatefulSet", func(c *cluster) { c.pod("lws-0-1").OwnerReferences[0].UID = "old-workers" }, 1},
		{"WorkerUnlabelled", func(c *cluster) { delete(c.pod("lws-0-1").Labels, lws.LabelWorkerIndex) }, 1},
		{"WorkersBeingDeleted", func(c *cluster) { c.worker("lws-0").DeletionTimestamp = &now }, 1},
		// Chaos seed 5: a leader recreated, its group counted ready on the
		// ready workers of the leader it replaced, not deleted yet, and the
		// rollout took another group down: 3 unavailable of 2.
		{"WorkersOfTheLeaderItReplaced", func(c *cluster) { c.pod("lws-0").UID = "replacement" }, 1},
		{"LeaderWithoutSize", func(c *cluster) { delete(c.pod("lws-0").Annotations, lws.AnnotationSize) }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, params(t, 2, 3))
			c.converge()
			tc.edit(c)
			p, err := Compute(&c.State, nil, 1, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Observation.ReadyReplicas; got != tc.ready {
				t.Errorf("ready groups: got %d, want %d", got, tc.ready)
			}
		})
	}
}
