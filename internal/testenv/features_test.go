//go:build e2e

package testenv_test

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// testDesignFeatures pins the Kubernetes behaviour the design depends on
// (StatefulSet features upstream LeaderWorkerSet relies on: ordinals,
// start policies, per-pod labels). If an upgrade changes any of
// it, these fail before the controllers do.
func testDesignFeatures(t *testing.T, c *testenv.Cluster) {
	t.Run("StatefulSetPodLabelsAndStartOrdinal", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name  string
			start *int32
			want  []string
		}{
			{"DefaultStart", nil, []string{"group-0", "group-1"}},
			{"StartAt1", ptr(int32(1)), []string{"group-1", "group-2"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ns := c.CreateNamespace(t, "ordinals")
				create(t, c, newStatefulSet(ns, "group", 2, func(s *appsv1.StatefulSet) {
					if tc.start != nil {
						s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: *tc.start}
					}
				}))
				pods := waitStatefulSetReady(t, c, ns, "group", 2)
				if got := podNames(pods); !slices.Equal(got, tc.want) {
					t.Fatalf("pods %v, want %v", got, tc.want)
				}
				for _, p := range pods {
					wantIndex := p.Name[len("group-"):]
					if got := p.Labels[appsv1.PodIndexLabel]; got != wantIndex {
						t.Errorf("pod %s: label %s=%q, want %q", p.Name, appsv1.PodIndexLabel, got, wantIndex)
					}
					if got := p.Labels[appsv1.StatefulSetPodNameLabel]; got != p.Name {
						t.Errorf("pod %s: label %s=%q, want the pod name", p.Name, appsv1.StatefulSetPodNameLabel, got)
					}
				}
			})
		}
	})

	t.Run("EnvFromLabelAndAnnotationFieldRef", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "fieldref")
		env := []corev1.EnvVar{
			{Name: "GROUP_INDEX", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['lws.crossplane.io/group-index']"}}},
			{Name: "LEADER_ADDRESS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['lws.crossplane.io/leader-address']"}}},
			{Name: "POD_INDEX", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['" + appsv1.PodIndexLabel + "']"}}},
		}
		create(t, c, newStatefulSet(ns, "env", 1, func(s *appsv1.StatefulSet) {
			s.Spec.Template.Labels["lws.crossplane.io/group-index"] = "0"
			s.Spec.Template.Annotations = map[string]string{"lws.crossplane.io/leader-address": "env-0.env"}
			s.Spec.Template.Spec.Containers[0].Env = env
		}))
		pods := waitStatefulSetReady(t, c, ns, "env", 1)
		if got := pods[0].Spec.Containers[0].Env; len(got) != len(env) || got[0].ValueFrom.FieldRef.FieldPath != env[0].ValueFrom.FieldRef.FieldPath {
			t.Errorf("stored pod env %+v, want %+v", got, env)
		}
	})

	t.Run("MatchLabelKeysMergedIntoSelector", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "matchlabelkeys")
		term := corev1.PodAffinityTerm{
			LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "keys"}},
			TopologyKey:       nodeagent.LabelHostname,
			MatchLabelKeys:    []string{"group-key"},
			MismatchLabelKeys: []string{"tier"},
		}
		create(t, c, newStatefulSet(ns, "keys", 1, func(s *appsv1.StatefulSet) {
			s.Spec.Template.Labels["group-key"] = "g1"
			s.Spec.Template.Labels["tier"] = "leader"
			s.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term}}}
		}))
		pod := waitStatefulSetReady(t, c, ns, "keys", 1)[0]
		got := pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
		if !slices.Equal(got.MatchLabelKeys, term.MatchLabelKeys) || !slices.Equal(got.MismatchLabelKeys, term.MismatchLabelKeys) {
			t.Errorf("stored term keys %v / %v, want %v / %v", got.MatchLabelKeys, got.MismatchLabelKeys, term.MatchLabelKeys, term.MismatchLabelKeys)
		}
		want := []metav1.LabelSelectorRequirement{
			{Key: "group-key", Operator: metav1.LabelSelectorOpIn, Values: []string{"g1"}},
			{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"leader"}},
		}
		for _, w := range want {
			if !slices.ContainsFunc(got.LabelSelector.MatchExpressions, func(r metav1.LabelSelectorRequirement) bool {
				return r.Key == w.Key && r.Operator == w.Operator && slices.Equal(r.Values, w.Values)
			}) {
				t.Errorf("stored label selector %+v lacks the merged requirement %+v", got.LabelSelector, w)
			}
		}
	})

	t.Run("GatedPodMutableUntilUngated", func(t *testing.T) {
		t.Parallel()
		ns := c.CreateNamespace(t, "gated-update")
		pod := newPod(ns, "worker", map[string]string{"app": "worker"})
		pod.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "lws.crossplane.io/placement"}}
		create(t, c, pod)

		pod = getPod(t, c, ns, "worker")
		pod.Labels["lws.crossplane.io/group-key"] = "abc"
		pod.Annotations = map[string]string{"lws.crossplane.io/leader-address": "leader-0.svc"}
		pod.Spec.NodeSelector = map[string]string{nodeagent.LabelNodePool: "pool-b"}
		pod.Spec.SchedulingGates = nil
		if _, err := c.Clientset.CoreV1().Pods(ns).Update(ctxFor(t), pod, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("updating metadata and node selector while removing the gate: %v", err)
		}
		pod = waitPodReady(t, c, ns, "worker")
		if pod.Labels["lws.crossplane.io/group-key"] != "abc" || pod.Annotations["lws.crossplane.io/leader-address"] != "leader-0.svc" {
			t.Errorf("stored metadata %v / %v lacks the update", pod.Labels, pod.Annotations)
		}
		if pool := nodeLabel(t, c, pod.Spec.NodeName, nodeagent.LabelNodePool); pool != "pool-b" {
			t.Errorf("pod landed in pool %s, want pool-b from the node selector added while gated", pool)
		}
		// Once scheduled, the node selector is immutable again.
		pod.Spec.NodeSelector[nodeagent.LabelNodePool] = "pool-a"
		if _, err := c.Clientset.CoreV1().Pods(ns).Update(ctxFor(t), pod, metav1.UpdateOptions{}); err == nil {
			t.Error("changing the node selector of a scheduled pod succeeded; want it rejected")
		}
	})
}

func ptr[T any](v T) *T { return &v }
