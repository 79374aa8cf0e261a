package groups

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

const (
	rack = "rack"
	pool = "pool"
)

// schedule plays the scheduler: the first node by name that the pod's
// nodeSelector and required node affinity admit, "" when none does. A
// cluster without nodes puts every pod on a node of its own.
func (c *cluster) schedule(pod *corev1.Pod) string {
	if len(c.Nodes) == 0 {
		return "node-" + pod.Name
	}
	names := make([]string, 0, len(c.Nodes))
	for n := range c.Nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c.admits(c.Nodes[n], pod) {
			return n
		}
	}
	return ""
}

func (c *cluster) admits(node *corev1.Node, pod *corev1.Pod) bool {
	for k, v := range pod.Spec.NodeSelector {
		if node.Labels[k] != v {
			return false
		}
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	return slices.ContainsFunc(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, func(t corev1.NodeSelectorTerm) bool {
		for _, r := range t.MatchExpressions {
			v, ok := node.Labels[r.Key]
			switch r.Operator {
			case corev1.NodeSelectorOpExists:
			case corev1.NodeSelectorOpIn:
				ok = ok && slices.Contains(r.Values, v)
			case corev1.NodeSelectorOpNotIn:
				ok = !ok || !slices.Contains(r.Values, v)
			default:
				c.t.Fatalf("the fake scheduler does not know operator %s", r.Operator)
			}
			if !ok {
				return false
			}
		}
		return true
	})
}

// racks gives a cluster 8 nodes n-0…n-7, two per rack r-0…r-3 and four
// per pool p-0, p-1.
func racks(c *cluster) {
	for i := range 8 {
		name := fmt.Sprintf("n-%d", i)
		c.Nodes[name] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			rack: fmt.Sprintf("r-%d", i/2), pool: fmt.Sprintf("p-%d", i/4),
		}}}
	}
}

// subGroups sets a subgroup policy of subgroups of two and the LeaderWorkerSet's annotations.
func subGroups(policy v1alpha1.SubGroupPolicyType, annotations map[string]string) func(*compose.LeaderWorkerSet) {
	return func(l *compose.LeaderWorkerSet) {
		l.Annotations = annotations
		l.Spec.LeaderWorkerTemplate.SubGroupPolicy = &v1alpha1.SubGroupPolicy{Type: ptr.To(policy), SubGroupSize: ptr.To[int32](2)}
	}
}

// placement is what an identity places: nil fields release a pod as it is.
type placement struct {
	NodeSelector map[string]string
	NodeAffinity []corev1.NodeSelectorRequirement
}

func placements(p *Plan) map[string]placement {
	out := map[string]placement{}
	for _, id := range p.Identities {
		out[id.Pod.Name] = placement{NodeSelector: id.NodeSelector, NodeAffinity: id.NodeAffinity}
	}
	return out
}

func exists(key string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: corev1.NodeSelectorOpExists}
}

func notIn(key string, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: corev1.NodeSelectorOpNotIn, Values: values}
}

