package groups

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func TestUnschedulableGroups(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	pod := func(group string, status corev1.ConditionStatus, reason string, since metav1.Time) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{lws.LabelGroupIndex: group}}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: status, Reason: reason, LastTransitionTime: since}}
		return p
	}
	cases := map[string]struct {
		pods []corev1.Pod
		want []v1alpha1.UnschedulableGroup
	}{
		"ScheduledPodsReportNothing": {
			pods: []corev1.Pod{pod("0", corev1.ConditionTrue, "", t0)},
		},
		"GatedPodsAreNotUnschedulable": {
			pods: []corev1.Pod{pod("0", corev1.ConditionFalse, corev1.PodReasonSchedulingGated, t0)},
		},
		"AGroupSinceItsOldestUnschedulablePod": {
			pods: []corev1.Pod{pod("1", corev1.ConditionFalse, corev1.PodReasonUnschedulable, t1), pod("1", corev1.ConditionFalse, corev1.PodReasonUnschedulable, t0), pod("1", corev1.ConditionTrue, "", t0)},
			want: []v1alpha1.UnschedulableGroup{{Group: 1, Since: t0}},
		},
		"OrderedByGroup": {
			pods: []corev1.Pod{pod("2", corev1.ConditionFalse, corev1.PodReasonUnschedulable, t1), pod("0", corev1.ConditionFalse, corev1.PodReasonUnschedulable, t0)},
			want: []v1alpha1.UnschedulableGroup{{Group: 0, Since: t0}, {Group: 2, Since: t1}},
		},
		"SurgeGroupsLeftToTheirRollout": {
			pods: []corev1.Pod{pod("3", corev1.ConditionFalse, corev1.PodReasonUnschedulable, t0)},
		},
		"PodsWithoutAGroupIgnored": {
			pods: []corev1.Pod{pod("", corev1.ConditionFalse, corev1.PodReasonUnschedulable, t0)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &State{Params: v1alpha1.RemoteLeaderWorkerSetParameters{Replicas: 3}, Pods: tc.pods}
			if diff := cmp.Diff(tc.want, unschedulable(s)); diff != "" {
				t.Errorf("unschedulable groups (-want +got):\n%s", diff)
			}
		})
	}
}
