// Package compose plans what a LeaderWorkerSet becomes: it defaults and
// validates the spec, splits the groups over the target clusters and writes,
// for each cluster, the RemoteLeaderWorkerSet managed resource that carries
// the cluster's share of the LeaderWorkerSet to the provider. It renders
// nothing: the provider owns rendering (package groups), so that the
// objects in a target cluster change only with the provider, inside a
// rollout. It is pure; the composition function and `lws render` are thin
// shells over it.
package compose

import (
	"strings"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
	"github.com/lws-crossplane/lws-crossplane/internal/revision"
)

// LeaderWorkerSet is a LeaderWorkerSet as its user wrote it, read from a
// claim or a composite resource.
type LeaderWorkerSet struct {
	Name        string
	Namespace   string
	Labels      map[string]string
	Annotations map[string]string
	Spec        v1alpha1.LeaderWorkerSetSpec
}

// Target is one cluster's part of a plan.
type Target struct {
	placement.Share

	// Resource is the managed resource that carries the cluster's share.
	Resource *v1alpha1.RemoteLeaderWorkerSet
}

// Plan defaults and validates a LeaderWorkerSet and writes one managed
// resource per target cluster, shared as its placement says. previous, when
// known, is the template of the revision already running, against which the
// update rules are checked.
func Plan(l LeaderWorkerSet, previous *revision.Template) ([]Target, error) {
	p, err := PlanObserved(l, previous, nil, time.Time{})
	return p.Targets, err
}

// Placement is a LeaderWorkerSet planned by what is observed of its
// clusters.
type Placement struct {
	Targets []Target
	// Lost, Short, Spilled, Recheck and the budget are placement's: see
	// placement.Placed.
	Lost, Short, Spilled     []string
	Moved                    []string
	Recheck                  time.Duration
	MaxUnavailable, MaxSurge int32
}

// PlanObserved is Plan with the groups placed by what is observed of each
// cluster at now (placement.Place): capacity and failover.
func PlanObserved(l LeaderWorkerSet, previous *revision.Template, observed map[string]placement.Observed, now time.Time) (Placement, error) {
	spec := lws.Default(&l.Spec)
	if err := lws.Validate(l.Name, l.Annotations, spec); err != nil {
		return Placement{}, err
	}
	if previous != nil {
		if err := lws.ValidateUpdate(revision.Apply(spec, *previous), spec); err != nil {
			return Placement{}, err
		}
	}
	payload, key, err := revision.Compute(spec)
	if err != nil {
		return Placement{}, err
	}
	placed, err := placement.Place(spec, placement.DemandOf(spec, l.Annotations[lws.AnnotationExclusiveTopology], l.Namespace+"/"+l.Name), observed, now)
	if err != nil {
		return Placement{}, err
	}
	p := Placement{Lost: placed.Lost, Short: placed.Short, Spilled: placed.Spilled, Moved: placed.Moved, Recheck: placed.Recheck, MaxUnavailable: placed.MaxUnavailable, MaxSurge: placed.MaxSurge}
	for _, sh := range placed.Shares {
		p.Targets = append(p.Targets, target(l, spec, sh, payload, key))
	}
	return p, nil
}

func target(l LeaderWorkerSet, spec *v1alpha1.LeaderWorkerSetSpec, sh placement.Share, payload []byte, key string) Target {
	mr := &v1alpha1.RemoteLeaderWorkerSet{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.RemoteLeaderWorkerSetKind},
		// A name of its own lets an autoscaler or a user find the
		// cluster's managed resource: "<name>-<cluster>".
		ObjectMeta: metav1.ObjectMeta{Name: l.Name + "-" + sh.Cluster, Namespace: l.Namespace},
		Spec: v1alpha1.RemoteLeaderWorkerSetSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{
				ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: sh.ProviderConfig.Kind, Name: sh.ProviderConfig.Name},
			},
			ForProvider: v1alpha1.RemoteLeaderWorkerSetParameters{
				Namespace:     l.Namespace,
				Name:          l.Name,
				Replicas:      sh.Groups,
				StartupPolicy: spec.StartupPolicy,
				Rollout:       sh.Rollout,
				Revision:      v1alpha1.Revision{Key: key, Payload: runtime.RawExtension{Raw: payload}},
				Metadata:      v1alpha1.ObjectMetadata{Labels: userKeys(l.Labels), Annotations: userKeys(l.Annotations)},
				GroupRestart:  spec.GroupRestart.DeepCopy(),
			},
		},
	}
	return Target{Share: sh, Resource: mr}
}

// userKeys drops the metadata that Crossplane and kubectl keep on claims and
// composite resources; the rest is the user's, and is propagated to the
// StatefulSets as upstream propagates an LWS's own metadata. Our own
// annotation for users (gang scheduling) is kept.
func userKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != lws.AnnotationGangScheduling && (strings.Contains(k, "crossplane.io/") || strings.HasPrefix(k, "kubectl.kubernetes.io/")) {
			continue
		}
		out[k] = v
	}
	return out
}
