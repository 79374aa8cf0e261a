//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	schedulingv1alpha1 "k8s.io/api/scheduling/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// gangSample is a LeaderWorkerSet of one group of size pods, each asking
// for a CPU, gang-scheduled by gang.
func gangSample(name, image string, size int32, gang lws.GangScheduler) compose.LeaderWorkerSet {
	l := sample(name, image, 1, size)
	l.Annotations = map[string]string{lws.AnnotationGangScheduling: string(gang)}
	l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	return l
}

// TestGangSchedulingByWorkload runs a group of 8 on a cluster with room
// for 7 pods, through kube-scheduler's gang scheduling of the Kubernetes
// Workload API: no pod of the group is bound while it cannot fit whole;
// once a CPU is freed the whole group starts; a rolling update and a group
// restart each start a group of its own gang.
func TestGangSchedulingByWorkload(t *testing.T) {
	// 8 CPUs on two nodes, one of them held by a pod outside the group.
	target := testenv.Options{Name: "target", MutatingAdmissionPolicies: true,
		NodeAgent: nodeagent.Config{Pools: []nodeagent.Pool{{Name: "pool", Nodes: 2, Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}}}}}
	e := startWith(t, target.WithGangScheduling())
	ctx := context.Background()
	blocker := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "blocker"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "blocker",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
	}
	must(t, e.target.Client.Create(ctx, blocker))
	testenv.Eventually(t, 30*time.Second, "the blocker bound", func(ctx context.Context) (bool, error) {
		err := e.target.Client.Get(ctx, client.ObjectKeyFromObject(blocker), blocker)
		return err == nil && blocker.Spec.NodeName != "", err
	})

	mr := managed(t, gangSample("gang", "image:v1", 8, lws.GangAuto))
	must(t, e.cp.Client.Create(ctx, mr))

	t.Run("NoPodBoundWhileTheGroupCannotFit", func(t *testing.T) {
		// The scheduler says the group cannot be placed once all of its
		// pods are released to it; none may be bound then.
		testenv.EventuallyObject(t, e.cp, mr, &v1alpha1.RemoteLeaderWorkerSetList{}, time.Minute, "group 0 unschedulable", func(got *v1alpha1.RemoteLeaderWorkerSet) (bool, error) {
			if len(got.Status.AtProvider.UnschedulableGroups) == 0 {
				return false, testenv.Pendingf("Synced: %s", got.GetCondition(xpv2.TypeSynced).Message)
			}
			return true, nil
		})
		testenv.Eventually(t, 30*time.Second, "8 released pods of the group", func(context.Context) (bool, error) {
			ps := e.pods(t, "gang")
			released := 0
			for _, p := range ps {
				if len(p.Spec.SchedulingGates) == 0 {
					released++
				}
			}
			return released == 8, testenv.Pendingf("%d of %d pods released", released, len(ps))
		})
		for _, p := range e.pods(t, "gang") {
			if p.Spec.NodeName != "" {
				t.Errorf("pod %s bound to %s while its group cannot fit", p.Name, p.Spec.NodeName)
			}
		}
		e.linkedToWorkload(t, mr)
	})

	t.Run("WholeGroupStartsWhenRoomAppears", func(t *testing.T) {
		must(t, e.target.Client.Delete(ctx, blocker))
		e.groupsReady(t, mr, 1, 90*time.Second)
		e.groupBound(t, mr, 8)
		e.linkedToWorkload(t, mr)
	})

	t.Run("RollingUpdate", func(t *testing.T) {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		must(t, e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got))
		old := got.Spec.ForProvider.Revision.Key
		got.Spec.ForProvider = managed(t, gangSample("gang", "image:v2", 8, lws.GangAuto)).Spec.ForProvider
		must(t, e.cp.Client.Update(ctx, got))
		e.groupsReady(t, got, 1, 2*time.Minute)
		e.groupBound(t, got, 8)
		e.linkedToWorkload(t, got)
		testenv.Eventually(t, 30*time.Second, "the old revision's Workload collected with its leader", func(ctx context.Context) (bool, error) {
			err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: lws.GangName("gang", 0, old)}, &schedulingv1alpha1.Workload{})
			return err != nil, client.IgnoreNotFound(err)
		})
	})

	t.Run("GroupRestart", func(t *testing.T) {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		must(t, e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got))
		leader := &corev1.Pod{}
		must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "gang-0"}, leader))
		must(t, e.target.Nodes.RestartContainer(ctx, "default", "gang-0-3", "c"))
		testenv.Eventually(t, time.Minute, "group 0 recreated", func(ctx context.Context) (bool, error) {
			p := &corev1.Pod{}
			if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "gang-0"}, p); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return p.UID != leader.UID, testenv.Pendingf("leader %s", p.UID)
		})
		e.groupsReady(t, got, 1, 2*time.Minute)
		e.groupBound(t, got, 8)
		e.linkedToWorkload(t, got)
	})
}

