package groups

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Subgroup exclusive placement (upstream's KEP-115) keeps each subgroup in one
// topology domain and different subgroups in different domains. Upstream's
// webhook writes pod affinity terms naming each pod's subgroup key; a
// worker StatefulSet holds several subgroups and pod affinity is immutable,
// so the provider places pods instead, with what a gated pod still accepts:
// nodeSelector entries and required node affinity.
//
//   - A subgroup whose domain is known (a member is bound, or released with a
//     nodeSelector on the topology key) releases its gated pods with
//     nodeSelector[topologyKey] = that domain.
//   - Otherwise its lowest-ordinal gated pod is its anchor: released with a
//     node affinity on the key, NotIn the domains of pods of other subgroups,
//     and the scheduler picks a free domain.
//   - Anchors leave one at a time: a new one only once every anchor
//     released before is bound, or two would race into the same free domain.
//
// A pod that cannot leave yet is not planned; its anchor's binding is a
// watched pod update that plans again.

// subGroupMember is a pod of this LeaderWorkerSet in a subgroup under
// subgroup exclusive placement.
type subGroupMember struct {
	pod      *corev1.Pod
	key      string // subgroup key
	topology string // topology key
	worker   int    // worker index, the leader's 0
	identity int    // index in Plan.Identities, -1 when none is planned
}

// placeSubGroups holds back the planned identities of subgroup pods that
// cannot be released yet, and gives the others their placement.
func (p *Plan) placeSubGroups(s *State) {
	if len(p.Identities) == 0 {
		return
	}
	planned := map[string]int{}
	for i, id := range p.Identities {
		planned[id.Pod.Name] = i
	}
	bySubGroup := map[string][]subGroupMember{}
	for i := range s.Pods {
		if m, ok := p.subGroupMember(&s.Pods[i], planned); ok {
			bySubGroup[m.key] = append(bySubGroup[m.key], m)
		}
	}
	hold := map[int]bool{}
	var anchors []subGroupMember
	waiting := false // an anchor is released and not bound yet
	for _, key := range slices.Sorted(maps.Keys(bySubGroup)) {
		members := bySubGroup[key]
		slices.SortFunc(members, func(a, b subGroupMember) int { return cmp.Compare(a.worker, b.worker) })
		domain, unreadable, pending := p.subGroupDomain(s, members)
		waiting = waiting || pending
		for i, m := range members {
			if m.identity < 0 || !gated(m.pod) {
				continue
			}
			switch {
			case domain != "":
				if m.pod.Spec.NodeSelector[m.topology] == "" {
					p.Identities[m.identity].NodeSelector = map[string]string{m.topology: domain}
				}
			case unreadable || pending || slices.ContainsFunc(members[:i], func(o subGroupMember) bool { return o.identity >= 0 && gated(o.pod) }):
				// The domain is being chosen, or cannot be read, or a
				// lower-ordinal pod is the anchor.
				hold[m.identity] = true
			default:
				anchors = append(anchors, m)
			}
		}
	}
	// An anchor whose release the cache does not show yet first: the plan
	// asks for it again (apply skips a write in flight) and holds the
	// others. Then the earliest created. Creation order alone let a pod
	// created in the same second with a lower name, seen after the release
	// of another, go first and race it into the same free domain.
	slices.SortFunc(anchors, func(a, b subGroupMember) int {
		return cmp.Or(compareBool(s.Releasing[b.pod.UID], s.Releasing[a.pod.UID]),
			a.pod.CreationTimestamp.Compare(b.pod.CreationTimestamp.Time), cmp.Compare(a.pod.Name, b.pod.Name))
	})
	for i, a := range anchors {
		if waiting || i > 0 {
			hold[a.identity] = true
			continue
		}
		req := []corev1.NodeSelectorRequirement{{Key: a.topology, Operator: corev1.NodeSelectorOpExists}}
		if used := s.usedDomains(a.key, a.topology); len(used) > 0 {
			req = append(req, corev1.NodeSelectorRequirement{Key: a.topology, Operator: corev1.NodeSelectorOpNotIn, Values: used})
		}
		p.Identities[a.identity].NodeAffinity = req
	}
	if len(hold) > 0 {
		ids := p.Identities[:0]
		for i, id := range p.Identities {
			if !hold[i] {
				ids = append(ids, id)
			}
		}
		p.Identities = ids
	}
}

// subGroupMember tells whether pod belongs to a subgroup under subgroup
// exclusive placement, from its labels or, while it is gated, from the
// identity planned for it. On the topology key of group exclusive
// placement nothing is added: the group's domain holds its subgroups, as
// upstream's leader skips a second pair of terms on one key (KEP-115; see
// render/DESIGN.md for its workers).
func (p *Plan) subGroupMember(pod *corev1.Pod, planned map[string]int) (subGroupMember, bool) {
	t := pod.Annotations[lws.AnnotationSubGroupExclusiveTopology]
	if pod.DeletionTimestamp != nil || t == "" || t == pod.Annotations[lws.AnnotationExclusiveTopology] {
		return subGroupMember{}, false
	}
	m := subGroupMember{pod: pod, topology: t, identity: -1}
	labels := pod.Labels
	if i, ok := planned[pod.Name]; ok {
		m.identity, labels = i, p.Identities[i].Labels
	}
	m.key = labels[lws.LabelSubGroupKey]
	w, err := strconv.Atoi(labels[lws.LabelWorkerIndex])
	if m.key == "" || err != nil {
		return subGroupMember{}, false
	}
	m.worker = w
	return m, true
}

// subGroupDomain is the domain of a subgroup's bound or pinned members.
// unreadable tells that a member is bound to a node without the topology
// label, with a warning; pending that no domain is known and a member is
// released: an anchor the scheduler has not bound yet.
func (p *Plan) subGroupDomain(s *State, members []subGroupMember) (domain string, unreadable, pending bool) {
	for _, m := range members {
		if m.pod.Spec.NodeName == "" {
			continue
		}
		node := s.Nodes[m.pod.Spec.NodeName]
		if node == nil || node.Labels[m.topology] == "" {
			p.Events = append(p.Events, Event{Warning: true, Reason: ReasonFailedPlacement, Message: fmt.Sprintf(
				"Node %s of pod %s has no topology label %s", m.pod.Spec.NodeName, m.pod.Name, m.topology)})
			return "", true, false
		}
		return node.Labels[m.topology], false, false
	}
	for _, m := range members {
		if gated(m.pod) {
			continue
		}
		if v := m.pod.Spec.NodeSelector[m.topology]; v != "" {
			return v, false, false
		}
		pending = true
	}
	return "", false, pending
}

// usedDomains are the domains of the pods, of this LeaderWorkerSet and of
// others in the namespace, in subgroups other than key: upstream's
// anti-affinity repels pods with another subgroup key. Pods being deleted
// are left out: the excluded domains are fixed when an anchor is released,
// and a domain held only by a leaving pod would stay closed to it after.
func (s *State) usedDomains(key, topology string) []string {
	var out []string
	for _, pods := range [][]corev1.Pod{s.Pods, s.OtherSubGroupPods} {
		for i := range pods {
			q := &pods[i]
			k := q.Labels[lws.LabelSubGroupKey]
			if k == "" || k == key || q.DeletionTimestamp != nil {
				continue
			}
			if d := s.domainOf(q, topology); d != "" && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// domainOf is the domain a pod is bound to, or pinned to by its
// nodeSelector once released; "" when neither is known.
func (s *State) domainOf(pod *corev1.Pod, topology string) string {
	if n := pod.Spec.NodeName; n != "" {
		if node := s.Nodes[n]; node != nil {
			return node.Labels[topology]
		}
		return ""
	}
	if gated(pod) {
		return ""
	}
	return pod.Spec.NodeSelector[topology]
}

// Place writes the identity's placement into the spec of its pod, as the
// API server allows it while the pod is gated: nodeSelector entries added,
// and required node affinity set, or narrowed by adding the requirements
// to each of its terms (they are ORed).
func (id Identity) Place(spec *corev1.PodSpec) {
	if len(id.NodeSelector) > 0 {
		if spec.NodeSelector == nil {
			spec.NodeSelector = map[string]string{}
		}
		maps.Copy(spec.NodeSelector, id.NodeSelector)
	}
	if len(id.NodeAffinity) == 0 {
		return
	}
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.NodeAffinity == nil {
		spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := spec.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil || len(na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms) == 0 {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: slices.Clone(id.NodeAffinity)}}}
		return
	}
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for i := range terms {
		terms[i].MatchExpressions = append(terms[i].MatchExpressions, id.NodeAffinity...)
	}
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
