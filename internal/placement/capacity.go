package placement

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/observation"
)

// Demand is what one group needs of a cluster's room.
type Demand struct {
	// TopologyKey, when set, is the exclusive-topology key: each group
	// needs a domain of that key of its own, with every ready node free.
	TopologyKey string
	// Resources are the extended resources (nvidia.com/gpu,
	// google.com/tpu) a group requests, summed over its pods.
	Resources corev1.ResourceList
	// Owner is the LeaderWorkerSet's namespace/name in its clusters: the
	// nodes it runs on are room for its groups.
	Owner string
}

// DemandOf is what a group of a defaulted spec needs; topologyKey is its
// exclusive-topology annotation, if any, and owner its namespace/name.
func DemandOf(s *v1alpha1.LeaderWorkerSetSpec, topologyKey, owner string) Demand {
	t := s.LeaderWorkerTemplate
	d := Demand{TopologyKey: topologyKey, Resources: corev1.ResourceList{}, Owner: owner}
	leader := t.WorkerTemplate
	if t.LeaderTemplate != nil {
		leader = *t.LeaderTemplate
	}
	add := func(spec corev1.PodSpec, pods int32) {
		for _, c := range spec.Containers {
			for name, q := range requests(c.Resources) {
				if !observation.Extended(name) {
					continue
				}
				sum := d.Resources[name]
				for range pods {
					sum.Add(q)
				}
				d.Resources[name] = sum
			}
		}
	}
	add(leader.Spec, 1)
	add(t.WorkerTemplate.Spec, *t.Size-1)
	return d
}

// requests are a container's requests, with the limits of resources it
// requests nothing of: the API server defaults them so, and an extended
// resource is often given only a limit.
func requests(r corev1.ResourceRequirements) corev1.ResourceList {
	out := r.Requests.DeepCopy()
	for name, q := range r.Limits {
		if _, ok := out[name]; !ok {
			if out == nil {
				out = corev1.ResourceList{}
			}
			out[name] = q
		}
	}
	return out
}

// Capacity is how many groups a cluster can run: those its free nodes fit
// and those the nodes of the demand's LeaderWorkerSet fit, both read from
// one observation, so a group created and not yet scheduled is counted
// once, and a group its scheduler cannot place holds no room. Nil when
// nothing bounds it: an unobserved cluster, a topology key the cluster does
// not report, or a group that needs neither extended resources nor a
// domain of its own. Room counts only nodes that run no pod of another
// LeaderWorkerSet, as accelerator nodes run one pod each; CPU and memory
// are left to the scheduler.
func Capacity(o Observed, d Demand) *int32 {
	if o.Room == nil {
		return nil
	}
	var fits int32
	switch {
	case d.TopologyKey != "":
		n, known := domainsFor(o.Room, d)
		if !known {
			return nil
		}
		fits = n
	case len(d.Resources) > 0:
		have := o.Room.Allocatable.DeepCopy()
		for _, oc := range o.Room.Occupants {
			if oc.LeaderWorkerSet == d.Owner {
				have = observation.Sum(have, oc.Allocatable)
			}
		}
		fits = fitResources(have, d.Resources)
	default:
		return nil
	}
	return &fits
}

// domainsFor counts the domains of the demand's topology key that hold a
// group of its LeaderWorkerSet: ready nodes all free, or busy with its own
// pods only; known is false when the cluster does not report that key.
func domainsFor(room *v1alpha1.TargetClusterStatus, d Demand) (n int32, known bool) {
	for _, dom := range room.Domains {
		if dom.Key != d.TopologyKey {
			continue
		}
		known = true
		ours := dom.FreeNodes == dom.ReadyNodes || (dom.Occupant != "" && dom.Occupant == d.Owner)
		if dom.ReadyNodes > 0 && ours && fitResources(dom.Allocatable, d.Resources) > 0 {
			n++
		}
	}
	return n, known
}

// stuck counts a cluster's groups unschedulable for at least after, and
// says when the next one will have been, zero if none.
func stuck(o Observed, after time.Duration, now time.Time) (n int32, due time.Duration) {
	for _, since := range o.Unschedulable {
		if at := since.Add(after); now.Before(at) {
			due = minPositive(due, at.Sub(now))
		} else {
			n++
		}
	}
	return n, due
}

// fitResources is how many groups requesting want fit in have; without a
// request, any number (as far as extended resources go).
func fitResources(have, want corev1.ResourceList) int32 {
	n := int64(1 << 30)
	for name, w := range want {
		if w.IsZero() {
			continue
		}
		h := have[name]
		n = min(n, h.MilliValue()/w.MilliValue())
	}
	return int32(max(n, 0))
}
