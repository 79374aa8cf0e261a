package chaos

import (
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Cluster is what one target cluster holds of a LeaderWorkerSet at one
// moment.
type Cluster struct {
	Name string
	// Replicas is the leader StatefulSet's replicas: the groups this
	// cluster is meant to run (the rollouts here have no surge).
	Replicas int
	// Partition is the leader StatefulSet's rolling update partition.
	Partition int
	// Groups are the live leaders, by index.
	Groups []Group
}

// Group is a live (not terminating) leader pod and what it owns.
type Group struct {
	Index  int
	Leader types.UID
	// Revision is the leader's template revision.
	Revision string
	// Ready: the leader and every pod of its worker StatefulSet are
	// running and ready.
	Ready bool
	// Current: the leader runs the template the test set last.
	Current bool
	// WorkerRevisions are the revisions of the live pods of the worker
	// StatefulSets this leader owns.
	WorkerRevisions []string
	// WorkerSets counts the live worker StatefulSets this leader owns.
	WorkerSets int
	// Pods are the names of the leader and its live workers.
	Pods []string
}

// Snapshot reads a cluster's groups from its pods and StatefulSets of one
// LeaderWorkerSet. A group is identified by its leader's UID, and owns the
// worker StatefulSets whose controller is that leader, and their pods:
// what a previous generation of the group left terminating is not its.
// current tells whether a leader runs the template last set.
func Snapshot(name string, pods []corev1.Pod, sets []appsv1.StatefulSet, current func(*corev1.Pod) bool) Cluster {
	c := Cluster{Name: name}
	workerSets := map[types.UID]*appsv1.StatefulSet{} // by UID
	setsOf := map[types.UID][]types.UID{}             // leader UID → its worker sets
	var leaderSet types.UID
	for i := range sets {
		s := &sets[i]
		if s.DeletionTimestamp != nil {
			continue
		}
		owner := metav1.GetControllerOf(s)
		if owner == nil {
			// The leader StatefulSet.
			leaderSet = s.UID
			c.Replicas = int(ptr.Deref(s.Spec.Replicas, 1))
			if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil {
				c.Partition = int(ptr.Deref(ru.Partition, 0))
			}
			continue
		}
		workerSets[s.UID] = s
		setsOf[owner.UID] = append(setsOf[owner.UID], s.UID)
	}
	type workers struct {
		revisions []string
		names     []string
		ready     int32
	}
	of := map[types.UID]*workers{} // by worker set UID
	for i := range pods {
		p := &pods[i]
		owner := metav1.GetControllerOf(p)
		if p.DeletionTimestamp != nil || owner == nil || workerSets[owner.UID] == nil {
			continue
		}
		w := of[owner.UID]
		if w == nil {
			w = &workers{}
			of[owner.UID] = w
		}
		w.revisions = append(w.revisions, p.Labels[lws.LabelRevisionKey])
		w.names = append(w.names, p.Name)
		if running(p) {
			w.ready++
		}
	}
	for i := range pods {
		p := &pods[i]
		// Leaders are known by their StatefulSet, and their index by the
		// ordinal it gives them at creation: the group labels come later,
		// from the provider.
		owner := metav1.GetControllerOf(p)
		if p.DeletionTimestamp != nil || owner == nil || owner.UID != leaderSet {
			continue
		}
		index, err := strconv.Atoi(p.Labels[appsv1.PodIndexLabel])
		if err != nil {
			continue
		}
		g := Group{Index: index, Leader: p.UID, Revision: p.Labels[lws.LabelRevisionKey], Current: current(p), Pods: []string{p.Name}}
		g.Ready = running(p)
		g.WorkerSets = len(setsOf[p.UID])
		if g.WorkerSets == 0 {
			g.Ready = false
		}
		for _, uid := range setsOf[p.UID] {
			w := of[uid]
			if w == nil {
				w = &workers{}
			}
			g.WorkerRevisions = append(g.WorkerRevisions, w.revisions...)
			g.Pods = append(g.Pods, w.names...)
			g.Ready = g.Ready && w.ready == ptr.Deref(workerSets[uid].Spec.Replicas, 1)
		}
		slices.Sort(g.Pods[1:])
		c.Groups = append(c.Groups, g)
	}
	slices.SortFunc(c.Groups, func(a, b Group) int { return a.Index - b.Index })
	return c
}

func running(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
