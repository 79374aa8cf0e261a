package testenv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// pollInterval is how often start-up conditions are checked. Readiness
// flips within milliseconds of the event, so polling fast is what keeps
// start-up time low.
const pollInterval = 25 * time.Millisecond

// startAPIServer starts etcd and kube-apiserver and waits for /readyz. Both
// start at once: the API server retries its etcd connection, and etcd comes
// up well before the API server needs it. A port taken between choosing
// and binding it makes a process exit early; the pair is retried on fresh
// ports then. It returns the API server URL.
func (c *Cluster) startAPIServer(ctx context.Context, pk *pki, opts Options) (string, error) {
	var errs []error
	for attempt := 0; attempt < 3; attempt++ {
		server, err := c.tryStartAPIServer(ctx, pk, opts, attempt)
		if err == nil {
			return server, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil || !errors.Is(err, errExitedEarly) {
			break
		}
	}
	return "", errors.Join(errs...)
}

var errExitedEarly = errors.New("exited during start-up")

func (c *Cluster) tryStartAPIServer(ctx context.Context, pk *pki, opts Options, attempt int) (string, error) {
	ports, err := freePorts(3)
	if err != nil {
		return "", err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	etcdDir := filepath.Join(c.Dir, "etcd")
	if err := os.RemoveAll(etcdDir); err != nil {
		return "", fmt.Errorf("wiping etcd data: %w", err)
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	etcdArgs := []string{
		"--name=" + opts.Name,
		"--data-dir=" + etcdDir,
		// Durability is pointless for throw-away clusters and fsync is
		// the slowest thing etcd does. A SIGKILLed etcd loses nothing
		// either way: its writes are in the page cache.
		"--unsafe-no-fsync=true",
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=" + opts.Name + "=" + peerURL,
		"--log-level=warn",
	}
	args := []string{
		"--etcd-servers=" + clientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + pk.dir,
		"--tls-cert-file=" + pk.path(servingCertFile),
		"--tls-private-key-file=" + pk.path(servingKeyFile),
		"--client-ca-file=" + pk.path(caCertFile),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + pk.path(serviceAccountPub),
		"--service-account-signing-key-file=" + pk.path(serviceAccountKey),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		// No kubelets, no Services to reach the API server through.
		"--endpoint-reconciler-type=none",
		// Pods need no API tokens here, and the ServiceAccount admission
		// plugin would reject pods in a namespace until the controller
		// manager has created its default ServiceAccount.
		"--disable-admission-plugins=ServiceAccount",
		"--feature-gates=" + opts.featureGates(),
		"--profiling=false",
	}
	if opts.MutatingAdmissionPolicies {
		args = append(args, "--runtime-config=admissionregistration.k8s.io/v1beta1=true")
	}
	args = append(args, opts.APIServerFlags...)

	server := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	probe, err := newCredentials(pk, opts.Name, server, "readiness-probe")
	if err != nil {
		return "", err
	}
	cs, err := kubernetes.NewForConfig(probe.restConfig())
	if err != nil {
		return "", fmt.Errorf("creating readiness client: %w", err)
	}
	// The same ports and data each time, so that clients, watches and
	// kubeconfigs carry on across RestartAPIServer.
	c.apiServer = func(ctx context.Context) error {
		etcd, err := startProcess(ComponentEtcd, filepath.Join(opts.AssetsDir, binEtcd), etcdArgs, opts.Env[ComponentEtcd], c.Dir)
		if err != nil {
			return err
		}
		if err := c.addProcess(etcd); err != nil {
			return err
		}
		apiserver, err := startProcess(ComponentAPIServer, filepath.Join(opts.AssetsDir, binAPIServer), args, opts.Env[ComponentAPIServer], c.Dir)
		if err != nil {
			return err
		}
		if err := c.addProcess(apiserver); err != nil {
			return err
		}
		err = wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
			for _, p := range []*process{etcd, apiserver} {
				if exited, werr := p.exited(); exited {
					return false, fmt.Errorf("%s %w (attempt %d, %w); log tail:\n%s", p.name, errExitedEarly, attempt+1, werr, p.logTail(20))
				}
			}
			status := 0
			res := cs.Discovery().RESTClient().Get().AbsPath("/readyz").Timeout(time.Second).Do(ctx).StatusCode(&status)
			return res.Error() == nil && status == http.StatusOK, nil
		})
		if err != nil {
			// Clean up this attempt so that a retry starts from scratch.
			_ = apiserver.stop(time.Second)
			_ = etcd.stop(time.Second)
			c.removeProcesses(etcd, apiserver)
			return fmt.Errorf("waiting for kube-apiserver /readyz: %w", err)
		}
		return nil
	}
	if err := c.apiServer(ctx); err != nil {
		return "", err
	}
	return server, nil
}

// RestartAPIServer kills etcd and kube-apiserver outright, as a crashed
// node would, and starts them again on the same ports and data; it returns
// once the API server is ready. The logs of the runs killed are kept
// (keepLog).
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	olds := c.processesNamed(ComponentAPIServer, ComponentEtcd)
	if len(olds) != 2 || c.apiServer == nil {
		return errors.New("the cluster runs no API server")
	}
	for _, p := range olds {
		if err := p.stop(0); err != nil {
			return err
		}
		if err := p.keepLog(); err != nil {
			return err
		}
	}
	c.removeProcesses(olds...)
	if err := c.apiServer(ctx); err != nil {
		return fmt.Errorf("restarting the API server of cluster %s: %w", c.Name, err)
	}
	return nil
}

// processesNamed are the running components of the given names.
func (c *Cluster) processesNamed(names ...string) []*process {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ps []*process
	for _, p := range c.procs {
		if slices.Contains(names, p.name) {
			ps = append(ps, p)
		}
	}
	return ps
}

