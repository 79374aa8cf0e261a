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
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

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

	// History is the group restarts reported so far, from the managed
	// resource's status.atProvider.groupRestarts.
	History []v1alpha1.GroupRestartStatus

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
		t, err := revision.Decode(payload)
		if err != nil {
			return fmt.Errorf("revision %s: %w", key, err)
		}
		if t.LeaderWorkerTemplate.Size == nil {
			return fmt.Errorf("revision %s is not a LeaderWorkerSet template", key)
		}
		spec := revision.Apply(&v1alpha1.LeaderWorkerSetSpec{Replicas: &s.Params.Replicas, StartupPolicy: s.Params.StartupPolicy}, t)
		out[key] = &template{key: key, in: render.Input{
			Name:        s.Params.Name,
			Namespace:   s.Params.Namespace,
			Labels:      s.Params.Metadata.Labels,
			Annotations: s.Params.Metadata.Annotations,
			Spec:        spec,
			RevisionKey: key,
		}}
		return nil
	}
	for _, r := range s.Revisions {
		if k := r.Labels[lws.LabelRevisionKey]; k != "" {
			if err := add(k, r.Data.Raw); err != nil {
				return nil, err
			}
		}
	}
	cur := s.Params.Revision
	return out, add(cur.Key, cur.Payload.Raw)
}

// desiredLeader is the rendered leader StatefulSet of the managed resource.
func (s *State) desiredLeader() (*appsv1.StatefulSet, error) {
	sts := &appsv1.StatefulSet{}
	if err := json.Unmarshal(s.Params.LeaderStatefulSet.Raw, sts); err != nil {
		return nil, fmt.Errorf("cannot decode the rendered leader StatefulSet: %w", err)
	}
	return sts, nil
}

// desiredServices are the rendered shared Services.
func (s *State) desiredServices() ([]*corev1.Service, error) {
	out := make([]*corev1.Service, 0, len(s.Params.Services))
	for _, raw := range s.Params.Services {
		svc := &corev1.Service{}
		if err := json.Unmarshal(raw.Raw, svc); err != nil {
			return nil, fmt.Errorf("cannot decode a rendered Service: %w", err)
		}
		out = append(out, svc)
	}
	return out, nil
}

func (s *State) worker(name string) *appsv1.StatefulSet { return s.idx.workers[name] }

func (s *State) service(name string) bool { return s.serviceObject(name) != nil }

func (s *State) pod(name string) *corev1.Pod { return s.idx.pods[name] }
