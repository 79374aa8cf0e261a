package podmeta

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func TestTPUVariables(t *testing.T) {
	type want struct {
		hosts, addresses, id, name, port string
	}
	cases := map[string]struct {
		reason string
		pod    pod
		want   []want
	}{
		"LeaderSize5": {
			reason: "A TPU leader lists itself and its four workers.",
			pod:    leaderPod("test-sample-1", "default", "5").tpus(1),
			want: []want{{hosts: "test-sample-1.default,test-sample-1-1.default,test-sample-1-2.default,test-sample-1-3.default,test-sample-1-4.default",
				addresses: "test-sample-1.default:8476,test-sample-1-1.default:8476,test-sample-1-2.default:8476,test-sample-1-3.default:8476,test-sample-1-4.default:8476",
				id:        "0", name: "test-sample-1", port: "8476"}},
		},
		"WorkerLeaderWithoutTPU": {
			reason: "When the leader has no TPU, hosts start at worker 1 and ids shift down by one.",
			pod:    workerPod("test-sample-1-2", "default", "test-sample-1", "3").tpus(1),
			want: []want{{hosts: "test-sample-1-1.default,test-sample-1-2.default",
				addresses: "test-sample-1-1.default:8476,test-sample-1-2.default:8476", id: "1", name: "test-sample-1", port: "8476"}},
		},
		"TwoTPUContainersSize2": {
			reason: "Each TPU container is a host of its own with its own port.",
			pod:    leaderPod("L", "d", "2").label(lws.LabelGroupIndex, "0").tpus(2),
			want: []want{
				{hosts: "L.d,L.d,L-1.d,L-1.d", addresses: "L.d:8476,L.d:8477,L-1.d:8476,L-1.d:8477", id: "0", name: "L", port: "8476"},
				{hosts: "L.d,L.d,L-1.d,L-1.d", addresses: "L.d:8476,L.d:8477,L-1.d:8476,L-1.d:8477", id: "1", name: "L", port: "8477"},
			},
		},
		"SubGroupLeaderWithoutTPU": {
			reason: "Worker 7 of size 11 in subgroups of 5, leader without TPU: hosts 6 to 10, id 1.",
			pod:    workerPod("test-sample-1-7", "d", "test-sample-1", "11").annotate(lws.AnnotationSubGroupSize, "5").tpus(1),
			want: []want{{hosts: "test-sample-1-6.d,test-sample-1-7.d,test-sample-1-8.d,test-sample-1-9.d,test-sample-1-10.d",
				addresses: "test-sample-1-6.d:8476,test-sample-1-7.d:8476,test-sample-1-8.d:8476,test-sample-1-9.d:8476,test-sample-1-10.d:8476",
				id:        "1", name: "test-sample-1", port: "8476"}},
		},
		"SubGroupLeaderWithTPU": {
			reason: "Worker 7 in subgroups of 4 with a TPU leader, subgroup 1: hosts 4 to 7, id 3.",
			pod: workerPod("test-sample-1-7", "d", "test-sample-1", "8").annotate(lws.AnnotationSubGroupSize, "4").
				annotate(lws.AnnotationLeaderRequestsTPUs, "true").tpus(1),
			want: []want{{hosts: "test-sample-1-4.d,test-sample-1-5.d,test-sample-1-6.d,test-sample-1-7.d",
				addresses: "test-sample-1-4.d:8476,test-sample-1-5.d:8476,test-sample-1-6.d:8476,test-sample-1-7.d:8476",
				id:        "3", name: "test-sample-1", port: "8476"}},
		},
		"LeaderExcludedWorker": {
			reason: "LeaderExcluded, worker 2 in subgroups of 2, leader without TPU: hosts 1 and 2, id 1.",
			pod:    workerPod("test-sample-0-2", "d", "test-sample-0", "5").annotate(lws.AnnotationSubGroupSize, "2").annotate(lws.AnnotationSubGroupPolicyType, "LeaderExcluded").tpus(1),
			want:   []want{{hosts: "test-sample-0-1.d,test-sample-0-2.d", addresses: "test-sample-0-1.d:8476,test-sample-0-2.d:8476", id: "1", name: "test-sample-0", port: "8476"}},
		},
		"SubGroupSizeOne": {
			reason: "Subgroups of 1 with a TPU leader: worker 1 lists only itself, id 0.",
			pod:    workerPod("prefill-0-1", "d", "prefill-0", "3").annotate(lws.AnnotationSubGroupSize, "1").annotate(lws.AnnotationLeaderRequestsTPUs, "true").tpus(1),
			want:   []want{{hosts: "prefill-0-1.d", addresses: "prefill-0-1.d:8476", id: "0", name: "prefill-0", port: "8476"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := Mutate(tc.pod.Pod); err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, c := range tc.pod.Spec.Containers {
				e := env(c)
				got = append(got, want{e[lws.EnvTPUWorkerHostnames], e[lws.EnvTPUProcessAddresses], e[lws.EnvTPUWorkerID], e[lws.EnvTPUName], e[lws.EnvTPUProcessPort]})
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nTPU env: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTPUVariablesSkipped(t *testing.T) {
	p := leaderPod("L", "d", "2").label(lws.LabelGroupIndex, "0").tpus(1)
	p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: lws.EnvTPUWorkerID, Value: "7"}}
	if err := Mutate(p.Pod); err != nil {
		t.Fatal(err)
	}
	if e := env(p.Spec.Containers[0]); e[lws.EnvTPUWorkerID] != "7" || e[lws.EnvTPUWorkerHostnames] != "" {
		t.Errorf("a container that names its TPU id gets no TPU variables: %v", e)
	}
	plain := leaderPod("L-0", "d", "2")
	if err := Mutate(plain.Pod); err != nil {
		t.Fatal(err)
	}
	if e := env(plain.Spec.Containers[0]); e[lws.EnvTPUWorkerHostnames] != "" {
		t.Errorf("a pod without TPUs gets no TPU variables: %v", e)
	}
}

// A size whose TPU host list would not fit in a pod is refused before the
// list is built (FuzzMutate).
func TestTPUHostListTooLongRefused(t *testing.T) {
	cases := map[string]pod{
		"Group":    workerPod("test-sample-1-7", "d", "test-sample-1", "166666661").tpus(1),
		"SubGroup": workerPod("test-sample-1-7", "d", "test-sample-1", "166666661").annotate(lws.AnnotationSubGroupSize, "166666660").tpus(1),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			if err := Mutate(p.Pod); err == nil || !strings.Contains(err.Error(), "TPU host list") {
				t.Errorf("Mutate: %v, want the TPU host list refused", err)
			}
		})
	}
}
