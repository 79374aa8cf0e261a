package function

import (
	"strings"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
)

// RequiredClaim is the name under which the function requires the claim of
// a legacy composite resource. Crossplane copies a claim's annotations to
// its composite except those of domains ending in k8s.io or kubernetes.io,
// and upstream's own annotations (exclusive-topology,
// subgroup-exclusive-topology) are under leaderworkerset.sigs.k8s.io: the
// function reads them from the claim itself.
const RequiredClaim = "claim"

// claimSelector selects the claim of a composite resource that has one.
func claimSelector(l compose.LeaderWorkerSet) *fnv1.ResourceSelector {
	name, ns := l.Labels[compose.LabelClaimName], l.Labels[compose.LabelClaimNamespace]
	if name == "" || ns == "" {
		return nil
	}
	return &fnv1.ResourceSelector{
		ApiVersion: v1alpha1.SchemeGroupVersion.String(),
		Kind:       "LeaderWorkerSet",
		Match:      &fnv1.ResourceSelector_MatchName{MatchName: name},
		Namespace:  ptr.To(ns),
	}
}

// withClaimAnnotations adds to a claimed LeaderWorkerSet the annotations
// Crossplane left on its claim, as Crossplane supplied the claim.
func withClaimAnnotations(req *fnv1.RunFunctionRequest, l compose.LeaderWorkerSet) compose.LeaderWorkerSet {
	items := req.GetRequiredResources()[RequiredClaim].GetItems()
	if len(items) == 0 {
		return l
	}
	meta, _ := items[0].GetResource().AsMap()["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	for k, v := range annotations {
		s, ok := v.(string)
		if !ok || !reserved(k) {
			continue
		}
		if l.Annotations == nil {
			l.Annotations = map[string]string{}
		}
		l.Annotations[k] = s
	}
	return l
}

// reserved: an annotation key of a domain Crossplane does not copy from a
// claim to its composite.
func reserved(key string) bool {
	domain, _, ok := strings.Cut(key, "/")
	return ok && (strings.HasSuffix(domain, "k8s.io") || strings.HasSuffix(domain, "kubernetes.io"))
}