func TestSubGroupPlacement(t *testing.T) {
	exclusive := map[string]string{lws.AnnotationSubGroupExclusiveTopology: rack}
	cases := map[string]struct {
		reason   string
		replicas int32
		size     int32
		lws      func(*compose.LeaderWorkerSet)
		// steps plans are applied, then edit changes the cluster, before
		// the plan looked at.
		steps    int
		edit     func(*cluster)
		want     map[string]placement
		warnings []string
	}{
		"LeaderIsTheAnchorOfSubGroupZero": {
			reason:   "Under LeaderWorker the leader, the lowest ordinal of subgroup 0, is its anchor: any domain with the key, none being used.",
			replicas: 1, size: 4, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 1,
			want:  map[string]placement{"lws-0": {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack)}}},
		},
		"FollowersGetTheAnchorsDomain": {
			reason:   "Once the leader is bound, worker 1 follows it to its rack, and worker 2 anchors subgroup 1 away from it; worker 3 waits for worker 2.",
			replicas: 1, size: 4, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 2,
			want: map[string]placement{
				"lws-0-1": {NodeSelector: map[string]string{rack: "r-0"}},
				"lws-0-2": {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack), notIn(rack, "r-0")}},
			},
		},
		"LastFollower": {
			reason:   "Worker 3 follows its anchor, worker 2, to rack r-1.",
			replicas: 1, size: 4, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 3,
			want:  map[string]placement{"lws-0-3": {NodeSelector: map[string]string{rack: "r-1"}}},
		},
		"LeaderExcludedLeaderIsReleasedAsItIs": {
			reason:   "Under LeaderExcluded the leader belongs to no subgroup.",
			replicas: 1, size: 5, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderExcluded, exclusive),
			steps: 1,
			want:  map[string]placement{"lws-0": {}},
		},
		"LeaderExcludedWorkerOneIsTheAnchor": {
			reason:   "Under LeaderExcluded worker 1 anchors subgroup 0, the leader's rack is free; worker 3 would anchor subgroup 1 but waits for worker 1 to be bound.",
			replicas: 1, size: 5, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderExcluded, exclusive),
			steps: 2,
			want:  map[string]placement{"lws-0-1": {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack)}}},
		},
		"OneAnchorAtATime": {
			reason:   "Two leaders anchor subgroups: only the first is released.",
			replicas: 2, size: 2, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 1,
			want:  map[string]placement{"lws-0": {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack)}}},
		},
		"AnAnchorReleasedInFlightStaysFirst": {
			reason:   "The release of lws-1 is written and the cache does not show it yet; lws-0, first by name, must not be released beside it into the same free rack.",
			replicas: 2, size: 2, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 1,
			edit:  func(c *cluster) { c.Releasing = map[types.UID]bool{c.pod("lws-1").UID: true} },
			want:  map[string]placement{"lws-1": {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack)}}},
		},
		"NoAnchorWhileAnotherIsUnbound": {
			reason:   "The leader of group 0 is released and not bound yet: the other anchors and its followers wait.",
			replicas: 2, size: 4, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 2,
			edit:  func(c *cluster) { c.pod("lws-0").Spec.NodeName = "" },
			want:  map[string]placement{},
		},
		"FollowersLeaveWhileAnotherAnchorIsUnbound": {
			reason:   "The anchor of subgroup 1 is released and not bound: its follower and the next anchor wait, worker 1 follows its bound leader.",
			replicas: 2, size: 4, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 3,
			edit: func(c *cluster) {
				c.pod("lws-0-2").Spec.NodeName = ""
				w := c.pod("lws-0-1")
				w.Spec.SchedulingGates, w.Spec.NodeSelector, w.Spec.NodeName = []corev1.PodSchedulingGate{{Name: lws.SchedulingGate}}, nil, ""
			},
			want: map[string]placement{"lws-0-1": {NodeSelector: map[string]string{rack: "r-0"}}},
		},
		"UsedDomainsExcluded": {
			reason:   "The next anchor keeps out of the racks of this LeaderWorkerSet's subgroups and of another's in the namespace.",
			replicas: 2, size: 2, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 2,
			edit: func(c *cluster) {
				c.OtherSubGroupPods = []corev1.Pod{{
					ObjectMeta: metav1.ObjectMeta{Name: "other-0", Labels: map[string]string{lws.LabelName: "other", lws.LabelSubGroupKey: "k"}},
					Spec:       corev1.PodSpec{NodeName: "n-4"},
				}}
			},
			want: map[string]placement{
				"lws-0-1": {NodeSelector: map[string]string{rack: "r-0"}},
				"lws-1":   {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack), notIn(rack, "r-0", "r-2")}},
			},
		},
		"SameKeyAsGroupExclusivity": {
			reason: "Upstream's subgroup affinity is a no-op on the group's key: the group's domain holds its subgroups, nothing is added.",
			lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, map[string]string{
				lws.AnnotationExclusiveTopology: rack, lws.AnnotationSubGroupExclusiveTopology: rack,
			}),
			replicas: 1, size: 4,
			steps: 3, // the workers are created once the leader is bound
			want:  map[string]placement{"lws-0-1": {}, "lws-0-2": {}, "lws-0-3": {}},
		},
		"OtherKeyThanGroupExclusivity": {
			reason: "Both apply: the workers are in the leader's pool through their StatefulSet, and subgroup 1 anchors on another rack.",
			lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, map[string]string{
				lws.AnnotationExclusiveTopology: pool, lws.AnnotationSubGroupExclusiveTopology: rack,
			}),
			replicas: 1, size: 4,
			steps: 3, // the workers are created once the leader is bound
			want: map[string]placement{
				"lws-0-1": {NodeSelector: map[string]string{rack: "r-0"}},
				"lws-0-2": {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack), notIn(rack, "r-0")}},
			},
		},
		"NodeWithoutTopologyLabel": {
			reason:   "An anchor bound to a node without the topology label gives its subgroup no domain: its followers wait, with a warning.",
			replicas: 1, size: 4, lws: subGroups(v1alpha1.SubGroupPolicyTypeLeaderWorker, exclusive),
			steps: 2,
			edit:  func(c *cluster) { delete(c.Nodes[c.pod("lws-0").Spec.NodeName].Labels, rack) },
			want: map[string]placement{
				"lws-0-2": {NodeAffinity: []corev1.NodeSelectorRequirement{exists(rack)}},
			},
			warnings: []string{"Node n-0 of pod lws-0 has no topology label rack"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, params(t, tc.replicas, tc.size, tc.lws))
			racks(c)
			for range tc.steps {
				p, err := Compute(&c.State, nil, 1, now)
				if err != nil {
					t.Fatal(err)
				}
				c.apply(p)
			}
			if tc.edit != nil {
				tc.edit(c)
			}
			p, err := Compute(&c.State, nil, 1, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, placements(p), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nplacements: -want, +got:\n%s", tc.reason, diff)
			}
			var warnings []string
			for _, ev := range p.Events {
				if ev.Warning {
					warnings = append(warnings, ev.Message)
				}
			}
			if diff := cmp.Diff(tc.warnings, warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nwarnings: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestSubGroupPlacementConverges: every subgroup ends up in one rack, no
// two subgroups share one, and a converged cluster plans nothing.
func TestSubGroupPlacementConverges(t *testing.T) {
	cases := map[string]struct {
		reason string
		policy v1alpha1.SubGroupPolicyType
		size   int32
	}{
		"LeaderWorker":   {reason: "Two groups of two subgroups of two, the leader in subgroup 0.", policy: v1alpha1.SubGroupPolicyTypeLeaderWorker, size: 4},
		"LeaderExcluded": {reason: "Two groups of a leader and two subgroups of two.", policy: v1alpha1.SubGroupPolicyTypeLeaderExcluded, size: 5},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, params(t, 2, tc.size, subGroups(tc.policy, map[string]string{lws.AnnotationSubGroupExclusiveTopology: rack})))
			racks(c)
			p := c.converge()
			if !p.Available {
				t.Fatalf("%s: want every group available, got %+v", tc.reason, p.Observation)
			}
			rackOf := map[string]string{} // subgroup key → rack
			keyOf := map[string]string{}  // rack → subgroup key
			for _, pod := range c.Pods {
				key := pod.Labels[lws.LabelSubGroupKey]
				if key == "" {
					continue
				}
				r := c.Nodes[pod.Spec.NodeName].Labels[rack]
				if had, ok := rackOf[key]; ok && had != r {
					t.Errorf("%s: pod %s of subgroup %s is on rack %s, its subgroup on %s", tc.reason, pod.Name, pod.Labels[lws.LabelSubGroupIndex], r, had)
				}
				if other, ok := keyOf[r]; ok && other != key {
					t.Errorf("%s: pod %s shares rack %s with another subgroup", tc.reason, pod.Name, r)
				}
				rackOf[key], keyOf[r] = r, key
			}
			if len(rackOf) != 4 {
				t.Errorf("%s: want 4 subgroups placed, got %d", tc.reason, len(rackOf))
			}
			if again, err := Compute(&c.State, p.Observation.Conditions, 1, now); err != nil || again.Changes() {
				t.Errorf("%s: steady state: want nothing planned, got %+v (%v)", tc.reason, again, err)
			}
		})
	}
}

