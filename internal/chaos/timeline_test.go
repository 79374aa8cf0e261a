package chaos

import (
	"slices"
	"testing"
	"time"
)

func TestTimelineNotesChangesOnly(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	tl := NewTimeline(4)
	steady := Cluster{Name: "a", Replicas: 2, Groups: []Group{ready(0, "l0", "r1"), ready(1, "l1", "r1")}}
	tl.Observe(at, []Cluster{steady})
	tl.Observe(at, []Cluster{steady})
	rolling := Cluster{Name: "a", Replicas: 2, Partition: 1, Groups: []Group{ready(0, "l0", "r1"), starting(1, "l2", "r2")}}
	tl.Observe(at.Add(time.Second), []Cluster{rolling})
	want := []string{
		"10:00:00.000 a/1: leader l1, revision r1, ready",
		"10:00:01.000 a: leader StatefulSet replicas 2, partition 1",
		"10:00:01.000 a/1: leader l2, revision r2, not ready",
	}
	// Four lines kept of five: the first snapshot's replicas line is
	// dropped, and the unchanged second snapshot adds none.
	got := tl.Lines()
	if len(got) != 4 || !slices.Equal(got[1:], want) {
		t.Errorf("Lines():\n got %q\nwant [_ %q]", got, want)
	}
	tl.Observe(at.Add(2*time.Second), []Cluster{{Name: "a", Replicas: 2, Partition: 1, Groups: []Group{ready(0, "l0", "r1")}}})
	if last := tl.Lines()[3]; last != "10:00:02.000 a/1: leader l2 gone" {
		t.Errorf("a group gone: got %q", last)
	}
}
