package localenv

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// Table writes one line per group of every managed resource: its cluster,
// LeaderWorkerSet, group, leader state, ready workers and revision. It
// reports whether every managed resource is Ready with every group updated.
func (e *Env) Table(ctx context.Context, w io.Writer) (bool, error) {
	claimsReady, err := e.claims(ctx, w)
	if err != nil {
		return false, err
	}
	var mrs v1alpha1.RemoteLeaderWorkerSetList
	if err := e.ControlPlane.Client.List(ctx, &mrs); err != nil {
		return false, err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tLEADERWORKERSET\tREADY\tGROUP\tLEADER\tWORKERS\tREVISION")
	all := true
	for _, mr := range mrs.Items {
		p := mr.Spec.ForProvider
		// Ready, and for the current spec: right after an edit, Ready is
		// still that of the spec before.
		at := mr.Status.AtProvider
		all = all && mr.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue &&
			at.ObservedGeneration == mr.Generation && at.UpdatedReplicas == p.Replicas
		cluster := Configs[mr.GetProviderConfigReference().Name]
		target := e.Targets[cluster]
		if target == nil {
			continue
		}
		state := fmt.Sprintf("%d/%d", mr.Status.AtProvider.ReadyReplicas, p.Replicas)
		var pods corev1.PodList
		if err := target.Client.List(ctx, &pods, client.InNamespace(p.Namespace), client.MatchingLabels{lws.LabelName: p.Name, lws.LabelWorkerIndex: "0"}); err != nil {
			return false, err
		}
		slices.SortFunc(pods.Items, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
		if len(pods.Items) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\n", cluster, p.Name, state)
		}
		for _, l := range pods.Items {
			workers := "-"
			sts := &appsv1.StatefulSet{}
			if err := target.Client.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: l.Name}, sts); err == nil {
				workers = fmt.Sprintf("%d/%d", sts.Status.ReadyReplicas, *sts.Spec.Replicas)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cluster, p.Name, state, l.Labels[lws.LabelGroupIndex], leaderState(&l), workers, l.Labels[lws.LabelRevisionKey])
		}
	}
	return claimsReady && all && len(mrs.Items) > 0, tw.Flush()
}

// claims writes one line per claim and composite resource: the status
// Crossplane reports, which the composition function sums over clusters.
// It reports whether every one is Ready with all its groups updated.
func (e *Env) claims(ctx context.Context, w io.Writer) (bool, error) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tSYNCED\tREADY\tGROUPS\tUPDATED\tCLUSTERS\tCONDITIONS")
	all := true
	for _, kind := range []string{"LeaderWorkerSet", "XLeaderWorkerSet"} {
		items, err := e.list(ctx, kind)
		if err != nil {
			return false, err
		}
		for _, u := range items {
			replicas, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
			ready, _, _ := unstructured.NestedInt64(u.Object, "status", "readyReplicas")
			updated, _, _ := unstructured.NestedInt64(u.Object, "status", "updatedReplicas")
			clusters, _, _ := unstructured.NestedString(u.Object, "status", "clustersReady")
			status, active := conditions(&u)
			all = all && status["Ready"] == "True" && ready == updated && updated >= replicas
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\n", kind, u.GetName(), status["Synced"], status["Ready"], ready, replicas, updated, clusters, strings.Join(active, ","))
		}
	}
	dsReady, err := e.disaggregatedSets(ctx, tw)
	if err != nil {
		return false, err
	}
	fmt.Fprintln(tw)
	return all && dsReady, tw.Flush()
}

// disaggregatedSets writes one line per DisaggregatedSet claim and
// composite resource: its groups summed over roles and slices, and the
// clusters of its slices. It reports whether every one is Available.
func (e *Env) disaggregatedSets(ctx context.Context, tw io.Writer) (bool, error) {
	all := true
	for _, kind := range []string{"DisaggregatedSet", "XDisaggregatedSet"} {
		items, err := e.list(ctx, kind)
		if err != nil {
			return false, err
		}
		for _, u := range items {
			var ready, updated, replicas int64
			roles, _, _ := unstructured.NestedSlice(u.Object, "status", "roleStatuses")
			for _, r := range roles {
				m, _ := r.(map[string]any)
				for field, sum := range map[string]*int64{"readyReplicas": &ready, "updatedReplicas": &updated, "replicas": &replicas} {
					n, _, _ := unstructured.NestedInt64(m, field)
					*sum += n
				}
			}
			clusters := map[string]bool{}
			sl, _, _ := unstructured.NestedSlice(u.Object, "status", "slices")
			for _, x := range sl {
				m, _ := x.(map[string]any)
				clusters[fmt.Sprint(m["cluster"])] = true
			}
			status, active := conditions(&u)
			all = all && status["Available"] == "True"
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\n", kind, u.GetName(), status["Synced"], status["Ready"], ready, replicas, updated, strings.Join(slices.Sorted(maps.Keys(clusters)), ","), strings.Join(active, ","))
		}
	}
	return all, nil
}

// list lists the claims or composite resources of a kind of ours.
func (e *Env) list(ctx context.Context, kind string) ([]unstructured.Unstructured, error) {
	var l unstructured.UnstructuredList
	l.SetAPIVersion(v1alpha1.Group + "/v1alpha1")
	l.SetKind(kind + "List")
	if err := e.ControlPlane.Client.List(ctx, &l); err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", kind, err)
	}
	return l.Items, nil
}

// conditions are the status of each condition of a claim or composite
// resource, and the True ones other than Ready and Synced, sorted.
func conditions(u *unstructured.Unstructured) (map[string]string, []string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var active []string
	status := map[string]string{}
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, st := fmt.Sprint(m["type"]), fmt.Sprint(m["status"])
		status[typ] = st
		if st == "True" && typ != "Ready" && typ != "Synced" {
			active = append(active, typ)
		}
	}
	slices.Sort(active)
	return status, active
}

func leaderState(p *corev1.Pod) string {
	switch {
	case p.DeletionTimestamp != nil:
		return "Terminating"
	case len(p.Spec.SchedulingGates) > 0:
		return "Gated"
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return "Ready"
		}
	}
	return string(p.Status.Phase)
}
