//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// BenchmarkRollout64 measures a rolling update of 64 groups of 8 at
// maxUnavailable 2 and maxSurge 2, from the template change to every group
// updated and ready, against the ideal: 16 steps of 4 groups (2 rolled, 2
// surge), each taking as long as one group of 8 takes to start as bare
// StatefulSets with the same pods (lwsFloor, measured in the same run).
// Pods take 1 s to start, so that the step time is the pods' and not the
// provider's. It runs with each WorkerLabels policy.
//
// A step replaces groups rather than creating them, so it also reports the
// rollout against 16 steps of replacing that bare group (lwsReplaceFloor):
// the StatefulSet controller's deletion of the old pods, their termination
// and their recreation are Kubernetes' cost of any step, not the
// provider's.
func BenchmarkRollout64(b *testing.B) {
	for _, labels := range []v1alpha1.WorkerLabelsPolicy{v1alpha1.WorkerLabelsPatch, v1alpha1.WorkerLabelsAdmissionPolicy} {
		b.Run("labels="+string(labels), func(b *testing.B) { benchRollout(b, labels) })
	}
}

func benchRollout(b *testing.B, labels v1alpha1.WorkerLabelsPolicy) {
	const groups, size, budget = 64, 8, 4
	e := startWith(b, testenv.Options{Name: "target", NodeAgent: nodeagent.Config{Pools: convergePools, StartDelay: time.Second},
		MutatingAdmissionPolicies: labels == v1alpha1.WorkerLabelsAdmissionPolicy})
	e.useWorkerLabels(b, labels, []*testenv.Cluster{e.target})
	ctx := context.Background()
	l := sample("rollout", "image:v0", groups, size)
	l.Spec.RolloutStrategy.RollingUpdateConfiguration = &v1alpha1.RollingUpdateConfiguration{MaxUnavailable: intstr.FromInt32(2), MaxSurge: intstr.FromInt32(2)}
	mr := managed(b, l)
	must(b, e.cp.Client.Create(ctx, mr))
	e.groupsReady(b, mr, groups, 5*time.Minute)

	start, err := compose.Plan(sample("group-start", "image:v0", 1, size), nil)
	must(b, err)
	var rollout, groupStart, groupReplace time.Duration
	for i := range b.N {
		r, err := lwsFloor(ctx, e.target, start[0])
		must(b, err)
		groupStart += r.Pods
		r, err = lwsReplaceFloor(ctx, e.target, start[0])
		must(b, err)
		groupReplace += r.Pods
		l.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Image = fmt.Sprintf("image:v%d", i+1)
		began := time.Now()
		e.update(b, mr, l)
		e.groupsReady(b, mr, groups, 10*time.Minute)
		rollout += time.Since(began)
	}
	steps := float64(groups / budget)
	b.ReportMetric(rollout.Seconds()/float64(b.N), "s-rollout")
	b.ReportMetric(groupStart.Seconds()/float64(b.N), "s-group-start")
	b.ReportMetric(groupReplace.Seconds()/float64(b.N), "s-group-replace")
	b.ReportMetric(rollout.Seconds()/(steps*groupStart.Seconds()), "ratio")
	b.ReportMetric(rollout.Seconds()/(steps*groupReplace.Seconds()), "ratio-replace")
}

// BenchmarkProviderRSS1000 runs the provider binary, as in production, with
// 1,000 groups of 2 over 3 target clusters (10 LeaderWorkerSets of 100
// groups, each spread over the three), and reports its resident set once
// every group is ready.
func BenchmarkProviderRSS1000(b *testing.B) {
	const lwsCount, groupsEach = 10, 100
	bin := filepath.Join(packagesDir(b), "provider") // the binary its package runs
	e := startClusters(b, testenv.Options{Name: "target"})
	targets := []*testenv.Cluster{e.target}
	var wg sync.WaitGroup
	more := make([]*testenv.Cluster, 2)
	for i := range more {
		wg.Go(func() { more[i] = testenv.Start(b, testenv.Options{Name: fmt.Sprintf("target-%d", i+1)}) })
	}
	wg.Wait()
	for i, c := range more {
		e.addConfig(b, fmt.Sprintf("target-%d", i+1), c)
		targets = append(targets, c)
	}
	provider := exec.Command(bin, "--metrics-bind-address="+e.metrics, "--health-probe-bind-address=0", "--poll=1m")
	provider.Env = append(os.Environ(), "KUBECONFIG="+e.cp.KubeconfigPath)
	provider.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	log, err := os.Create(filepath.Join(b.TempDir(), "provider.log"))
	must(b, err)
	provider.Stdout, provider.Stderr = log, log
	must(b, provider.Start())
	b.Cleanup(func() {
		_ = provider.Process.Kill()
		_ = provider.Wait()
	})

	ctx := context.Background()
	placement := &v1alpha1.Placement{Clusters: []v1alpha1.ClusterTarget{{Name: "default"}, {Name: "target-1"}, {Name: "target-2"}}}
	var mrs []*v1alpha1.RemoteLeaderWorkerSet
	for i := range lwsCount {
		l := sample(fmt.Sprintf("rss-%d", i), "image:v1", groupsEach, 2)
		l.Spec.Placement = placement
		for _, mr := range plan(b, l) {
			must(b, e.cp.Client.Create(ctx, mr))
			mrs = append(mrs, mr)
		}
	}
	for b.Loop() {
		for _, mr := range mrs {
			e.groupsReady(b, mr, mr.Spec.ForProvider.Replicas, 10*time.Minute)
		}
	}
	rss, err := testenv.ProcessRSS(provider.Process.Pid)
	must(b, err)
	b.ReportMetric(float64(rss)/(1<<20), "MiB-provider-rss")
	b.ReportMetric(float64(len(targets)), "clusters")
}
