package groups

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func TestRoleService(t *testing.T) {
	selector := map[string]string{"disaggregatedset.x-k8s.io/name": "llm", "disaggregatedset.x-k8s.io/revision": "r1"}
	names := func(svcs []corev1.Service) []string {
		var out []string
		for _, s := range svcs {
			out = append(out, s.Name)
		}
		slices.Sort(out)
		return out
	}
	c := newCluster(t, params(t, 1, 2))
	c.converge()
	if got := names(c.Services); !slices.Equal(got, []string{"lws"}) {
		t.Fatalf("Services %v without a role Service asked for, want [lws]", got)
	}

	t.Run("CreatedWhenAskedFor", func(t *testing.T) {
		c.Params.RoleService = &v1alpha1.RoleService{Name: "lws-prv", Selector: selector}
		c.converge()
		if got := names(c.Services); !slices.Equal(got, []string{"lws", "lws-prv"}) {
			t.Fatalf("Services %v, want [lws lws-prv]", got)
		}
		svc := c.Services[slices.IndexFunc(c.Services, func(s corev1.Service) bool { return s.Name == "lws-prv" })]
		if svc.Spec.ClusterIP != corev1.ClusterIPNone || len(svc.Spec.Ports) != 0 || svc.Spec.Selector["disaggregatedset.x-k8s.io/revision"] != "r1" {
			t.Errorf("role Service spec %+v: want headless, without ports, selecting the role's pods", svc.Spec)
		}
		if svc.Labels[lws.LabelName] != "lws" || svc.Labels[lws.LabelRoleService] == "" {
			t.Errorf("role Service labels %v: it must be found as the LeaderWorkerSet's, and as a role Service", svc.Labels)
		}
	})
	t.Run("DeletedWhenNoLongerAskedFor", func(t *testing.T) {
		c.Params.RoleService = nil
		c.converge()
		if got := names(c.Services); !slices.Equal(got, []string{"lws"}) {
			t.Fatalf("Services %v, want the LeaderWorkerSet's own only", got)
		}
	})
	t.Run("RenamedIsReplaced", func(t *testing.T) {
		c.Params.RoleService = &v1alpha1.RoleService{Name: "a-prv", Selector: selector}
		c.converge()
		c.Params.RoleService = &v1alpha1.RoleService{Name: "b-prv", Selector: selector}
		c.converge()
		if got := names(c.Services); !slices.Equal(got, []string{"b-prv", "lws"}) {
			t.Fatalf("Services %v, want [b-prv lws]", got)
		}
	})
}
