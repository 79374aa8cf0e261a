package targetcluster

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestChanged(t *testing.T) {
	ref := &v1alpha1.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: "a"}
	with := func(free int32, reach metav1.ConditionStatus, reason, msg string) v1alpha1.TargetClusterStatus {
		return v1alpha1.TargetClusterStatus{ProviderConfigRef: ref, FreeNodes: free,
			Conditions: []metav1.Condition{{Type: ConditionReachable, Status: reach, Reason: reason, Message: msg}}}
	}
	cases := map[string]struct {
		reason     string
		prev, next v1alpha1.TargetClusterStatus
		want       bool
	}{
		"New":         {reason: "A TargetCluster never written is written.", prev: v1alpha1.TargetClusterStatus{}, next: with(2, metav1.ConditionTrue, ReasonContacted, ""), want: true},
		"Idle":        {reason: "The same room, still reachable: no write.", prev: with(2, metav1.ConditionTrue, ReasonContacted, ""), next: with(2, metav1.ConditionTrue, ReasonContacted, ""), want: false},
		"RoomChanged": {reason: "Other room is written.", prev: with(2, metav1.ConditionTrue, ReasonContacted, ""), next: with(1, metav1.ConditionTrue, ReasonContacted, ""), want: true},
		"Lost":        {reason: "Turning unreachable is written.", prev: with(2, metav1.ConditionTrue, ReasonContacted, ""), next: with(2, metav1.ConditionFalse, ReasonUnreachable, "x"), want: true},
		"StillLost":   {reason: "Another error message of a cluster still lost is no reason to write.", prev: with(2, metav1.ConditionFalse, ReasonUnreachable, "watch failed 3s ago"), next: with(2, metav1.ConditionFalse, ReasonUnreachable, "watch failed 8s ago"), want: false},
		"LastContactOnly": {reason: "A newer contact alone is not written: an idle cluster costs no write.", prev: with(2, metav1.ConditionTrue, ReasonContacted, ""), next: func() v1alpha1.TargetClusterStatus {
			s := with(2, metav1.ConditionTrue, ReasonContacted, "")
			s.LastContactTime = &metav1.MicroTime{}
			return s
		}(), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := changed(tc.prev, tc.next); got != tc.want {
				t.Errorf("%s\nchanged(...) = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}
