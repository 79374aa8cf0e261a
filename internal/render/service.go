package render

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
