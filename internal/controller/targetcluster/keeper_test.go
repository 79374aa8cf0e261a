package targetcluster

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

func TestChanged(t *testing.T) {
	ref := &v1alpha1.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: "a"}
	with := func(free int32, reach metav1.ConditionStatus, reason, msg string) v1alpha1.TargetClusterStatus {
		return v1alpha1.TargetClusterStatus{ProviderConfigRef: ref, FreeNodes: free,
			Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReachable, Status: reach, Reason: reason, Message: msg}}}
	}
	cases := map[string]struct {
		reason     string
		prev, next v1alpha1.TargetClusterStatus
		want       bool
	}{
		"New":         {reason: "A TargetCluster never written is written.", prev: v1alpha1.TargetClusterStatus{}, next: with(2, metav1.ConditionTrue, v1alpha1.ReasonContacted, ""), want: true},
		"Idle":        {reason: "The same room, still reachable: no write.", prev: with(2, metav1.ConditionTrue, v1alpha1.ReasonContacted, ""), next: with(2, metav1.ConditionTrue, v1alpha1.ReasonContacted, ""), want: false},
		"RoomChanged": {reason: "Other room is written.", prev: with(2, metav1.ConditionTrue, v1alpha1.ReasonContacted, ""), next: with(1, metav1.ConditionTrue, v1alpha1.ReasonContacted, ""), want: true},
		"Lost":        {reason: "Turning unreachable is written.", prev: with(2, metav1.ConditionTrue, v1alpha1.ReasonContacted, ""), next: with(2, metav1.ConditionFalse, v1alpha1.ReasonUnreachable, "x"), want: true},
		"StillLost":   {reason: "Another error message of a cluster still lost is no reason to write.", prev: with(2, metav1.ConditionFalse, v1alpha1.ReasonUnreachable, "watch failed 3s ago"), next: with(2, metav1.ConditionFalse, v1alpha1.ReasonUnreachable, "watch failed 8s ago"), want: false},
		"LastContactOnly": {reason: "A newer contact alone is not written: an idle cluster costs no write.", prev: with(2, metav1.ConditionTrue, v1alpha1.ReasonContacted, ""), next: func() v1alpha1.TargetClusterStatus {
			s := with(2, metav1.ConditionTrue, v1alpha1.ReasonContacted, "")
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

func TestStamped(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	hourAgo, minuteAgo := now.Add(-time.Hour), now.Add(-time.Minute)
	status := func(free int32, reach metav1.ConditionStatus, contact *time.Time) v1alpha1.TargetClusterStatus {
		st := v1alpha1.TargetClusterStatus{FreeNodes: free, Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReachable, Status: reach, Reason: "R"}}}
		if contact != nil {
			st.LastContactTime = &metav1.MicroTime{Time: *contact}
		}
		return st
	}
	cases := map[string]struct {
		reason     string
		prev, next v1alpha1.TargetClusterStatus
		contacted  bool
		last       *time.Time // this process's last contact, if any
		write      bool
		contact    *time.Time
	}{
		"IdleNotWritten": {
			reason: "A reachable cluster whose room did not change is not written again.",
			prev:   status(2, metav1.ConditionTrue, &hourAgo), next: status(2, metav1.ConditionTrue, &hourAgo), contacted: true, last: &minuteAgo,
			write: false,
		},
		"FirstContactWritten": {
			reason: "A process's first contact is written, so that the last contact is never older than the provider.",
			prev:   status(2, metav1.ConditionTrue, &hourAgo), next: status(2, metav1.ConditionTrue, &hourAgo), contacted: true,
			write: true, contact: &now,
		},
		"RoomChangedWritesNow": {
			reason: "Other room is written with this contact.",
			prev:   status(2, metav1.ConditionTrue, &hourAgo), next: status(1, metav1.ConditionTrue, &hourAgo), contacted: true, last: &minuteAgo,
			write: true, contact: &now,
		},
		"LostWithTheLastContact": {
			reason: "A cluster turning unreachable is written with this process's last contact.",
			prev:   status(2, metav1.ConditionTrue, &hourAgo), next: status(2, metav1.ConditionFalse, &hourAgo), last: &minuteAgo,
			write: true, contact: &minuteAgo,
		},
		"LostBeforeAnyContactCountsFromNow": {
			reason: "A cluster this process never reached, seen lost, counts from now rather than from a contact older than the process.",
			prev:   status(2, metav1.ConditionTrue, &hourAgo), next: status(2, metav1.ConditionFalse, &hourAgo),
			write: true, contact: &now,
		},
		"StillLostAfterARestartKeepsItsContact": {
			reason: "A cluster already lost when the provider restarted keeps the last contact its status has.",
			prev:   status(2, metav1.ConditionFalse, &hourAgo), next: status(3, metav1.ConditionFalse, &hourAgo),
			write: true, contact: &hourAgo,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var last time.Time
			if tc.last != nil {
				last = *tc.last
			}
			got, write := stamped(tc.prev, tc.next, tc.contacted, last, tc.last != nil, now)
			if write != tc.write {
				t.Fatalf("%s\nstamped(...) writes %v, want %v", tc.reason, write, tc.write)
			}
			if write && !got.LastContactTime.Time.Equal(*tc.contact) {
				t.Errorf("%s\nstamped(...) last contact %v, want %v", tc.reason, got.LastContactTime, *tc.contact)
			}
		})
	}
}
