package lws

import (
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

var clustersPath = specPath.Child("placement", "clusters")

// validatePlacement checks that the placement can give out spec.replicas
// groups: explicit counts may not exceed replicas, and groups left over need
// a cluster with a weight to go to.
func validatePlacement(errs *FieldErrors, p *v1alpha1.Placement, replicas int32) {
	if p == nil {
		return
	}
	var explicit, weight int64
	seen := map[string]bool{}
	for i, c := range p.Clusters {
		if seen[c.Name] {
			errs.add(clustersPath.Index(i).Child("name"), "duplicate cluster %q", c.Name)
		}
		seen[c.Name] = true
		if c.Groups != nil && c.Weight != nil {
			errs.add(clustersPath.Index(i), "set groups or weight, not both")
		}
		switch {
		case c.Groups != nil && *c.Groups < 0:
			errs.add(clustersPath.Index(i).Child("groups"), "must be equal or greater than 0")
		case c.Groups != nil:
			explicit += int64(*c.Groups)
		case c.Weight != nil && *c.Weight < 0:
			errs.add(clustersPath.Index(i).Child("weight"), "must be equal or greater than 0")
		case c.Weight != nil:
			weight += int64(*c.Weight)
		default:
			weight++
		}
	}
	if len(p.Clusters) == 0 {
		return
	}
	if explicit > int64(replicas) {
		errs.add(clustersPath, "explicit groups add up to %d, more than spec.replicas %d", explicit, replicas)
	}
	if explicit < int64(replicas) && weight == 0 {
		errs.add(clustersPath, "explicit groups add up to %d of spec.replicas %d, and no cluster has a weight for the rest", explicit, replicas)
	}
}
