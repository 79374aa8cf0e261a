// Package compose plans what a LeaderWorkerSet becomes: it defaults and
// validates the spec, splits the groups over the target clusters and renders,
// for each cluster, the RemoteLeaderWorkerSet managed resource that carries
// the cluster's rendered objects to the provider. It is pure; the composition
// function and `lws render` are thin shells over it.
package compose

import (
	"encoding/json"
	"fmt"
	"strings"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/placement"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
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

	// Input renders the cluster's objects, including each group's workers.
	Input render.Input

	// Resource is the managed resource that carries the cluster's share.
	Resource *v1alpha1.RemoteLeaderWorkerSet
}

// Plan defaults and validates a LeaderWorkerSet and renders one managed
// resource per target cluster. previous, when known, is the template of the
// revision already running, against which the update rules are checked.
func Plan(l LeaderWorkerSet, previous *revision.Template) ([]Target, error) {
	spec := lws.Default(&l.Spec)
	if err := lws.Validate(l.Name, l.Annotations, spec); err != nil {
		return nil, err
	}
	if previous != nil {
		if err := lws.ValidateUpdate(revision.Apply(spec, *previous), spec); err != nil {
			return nil, err
		}
	}
	payload, key, err := revision.Compute(spec)
	if err != nil {
		return nil, err
	}
	shares, err := placement.Split(spec)
	if err != nil {
		return nil, err
	}
	targets := make([]Target, 0, len(shares))
	for _, sh := range shares {
		t, err := target(l, spec, sh, payload, key)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", sh.Cluster, err)
		}
		targets = append(targets, t)
	}
	return targets, nil
}

func target(l LeaderWorkerSet, spec *v1alpha1.LeaderWorkerSetSpec, sh placement.Share, payload []byte, key string) (Target, error) {
	s := spec.DeepCopy()
	s.Replicas = &sh.Groups
	in := render.Input{
		Name:        l.Name,
		Namespace:   l.Namespace,
		Labels:      userKeys(l.Labels),
		Annotations: userKeys(l.Annotations),
		Spec:        s,
		RevisionKey: key,
	}
	leader, err := in.LeaderStatefulSet(Target{Share: sh}.Rollout())
	if err != nil {
		return Target{}, err
	}
	leaderRaw, err := raw(leader)
	if err != nil {
		return Target{}, err
	}
	var services []runtime.RawExtension
	for _, svc := range in.Services() {
		r, err := raw(svc)
		if err != nil {
			return Target{}, err
		}
		services = append(services, r)
	}
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
				Namespace:         l.Namespace,
				Name:              l.Name,
				Replicas:          sh.Groups,
				GroupOffset:       sh.Offset,
				StartupPolicy:     spec.StartupPolicy,
				Rollout:           sh.Rollout,
				Revision:          v1alpha1.Revision{Key: key, Payload: runtime.RawExtension{Raw: payload}},
				Metadata:          v1alpha1.ObjectMetadata{Labels: in.Labels, Annotations: in.Annotations},
				LeaderStatefulSet: leaderRaw,
				Services:          services,
				GroupRestart:      spec.GroupRestart.DeepCopy(),
			},
		},
	}
	return Target{Share: sh, Input: in, Resource: mr}, nil
}

// Rollout is the leader StatefulSet's rollout as first created: every group
// at the current revision, above the spec's partition.
func (t Target) Rollout() render.Rollout {
	return render.Rollout{
		Replicas:       t.Groups,
		Partition:      t.Share.Rollout.Partition,
		MaxUnavailable: t.Share.Rollout.MaxUnavailable,
		MaxSurge:       t.Share.Rollout.MaxSurge,
	}
}

func raw(obj any) (runtime.RawExtension, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return runtime.RawExtension{}, fmt.Errorf("cannot serialise rendered object: %w", err)
	}
	return runtime.RawExtension{Raw: b}, nil
}

// userKeys drops the metadata that Crossplane and kubectl keep on claims and
// composite resources; the rest is the user's, and is propagated to the
// StatefulSets as upstream propagates an LWS's own metadata.
func userKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.Contains(k, "crossplane.io/") || strings.HasPrefix(k, "kubectl.kubernetes.io/") {
			continue
		}
		out[k] = v
	}
	return out
}
