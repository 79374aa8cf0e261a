package clusters

import (
	"context"
	"errors"
	"fmt"
	"time"

	schedulingv1alpha1 "k8s.io/api/scheduling/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/admission"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// ErrNoGangScheduler: a LeaderWorkerSet asks for gang scheduling and its
// cluster serves nothing that does it. Its groups are not created there,
// rather than scheduled pod by pod.
var ErrNoGangScheduler = errors.New("cannot gang-schedule groups")

const (
	workloadAPI = "a scheduling.k8s.io/v1alpha1 Workload API (Kubernetes 1.35 with the GenericWorkload and GangScheduling feature gates and --runtime-config=scheduling.k8s.io/v1alpha1=true)"
	volcanoAPI  = "Volcano's " + render.VolcanoPodGroupAPIVersion + " PodGroup"
)

var (
	workloadKind = schedulingv1alpha1.SchemeGroupVersion.WithKind("Workload")
	volcanoKind  = schema.FromAPIVersionAndKind(render.VolcanoPodGroupAPIVersion, render.VolcanoPodGroupKind)
)

// Gang is the gang scheduler that carries a managed resource's groups in
// its cluster: "" when its LeaderWorkerSet asks for none, and otherwise
// what it asks for, Auto choosing the Workload API where served and Volcano
// where not. Choosing the Workload API keeps the leaders' admission policy
// (admission.LeaderWorkloadPolicy) in the cluster, looked at again every
// PolicyInterval. Errors wrap ErrNoGangScheduler where the cluster lacks
// what the choice needs, and name the provider config.
func (m *Manager) Gang(ctx context.Context, mr *v1alpha1.RemoteLeaderWorkerSet) (lws.GangScheduler, error) {
	want, err := lws.GangOf(mr.Spec.ForProvider.Metadata.Annotations)
	if err != nil || want == "" {
		return "", err
	}
	c, err := m.Get(ctx, KeyFor(mr))
	if err != nil {
		return "", err
	}
	got, err := c.gang(want, m.opts.PolicyInterval)
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.key, err)
	}
	if got == lws.GangWorkload {
		if err := c.keepWorkloadPolicy(ctx, m.opts.PolicyInterval); err != nil {
			return "", fmt.Errorf("%s: %w", c.key, err)
		}
	}
	return got, nil
}

// gangAPIs are the gang APIs a cluster was found to serve, and when.
type gangAPIs struct {
	workload, volcano bool
	at                time.Time
}

// gang resolves want from what the cluster serves, as discovered at most
// interval ago: a kind the cluster does not serve costs a full discovery
// on every lookup, and a gang-scheduled LeaderWorkerSet looks on every
// reconcile.
func (c *Connection) gang(want lws.GangScheduler, interval time.Duration) (lws.GangScheduler, error) {
	apis := c.gangAPIs.Load()
	if apis == nil || time.Since(apis.at) >= interval {
		workload, err := c.serves(workloadKind)
		if err != nil {
			return "", err
		}
		volcano, err := c.serves(volcanoKind)
		if err != nil {
			return "", err
		}
		apis = &gangAPIs{workload: workload, volcano: volcano, at: time.Now()}
		c.gangAPIs.Store(apis)
	}
	return resolveGang(want, apis.workload, apis.volcano)
}

// resolveGang is the gang scheduler for want in a cluster that serves the
// Workload API or Volcano's PodGroup, or both, or neither.
func resolveGang(want lws.GangScheduler, workload, volcano bool) (lws.GangScheduler, error) {
	switch {
	case want == lws.GangWorkload && !workload:
		return "", fmt.Errorf("%w: the cluster serves no %s", ErrNoGangScheduler, workloadAPI)
	case want == lws.GangVolcano && !volcano:
		return "", fmt.Errorf("%w: the cluster serves no %s", ErrNoGangScheduler, volcanoAPI)
	case want == lws.GangAuto && workload, want == lws.GangWorkload:
		return lws.GangWorkload, nil
	case want == lws.GangAuto && volcano, want == lws.GangVolcano:
		return lws.GangVolcano, nil
	default:
		return "", fmt.Errorf("%w: the cluster serves neither %s nor %s", ErrNoGangScheduler, workloadAPI, volcanoAPI)
	}
}

// serves tells whether the cluster serves a kind, by its discovery.
func (c *Connection) serves(gvk schema.GroupVersionKind) (bool, error) {
	_, err := c.cluster.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot discover %s: %w", gvk, err)
	}
	return true, nil
}

// keepWorkloadPolicy keeps the leaders' workload policy, at most once per
// interval per connection: it is read on every reconcile of a
// gang-scheduled LeaderWorkerSet.
func (c *Connection) keepWorkloadPolicy(ctx context.Context, interval time.Duration) error {
	if last := c.workloadPolicyKept.Load(); last != 0 && time.Since(time.Unix(0, last)) < interval {
		return nil
	}
	if _, err := keepPolicy(ctx, c, admission.LeaderWorkloadPolicy); err != nil {
		if errors.Is(err, ErrNoAdmissionPolicyAPI) {
			err = fmt.Errorf("%w: a leader's workload reference is set at admission: %w", ErrNoGangScheduler, err)
		}
		return fmt.Errorf("cannot keep MutatingAdmissionPolicy %s: %w", admission.WorkloadPolicyName, err)
	}
	c.workloadPolicyKept.Store(time.Now().UnixNano())
	return nil
}
