package podmeta

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParentNameAndOrdinal(t *testing.T) {
	cases := map[string]struct {
		parent  string
		ordinal int
	}{
		"lws-samples-132":   {"lws-samples", 132},
		"lws-samples-1-0":   {"lws-samples-1", 0},
		"lws-samples--1":    {"lws-samples-", 1},
		"lws-samples-":      {"", -1},
		"lws-samples1":      {"", -1},
		"lws-samples-132-u": {"", -1},
		"lws-samples-+1":    {"", -1},
		"-7":                {"", 7},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			p, o := ParentNameAndOrdinal(name)
			if p != want.parent || o != want.ordinal {
				t.Errorf("ParentNameAndOrdinal(%q) = (%q, %d), want (%q, %d)", name, p, o, want.parent, want.ordinal)
			}
		})
	}
}

func TestGroupKey(t *testing.T) {
	k := GroupKey("ns", "lws-0")
	if len(k) != 40 {
		t.Errorf("GroupKey is 40 hex characters, got %q", k)
	}
	for _, other := range []string{GroupKey("other", "lws-0"), GroupKey("ns", "lws-1")} {
		if other == k {
			t.Errorf("group keys must differ per namespace and per name: %q", k)
		}
	}
	if SubGroupKey("lws-0", 0) == SubGroupKey("lws-0", 1) {
		t.Error("subgroup keys must differ per subgroup")
	}
}

func TestSubGroupIndex(t *testing.T) {
	cases := map[string]struct {
		size, sgs, worker, want int
	}{
		"Size4Sgs2Worker2":         {4, 2, 2, 1},
		"Size5Sgs2Worker2":         {5, 2, 2, 0},
		"Size3Sgs1Worker1":         {3, 1, 1, 1},
		"Size3Sgs1Worker2":         {3, 1, 2, 2},
		"Size4Sgs2Worker3":         {4, 2, 3, 1},
		"Size5Sgs2Worker4":         {5, 2, 4, 1},
		"LeaderIsExtraOfSubgroup0": {5, 2, 0, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, SubGroupIndex(tc.size, tc.sgs, tc.worker)); diff != "" {
				t.Errorf("SubGroupIndex(%d, %d, %d): -want, +got:\n%s", tc.size, tc.sgs, tc.worker, diff)
			}
		})
	}
}
