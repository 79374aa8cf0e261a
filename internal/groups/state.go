// Package groups plans, for one target cluster, every change that brings a
// LeaderWorkerSet's objects to what its RemoteLeaderWorkerSet asks for: the
// template revision, the leader StatefulSet (rollout and scale through
// package rollout), each group's worker StatefulSet per startup policy and
// from the revision of its leader, the Services (and under UniquePerReplica
// each leader's EndpointSlice), the per-pod identity and subgroup placement
// of gated pods, and group restarts (through package restart). It is pure: the
// provider gathers State from the cluster, applies the Plan, and writes the
// status it reports.
package groups

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
	"github.com/lws-crossplane/lws-crossplane/internal/revision"
)

// State is everything known about one LeaderWorkerSet in one cluster.
type State struct {
	// Params is the managed resource's spec.forProvider.
	Params v1alpha1.RemoteLeaderWorkerSetParameters

	// The cluster's objects carrying the LeaderWorkerSet's name label.
	Leader    *appsv1.StatefulSet
	Workers   []appsv1.StatefulSet
	Revisions []appsv1.ControllerRevision
	Pods      []corev1.Pod
	Services  []corev1.Service
	// EndpointSlices are the provider's own, not the EndpointSlice
	// controller's (which carry the label of their Service).
	EndpointSlices []discoveryv1.EndpointSlice

	// Nodes by name, for the pods' topology under exclusive placement.
	Nodes map[string]*corev1.Node
	// OtherSubGroupPods are the pods of other LeaderWorkerSets in the
	// namespace that carry a subgroup key, under subgroup exclusive
	// placement: subgroups keep out of their domains.
	OtherSubGroupPods []corev1.Pod

	// Gang is the gang scheduler of the groups in this cluster, resolved by
	// the provider (render.Input.Gang), and Gangs the gang objects of that
	// kind carrying the LeaderWorkerSet's name label.
	Gang  lws.GangScheduler
	Gangs []metav1.PartialObjectMetadata

	// Releasing are the gated pods, by UID, whose release the provider has
	// written and its cache does not show yet.
	Releasing map[types.UID]bool

	// History is the group restarts reported so far, from the managed
	// resource's status.atProvider.groupRestarts.
	History []v1alpha1.GroupRestartStatus

	// RenderVersion is what the provider renders at: render.Version when
	// zero. Tests set another to play a provider upgrade.
	RenderVersion int

	idx *index
}

// template is a revision decoded, with what rendering it needs.
type template struct {
	key string
	in  render.Input
}

// revisions indexes the known revision templates by key: the current one
// from the managed resource and the older ones from ControllerRevisions.
type revisions map[string]*template

func (s *State) revisions() (revisions, error) {
	out := revisions{}
	add := func(key string, payload []byte) error {
		in, err := Input(&s.Params, key, payload)
		if err != nil {
			return err
		}
		in.RenderVersion = s.renderVersion()
		in.Gang = s.Gang
		out[key] = &template{key: key, in: in}
		return nil
	}
	for _, r := range s.Revisions {
		if k := r.Labels[lws.LabelRevisionKey]; k != "" {
			if err := add(k, r.Data.Raw); err != nil {
				return nil, err
			}
		}
	}
	if err := add(s.Params.Revision.Key, s.Params.Revision.Payload.Raw); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *State) renderVersion() int {
	if s.RenderVersion == 0 {
		return render.Version
	}
	return s.RenderVersion
}

// rendered tells whether labels of an object of the provider's say it was
// rendered at the current revision and render version.
func (s *State) rendered(labels map[string]string) bool {
	return labels[lws.LabelRevisionKey] == s.Params.Revision.Key && render.VersionOf(labels) == s.renderVersion()
}

// Input is what renders a managed resource's objects from one of its
// revisions: the one place where the provider's intent becomes a
// render.Input, for the provider and for `lws render --objects` alike.
func Input(p *v1alpha1.RemoteLeaderWorkerSetParameters, key string, payload []byte) (render.Input, error) {
	t, err := revision.Decode(payload)
	if err != nil {
		return render.Input{}, fmt.Errorf("revision %s: %w", key, err)
	}
	if t.LeaderWorkerTemplate.Size == nil {
		return render.Input{}, fmt.Errorf("revision %s is not a LeaderWorkerSet template", key)
	}
	return render.Input{
		Name:          p.Name,
		Namespace:     p.Namespace,
		Labels:        p.Metadata.Labels,
		Annotations:   p.Metadata.Annotations,
		Spec:          revision.Apply(&v1alpha1.LeaderWorkerSetSpec{Replicas: &p.Replicas, StartupPolicy: p.StartupPolicy}, t),
		RevisionKey:   key,
		RenderVersion: render.Version,
	}, nil
}

// CurrentInput renders the managed resource's current revision.
func CurrentInput(p *v1alpha1.RemoteLeaderWorkerSetParameters) (render.Input, error) {
	return Input(p, p.Revision.Key, p.Revision.Payload.Raw)
}

// LeaderStatefulSet renders a revision's leader StatefulSet at a rollout
// budget, as first created; the provider's rollout step then sets its
// replicas and partition.
func LeaderStatefulSet(in render.Input, b v1alpha1.RolloutBudget) (*appsv1.StatefulSet, error) {
	return in.LeaderStatefulSet(render.Rollout{Replicas: *in.Spec.Replicas, Partition: b.Partition, MaxUnavailable: b.MaxUnavailable, MaxSurge: b.MaxSurge})
}

func (s *State) worker(name string) *appsv1.StatefulSet { return s.idx.workers[name] }

func (s *State) service(name string) bool { return s.serviceObject(name) != nil }

func (s *State) pod(name string) *corev1.Pod { return s.idx.pods[name] }