// groupBound waits until the one group of a LeaderWorkerSet has all of its
// pods bound, none of them being deleted, on its current revision.
func (e *env) groupBound(t *testing.T, mr *v1alpha1.RemoteLeaderWorkerSet, size int) {
	t.Helper()
	p := mr.Spec.ForProvider
	testenv.Eventually(t, time.Minute, fmt.Sprintf("%d pods of %s bound", size, p.Name), func(context.Context) (bool, error) {
		bound := 0
		for _, pod := range e.pods(t, p.Name) {
			if pod.DeletionTimestamp == nil && pod.Spec.NodeName != "" && pod.Labels[lws.LabelRevisionKey] == p.Revision.Key {
				bound++
			}
		}
		return bound == size, testenv.Pendingf("%d bound", bound)
	})
}

// linkedToWorkload: every pod of the LeaderWorkerSet's one group refers to
// the group's Workload at its revision, a gang of 8 owned by the leader.
func (e *env) linkedToWorkload(t *testing.T, mr *v1alpha1.RemoteLeaderWorkerSet) {
	t.Helper()
	p := mr.Spec.ForProvider
	var leader types.UID
	var want string
	testenv.Eventually(t, 30*time.Second, "a leader on the current revision", func(ctx context.Context) (bool, error) {
		l := &corev1.Pod{}
		if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name + "-0"}, l); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		leader, want = l.UID, lws.GangName(p.Name, 0, l.Labels[lws.LabelRevisionKey])
		return l.Labels[lws.LabelRevisionKey] == p.Revision.Key && l.DeletionTimestamp == nil, testenv.Pendingf("revision %s", l.Labels[lws.LabelRevisionKey])
	})
	for _, pod := range e.pods(t, p.Name) {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if ref := pod.Spec.WorkloadRef; ref == nil || ref.Name != want || ref.PodGroup != render.GangPodGroup || ref.PodGroupReplicaKey != "" {
			t.Errorf("pod %s: workloadRef %+v, want %s/%s", pod.Name, ref, want, render.GangPodGroup)
		}
	}
	testenv.Eventually(t, 30*time.Second, "Workload "+want+" of the leader", func(ctx context.Context) (bool, error) {
		w := &schedulingv1alpha1.Workload{}
		if err := e.target.Client.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: want}, w); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		owner := metav1.GetControllerOf(w)
		if owner == nil || owner.UID != leader {
			return false, testenv.Pendingf("owner %+v, leader %s", owner, leader)
		}
		if g := w.Spec.PodGroups; len(g) != 1 || g[0].Policy.Gang == nil || g[0].Policy.Gang.MinCount != 8 {
			return false, fmt.Errorf("Workload %s: pod groups %+v, want one gang of 8", want, g)
		}
		return true, nil
	})
}

