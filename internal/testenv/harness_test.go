//go:build e2e

package testenv_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// TestClustersAreIsolatedAndStop starts two clusters, checks that objects
// and nodes of one are invisible in the other and that each kubeconfig
// file works, then stops them and checks that no process is left.
func TestClustersAreIsolatedAndStop(t *testing.T) {
	clusters := testenv.StartN(t, 2, testenv.Options{
		Name:      "iso",
		NodeAgent: nodeagent.Config{Pools: []nodeagent.Pool{{Name: "only", Nodes: 2}}},
	})
	a, b := clusters[0], clusters[1]
	if a.Config.Host == b.Config.Host {
		t.Fatalf("both clusters serve on %s", a.Config.Host)
	}

	ns := a.CreateNamespace(t, "only-in-a")
	if _, err := b.Clientset.CoreV1().Namespaces().Get(ctxFor(t), ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s of cluster a seen in cluster b: %v", ns, err)
	}
	for _, c := range clusters {
		cfg, err := clientcmd.RESTConfigFromKubeConfig(mustRead(t, c.KubeconfigPath))
		if err != nil {
			t.Fatalf("loading %s: %v", c.KubeconfigPath, err)
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := cs.CoreV1().Nodes().List(ctxFor(t), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("listing nodes through %s: %v", c.KubeconfigPath, err)
		}
		if len(nodes.Items) != 2 {
			t.Errorf("cluster %s has %d nodes, want its own 2", c.Name, len(nodes.Items))
		}
	}

	for _, c := range clusters {
		pids := c.ProcessIDs()
		if len(pids) != 4 {
			t.Errorf("cluster %s runs %v, want etcd, apiserver, controller manager and scheduler", c.Name, pids)
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stopping %s: %v", c.Name, err)
		}
		if err := c.Stop(); err != nil {
			t.Errorf("second Stop of %s: %v", c.Name, err)
		}
		waitProcessesGone(t, pids)
	}
}

// TestStartLocal checks the entry point for long-running tools: files in
// dir/<name>, a working kubeconfig file, and Stop.
func TestStartLocal(t *testing.T) {
	dir := t.TempDir()
	c, err := testenv.StartLocal(context.Background(), dir, testenv.Options{
		Name: "local", WithoutControllerManager: true, WithoutScheduler: true, WithoutNodeAgent: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop() //nolint:errcheck // For an early failure; Stop is checked below.
	if want := filepath.Join(dir, "local", "kubeconfig"); c.KubeconfigPath != want {
		t.Errorf("kubeconfig at %s, want %s", c.KubeconfigPath, want)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(mustRead(t, c.KubeconfigPath))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The version also shows that `make controlplane` stamped the binaries;
	// unstamped ones report v0.0.0-master, which clients cannot parse.
	if v, err := cs.Discovery().ServerVersion(); err != nil || v.GitVersion != "v1.35.8" {
		t.Errorf("server version through the kubeconfig file: %v, %v; want v1.35.8", v, err)
	}
	pids := c.ProcessIDs()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	waitProcessesGone(t, pids)
}

// TestTeardownAfterAbnormalEnd runs a test in a child test binary that
// starts a cluster and then fails, panics or is killed, and checks that
// the cluster's processes die with it.
func TestTeardownAfterAbnormalEnd(t *testing.T) {
	assets, err := testenv.BinaryAssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"fail", "panic", "kill"} {
		t.Run(mode, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pids.json")
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperClusterThenAbort$", "-test.v")
			cmd.Env = append(os.Environ(), "TESTENV_HELPER_MODE="+mode, "TESTENV_HELPER_PIDS="+pidFile, "KUBEBUILDER_ASSETS="+assets)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()

			var pids map[string]int
			testenv.Eventually(t, timeout, "helper to start its cluster", func(context.Context) (bool, error) {
				data, err := os.ReadFile(pidFile)
				if err != nil {
					select {
					case err := <-done:
						return false, fmt.Errorf("helper exited before writing pids (%w):\n%s", err, out.String())
					default:
						return false, testenv.Pendingf("no pid file")
					}
				}
				return true, json.Unmarshal(data, &pids)
			})
			if mode == "kill" {
				_ = cmd.Process.Kill()
			}
			select {
			case err := <-done:
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("helper ended with %v, want a failure exit; output:\n%s", err, out.String())
				}
			case <-time.After(timeout):
				_ = cmd.Process.Kill()
				t.Fatalf("helper did not end; output:\n%s", out.String())
			}
			if len(pids) != 4 {
				t.Fatalf("helper reported processes %v, want 4", pids)
			}
			waitProcessesGone(t, pids)
		})
	}
}

// TestHelperClusterThenAbort is the child of TestTeardownAfterAbnormalEnd.
func TestHelperClusterThenAbort(t *testing.T) {
	mode := os.Getenv("TESTENV_HELPER_MODE")
	if mode == "" {
		t.Skip("helper for TestTeardownAfterAbnormalEnd")
	}
	c := testenv.Start(t, testenv.Options{NodeAgent: nodeagent.Config{Pools: []nodeagent.Pool{{Name: "p", Nodes: 1}}}})
	data, err := json.Marshal(c.ProcessIDs())
	if err != nil {
		t.Fatal(err)
	}
	tmp := os.Getenv("TESTENV_HELPER_PIDS") + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, os.Getenv("TESTENV_HELPER_PIDS")); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "kill":
		select {} // until the parent kills this process
	}
}

// waitProcessesGone waits until none of the pids is a live process. A
// zombie counts as gone: it has exited, only its parent has not reaped it.
func waitProcessesGone(t *testing.T, pids map[string]int) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, "cluster processes to exit", func(context.Context) (bool, error) {
		var alive []string
		for name, pid := range pids {
			if processAlive(pid) {
				alive = append(alive, fmt.Sprintf("%s(%d)", name, pid))
			}
		}
		return len(alive) == 0, testenv.Pendingf("alive: %v", alive)
	})
}

func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRestartAPIServerKeepsData kills etcd and the API server of a cluster
// and starts them again: objects written before are there, the clients and
// kubeconfig made at start-up work unchanged, and the controller manager
// reconnects (a Deployment created after the restart gets its ReplicaSet).
func TestRestartAPIServerKeepsData(t *testing.T) {
	c := testenv.Start(t, testenv.Options{Name: "restart", WithoutNodeAgent: true})
	ctx := ctxFor(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before", Namespace: "default"}}
	if err := c.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	pids := c.ProcessIDs()

	if err := c.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{testenv.ComponentEtcd, testenv.ComponentAPIServer} {
		if c.ProcessIDs()[name] == pids[name] {
			t.Errorf("%s still runs as pid %d", name, pids[name])
		}
	}
	if err := c.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
		t.Errorf("the ConfigMap written before the restart: %v", err)
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "after", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "after"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "after"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "image"}}},
			},
		},
	}
	if err := c.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "the controller manager to create the Deployment's ReplicaSet", func(ctx context.Context) (bool, error) {
		var rs appsv1.ReplicaSetList
		if err := c.Client.List(ctx, &rs, client.InNamespace("default")); err != nil {
			return false, err
		}
		return len(rs.Items) == 1, nil
	})
}
