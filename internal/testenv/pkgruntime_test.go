package testenv

import (
	"testing"
	"time"
)

func TestRestartDelayDoublesUpToItsCap(t *testing.T) {
	for _, tc := range []struct {
		quickExits int
		want       time.Duration
	}{
		{0, 0}, // ran long enough: at once, as after a kill
		{1, time.Second},
		{2, 2 * time.Second},
		{5, 16 * time.Second},
		{6, 30 * time.Second},
		{100, 30 * time.Second},
	} {
		if got := restartDelay(tc.quickExits); got != tc.want {
			t.Errorf("restartDelay(%d) = %s, want %s", tc.quickExits, got, tc.want)
		}
	}
}
