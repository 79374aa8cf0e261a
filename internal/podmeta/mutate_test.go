package podmeta

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// pod builds an LWS pod as a StatefulSet creates it from upstream's
// templates, before the webhook.
type pod struct{ *corev1.Pod }

func leaderPod(name, subdomain string, size string) pod {
	return pod{&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
			Labels:      map[string]string{lws.LabelName: "test-sample", lws.LabelWorkerIndex: "0"},
			Annotations: map[string]string{lws.AnnotationSize: size}},
		Spec: corev1.PodSpec{Subdomain: subdomain, Containers: []corev1.Container{{Name: "c"}}},
	}}
}

func workerPod(name, subdomain, leader, size string) pod {
	return pod{&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
			Labels:      map[string]string{lws.LabelName: "test-sample", lws.LabelGroupIndex: "1"},
			Annotations: map[string]string{lws.AnnotationSize: size, lws.AnnotationLeaderName: leader}},
		Spec: corev1.PodSpec{Subdomain: subdomain, Containers: []corev1.Container{{Name: "c"}}},
	}}
}

func (p pod) annotate(k, v string) pod { p.Annotations[k] = v; return p }

func (p pod) label(k, v string) pod { p.Labels[k] = v; return p }

func (p pod) tpus(n int) pod {
	p.Spec.Containers = nil
	for i := range n {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "tpu" + string(rune('a'+i)),
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{lws.TPUResourceName: resource.MustParse("4")}}})
	}
	return p
}

func env(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
	}
	return out
}

func TestMutateLabels(t *testing.T) {
	cases := map[string]struct {
		reason string
		pod    pod
		want   map[string]string
	}{
		"LeaderGroupIndexAndKey": {
			reason: "A leader gets its group index from its ordinal and a group key.",
			pod:    leaderPod("test-sample-1", "test-sample", "2"),
			want: map[string]string{lws.LabelName: "test-sample", lws.LabelWorkerIndex: "0", lws.LabelGroupIndex: "1",
				lws.LabelGroupKey: GroupKey("ns", "test-sample-1")},
		},
		"WorkerIndexFromName": {
			reason: "A worker's index is its ordinal.",
			pod:    workerPod("test-sample-1-3", "test-sample", "test-sample-1", "4"),
			want:   map[string]string{lws.LabelName: "test-sample", lws.LabelGroupIndex: "1", lws.LabelWorkerIndex: "3"},
		},
		"LeaderSubGroup": {
			reason: "A LeaderWorker leader is in subgroup 0, keyed by its own name.",
			pod:    leaderPod("test-sample-1", "test-sample", "4").annotate(lws.AnnotationSubGroupSize, "2"),
			want: map[string]string{lws.LabelName: "test-sample", lws.LabelWorkerIndex: "0", lws.LabelGroupIndex: "1",
				lws.LabelGroupKey: GroupKey("ns", "test-sample-1"), lws.LabelSubGroupIndex: "0", lws.LabelSubGroupKey: SubGroupKey("test-sample-1", 0)},
		},
		"LeaderExcludedLeaderHasNoSubGroup": {
			reason: "Under LeaderExcluded the leader belongs to no subgroup.",
			pod:    leaderPod("test-sample-1", "test-sample", "5").annotate(lws.AnnotationSubGroupSize, "2").annotate(lws.AnnotationSubGroupPolicyType, "LeaderExcluded"),
			want: map[string]string{lws.LabelName: "test-sample", lws.LabelWorkerIndex: "0", lws.LabelGroupIndex: "1",
				lws.LabelGroupKey: GroupKey("ns", "test-sample-1")},
		},
		"WorkerSubGroup": {
			reason: "Worker 3 of a group of 4 in subgroups of 2 is in subgroup 1, keyed by the leader's name.",
			pod:    workerPod("test-sample-1-3", "test-sample", "test-sample-1", "4").annotate(lws.AnnotationSubGroupSize, "2"),
			want: map[string]string{lws.LabelName: "test-sample", lws.LabelGroupIndex: "1", lws.LabelWorkerIndex: "3",
				lws.LabelSubGroupIndex: "1", lws.LabelSubGroupKey: SubGroupKey("test-sample-1", 1)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := Mutate(tc.pod.Pod); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, tc.pod.Labels); diff != "" {
				t.Errorf("%s\nlabels: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMutateLWSEnv(t *testing.T) {
	p := leaderPod("test-sample-1", "test-sample", "3")
	p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "a"}, {Name: lws.EnvLeaderAddress, Value: "user"}, {Name: "B", Value: "b"}}
	p.Spec.InitContainers = []corev1.Container{{Name: "init"}}
	if err := Mutate(p.Pod); err != nil {
		t.Fatal(err)
	}
	want := []corev1.EnvVar{
		{Name: lws.EnvLeaderAddress, Value: "test-sample-1.test-sample.ns"},
		{Name: lws.EnvGroupSize, Value: "3"},
		{Name: lws.EnvWorkerIndex, Value: "0"},
		{Name: "A", Value: "a"},
		{Name: "B", Value: "b"},
	}
	if diff := cmp.Diff(want, p.Spec.Containers[0].Env); diff != "" {
		t.Errorf("the leader address comes first and the injected values replace the user's: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(want[:3], p.Spec.InitContainers[0].Env); diff != "" {
		t.Errorf("init containers get the variables too: -want, +got:\n%s", diff)
	}
}

func TestMutateUniquePerReplica(t *testing.T) {
	p := leaderPod("test-sample-1", "test-sample", "5").annotate(lws.AnnotationSubdomainPolicy, "UniquePerReplica").annotate(lws.AnnotationSubGroupSize, "5").tpus(1)
	if err := Mutate(p.Pod); err != nil {
		t.Fatal(err)
	}
	if p.Spec.Subdomain != "test-sample-1" {
		t.Errorf("a UniquePerReplica leader's subdomain is its own name, got %q", p.Spec.Subdomain)
	}
	e := env(p.Spec.Containers[0])
	if e[lws.EnvLeaderAddress] != "test-sample-1.test-sample-1.ns" {
		t.Errorf("LWS_LEADER_ADDRESS: got %q", e[lws.EnvLeaderAddress])
	}
	if want := "test-sample-1.test-sample-1,test-sample-1-1.test-sample-1,test-sample-1-2.test-sample-1,test-sample-1-3.test-sample-1,test-sample-1-4.test-sample-1"; e[lws.EnvTPUWorkerHostnames] != want {
		t.Errorf("TPU_WORKER_HOSTNAMES: want %s, got %s", want, e[lws.EnvTPUWorkerHostnames])
	}
}

func TestMutateErrors(t *testing.T) {
	p := leaderPod("test-sample-1", "s", "2")
	delete(p.Annotations, lws.AnnotationSize)
	if err := Mutate(p.Pod); err == nil {
		t.Error("a pod without the size annotation is an error")
	}
	w := workerPod("no-ordinal", "s", "l", "2")
	if err := Mutate(w.Pod); err == nil {
		t.Error("a worker whose name has no ordinal is an error")
	}
	plain := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain", Labels: map[string]string{"app": "x"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	if err := Mutate(plain); err != nil || len(plain.Spec.Containers[0].Env) != 0 {
		t.Errorf("a pod without the name label is untouched: err %v, env %v", err, plain.Spec.Containers[0].Env)
	}
}