// TestGangSchedulingByVolcano: on a cluster that serves Volcano's PodGroup
// and not the Workload API, a LeaderWorkerSet asking for the Workload API
// gets no groups and its managed resource says why, naming the cluster;
// one asking for any gang scheduler gets upstream's PodGroup per group,
// and its pods name it. Volcano's scheduler itself is not run here: the
// pods are scheduled by kube-scheduler.
func TestGangSchedulingByVolcano(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", CRDs: []*apiextensionsv1.CustomResourceDefinition{volcanoPodGroupCRD()}})
	ctx := context.Background()

	t.Run("WorkloadAPIMissing", func(t *testing.T) {
		mr := managed(t, gangSample("workload", "image:v1", 2, lws.GangWorkload))
		must(t, e.cp.Client.Create(ctx, mr))
		testenv.EventuallyObject(t, e.cp, mr, &v1alpha1.RemoteLeaderWorkerSetList{}, time.Minute, "Synced False naming the cluster", func(got *v1alpha1.RemoteLeaderWorkerSet) (bool, error) {
			c := got.GetCondition(xpv2.TypeSynced)
			if c.Status != corev1.ConditionFalse || !strings.Contains(c.Message, "default") || !strings.Contains(c.Message, "Workload") {
				return false, testenv.Pendingf("Synced %s: %s", c.Status, c.Message)
			}
			return true, nil
		})
		if ps := e.pods(t, "workload"); len(ps) != 0 {
			t.Errorf("%d pods created where groups cannot be gang-scheduled", len(ps))
		}
	})

	t.Run("PodGroupPerGroup", func(t *testing.T) {
		l := gangSample("volcano", "image:v1", 3, lws.GangAuto)
		l.Spec.Replicas = ptr.To[int32](2)
		l.Annotations[lws.AnnotationVolcanoQueue] = "q"
		l.Annotations["volcano.sh/preemptable"] = "true"
		mr := managed(t, l)
		must(t, e.cp.Client.Create(ctx, mr))
		e.groupsReady(t, mr, 2, time.Minute)
		key := mr.Spec.ForProvider.Revision.Key
		for g := range 2 {
			name := lws.GangName("volcano", g, key)
			pg := &unstructured.Unstructured{}
			pg.SetAPIVersion(render.VolcanoPodGroupAPIVersion)
			pg.SetKind(render.VolcanoPodGroupKind)
			must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, pg))
			spec, _, _ := unstructured.NestedMap(pg.Object, "spec")
			if spec["minMember"] != int64(3) || spec["queue"] != "q" || fmt.Sprint(spec["minResources"]) != "map[cpu:3]" || pg.GetAnnotations()["volcano.sh/preemptable"] != "true" {
				t.Errorf("PodGroup %s: spec %v, annotations %v", name, spec, pg.GetAnnotations())
			}
			leader := &corev1.Pod{}
			must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: fmt.Sprintf("volcano-%d", g)}, leader))
			if o := metav1.GetControllerOf(pg); o == nil || o.UID != leader.UID {
				t.Errorf("PodGroup %s owned by %+v, want leader %s", name, o, leader.UID)
			}
		}
		for _, p := range e.pods(t, "volcano") {
			want := lws.GangName("volcano", 0, key)
			if p.Labels[lws.LabelGroupIndex] == "1" {
				want = lws.GangName("volcano", 1, key)
			}
			if got := p.Annotations[lws.AnnotationVolcanoGroupName]; got != want {
				t.Errorf("pod %s: %s %q, want %q", p.Name, lws.AnnotationVolcanoGroupName, got, want)
			}
		}
	})
}

// volcanoPodGroupCRD serves scheduling.volcano.sh/v1beta1 PodGroups, their
// schema left open: only the API matters here, not Volcano's validation.
func volcanoPodGroupCRD() *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "podgroups.scheduling.volcano.sh"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "scheduling.volcano.sh",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "podgroups", Singular: "podgroup", Kind: "PodGroup", ListKind: "PodGroupList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1beta1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true),
				}},
			}},
		},
	}
}

// TestGangClaimThroughCrossplane: a claim asking for gang scheduling, over
// a cluster that gang-schedules by the Workload API and one that cannot,
// through the real Crossplane core: the annotation reaches the managed
// resources, the first cluster runs its group with a Workload, and the
// second's refusal, naming it, shows in the claim's status.
func TestGangClaimThroughCrossplane(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", MutatingAdmissionPolicies: true}.WithGangScheduling())
	second := testenv.Start(t, testenv.Options{Name: "second"})
	e.addConfig(t, "second", second)
	e.installCrossplane(t)
	ctx := context.Background()

	c := claim("gang", "image:v1")
	c.SetAnnotations(map[string]string{lws.AnnotationGangScheduling: string(lws.GangAuto)})
	must(t, unstructured.SetNestedField(c.Object, int64(2), "spec", "replicas"))
	must(t, e.cp.Client.Create(ctx, c))
	e.claimStatus(t, "gang", "one group ready in default, second refused by name", func(status map[string]any, _ map[string]map[string]any) error {
		clusters, _ := status["clusters"].([]any)
		got := map[string]map[string]any{}
		for _, x := range clusters {
			if m, ok := x.(map[string]any); ok {
				got[fmt.Sprint(m["name"])] = m
			}
		}
		if got["default"]["readyReplicas"] != int64(1) {
			return fmt.Errorf("default: %v", got["default"])
		}
		if msg := fmt.Sprint(got["second"]["message"]); got["second"]["synced"] != "False" || !strings.Contains(msg, "second") || !strings.Contains(msg, "cannot gang-schedule") {
			return fmt.Errorf("second: %v", got["second"])
		}
		return nil
	})
	var ws schedulingv1alpha1.WorkloadList
	must(t, e.target.Client.List(ctx, &ws, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: "gang"}))
	if len(ws.Items) != 1 {
		t.Errorf("Workloads in default: %d, want 1", len(ws.Items))
	}
	if ps := pods(t, second, "gang"); len(ps) != 0 {
		t.Errorf("%d pods in second, which cannot gang-schedule", len(ps))
	}
}
