//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// update replaces a managed resource's parameters with a new rendering.
func (e *env) update(t testing.TB, mr *v1alpha1.RemoteLeaderWorkerSet, l compose.LeaderWorkerSet) {
	t.Helper()
	e.updateParams(t, mr, managed(t, l).Spec.ForProvider)
}

// updateParams replaces a managed resource's parameters.
func (e *env) updateParams(t testing.TB, mr *v1alpha1.RemoteLeaderWorkerSet, params v1alpha1.RemoteLeaderWorkerSetParameters) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got := &v1alpha1.RemoteLeaderWorkerSet{}
		if err := e.cp.Client.Get(context.Background(), client.ObjectKeyFromObject(mr), got); err != nil {
			return err
		}
		got.Spec.ForProvider = params
		return e.cp.Client.Update(context.Background(), got)
	}))
}

func (e *env) workerSets(t testing.TB, name string) []appsv1.StatefulSet {
	t.Helper()
	var l appsv1.StatefulSetList
	must(t, e.target.Client.List(context.Background(), &l, client.InNamespace("default"), client.MatchingLabels{lws.LabelName: name}))
	var out []appsv1.StatefulSet
	for _, s := range l.Items {
		if s.Name != name {
			out = append(out, s)
		}
	}
	return out
}

// TestScenarios runs upstream's controller scenarios (its controller integration tests) through
// the provider on real clusters, sharing one environment.
func TestScenarios(t *testing.T) {
	e := start(t)
	ctx := context.Background()

	t.Run("ScaleUpDownToZeroAndBack", func(t *testing.T) {
		l := sample("scale", "image:v1", 2, 2)
		mr := managed(t, l)
		must(t, e.cp.Client.Create(ctx, mr))
		e.groupsReady(t, mr, 2, time.Minute)
		for _, r := range []int32{3, 1, 0, 2} {
			l.Spec.Replicas = ptr.To(r)
			e.update(t, mr, l)
			e.groupsReady(t, mr, r, time.Minute)
			testenv.Eventually(t, 30*time.Second, "one worker StatefulSet per group", func(context.Context) (bool, error) {
				return len(e.workerSets(t, "scale")) == int(r), nil
			})
		}
	})

	t.Run("ScaleSubresource", func(t *testing.T) {
		mr := managed(t, sample("scaled", "image:v1", 2, 2))
		must(t, e.cp.Client.Create(ctx, mr))
		e.groupsReady(t, mr, 2, time.Minute)
		scale := &autoscalingv1.Scale{}
		must(t, e.cp.Client.SubResource("scale").Get(ctx, mr, scale))
		if want := "leaderworkerset.sigs.k8s.io/name=scaled,leaderworkerset.sigs.k8s.io/worker-index=0"; scale.Status.Selector != want || scale.Spec.Replicas != 2 || scale.Status.Replicas != 2 {
			t.Fatalf("scale: want spec 2, status 2, selector %q (the leaders), got %d, %d, %q", want, scale.Spec.Replicas, scale.Status.Replicas, scale.Status.Selector)
		}
		scale.Spec.Replicas = 3
		must(t, e.cp.Client.SubResource("scale").Update(ctx, mr, client.WithSubResourceBody(scale)))
		e.groupsReady(t, mr, 3, time.Minute)
	})

	t.Run("StartupPolicyLeaderReady", func(t *testing.T) {
		undo := e.target.Nodes.NeverReady("default", labels.SelectorFromSet(labels.Set{lws.LabelName: "leaderready"}))
		l := sample("leaderready", "image:v1", 2, 2)
		l.Spec.StartupPolicy = v1alpha1.LeaderReadyStartupPolicy
		mr := managed(t, l)
		must(t, e.cp.Client.Create(ctx, mr))
		testenv.Eventually(t, 30*time.Second, "leaders running", func(context.Context) (bool, error) {
			n := 0
			for _, p := range e.pods(t, "leaderready") {
				if p.Status.Phase == corev1.PodRunning {
					n++
				}
			}
			return n == 2, nil
		})
		if n := len(e.workerSets(t, "leaderready")); n != 0 {
			t.Fatalf("LeaderReady: no workers while the leaders are not ready, got %d worker StatefulSets", n)
		}
		undo()
		e.groupsReady(t, mr, 2, time.Minute)
	})

	t.Run("PartitionCanary", func(t *testing.T) {
		l := sample("canary", "image:v1", 4, 2)
		l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{Partition: ptr.To[int32](2), MaxUnavailable: intstr.FromInt32(1)}
		mr := managed(t, l)
		must(t, e.cp.Client.Create(ctx, mr))
		e.groupsReady(t, mr, 4, time.Minute)
		l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = "image:v2"
		e.update(t, mr, l)
		testenv.Eventually(t, time.Minute, "groups 2 and 3 updated, 0 and 1 held", func(context.Context) (bool, error) {
			for _, p := range e.pods(t, "canary") {
				updated := p.Spec.Containers[0].Image == "image:v2"
				held := strings.HasPrefix(p.Name, "canary-0") || strings.HasPrefix(p.Name, "canary-1")
				if updated == held || len(p.Spec.SchedulingGates) > 0 {
					return false, nil
				}
			}
			return len(e.pods(t, "canary")) == 8, nil
		})
	})

	t.Run("UnreachableClusterDegradesOnlyItsOwn", func(t *testing.T) {
		must(t, e.cp.Client.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "gone", Namespace: "crossplane-system"},
			Data:       map[string][]byte{"kubeconfig": []byte(strings.ReplaceAll(string(e.target.Kubeconfig), e.target.Config.Host, "https://127.0.0.1:1"))},
		}))
		must(t, e.cp.Client.Create(ctx, &v1alpha1.ClusterProviderConfig{
			ObjectMeta: metav1.ObjectMeta{Name: "gone"},
			Spec: v1alpha1.ProviderConfigSpec{Credentials: v1alpha1.ProviderCredentials{Source: xpv2.CredentialsSourceSecret,
				CommonCredentialSelectors: xpv2.CommonCredentialSelectors{SecretRef: &xpv2.SecretKeySelector{
					SecretReference: xpv2.SecretReference{Namespace: "crossplane-system", Name: "gone"}, Key: "kubeconfig"}}}},
		}))
		l := sample("unreachable", "image:v1", 1, 2)
		l.Spec.Placement = &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "gone"}}}
		bad := managed(t, l)
		must(t, e.cp.Client.Create(ctx, bad))
		good := managed(t, sample("reachable", "image:v1", 1, 2))
		must(t, e.cp.Client.Create(ctx, good))
		e.groupsReady(t, good, 1, time.Minute)
		testenv.Eventually(t, time.Minute, "the unreachable cluster's resource says so", func(ctx context.Context) (bool, error) {
			got := &v1alpha1.RemoteLeaderWorkerSet{}
			if err := e.cp.Client.Get(ctx, client.ObjectKeyFromObject(bad), got); err != nil {
				return false, err
			}
			c := got.GetCondition(xpv2.TypeSynced)
			if c.Status != corev1.ConditionFalse || !strings.Contains(c.Message, "gone") {
				return false, testenv.Pendingf("Synced %s: %s", c.Status, c.Message)
			}
			return true, nil
		})
	})
}
