package observation

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

const pool = "cloud.google.com/gke-nodepool"

type nodeOpt func(*corev1.Node)

func node(name, poolName string, opts ...nodeOpt) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{pool: poolName}},
		Status: corev1.NodeStatus{
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), "nvidia.com/gpu": resource.MustParse("8")},
		},
	}
	for _, o := range opts {
		o(&n)
	}
	return n
}

func notReady(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }
func cordoned(n *corev1.Node) { n.Spec.Unschedulable = true }

// pod is a pod of LeaderWorkerSet ns/lwsName.
func pod(lwsName, nodeName string, phase corev1.PodPhase) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Labels: map[string]string{lws.LabelName: lwsName}},
		Spec:       corev1.PodSpec{NodeName: nodeName}, Status: corev1.PodStatus{Phase: phase},
	}
}

func gpus(n string) corev1.ResourceList {
	return corev1.ResourceList{"nvidia.com/gpu": resource.MustParse(n)}
}

func TestOf(t *testing.T) {
	cases := map[string]struct {
		reason string
		nodes  []corev1.Node
		pods   []corev1.Pod
		want   v1alpha1.TargetClusterStatus
	}{
		"EmptyCluster": {
			reason: "A cluster without nodes has no room.",
			want:   v1alpha1.TargetClusterStatus{},
		},
		"FreeIsland": {
			reason: "Ready nodes without our pods are free, with their extended resources summed; native resources are left out.",
			nodes:  []corev1.Node{node("a-0", "a"), node("a-1", "a")},
			want: v1alpha1.TargetClusterStatus{Nodes: 2, ReadyNodes: 2, FreeNodes: 2, Allocatable: gpus("16"),
				Domains: []v1alpha1.TopologyDomain{{Key: pool, Value: "a", ReadyNodes: 2, FreeNodes: 2, Allocatable: gpus("16")}}},
		},
		"BusyNodesAreNotFree": {
			reason: "A node running a pod of ours is ready but not free, and room of its LeaderWorkerSet's own; a finished pod frees its node, and a pending one holds none.",
			nodes:  []corev1.Node{node("a-0", "a"), node("a-1", "a"), node("b-0", "b")},
			pods:   []corev1.Pod{pod("x", "a-0", corev1.PodRunning), pod("x", "b-0", corev1.PodSucceeded), pod("y", "", corev1.PodPending)},
			want: v1alpha1.TargetClusterStatus{Nodes: 3, ReadyNodes: 3, FreeNodes: 2, Allocatable: gpus("16"),
				Occupants: []v1alpha1.Occupant{{LeaderWorkerSet: "ns/x", Nodes: 1, Allocatable: gpus("8")}},
				Domains: []v1alpha1.TopologyDomain{
					{Key: pool, Value: "a", ReadyNodes: 2, FreeNodes: 1, Allocatable: gpus("16"), Occupant: "ns/x"},
					{Key: pool, Value: "b", ReadyNodes: 1, FreeNodes: 1, Allocatable: gpus("8")},
				}},
		},
		"SharedNodesAndDomainsAreNobodysRoom": {
			reason: "A node running pods of two LeaderWorkerSets is room of neither, and so is a domain whose busy nodes they share.",
			nodes:  []corev1.Node{node("a-0", "a"), node("a-1", "a"), node("b-0", "b")},
			pods:   []corev1.Pod{pod("x", "a-0", corev1.PodRunning), pod("y", "a-1", corev1.PodRunning), pod("x", "b-0", corev1.PodRunning), pod("y", "b-0", corev1.PodRunning)},
			want: v1alpha1.TargetClusterStatus{Nodes: 3, ReadyNodes: 3,
				Occupants: []v1alpha1.Occupant{{LeaderWorkerSet: "ns/x", Nodes: 1, Allocatable: gpus("8")}, {LeaderWorkerSet: "ns/y", Nodes: 1, Allocatable: gpus("8")}},
				Domains: []v1alpha1.TopologyDomain{
					{Key: pool, Value: "a", ReadyNodes: 2, Allocatable: gpus("16")},
					{Key: pool, Value: "b", ReadyNodes: 1, Allocatable: gpus("8")},
				}},
		},
		"NotReadyAndCordonedNodesGiveNoRoom": {
			reason: "Nodes that are not Ready or are cordoned count as nodes only.",
			nodes:  []corev1.Node{node("a-0", "a", notReady), node("a-1", "a", cordoned)},
			want:   v1alpha1.TargetClusterStatus{Nodes: 2},
		},
		"NodesWithoutTheKey": {
			reason: "A node without a topology key counts for the cluster but for no domain.",
			nodes:  []corev1.Node{node("x", "a", func(n *corev1.Node) { delete(n.Labels, pool) })},
			want:   v1alpha1.TargetClusterStatus{Nodes: 1, ReadyNodes: 1, FreeNodes: 1, Allocatable: gpus("8")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Of(tc.nodes, tc.pods, []string{pool})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestExtended(t *testing.T) {
	for name, want := range map[corev1.ResourceName]bool{
		"nvidia.com/gpu":           true,
		"google.com/tpu":           true,
		corev1.ResourceCPU:         false,
		"hugepages-2Mi":            false,
		"kubernetes.io/something":  false,
		"node.kubernetes.io/thing": false,
		"requests.nvidia.com/gpu":  false,
	} {
		if got := Extended(name); got != want {
			t.Errorf("Extended(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestSameIgnoresReachability(t *testing.T) {
	a := v1alpha1.TargetClusterStatus{ReadyNodes: 2, Conditions: []metav1.Condition{{Type: "Reachable"}}, LastContactTime: &metav1.MicroTime{}}
	if !Same(a, v1alpha1.TargetClusterStatus{ReadyNodes: 2}) {
		t.Error("observations that differ in reachability only must be the same room")
	}
	if Same(a, v1alpha1.TargetClusterStatus{ReadyNodes: 3}) {
		t.Error("observations with other room must differ")
	}
}
