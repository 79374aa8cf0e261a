package disagg

import (
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
)

// Cluster is a target cluster of a DisaggregatedSet.
type Cluster struct {
	Name           string
	ProviderConfig v1alpha1.ProviderConfigReference
}

// Clusters are a placement's target clusters, with weight: the default
// cluster when it names none.
func Clusters(p *v1alpha1.SlicePlacement) ([]Cluster, []int64) {
	if p == nil || len(p.Clusters) == 0 {
		return []Cluster{{Name: placement.DefaultCluster, ProviderConfig: placement.ProviderConfig(v1alpha1.ClusterTarget{Name: placement.DefaultCluster})}}, []int64{1}
	}
	clusters := make([]Cluster, len(p.Clusters))
	weights := make([]int64, len(p.Clusters))
	for i, t := range p.Clusters {
		clusters[i] = Cluster{Name: t.Name, ProviderConfig: placement.ProviderConfig(v1alpha1.ClusterTarget{Name: t.Name, ProviderConfigRef: t.ProviderConfigRef})}
		weights[i] = 1
		if t.Weight != nil {
			weights[i] = int64(*t.Weight)
		}
	}
	return clusters, weights
}

// PlaceSlices gives each slice a cluster: the one it runs in (running), if
// that cluster is still a target with weight, else by weight. Slices are
// dealt one at a time to the cluster furthest below its weighted share of
// the slices dealt so far, ties to the first listed: a slice's cluster
// depends only on the slices before it, so adding slices never moves one
// that runs. The answer is indexed by slice; -1 means no cluster has
// weight.
func PlaceSlices(weights []int64, slices int32, running map[int32]int) []int {
	var total int64
	for _, w := range weights {
		total += w
	}
	out := make([]int, slices)
	dealt := make([]int64, len(weights))
	for s := range slices {
		out[s] = -1
		if c, ok := running[s]; ok && c >= 0 && c < len(weights) && weights[c] > 0 {
			out[s] = c
		} else if total > 0 {
			// Below share: weight*(s+1)/total - dealt, compared without
			// division.
			best := -1
			var bestGap int64
			for c, w := range weights {
				if w == 0 {
					continue
				}
				gap := w*int64(s+1) - dealt[c]*total
				if best < 0 || gap > bestGap {
					best, bestGap = c, gap
				}
			}
			out[s] = best
		}
		if out[s] >= 0 {
			dealt[out[s]]++
		}
	}
	return out
}
