package groups

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// leaderEndpoints plans, under UniquePerReplica, the EndpointSlice that
// makes a group's leader resolve at upstream's address (see
// render.LeaderEndpointSlice): created once the leader has an IP, updated
// when its IP, readiness or pod changes. It is owned by the leader pod, so
// it goes with the group, like the group's Service.
func (p *Plan) leaderEndpoints(s *State, in render.Input, group int, leader *corev1.Pod) {
	if !in.UniquePerReplica() {
		return
	}
	svc := s.serviceObject(leader.Name)
	if svc == nil {
		// Created by this plan: it will be the rendered one.
		svc = in.GroupService(group)
	}
	desired := in.LeaderEndpointSlice(group, svc, leader, podReady(leader))
	if desired == nil {
		return
	}
	desired.OwnerReferences = []metav1.OwnerReference{ownedBy(leader)}
	observed := s.endpointSlice(desired.Name)
	switch {
	case observed == nil:
		p.EndpointSlices = append(p.EndpointSlices, desired)
	case observed.DeletionTimestamp != nil:
		// The slice of a previous leader pod on its way out: it is
		// created anew once it is gone, which the watch reports.
	case !endpointSliceUpToDate(desired, observed):
		u := observed.DeepCopy()
		if u.Labels == nil {
			u.Labels = map[string]string{}
		}
		maps.Copy(u.Labels, desired.Labels)
		u.OwnerReferences = desired.OwnerReferences
		u.AddressType = desired.AddressType
		u.Endpoints = desired.Endpoints
		u.Ports = desired.Ports
		p.EndpointSliceUpdates = append(p.EndpointSliceUpdates, u)
	}
}

// endpointSliceUpToDate compares everything the provider sets, so that a
// steady cluster costs no write. A slice left by a previous leader pod
// differs in its owner and target, and is taken over rather than waited
// for: the garbage collector checks the owners again before deleting.
func endpointSliceUpToDate(desired, observed *discoveryv1.EndpointSlice) bool {
	return equality.Semantic.DeepDerivative(desired.Labels, observed.Labels) &&
		equality.Semantic.DeepEqual(desired.OwnerReferences, observed.OwnerReferences) &&
		desired.AddressType == observed.AddressType &&
		equality.Semantic.DeepEqual(desired.Endpoints, observed.Endpoints) &&
		equality.Semantic.DeepEqual(desired.Ports, observed.Ports)
}

func (s *State) serviceObject(name string) *corev1.Service {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}

func (s *State) endpointSlice(name string) *discoveryv1.EndpointSlice {
	for i := range s.EndpointSlices {
		if s.EndpointSlices[i].Name == name {
			return &s.EndpointSlices[i]
		}
	}
	return nil
}
