package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func uniquePerReplica(in *Input) {
	in.Spec.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
}

// leaderPod is leader 1 of test-sample, scheduled, with IP ip.
func leaderPod(ip string, edit ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "test-sample-1", Namespace: "ns", UID: "uid-1"},
		Spec:       corev1.PodSpec{NodeName: "node-a", Hostname: "test-sample-1", Subdomain: "test-sample"},
		Status:     corev1.PodStatus{PodIP: ip},
	}
	for _, e := range edit {
		e(p)
	}
	return p
}

func TestLeaderEndpointSlice(t *testing.T) {
	in := input(2, 2, uniquePerReplica)
	type args struct {
		svc    *corev1.Service
		leader *corev1.Pod
		ready  bool
	}
	endpoint := func(ip string, ready, serving bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{
			Addresses:  []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(false)},
			Hostname:   ptr.To("test-sample-1"),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "test-sample-1", UID: "uid-1"},
			NodeName:   ptr.To("node-a"),
		}
	}
	slice := func(family discoveryv1.AddressType, ep discoveryv1.Endpoint, ports ...discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{Name: "test-sample-1-leader", Namespace: "ns", Labels: map[string]string{
				"kubernetes.io/service-name":             "test-sample-1",
				"endpointslice.kubernetes.io/managed-by": "lws.crossplane.io",
				lws.LabelName:                            "test-sample",
			}},
			AddressType: family,
			Endpoints:   []discoveryv1.Endpoint{ep},
			Ports:       ports,
		}
	}
	withPorts := in.GroupService(1)
	withPorts.Spec.Ports = []corev1.ServicePort{
		{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)},
		{Name: "grpc", Port: 90, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("grpc"), AppProtocol: ptr.To("grpc")},
		{Name: "missing", Port: 91, TargetPort: intstr.FromString("nope")},
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
	}
	notPublishing := in.GroupService(1)
	notPublishing.Spec.PublishNotReadyAddresses = false

	cases := map[string]struct {
		reason string
		args   args
		want   *discoveryv1.EndpointSlice
	}{
		"ReadyLeader": {
			reason: "The leader is in its group's Service under hostname <lws>-<i>, so <lws>-<i>.<lws>-<i>.<ns> resolves to its IP; a headless Service without ports gives no ports.",
			args:   args{svc: in.GroupService(1), leader: leaderPod("10.0.0.7"), ready: true},
			want:   slice(discoveryv1.AddressTypeIPv4, endpoint("10.0.0.7", true, true)),
		},
		"NotReadyLeaderStillResolves": {
			reason: "The group Service publishes not-ready addresses, as the EndpointSlice controller would: workers find a leader that is not ready yet.",
			args:   args{svc: in.GroupService(1), leader: leaderPod("10.0.0.7"), ready: false},
			want:   slice(discoveryv1.AddressTypeIPv4, endpoint("10.0.0.7", true, false)),
		},
		"NotReadyWithoutPublishing": {
			reason: "A Service that does not publish not-ready addresses makes a not-ready leader not ready.",
			args:   args{svc: notPublishing, leader: leaderPod("10.0.0.7"), ready: false},
			want:   slice(discoveryv1.AddressTypeIPv4, endpoint("10.0.0.7", false, false)),
		},
		"NoIPYet": {
			reason: "A leader without an IP has nothing to resolve to.",
			args:   args{svc: in.GroupService(1), leader: leaderPod(""), ready: false},
			want:   nil,
		},
		"IPv6": {
			reason: "An IPv6 pod IP makes an IPv6 slice: an IPv4 one would be refused.",
			args:   args{svc: in.GroupService(1), leader: leaderPod("fd00::7"), ready: true},
			want:   slice(discoveryv1.AddressTypeIPv6, endpoint("fd00::7", true, true)),
		},
		"PortsFromTheService": {
			reason: "Ports are the Service's, target ports resolved against the leader's containers; a named port it lacks is left out.",
			args: args{svc: withPorts, leader: leaderPod("10.0.0.7", func(p *corev1.Pod) {
				p.Spec.Containers = []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{Name: "grpc", ContainerPort: 9090}}}}
			}), ready: true},
			want: slice(discoveryv1.AddressTypeIPv4, endpoint("10.0.0.7", true, true),
				discoveryv1.EndpointPort{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)},
				discoveryv1.EndpointPort{Name: ptr.To("grpc"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](9090), AppProtocol: ptr.To("grpc")},
				discoveryv1.EndpointPort{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To[int32](53)},
			),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := in.LeaderEndpointSlice(1, tc.args.svc, tc.args.leader, tc.args.ready)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nLeaderEndpointSlice: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
