package chaos

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

var options = Options{Steps: 12, Clusters: 3, MinReplicas: 3, MaxReplicas: 9, MinWait: time.Second, MaxWait: 4 * time.Second}

func TestScheduleReproducesBySeed(t *testing.T) {
	a, err := NewSchedule(7, 6, options)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSchedule(7, 6, options)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("seed 7 gave two schedules:\n%v\n%v", a, b)
	}
	if c, _ := NewSchedule(8, 6, options); reflect.DeepEqual(a, c) {
		t.Errorf("seeds 7 and 8 gave the same schedule %v", a)
	}
}

func TestScheduleHasEveryFaultAndStaysInBounds(t *testing.T) {
	for seed := range uint64(200) {
		steps, err := NewSchedule(seed, 6, options)
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != options.Steps {
			t.Fatalf("seed %d: %d steps, want %d", seed, len(steps), options.Steps)
		}
		replicas := 6
		for _, f := range Faults {
			if !slices.ContainsFunc(steps, func(s Step) bool { return s.Kind == f }) {
				t.Errorf("seed %d: no %s in %v", seed, f, steps)
			}
		}
		for _, s := range steps {
			if s.Wait < options.MinWait || s.Wait > options.MaxWait || s.Cluster < 0 || s.Cluster >= options.Clusters {
				t.Errorf("seed %d: step %+v out of bounds", seed, s)
			}
			if s.Kind == Scale {
				if s.Replicas < options.MinReplicas || s.Replicas > options.MaxReplicas || s.Replicas == replicas {
					t.Errorf("seed %d: scale from %d to %d", seed, replicas, s.Replicas)
				}
				replicas = s.Replicas
			}
		}
	}
}

func TestScheduleRefusesImpossibleOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"fewer steps than faults": {Steps: 2, Clusters: 1, MinReplicas: 1, MaxReplicas: 2},
		"no clusters":             {Steps: 8, MinReplicas: 1, MaxReplicas: 2},
		"no room to scale":        {Steps: 8, Clusters: 1, MinReplicas: 2, MaxReplicas: 2},
	} {
		if _, err := NewSchedule(1, 1, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
