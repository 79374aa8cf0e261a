package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/lws-crossplane/lws-crossplane/internal/groups"
)

var start = time.Unix(10000, 0)

func newRecorder(t *testing.T) (*Recorder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := New(reg, start)
	if err != nil {
		t.Fatal(err)
	}
	return r, reg
}

func TestGroupReadyRecordedOncePerLeader(t *testing.T) {
	cases := map[string]struct {
		reason  string
		reports [][]groups.ReadyGroup
		want    int
	}{
		"SameGroupEveryReconcile": {
			reason:  "A group stays ready over many reconciles; it became ready once.",
			reports: [][]groups.ReadyGroup{{{Leader: "a", At: start.Add(time.Second), After: 3 * time.Second}}, {{Leader: "a", At: start.Add(time.Second), After: 3 * time.Second}}},
			want:    1,
		},
		"RecreatedGroup": {
			reason:  "A recreated group has a new leader pod and becomes ready again.",
			reports: [][]groups.ReadyGroup{{{Leader: "a", At: start.Add(time.Second)}}, {{Leader: "b", At: start.Add(9 * time.Second)}}},
			want:    2,
		},
		"ReadyBeforeTheProviderStarted": {
			reason:  "A group that was ready before this process started was recorded by the one before it, or is too old to tell.",
			reports: [][]groups.ReadyGroup{{{Leader: "a", At: start.Add(-time.Minute)}}},
			want:    0,
		},
		"ReadyInTheSecondTheProviderStarted": {
			reason:  "API timestamps have whole seconds; a group ready in the start's second counts.",
			reports: [][]groups.ReadyGroup{{{Leader: "a", At: start.Add(500 * time.Millisecond).Truncate(time.Second)}}},
			want:    1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, _ := newRecorder(t)
			for i, ready := range tc.reports {
				r.Observe("us-east", groups.Measures{Ready: ready}, start.Add(time.Duration(i+10)*time.Second))
			}
			if got := testutil.CollectAndCount(r.groupReady); got != min(tc.want, 1) {
				t.Fatalf("%s\nseries: want %d, got %d", tc.reason, min(tc.want, 1), got)
			}
			if tc.want == 0 {
				return
			}
			if got := histogramCount(t, r.groupReady.WithLabelValues("us-east")); got != uint64(tc.want) {
				t.Errorf("%s\nobservations: want %d, got %d", tc.reason, tc.want, got)
			}
		})
	}
}

func TestRecreationsAndRolloutsPerCluster(t *testing.T) {
	r, _ := newRecorder(t)
	r.Recreated("us-east", 2)
	r.Recreated("eu-west", 0)
	r.Recreated("us-east", 1)
	r.Observe("eu-west", groups.Measures{RolloutDuration: 42 * time.Second}, start)
	if got := testutil.ToFloat64(r.recreations.WithLabelValues("us-east")); got != 3 {
		t.Errorf("recreations in us-east: want 3, got %v", got)
	}
	if got := testutil.CollectAndCount(r.recreations); got != 1 {
		t.Errorf("a cluster without recreations has no series: want 1 series, got %d", got)
	}
	if got := histogramCount(t, r.rollouts.WithLabelValues("eu-west")); got != 1 {
		t.Errorf("rollouts in eu-west: want 1, got %d", got)
	}
}

func TestNewReusesRegisteredMetrics(t *testing.T) {
	r1, reg := newRecorder(t)
	r1.Recreated("c", 1)
	r2, err := New(reg, start)
	if err != nil {
		t.Fatalf("a provider restarted in the same process registers again: %v", err)
	}
	r2.Recreated("c", 1)
	if got := testutil.ToFloat64(r1.recreations.WithLabelValues("c")); got != 2 {
		t.Errorf("both recorders count into one series: want 2, got %v", got)
	}
}

func histogramCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	m, ok := o.(prometheus.Metric)
	if !ok {
		t.Fatalf("%T is not a metric", o)
	}
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetHistogram().GetSampleCount()
}
