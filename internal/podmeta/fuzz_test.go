package podmeta

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// FuzzMutate runs the webhook emulation on arbitrary pods: it may refuse
// them, never panic.
func FuzzMutate(f *testing.F) {
	f.Add("test-sample-1-7", "0", "11", "5", "LeaderExcluded", "true", "zone", true, "8476")
	f.Add("x", "", "", "0", "", "", "", false, "")
	f.Add("a-1", "1", "-3", "-1", "LeaderWorker", "false", "", true, "p")
	f.Fuzz(func(t *testing.T, name, workerIndex, size, sgs, policy, leaderTPUs, topology string, tpu bool, port string) {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
				Labels: map[string]string{lws.LabelName: "n", lws.LabelWorkerIndex: workerIndex},
				Annotations: map[string]string{lws.AnnotationSize: size, lws.AnnotationSubGroupSize: sgs, lws.AnnotationSubGroupPolicyType: policy,
					lws.AnnotationLeaderRequestsTPUs: leaderTPUs, lws.AnnotationExclusiveTopology: topology, lws.AnnotationSubGroupExclusiveTopology: topology, lws.AnnotationLeaderName: name}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: lws.EnvTPUProcessPort, Value: port}}}}},
		}
		if tpu {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{lws.TPUResourceName: resource.MustParse("1")}
		}
		_ = Mutate(p)
	})
}
