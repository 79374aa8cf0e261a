package remoteleaderworkerset

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestBatcher(t *testing.T) {
	const period = 50 * time.Millisecond
	start := time.Unix(0, 0)
	a, other := types.NamespacedName{Name: "a"}, types.NamespacedName{Name: "b"}
	b := newBatcher(period)
	steps := []struct {
		name string
		key  types.NamespacedName
		at   time.Duration
		want time.Duration
	}{
		{"the first change of a quiet resource reconciles at once", a, 0, 0},
		{"a change within the period waits for its end", a, 10 * time.Millisecond, 40 * time.Millisecond},
		{"a later one shares that reconcile", a, 30 * time.Millisecond, 20 * time.Millisecond},
		{"another resource is not held back", other, 30 * time.Millisecond, 0},
		{"a change just after the batched reconcile waits a period from it", a, 60 * time.Millisecond, 40 * time.Millisecond},
		{"a change a period after the last reconcile is at once again", a, 200 * time.Millisecond, 0},
	}
	for _, s := range steps {
		if got := b.delay(s.key, start.Add(s.at)); got != s.want {
			t.Errorf("%s: change of %s at %v waits %v, want %v", s.name, s.key.Name, s.at, got, s.want)
		}
	}
	if got := newBatcher(0).delay(a, start); got != 0 {
		t.Errorf("without a period: waits %v, want 0", got)
	}
}
