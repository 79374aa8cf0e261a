// Package render turns a defaulted LeaderWorkerSet into the Kubernetes objects
// that run it in one target cluster: the leader StatefulSet, each group's
// worker StatefulSet, the headless Services, and the labels, annotations and
// environment that upstream LeaderWorkerSet's pod webhook would give each pod.
// It is pure: no client, no clock. The composition function, the provider
// and `lws render` all call it, so every path renders the same objects.
package render

import (
	"strconv"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Input is one LeaderWorkerSet as it runs in one target cluster.
type Input struct {
	// Name and Namespace of the LeaderWorkerSet in the target cluster.
	Name      string
	Namespace string

	// Labels and Annotations are the LeaderWorkerSet's own metadata, which
	// upstream propagates to both kinds of StatefulSet.
	Labels      map[string]string
	Annotations map[string]string

	// Spec is defaulted. For a group's workers it carries the template of
	// the group's revision, not necessarily the current one.
	Spec *v1alpha1.LeaderWorkerSetSpec

	// RevisionKey is the key of the revision Spec's template belongs to.
	RevisionKey string

	// RenderVersion is the render version to render at (Version).
	RenderVersion int

	// Gang is the gang scheduler that carries the groups in this cluster
	// (lws.GangWorkload or lws.GangVolcano), resolved by the provider from
	// the LeaderWorkerSet's annotation and what the cluster serves; empty
	// without gang scheduling.
	Gang lws.GangScheduler
}

func (in Input) Size() int32 { return *in.Spec.LeaderWorkerTemplate.Size }

func (in Input) UniquePerReplica() bool {
	nc := in.Spec.NetworkConfig
	return nc != nil && nc.SubdomainPolicy != nil && *nc.SubdomainPolicy == v1alpha1.SubdomainUniquePerReplica
}

func (in Input) exclusiveTopology() string {
	return in.Annotations[lws.AnnotationExclusiveTopology]
}

func (in Input) subGroupExclusiveTopology() string {
	return in.Annotations[lws.AnnotationSubGroupExclusiveTopology]
}

// subdomain is the Service a pod of the group resolves under: the shared one,
// or under UniquePerReplica the group's own.
func (in Input) subdomain(group int) string {
	if in.UniquePerReplica() {
		return lws.LeaderPodName(in.Name, group)
	}
	return in.Name
}

// merge returns user keys overlaid by the controller's, which win on a
// clash as upstream's do.
func merge(user, controller map[string]string) map[string]string {
	out := make(map[string]string, len(user)+len(controller))
	for k, v := range user {
		out[k] = v
	}
	for k, v := range controller {
		out[k] = v
	}
	return out
}

func itoa[T ~int | ~int32](i T) string { return strconv.Itoa(int(i)) }
