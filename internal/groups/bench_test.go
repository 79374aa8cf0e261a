package groups

import "testing"

// BenchmarkCompute512 plans a converged LeaderWorkerSet of 64 groups of 8,
// as the provider does at every change of one of its objects.
func BenchmarkCompute512(b *testing.B) {
	c := newCluster(b, params(b, 64, 8))
	c.converge()
	for b.Loop() {
		if _, err := Compute(&c.State, nil, 1, now); err != nil {
			b.Fatal(err)
		}
	}
}
