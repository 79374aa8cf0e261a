package dscompose

import (
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/disagg"
	"github.com/lws-crossplane/lws-crossplane/internal/dsplan"
)

// serviceRevisions are the revisions of a slice whose role Services should
// exist: the current one once every role has a ready group, and an older
// one that has them while every role still has a ready group.
func serviceRevisions(rev string, roles []dsplan.Role, sets []Set) map[string]bool {
	ready := map[string]map[string]bool{} // revision → role → a ready group
	has := map[string]bool{}
	for _, s := range sets {
		if ready[s.Revision] == nil {
			ready[s.Revision] = map[string]bool{}
		}
		mr := s.Resource
		if mr.Status.AtProvider.ReadyReplicas > 0 && mr.Status.AtProvider.ObservedGeneration >= mr.Generation {
			ready[s.Revision][s.Role] = true
		}
		if mr.Spec.ForProvider.RoleService != nil {
			has[s.Revision] = true
		}
	}
	out := map[string]bool{}
	for r, byRole := range ready {
		all := true
		for _, role := range roles {
			all = all && byRole[role.Name]
		}
		out[r] = all && (r == rev || has[r]) || r == rev && has[r]
	}
	return out
}

// roleService asks for the set's role Service if its revision has them.
func roleService(mr *v1alpha1.RemoteLeaderWorkerSet, set disagg.Set, services map[string]bool) {
	mr.Spec.ForProvider.RoleService = nil
	if services[set.Revision] {
		mr.Spec.ForProvider.RoleService = &v1alpha1.RoleService{Name: set.ServiceName(), Selector: set.ServiceSelector()}
	}
}

// sliceCluster is the cluster a slice runs in: that of its managed
// resources, else the one it is given.
func sliceCluster(sets []Set, given string) string {
	for _, s := range sets {
		if s.Cluster != "" {
			return s.Cluster
		}
	}
	return given
}

// roleStatuses sum each role's groups over slices and revisions, in the
// order of spec.roles; the DisaggregatedSet is available when every role
// has exactly its groups of every slice, all ready and updated.
func roleStatuses(spec v1alpha1.DisaggregatedSetSpec, rev string, targets map[string]int32, observed []Set) ([]v1alpha1.RoleStatus, bool) {
	out := make([]v1alpha1.RoleStatus, len(spec.Roles))
	available := true
	for i, r := range spec.Roles {
		st := v1alpha1.RoleStatus{Name: r.Name}
		for _, s := range observed {
			if s.Role != r.Name {
				continue
			}
			at := s.Resource.Status.AtProvider
			st.Replicas += at.Replicas
			st.ReadyReplicas += at.ReadyReplicas
			if s.Revision == rev {
				st.UpdatedReplicas += at.UpdatedReplicas
			}
		}
		want := *spec.Slices * targets[r.Name]
		available = available && st.Replicas == want && st.ReadyReplicas == want && st.UpdatedReplicas == want
		out[i] = st
	}
	return out, available
}
