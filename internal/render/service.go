package render

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

var serviceType = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}

// Services renders the headless Services shared by all groups: one named
// after the LeaderWorkerSet under the Shared subdomain policy, none under
// UniquePerReplica, where each group gets its own (GroupService).
func (in Input) Services() []*corev1.Service {
	if in.UniquePerReplica() {
		return nil
	}
	return []*corev1.Service{in.headless(in.Name, map[string]string{lws.LabelName: in.Name})}
}

// GroupService renders a group's own headless Service under UniquePerReplica.
func (in Input) GroupService(group int) *corev1.Service {
	return in.headless(lws.LeaderPodName(in.Name, group), map[string]string{lws.LabelName: in.Name, lws.LabelGroupIndex: itoa(group)})
}

// RoleService renders a DisaggregatedSet role's Service: headless, without
// ports, selecting the role's pods of one slice and revision by their
// labels, as upstream's "<lws>-prv". Clients resolve it once the role is
// ready, so it publishes only ready pods.
func (in Input) RoleService(rs v1alpha1.RoleService) *corev1.Service {
	svc := in.headless(rs.Name, maps.Clone(rs.Selector))
	svc.Spec.PublishNotReadyAddresses = false
	maps.Copy(svc.Labels, rs.Selector)
	svc.Labels[lws.LabelRoleService] = "true"
	return svc
}

func (in Input) headless(name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{
		TypeMeta: serviceType,
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: in.Namespace,
			Labels:    map[string]string{lws.LabelName: in.Name},
		},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  selector,
			// Group members must find each other before they are ready.
			PublishNotReadyAddresses: true,
		},
	}
}
