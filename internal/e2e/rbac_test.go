//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestLeastPrivilegeIdentity: through an identity granted nothing but
// examples/rbac/target-cluster.yaml, the provider runs a LeaderWorkerSet
// with every feature that needs a permission of its own in the target
// cluster: worker StatefulSets, revisions and their pruning after a
// rollout, the per-group Services and leader EndpointSlices of
// UniquePerReplica, the nodes of exclusive placement, the worker-index
// admission policy, a group restart, deletion, a missing namespace
// created and deleted with its LeaderWorkerSet, and gang scheduling by the
// Workload API (its admission policy, and a Workload per group).
func TestLeastPrivilegeIdentity(t *testing.T) {
	e := startWith(t, testenv.Options{Name: "target", MutatingAdmissionPolicies: true, NodeAgent: nodeagent.Config{Pools: nodeagent.DefaultPools()}}.WithGangScheduling())
	ctx := context.Background()
	testenv.Eventually(t, 30*time.Second, "namespace kube-system", func(ctx context.Context) (bool, error) {
		err := e.target.Client.Get(ctx, client.ObjectKey{Name: "kube-system"}, &corev1.Namespace{})
		if kerrors.IsNotFound(err) {
			return false, testenv.Pendingf("not created yet")
		}
		return err == nil, err
	})
	must(t, testenv.ApplyFiles(ctx, e.target, filepath.Join("..", "..", "examples", "rbac", "target-cluster.yaml")))
	// The manifest binds the ServiceAccount kube-system/provider-lws; a
	// client certificate with its user name and groups is that identity.
	kubeconfig, err := e.target.KubeconfigFor("system:serviceaccount:kube-system:provider-lws",
		"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated")
	must(t, err)
	e.addConfigFor(t, "restricted", kubeconfig)
	e.setWorkerLabels(t, "restricted", v1alpha1.WorkerLabelsAdmissionPolicy)

	l := sample("restricted", "image:v1", 2, 3)
	l.Annotations = map[string]string{lws.AnnotationExclusiveTopology: nodeagent.LabelZone}
	l.Spec.NetworkConfig = &v1alpha1.NetworkConfig{SubdomainPolicy: ptr.To(v1alpha1.SubdomainUniquePerReplica)}
	l.Spec.Placement = &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "restricted"}}}
	mr := managed(t, l)
	must(t, e.cp.Client.Create(ctx, mr))
	e.groupsReady(t, mr, 2, time.Minute)
	e.policyAdmits(t, e.target)
	for i := range 2 {
		e.leaderResolves(t, "restricted", i, "")
	}

	leader := &corev1.Pod{}
	must(t, e.target.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "restricted-0"}, leader))
	must(t, e.target.Nodes.RestartContainer(ctx, "default", leader.Name, "c"))
	testenv.Eventually(t, time.Minute, "group 0 recreated", func(ctx context.Context) (bool, error) {
		now := &corev1.Pod{}
		if err := e.target.Client.Get(ctx, client.ObjectKeyFromObject(leader), now); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return now.UID != leader.UID, nil
	})
	e.groupsReady(t, mr, 2, time.Minute)

	l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "image:v2"
	e.update(t, mr, l)
	e.groupsReady(t, mr, 2, 2*time.Minute)

	must(t, e.cp.Client.Delete(ctx, mr))
	testenv.Eventually(t, 40*time.Second, "everything of restricted deleted", func(ctx context.Context) (bool, error) {
		if left := len(pods(t, e.target, "restricted")); left > 0 {
			return false, testenv.Pendingf("%d pods left", left)
		}
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(mr), got)
		if kerrors.IsNotFound(err) {
			return true, nil
		}
		var sts appsv1.StatefulSetList
		var revs appsv1.ControllerRevisionList
		_ = e.target.Client.List(ctx, &sts, client.MatchingLabels{lws.LabelName: "restricted"})
		_ = e.target.Client.List(ctx, &revs, client.MatchingLabels{lws.LabelName: "restricted"})
		var left []string
		for _, x := range sts.Items {
			left = append(left, fmt.Sprintf("sts %s %v", x.Name, x.Finalizers))
		}
		for _, x := range revs.Items {
			left = append(left, fmt.Sprintf("rev %s %v", x.Name, x.OwnerReferences))
		}
		return false, testenv.Pendingf("managed resource still there (%v): %+v; left %v", err, got.Status.Conditions, left)
	})

	// A namespace missing in the cluster is created, and deleted with the
	// LeaderWorkerSet, by the same identity.
	own := e.inNamespace(t, "restricted-ns", "team-r")
	own.Spec.ProviderConfigReference.Name = "restricted"
	must(t, e.cp.Client.Create(ctx, own))
	e.groupsReady(t, own, 1, time.Minute)
	must(t, e.cp.Client.Delete(ctx, own))
	namespaceGone(t, e.target, "team-r")

	gang := gangSample("restricted-gang", "image:v1", 2, lws.GangWorkload)
	gang.Spec.Placement = &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "restricted"}}}
	gmr := managed(t, gang)
	must(t, e.cp.Client.Create(ctx, gmr))
	e.groupsReady(t, gmr, 1, time.Minute)
	e.groupBound(t, gmr, 2)
}