func TestPlace(t *testing.T) {
	req := []corev1.NodeSelectorRequirement{exists(rack), notIn(rack, "r-0")}
	hostIn := func(hosts ...string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "host", Operator: corev1.NodeSelectorOpIn, Values: hosts}}}
	}
	required := func(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
	}
	cases := map[string]struct {
		reason string
		id     Identity
		spec   corev1.PodSpec
		want   corev1.PodSpec
	}{
		"NodeSelectorAdded": {
			reason: "The domain is added to the user's nodeSelector.",
			id:     Identity{NodeSelector: map[string]string{rack: "r-1"}},
			spec:   corev1.PodSpec{NodeSelector: map[string]string{"accelerator": "tpu"}},
			want:   corev1.PodSpec{NodeSelector: map[string]string{"accelerator": "tpu", rack: "r-1"}},
		},
		"NodeAffinitySet": {
			reason: "A pod without required node affinity gets one term, next to its pod anti-affinity.",
			id:     Identity{NodeAffinity: req},
			spec:   corev1.PodSpec{Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{}}},
			want: corev1.PodSpec{Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{}, NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: req}}},
			}}},
		},
		"NodeAffinityNarrowed": {
			reason: "The user's terms are ORed: each gets the requirements, which the API server allows while the pod is gated.",
			id:     Identity{NodeAffinity: req},
			spec:   corev1.PodSpec{Affinity: required(hostIn("a"), hostIn("b"))},
			want: corev1.PodSpec{Affinity: required(
				corev1.NodeSelectorTerm{MatchExpressions: append(hostIn("a").MatchExpressions, req...)},
				corev1.NodeSelectorTerm{MatchExpressions: append(hostIn("b").MatchExpressions, req...)},
			)},
		},
		"Nothing": {
			reason: "An identity without placement leaves the spec alone.",
			spec:   corev1.PodSpec{NodeSelector: map[string]string{"a": "b"}},
			want:   corev1.PodSpec{NodeSelector: map[string]string{"a": "b"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.id.Place(&tc.spec)
			if diff := cmp.Diff(tc.want, tc.spec); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
