package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func gang(g lws.GangScheduler) func(*Input) { return func(in *Input) { in.Gang = g } }

func leaderReady(in *Input) { in.Spec.StartupPolicy = v1alpha1.LeaderReadyStartupPolicy }

func requests(cpu string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
}

func TestWorkload(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     Input
		want   int32
	}{
		"GangOfSize":           {reason: "Every pod of the group must fit at once.", in: input(2, 8, gang(lws.GangWorkload)), want: 8},
		"LeaderReadyIsTheLead": {reason: "LeaderReady creates workers only once the leader is Ready: a gang of 8 would never admit the leader.", in: input(2, 8, gang(lws.GangWorkload), leaderReady), want: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := tc.in.Workload(1)
			if w.Name != "test-sample-1-rev" || w.Namespace != "ns" {
				t.Errorf("%s\nname %s/%s, want ns/test-sample-1-rev", tc.reason, w.Namespace, w.Name)
			}
			if pg := w.Spec.PodGroups; len(pg) != 1 || pg[0].Name != GangPodGroup || pg[0].Policy.Gang == nil || pg[0].Policy.Gang.MinCount != tc.want {
				t.Errorf("%s\npod groups %+v, want one gang %q of %d", tc.reason, pg, GangPodGroup, tc.want)
			}
			want := map[string]string{lws.LabelName: "test-sample", lws.LabelGroupIndex: "1", lws.LabelRevisionKey: "rev"}
			if diff := cmp.Diff(want, w.Labels); diff != "" {
				t.Errorf("%s\nlabels -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestVolcanoPodGroup(t *testing.T) {
	withInit := func(in *Input) {
		lt := in.Spec.LeaderWorkerTemplate.WorkerTemplate.DeepCopy()
		lt.Spec.Containers[0].Resources = requests("2")
		lt.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "i", Resources: requests("3")}}
		lt.Spec.PriorityClassName = "high"
		in.Spec.LeaderWorkerTemplate.LeaderTemplate = lt
		in.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Resources = requests("1")
	}
	annotated := func(in *Input) {
		in.Annotations = map[string]string{lws.AnnotationVolcanoQueue: "q", "volcano.sh/preemptable": "true", "other": "x"}
	}
	cases := map[string]struct {
		reason string
		in     Input
		want   map[string]any
		annots map[string]string
	}{
		"Minimal": {
			reason: "minMember is the size; no requests, no queue.",
			in:     input(2, 4, gang(lws.GangVolcano)),
			want:   map[string]any{"minMember": int64(4), "minResources": map[string]any{}},
		},
		"WholeGroupRequests": {
			reason: "minResources is the leader's pod requests (its init container's 3 CPUs outweigh its container's 2) plus 3 workers of 1, and the leader's priority class.",
			in:     input(2, 4, gang(lws.GangVolcano), withInit),
			want:   map[string]any{"minMember": int64(4), "minResources": map[string]any{"cpu": "6"}, "priorityClassName": "high"},
		},
		"QueueAndVolcanoAnnotations": {
			reason: "The queue comes from the LeaderWorkerSet's annotation, and only its volcano.sh/ annotations are inherited, as upstream.",
			in:     input(2, 4, gang(lws.GangVolcano), annotated),
			want:   map[string]any{"minMember": int64(4), "minResources": map[string]any{}, "queue": "q"},
			annots: map[string]string{"volcano.sh/preemptable": "true"},
		},
		"LeaderReady": {
			reason: "With LeaderReady, upstream's minMember is 1.",
			in:     input(2, 4, gang(lws.GangVolcano), leaderReady),
			want:   map[string]any{"minMember": int64(1), "minResources": map[string]any{}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pg, err := tc.in.VolcanoPodGroup(0)
			if err != nil {
				t.Fatal(err)
			}
			spec, _, _ := unstructured.NestedMap(pg.Object, "spec")
			if diff := cmp.Diff(tc.want, spec); diff != "" {
				t.Errorf("%s\nspec -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.annots, pg.GetAnnotations()); diff != "" {
				t.Errorf("%s\nannotations -want +got:\n%s", tc.reason, diff)
			}
			if pg.GetName() != "test-sample-0-rev" || pg.GetAPIVersion() != VolcanoPodGroupAPIVersion || pg.GetKind() != VolcanoPodGroupKind {
				t.Errorf("%s\ngot %s %s %s", tc.reason, pg.GetAPIVersion(), pg.GetKind(), pg.GetName())
			}
		})
	}
}

// TestGangPods: how each gang scheduler reaches the pods of group 1.
func TestGangPods(t *testing.T) {
	cases := map[string]struct {
		reason        string
		in            Input
		leaderAnnots  map[string]string
		workerAnnots  map[string]string
		workerRef     *corev1.WorkloadReference
		leaderIdentit map[string]string
	}{
		"None": {
			reason: "Without gang scheduling pods carry nothing of it.",
			in:     input(2, 3),
		},
		"Workload": {
			reason:       "Workers refer to their group's Workload from their StatefulSet; the leaders' shared template only asks the admission policy for theirs.",
			in:           input(2, 3, gang(lws.GangWorkload)),
			leaderAnnots: map[string]string{lws.AnnotationGangScheduling: "Workload"},
			workerAnnots: map[string]string{lws.AnnotationGangScheduling: "Workload"},
			workerRef:    &corev1.WorkloadReference{Name: "test-sample-1-rev", PodGroup: GangPodGroup},
		},
		"Volcano": {
			reason:        "Workers name their PodGroup from their StatefulSet; a leader gets its group's name while gated, as upstream's webhook gives it.",
			in:            input(2, 3, gang(lws.GangVolcano)),
			leaderAnnots:  map[string]string{lws.AnnotationGangScheduling: "Volcano"},
			workerAnnots:  map[string]string{lws.AnnotationGangScheduling: "Volcano", lws.AnnotationVolcanoGroupName: "test-sample-1-rev"},
			leaderIdentit: map[string]string{lws.AnnotationVolcanoGroupName: "test-sample-1-rev"},
		},
	}
	gangKeys := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for _, k := range []string{lws.AnnotationGangScheduling, lws.AnnotationVolcanoGroupName} {
			if v, ok := m[k]; ok {
				out[k] = v
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			leaders, err := tc.in.LeaderStatefulSet(Rollout{Replicas: 2})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.leaderAnnots, gangKeys(leaders.Spec.Template.Annotations)); diff != "" {
				t.Errorf("%s\nleader template annotations -want +got:\n%s", tc.reason, diff)
			}
			if leaders.Spec.Template.Spec.WorkloadRef != nil {
				t.Errorf("%s\nthe leaders' shared template refers to a Workload", tc.reason)
			}
			workers, err := tc.in.WorkerStatefulSet(1, "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.workerAnnots, gangKeys(workers.Spec.Template.Annotations)); diff != "" {
				t.Errorf("%s\nworker template annotations -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.workerRef, workers.Spec.Template.Spec.WorkloadRef); diff != "" {
				t.Errorf("%s\nworker workloadRef -want +got:\n%s", tc.reason, diff)
			}
			leader := podFromTemplate(leaders.Spec.Template, "test-sample-1", "ns", "test-sample", 1)
			_, annotations, err := tc.in.PodIdentity(leader)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.leaderIdentit, gangKeys(annotations)); diff != "" {
				t.Errorf("%s\nleader identity annotations -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
