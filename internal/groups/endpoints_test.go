package groups

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
)

func uniquePerReplica(l *compose.LeaderWorkerSet) {
	l.Spec.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
}

// withLeaderIPs gives leader i the IP 10.0.0.<10+i>.
func (c *cluster) withLeaderIPs() {
	for i := range 2 {
		c.pod("lws-" + itoa(i)).Status.PodIP = "10.0.0." + itoa(10+i)
	}
}

// applySlices writes a plan's EndpointSlices as the API server would.
func (c *cluster) applySlices(p *Plan) {
	for _, es := range p.EndpointSlices {
		es := es.DeepCopy()
		es.ResourceVersion = "1"
		c.EndpointSlices = append(c.EndpointSlices, *es)
	}
	for _, es := range p.EndpointSliceUpdates {
		*c.endpointSlice(es.Name) = *es.DeepCopy()
	}
}

// sliceView is what a test says of a planned EndpointSlice.
type sliceView struct {
	Name, Service, Hostname, IP string
	Ready, Serving              bool
	Owner, Target               types.UID
	// ResourceVersion is the one an update is made at.
	ResourceVersion string
}

func viewSlices(in []*discoveryv1.EndpointSlice) []sliceView {
	var out []sliceView
	for _, es := range in {
		ep := es.Endpoints[0]
		out = append(out, sliceView{
			Name: es.Name, Service: es.Labels[discoveryv1.LabelServiceName], Hostname: ptr.Deref(ep.Hostname, ""), IP: ep.Addresses[0],
			Ready: ptr.Deref(ep.Conditions.Ready, false), Serving: ptr.Deref(ep.Conditions.Serving, false),
			Owner: es.OwnerReferences[0].UID, Target: ep.TargetRef.UID, ResourceVersion: es.ResourceVersion,
		})
	}
	return out
}

func TestLeaderEndpointSlices(t *testing.T) {
	type args struct {
		edit    func(*compose.LeaderWorkerSet)
		prepare func(t *testing.T, c *cluster)
	}
	type want struct {
		Create, Update []sliceView
	}
	leader := func(i int, ip string, rv string) sliceView {
		name := "lws-" + itoa(i)
		return sliceView{Name: name + "-leader", Service: name, Hostname: name, IP: ip, Ready: true, Serving: true, Owner: types.UID(name), Target: types.UID(name), ResourceVersion: rv}
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"CreatedOnceLeadersHaveIPs": {
			reason: "Each leader gets an EndpointSlice in its group's Service, under its own name as hostname, owned by the leader pod.",
			args:   args{edit: uniquePerReplica, prepare: func(_ *testing.T, c *cluster) { c.withLeaderIPs() }},
			want:   want{Create: []sliceView{leader(0, "10.0.0.10", ""), leader(1, "10.0.0.11", "")}},
		},
		"NoneForShared": {
			reason: "Under Shared the leader's subdomain is the shared Service, which gives it its hostname already.",
			args:   args{prepare: func(_ *testing.T, c *cluster) { c.withLeaderIPs() }},
		},
		"NoneBeforeTheLeaderHasAnIP": {
			reason: "Nothing resolves before the leader has an IP.",
			args:   args{edit: uniquePerReplica, prepare: func(*testing.T, *cluster) {}},
		},
		"UpdatedWhenTheIPChanges": {
			reason: "A leader whose IP changed is updated in place, at the version it was read at.",
			args: args{edit: uniquePerReplica, prepare: func(t *testing.T, c *cluster) {
				c.withLeaderIPs()
				c.applySlices(compute(t, c))
				c.pod("lws-1").Status.PodIP = "10.0.0.99"
			}},
			want: want{Update: []sliceView{leader(1, "10.0.0.99", "1")}},
		},
		"UpdatedWhenReadinessChanges": {
			reason: "A leader no longer ready stops serving; it stays ready for DNS, as the group Service publishes not-ready addresses.",
			args: args{edit: uniquePerReplica, prepare: func(t *testing.T, c *cluster) {
				c.withLeaderIPs()
				c.applySlices(compute(t, c))
				c.pod("lws-0").Status.Conditions = nil
			}},
			want: want{Update: []sliceView{func() sliceView { v := leader(0, "10.0.0.10", "1"); v.Serving = false; return v }()}},
		},
		"TakenOverFromAPreviousLeaderPod": {
			reason: "A recreated leader takes over the slice its predecessor left, owner included, rather than waiting for the garbage collector.",
			args: args{edit: uniquePerReplica, prepare: func(t *testing.T, c *cluster) {
				c.withLeaderIPs()
				c.applySlices(compute(t, c))
				c.pod("lws-1").UID = "lws-1-new"
				c.pod("lws-1").Status.PodIP = "10.0.0.12"
			}},
			want: want{Update: []sliceView{func() sliceView {
				v := leader(1, "10.0.0.12", "1")
				v.Owner, v.Target = "lws-1-new", "lws-1-new"
				return v
			}()}},
		},
		"WaitsForASliceBeingDeleted": {
			reason: "A slice on its way out cannot be taken over; it is created anew once gone.",
			args: args{edit: uniquePerReplica, prepare: func(t *testing.T, c *cluster) {
				c.withLeaderIPs()
				c.applySlices(compute(t, c))
				c.endpointSlice("lws-1-leader").DeletionTimestamp = &metav1.Time{}
				c.pod("lws-1").Status.PodIP = "10.0.0.12"
			}},
		},
		"NothingAtSteadyState": {
			reason: "Slices as planned cost no write.",
			args: args{edit: uniquePerReplica, prepare: func(t *testing.T, c *cluster) {
				c.withLeaderIPs()
				c.applySlices(compute(t, c))
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var edits []func(*compose.LeaderWorkerSet)
			if tc.args.edit != nil {
				edits = append(edits, tc.args.edit)
			}
			c := newCluster(t, params(t, 2, 2, edits...))
			c.converge()
			tc.args.prepare(t, c)
			p := compute(t, c)
			got := want{Create: viewSlices(p.EndpointSlices), Update: viewSlices(p.EndpointSliceUpdates)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nEndpointSlices: -want, +got:\n%s", tc.reason, diff)
			}
			if len(got.Create)+len(got.Update) == 0 && p.Changes() {
				t.Errorf("%s\nwant no change at all, got %+v", tc.reason, p)
			}
		})
	}
}

func compute(t *testing.T, c *cluster) *Plan {
	t.Helper()
	p, err := Compute(&c.State, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLeaderEndpointSliceFollowsTheRenderedService: before the group's
// Service exists, the slice is rendered from the Service the same plan
// creates, so the two agree once both exist.
func TestLeaderEndpointSliceFollowsTheRenderedService(t *testing.T) {
	c := newCluster(t, params(t, 2, 2, uniquePerReplica))
	c.converge()
	c.withLeaderIPs()
	before := compute(t, c)
	c.Services = nil
	without := compute(t, c)
	if diff := cmp.Diff(before.EndpointSlices, without.EndpointSlices); diff != "" {
		t.Errorf("EndpointSlices with and without the group Services: -with, +without:\n%s", diff)
	}
	if len(without.Services) != 2 {
		t.Errorf("want both group Services planned again, got %d", len(without.Services))
	}
}
