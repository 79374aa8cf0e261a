package render

import (
	"cmp"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

var endpointSliceType = metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"}

// LeaderEndpointSlice renders, under UniquePerReplica, what makes upstream's
// leader address <lws>-<i>.<lws>-<i>.<ns> resolve. The leader's subdomain
// is its StatefulSet's Service, <lws>, and cannot change, so the
// EndpointSlice controller gives it no hostname in its group's Service svc;
// this EndpointSlice of our own does. ready tells whether the leader pod is
// ready. It is nil while the leader has no IP.
//
// The endpoint is what the EndpointSlice controller would write for a pod
// whose subdomain matched: in particular ready is true for any pod when svc
// publishes not-ready addresses (DNS serves only ready endpoints, and group
// members must find each other before they are ready).
func (in Input) LeaderEndpointSlice(group int, svc *corev1.Service, leader *corev1.Pod, ready bool) *discoveryv1.EndpointSlice {
	ip, err := netip.ParseAddr(leader.Status.PodIP)
	if err != nil {
		return nil
	}
	family := discoveryv1.AddressTypeIPv4
	if !ip.Is4() {
		family = discoveryv1.AddressTypeIPv6
	}
	terminating := leader.DeletionTimestamp != nil
	ep := discoveryv1.Endpoint{
		Addresses: []string{leader.Status.PodIP},
		Conditions: discoveryv1.EndpointConditions{
			Ready:       ptr.To(svc.Spec.PublishNotReadyAddresses || (ready && !terminating)),
			Serving:     ptr.To(ready),
			Terminating: ptr.To(terminating),
		},
		Hostname:  ptr.To(lws.LeaderPodName(in.Name, group)),
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: leader.Namespace, Name: leader.Name, UID: leader.UID},
	}
	if leader.Spec.NodeName != "" {
		ep.NodeName = ptr.To(leader.Spec.NodeName)
	}
	return &discoveryv1.EndpointSlice{
		TypeMeta: endpointSliceType,
		ObjectMeta: metav1.ObjectMeta{
			Name:      lws.LeaderEndpointSliceName(in.Name, group),
			Namespace: in.Namespace,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: svc.Name,
				discoveryv1.LabelManagedBy:   lws.EndpointSliceManager,
				lws.LabelName:                in.Name,
			},
		},
		AddressType: family,
		Endpoints:   []discoveryv1.Endpoint{ep},
		Ports:       endpointPorts(svc, leader),
	}
}

// endpointPorts are svc's ports with their target ports resolved against
// the pod, as the EndpointSlice controller resolves them; a named target
// port the pod does not have is left out. A headless Service without ports
// has none.
func endpointPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	var out []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		protocol := cmp.Or(sp.Protocol, corev1.ProtocolTCP)
		port, ok := targetPort(sp, protocol, pod)
		if !ok {
			continue
		}
		out = append(out, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Protocol: ptr.To(protocol), Port: ptr.To(port), AppProtocol: sp.AppProtocol})
	}
	return out
}

func targetPort(sp corev1.ServicePort, protocol corev1.Protocol, pod *corev1.Pod) (int32, bool) {
	if sp.TargetPort.Type == intstr.Int {
		// An unset target port is the port itself, as the API server
		// defaults it.
		return cmp.Or(sp.TargetPort.IntVal, sp.Port), true
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == sp.TargetPort.StrVal && cmp.Or(p.Protocol, corev1.ProtocolTCP) == protocol {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}
