// Package observation computes what placement needs to know of a target
// cluster from its nodes and the pods of its LeaderWorkerSets: how many
// nodes are ready, how many of those run none of our pods, their extended
// resources, and the same per topology domain (accelerator island). It is
// pure; the provider keeps the result in a TargetCluster's status.
package observation

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// DefaultTopologyKeys are the node labels whose values form topology
// domains when a provider config names none: GKE's node pool (the
// accelerator island of a TPU slice or a GPU pool) and the zone.
var DefaultTopologyKeys = []string{"cloud.google.com/gke-nodepool", corev1.LabelTopologyZone}

// room is the capacity of a set of nodes.
type room struct {
	ready, free int32
	// allocatable sums the free nodes' extended resources, or the ready
	// nodes' for a domain.
	allocatable corev1.ResourceList
	// occupant is the one LeaderWorkerSet on the busy nodes, crowded
	// when more than one is.
	occupant string
	crowded  bool
}

func (r *room) add(res corev1.ResourceList, owner string, domain bool) {
	r.ready++
	switch {
	case owner == "":
		r.free++
	case owner == crowded || r.crowded || (r.occupant != "" && r.occupant != owner):
		r.occupant, r.crowded = "", true
	default:
		r.occupant = owner
	}
	if owner == "" || domain {
		r.allocatable = Sum(r.allocatable, res)
	}
}

// extendedOf is a node's allocatable extended resources, nil if none.
func extendedOf(n *corev1.Node) corev1.ResourceList {
	var out corev1.ResourceList
	for name, q := range n.Status.Allocatable {
		if Extended(name) && !q.IsZero() {
			if out == nil {
				out = corev1.ResourceList{}
			}
			out[name] = q
		}
	}
	return out
}

// Sum adds more to sum, which it makes when nil and more has anything,
// and returns it.
func Sum(sum, more corev1.ResourceList) corev1.ResourceList {
	for name, q := range more {
		if sum == nil {
			sum = corev1.ResourceList{}
		}
		v := sum[name]
		v.Add(q)
		sum[name] = v
	}
	return sum
}

// crowded stands for a node running pods of more than one LeaderWorkerSet.
const crowded = "*"

// owners are, by node, the LeaderWorkerSet (namespace/name) whose pods it
// runs, crowded for more than one.
func owners(pods []corev1.Pod) map[string]string {
	out := map[string]string{}
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == "" || finished(p) {
			continue
		}
		owner := p.Namespace + "/" + p.Labels[lws.LabelName]
		if o, ok := out[p.Spec.NodeName]; ok && o != owner {
			owner = crowded
		}
		out[p.Spec.NodeName] = owner
	}
	return out
}

// Of observes a cluster. pods are the pods of its LeaderWorkerSets (the
// provider's cache holds only those); keys are the topology keys whose
// domains are reported. Capacity, reachability and contact time are left
// to the caller.
func Of(nodes []corev1.Node, pods []corev1.Pod, keys []string) v1alpha1.TargetClusterStatus {
	busy := owners(pods)
	type domainKey struct{ key, value string }
	var total room
	domains := map[domainKey]*room{}
	occupants := map[string]*v1alpha1.Occupant{}
	st := v1alpha1.TargetClusterStatus{Nodes: int32(len(nodes))}
	for i := range nodes {
		n := &nodes[i]
		if !Schedulable(n) {
			continue
		}
		owner, res := busy[n.Name], extendedOf(n)
		total.add(res, owner, false)
		if owner != "" && owner != crowded && res != nil {
			o := occupants[owner]
			if o == nil {
				o = &v1alpha1.Occupant{LeaderWorkerSet: owner}
				occupants[owner] = o
			}
			o.Nodes++
			o.Allocatable = Sum(o.Allocatable, res)
		}
		for _, k := range keys {
			v, ok := n.Labels[k]
			if !ok {
				continue
			}
			d := domains[domainKey{k, v}]
			if d == nil {
				d = &room{}
				domains[domainKey{k, v}] = d
			}
			d.add(res, owner, true)
		}
	}
	st.ReadyNodes, st.FreeNodes, st.Allocatable = total.ready, total.free, total.allocatable
	for _, o := range occupants {
		st.Occupants = append(st.Occupants, *o)
	}
	slices.SortFunc(st.Occupants, func(a, b v1alpha1.Occupant) int { return cmp.Compare(a.LeaderWorkerSet, b.LeaderWorkerSet) })
	for k, r := range domains {
		st.Domains = append(st.Domains, v1alpha1.TopologyDomain{Key: k.key, Value: k.value, ReadyNodes: r.ready, FreeNodes: r.free, Allocatable: r.allocatable, Occupant: r.occupant})
	}
	slices.SortFunc(st.Domains, func(a, b v1alpha1.TopologyDomain) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Value, b.Value))
	})
	return st
}

// Schedulable: the node is Ready and not cordoned. Taints are not looked
// at: whether a pod tolerates them is the pod's, and a node that is not
// ready is tainted for it anyway.
func Schedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Extended tells an extended resource (nvidia.com/gpu, google.com/tpu)
// from the native ones: it is named in a domain outside kubernetes.io.
func Extended(name corev1.ResourceName) bool {
	domain, _, ok := strings.Cut(string(name), "/")
	return ok && domain != "kubernetes.io" && !strings.HasSuffix(domain, ".kubernetes.io") && !strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix)
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// Same tells whether two observations report the same room of the same
// provider config, ignoring reachability and contact time: what decides
// whether it is written.
func Same(a, b v1alpha1.TargetClusterStatus) bool {
	a.LastContactTime, b.LastContactTime = nil, nil
	a.Conditions, b.Conditions = nil, nil
	return equality.Semantic.DeepEqual(a, b)
}