func (c *Cluster) removeProcesses(ps ...*process) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.procs[:0]
	for _, p := range c.procs {
		drop := false
		for _, q := range ps {
			drop = drop || p == q
		}
		if !drop {
			kept = append(kept, p)
		}
	}
	c.procs = kept
}

// startControllerManager starts kube-controller-manager and, when it runs
// the ServiceAccount controller, waits until the controller created the
// "default" ServiceAccount: proof that its controllers are running.
func (c *Cluster) startControllerManager(ctx context.Context, pk *pki, server string, opts Options) error {
	creds, err := newCredentials(pk, opts.Name, server, "system:kube-controller-manager")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.Dir, "kube-controller-manager.kubeconfig")
	if _, err := creds.writeKubeconfig(kubeconfig); err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--controllers=" + strings.Join(opts.Controllers, ","),
		"--service-account-private-key-file=" + pk.path(serviceAccountKey),
		"--root-ca-file=" + pk.path(caCertFile),
		"--cluster-signing-cert-file=" + pk.path(caCertFile),
		"--cluster-signing-key-file=" + pk.path(caKeyFile),
		"--kube-api-qps=" + strconv.FormatFloat(float64(opts.ControllerManagerQPS), 'f', -1, 32),
		"--kube-api-burst=" + strconv.Itoa(opts.ControllerManagerBurst),
		"--feature-gates=" + opts.featureGates(),
		"--profiling=false",
	}
	kcm, err := c.supervise(func() (*process, error) {
		return startProcess(ComponentControllerManager, filepath.Join(opts.AssetsDir, binControllerManager),
			append(args, opts.ControllerManagerFlags...), opts.Env[ComponentControllerManager], c.Dir)
	})
	if err != nil {
		return err
	}
	if !opts.runsServiceAccountController() {
		return nil
	}
	cs, err := kubernetes.NewForConfig(creds.restConfig())
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	err = wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		if exited, werr := kcm.exited(); exited {
			return false, fmt.Errorf("kube-controller-manager exited (%w); log tail:\n%s", werr, kcm.logTail(20))
		}
		_, err := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, ignoreNotFound(err)
	})
	if err != nil {
		return fmt.Errorf("waiting for kube-controller-manager: %w", err)
	}
	return nil
}

// startScheduler starts kube-scheduler from a configuration file, the only
// way to raise its client rate limits.
func (c *Cluster) startScheduler(pk *pki, server string, opts Options) error {
	creds, err := newCredentials(pk, opts.Name, server, "system:kube-scheduler")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.Dir, "kube-scheduler.kubeconfig")
	if _, err := creds.writeKubeconfig(kubeconfig); err != nil {
		return err
	}
	config := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: %g
  burst: %d
leaderElection:
  leaderElect: false
`, kubeconfig, opts.SchedulerQPS, opts.SchedulerBurst)
	configPath := filepath.Join(c.Dir, "kube-scheduler.yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		return fmt.Errorf("writing scheduler configuration: %w", err)
	}
	args := []string{"--config=" + configPath, "--secure-port=0", "--profiling=false"}
	_, err = c.supervise(func() (*process, error) {
		return startProcess(ComponentScheduler, filepath.Join(opts.AssetsDir, binScheduler),
			append(args, opts.SchedulerFlags...), opts.Env[ComponentScheduler], c.Dir)
	})
	return err
}

// supervise starts a component and, as the kubelet does with a static pod,
// starts it again whenever it exits on its own: after a back-off if it ran
// less than crashWindow (restartDelay), at once otherwise. kube-scheduler
// exits on purpose when it finds its cache corrupted, which it can after
// its API server and etcd restart ("Pod updated on a different node than
// previously added to"); a real cluster's kubelet starts it again.
func (c *Cluster) supervise(start func() (*process, error)) (*process, error) {
	p, err := start()
	if err != nil {
		return nil, err
	}
	if err := c.addProcess(p); err != nil {
		_ = p.stop(0)
		return nil, err
	}
	go func() {
		quickExits := 0
		for {
			<-p.done
			if p.stopping.Load() || c.isStopped() {
				return
			}
			quickExits = p.quickExits(quickExits)
			c.removeProcesses(p)
			c.mu.Lock()
			c.restarts[p.name]++
			c.mu.Unlock()
			if err := p.keepLog(); err != nil {
				return
			}
			time.Sleep(restartDelay(quickExits))
			next, err := start()
			if err != nil {
				return
			}
			if err := c.addProcess(next); err != nil {
				// The cluster stopped meanwhile.
				_ = next.stop(0)
				return
			}
			p = next
		}
	}()
	return p, nil
}

func (c *Cluster) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// Restarts counts, by component, the times a component that exited on its
// own was started again (supervise).
func (c *Cluster) Restarts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.restarts)
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// Ports are picked at random below the Linux ephemeral range (32768+):
// a port taken from the ephemeral range can be grabbed as the local port
// of some outgoing connection between closing the probe listener and the
// component binding it. Ports handed out once are not reused by this
// process, so clusters started concurrently never collide with each other.
var portPool struct {
	sync.Mutex
	used map[int]bool
}

const portRangeLow, portRangeHigh = 12000, 32000

func freePorts(n int) ([]int, error) {
	portPool.Lock()
	defer portPool.Unlock()
	if portPool.used == nil {
		portPool.used = map[int]bool{}
	}
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, errors.New("no free loopback port found")
		}
		p := portRangeLow + rand.IntN(portRangeHigh-portRangeLow)
		if portPool.used[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		portPool.used[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}
