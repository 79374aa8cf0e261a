package lws

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMaxLWSNameLength: at the budget every generated name fits 63
// characters, and one character more breaks at least one.
func TestMaxLWSNameLength(t *testing.T) {
	type args struct {
		maxGroupIndex, size int32
	}
	longest := func(name string, a args) int {
		g := int(a.maxGroupIndex)
		hash := "-" + strings.Repeat("h", 10)
		names := []string{name + hash, LeaderPodName(name, g), LeaderEndpointSliceName(name, g)}
		if a.size > 1 {
			names = append(names, LeaderPodName(name, g)+hash, WorkerPodName(name, g, int(a.size-1)))
		}
		n := 0
		for _, s := range names {
			n = max(n, len(s))
		}
		return n
	}
	cases := map[string]struct {
		reason string
		args   args
		want   int
	}{
		"GroupsOfOne": {
			reason: "Without workers the leader StatefulSet's revision hash label binds.",
			args:   args{maxGroupIndex: 9, size: 1},
			want:   52,
		},
		"ThousandsOfGroupsOfOne": {
			reason: "With 4-digit group indices the leaders' EndpointSlices (<name>-<index>-leader) bind.",
			args:   args{maxGroupIndex: 1999, size: 1},
			want:   51,
		},
		"GroupsWithWorkers": {
			reason: "With workers the worker StatefulSets' revision hash label binds.",
			args:   args{maxGroupIndex: 10, size: 4},
			want:   49,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := MaxLWSNameLength(tc.args.maxGroupIndex, tc.args.size)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nMaxLWSNameLength: -want, +got:\n%s", tc.reason, diff)
			}
			if n := longest(strings.Repeat("a", got), tc.args); n > MaxNameLength {
				t.Errorf("%s\nat the budget the longest generated name has %d characters", tc.reason, n)
			}
			if n := longest(strings.Repeat("a", got+1), tc.args); n <= MaxNameLength {
				t.Errorf("%s\none character over the budget every generated name still fits (%d)", tc.reason, n)
			}
		})
	}
}
