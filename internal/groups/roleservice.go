package groups

import (
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// roleService creates the role Service the managed resource asks for, and
// deletes the role Services it no longer asks for. The DisaggregatedSet's
// function decides when (once the revision is ready in every role).
func (p *Plan) roleService(s *State, in render.Input) {
	want := s.Params.RoleService
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.Labels[lws.LabelRoleService] != "" && (want == nil || svc.Name != want.Name) {
			p.StaleServices = append(p.StaleServices, svc)
		}
	}
	if want != nil && !s.service(want.Name) {
		p.Services = append(p.Services, in.RoleService(*want))
	}
}
