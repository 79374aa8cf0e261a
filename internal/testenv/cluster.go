// Package testenv runs real, isolated Kubernetes control planes on loopback
// for tests, benchmarks and the local environment: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler as child processes (binaries
// built from Go modules by `make controlplane`), plus the in-process node
// agent that plays the kubelets.
//
// Tests use Start or StartN; long-running tools use StartLocal.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
)

// Options configure a cluster. The zero value is a full cluster: all
// controllers, the scheduler and a node agent with DefaultPools.
type Options struct {
	// Name names the cluster in kubeconfigs, logs and directories.
	// Default "cluster"; StartN appends "-<i>".
	Name string

	// NodeAgent configures the nodes. Empty Pools means
	// nodeagent.DefaultPools().
	NodeAgent nodeagent.Config
	// WithoutNodeAgent registers no nodes: pods stay Pending.
	WithoutNodeAgent bool
	// WithoutControllerManager runs no kube-controller-manager (no
	// StatefulSet controller, no garbage collector).
	WithoutControllerManager bool
	// WithoutScheduler runs no kube-scheduler: pods stay unbound.
	WithoutScheduler bool

	// Controllers is kube-controller-manager's --controllers. Default "*",
	// which includes the garbage collector.
	Controllers []string
	// FeatureGates are set on the API server and the controller manager, on
	// top of MaxUnavailableStatefulSet=true.
	FeatureGates map[string]bool
	// MutatingAdmissionPolicies serves admissionregistration.k8s.io/v1beta1
	// MutatingAdmissionPolicies, beta and off by default in Kubernetes 1.35.
	MutatingAdmissionPolicies bool
	// ControllerManagerQPS and ControllerManagerBurst are the controller
	// manager's client limits. Defaults 500 and 1000: the stock 20/30 makes
	// the StatefulSet controller create only ~20 pods per second.
	ControllerManagerQPS   float32
	ControllerManagerBurst int
	// SchedulerQPS and SchedulerBurst are the scheduler's client limits.
	// Defaults 500 and 1000.
	SchedulerQPS   float32
	SchedulerBurst int
	// Extra flags ("--name=value") appended to each component's command
	// line; later flags override earlier ones.
	APIServerFlags, ControllerManagerFlags, SchedulerFlags []string
	// Env adds environment variables ("NAME=value") per component name
	// (ComponentEtcd, ...), e.g. GOGC to trade CPU for memory.
	Env map[string][]string

	// CRDDirectoryPaths and CRDs are installed, and waited for, before the
	// controller manager starts, so that its garbage collector knows them
	// from the start.
	CRDDirectoryPaths []string
	CRDs              []*apiextensionsv1.CustomResourceDefinition

	// Scheme is the scheme of Cluster.Client. Default: client-go's scheme
	// plus apiextensions/v1.
	Scheme *runtime.Scheme

	// AssetsDir holds the binaries. Default: BinaryAssetsDir().
	AssetsDir string
	// StartTimeout bounds start-up. Default 60s.
	StartTimeout time.Duration
}

// Cluster is a running control plane.
type Cluster struct {
	// Name is Options.Name.
	Name string
	// Dir holds the cluster's certificates, kubeconfigs, etcd data and
	// component logs (<component>.log).
	Dir string
	// Config is an admin (system:masters) client configuration.
	Config *rest.Config
	// Kubeconfig is the admin kubeconfig, also written to KubeconfigPath.
	Kubeconfig     []byte
	KubeconfigPath string
	// Client and Clientset are admin clients.
	Client    client.Client
	Clientset kubernetes.Interface
	// Nodes is the node agent, nil with Options.WithoutNodeAgent.
	Nodes *nodeagent.Agent
	// StartupDuration is how long Start took, from the first process start
	// to a usable cluster (API server ready, nodes Ready, controllers up).
	StartupDuration time.Duration

	pki    *pki
	server string

	mu    sync.Mutex
	procs []*process // in start order
	// apiServer starts etcd and kube-apiserver, again with
	// RestartAPIServer.
	apiServer func(context.Context) error
	// restarts counts the components started again after they exited.
	restarts map[string]int
	stopped  bool
	stopErr  error
	stopDone chan struct{}
}

// Component names, also the log file names.
const (
	ComponentEtcd              = "etcd"
	ComponentAPIServer         = "kube-apiserver"
	ComponentControllerManager = "kube-controller-manager"
	ComponentScheduler         = "kube-scheduler"
)

// StartLocal starts a cluster whose files live in dir/<name> (wiped first):
// kubeconfig, pki/, etcd/ and logs. It is for long-running tools such as
// the local environment; ctx bounds start-up only. Call Stop to tear it
// down. Children are killed if this process dies.
func StartLocal(ctx context.Context, dir string, opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	clusterDir := filepath.Join(dir, opts.Name)
	if err := os.RemoveAll(clusterDir); err != nil {
		return nil, fmt.Errorf("wiping %s: %w", clusterDir, err)
	}
	return start(ctx, clusterDir, opts)
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "cluster"
	}
	if len(o.NodeAgent.Pools) == 0 {
		o.NodeAgent.Pools = nodeagent.DefaultPools()
	}
	if len(o.Controllers) == 0 {
		o.Controllers = []string{"*"}
	}
	if o.ControllerManagerQPS <= 0 {
		o.ControllerManagerQPS = 500
	}
	if o.ControllerManagerBurst <= 0 {
		o.ControllerManagerBurst = 1000
	}
	if o.SchedulerQPS <= 0 {
		o.SchedulerQPS = 500
	}
	if o.SchedulerBurst <= 0 {
		o.SchedulerBurst = 1000
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.Scheme == nil {
		o.Scheme = DefaultScheme()
	}
	return o
}

// DefaultScheme is client-go's scheme plus apiextensions/v1.
func DefaultScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = apiextensionsv1.AddToScheme(s)
	return s
}

// featureGates renders the gates for --feature-gates, sorted for stable
// command lines.
func (o Options) featureGates() string {
	gates := map[string]bool{"MaxUnavailableStatefulSet": true}
	if o.MutatingAdmissionPolicies {
		gates["MutatingAdmissionPolicy"] = true
	}
	maps.Copy(gates, o.FeatureGates)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(gates)) {
		parts = append(parts, fmt.Sprintf("%s=%t", k, gates[k]))
	}
	return strings.Join(parts, ",")
}

func (o Options) runsServiceAccountController() bool {
	for _, c := range o.Controllers {
		if c == "*" || c == "serviceaccount" {
			return true
		}
	}
	return false
}

// start brings up the cluster in dir. On error everything started so far
// is stopped again.
func start(ctx context.Context, dir string, opts Options) (_ *Cluster, err error) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if opts.AssetsDir == "" {
		if opts.AssetsDir, err = BinaryAssetsDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cluster directory: %w", err)
	}
	pk, err := newPKI(filepath.Join(dir, "pki"))
	if err != nil {
		return nil, err
	}
	c := &Cluster{Name: opts.Name, Dir: dir, restarts: map[string]int{}, stopDone: make(chan struct{})}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
			err = fmt.Errorf("starting cluster %s (logs in %s): %w", opts.Name, dir, err)
		}
	}()

	server, err := c.startAPIServer(ctx, pk, opts)
	if err != nil {
		return nil, err
	}
	c.pki, c.server = pk, server
	admin, err := newCredentials(pk, opts.Name, server, "admin")
	if err != nil {
		return nil, err
	}
	c.KubeconfigPath = filepath.Join(dir, "kubeconfig")
	if c.Kubeconfig, err = admin.writeKubeconfig(c.KubeconfigPath); err != nil {
		return nil, err
	}
	c.Config = admin.restConfig()
	if c.Clientset, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, fmt.Errorf("creating clientset: %w", err)
	}
	if c.Client, err = client.New(c.Config, client.Options{Scheme: opts.Scheme}); err != nil {
		return nil, fmt.Errorf("creating client: %w", err)
	}
	if len(opts.CRDDirectoryPaths) > 0 || len(opts.CRDs) > 0 {
		if _, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{
			Scheme: opts.Scheme, Paths: opts.CRDDirectoryPaths, CRDs: opts.CRDs,
			ErrorIfPathMissing: true, PollInterval: 50 * time.Millisecond, MaxTime: opts.StartTimeout,
		}); err != nil {
			return nil, fmt.Errorf("installing CRDs: %w", err)
		}
	}

	// The controller manager, scheduler and node agent do not depend on
	// each other; starting them together hides their start-up latencies.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	if !opts.WithoutControllerManager {
		wg.Go(func() {
			if err := c.startControllerManager(ctx, pk, server, opts); err != nil {
				fail(err)
			}
		})
	}
	if !opts.WithoutScheduler {
		wg.Go(func() {
			if err := c.startScheduler(pk, server, opts); err != nil {
				fail(err)
			}
		})
	}
	if !opts.WithoutNodeAgent {
		wg.Go(func() {
			agent, err := nodeagent.New(c.Config, opts.NodeAgent)
			if err == nil {
				err = agent.Start(ctx)
			}
			if err != nil {
				fail(fmt.Errorf("starting node agent: %w", err))
				return
			}
			c.mu.Lock()
			c.Nodes = agent
			c.mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.StartupDuration = time.Since(began)
	return c, nil
}

// KubeconfigFor is a kubeconfig of the cluster for a user of given groups
// (at least one), authenticated by a client certificate: for testing what
// a user that RBAC grants only some permissions can do.
func (c *Cluster) KubeconfigFor(user string, groups ...string) ([]byte, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("user %s: at least one group, or the user would be a cluster admin", user)
	}
	creds, err := newCredentials(c.pki, c.Name, c.server, user, groups...)
	if err != nil {
		return nil, err
	}
	return creds.kubeconfig()
}

func newCredentials(pk *pki, cluster, server, user string, groups ...string) (credentials, error) {
	if len(groups) == 0 {
		groups = []string{"system:masters"}
	}
	cert, err := pk.clientFor(user, groups...)
	if err != nil {
		return credentials{}, err
	}
	return credentials{cluster: cluster, server: server, caPEM: pk.caPEM, user: user, cert: cert}, nil
}

func (c *Cluster) addProcess(p *process) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.procs = append(c.procs, p)
	if c.stopped {
		return errors.New("cluster stopped during start-up")
	}
	return nil
}

// Stop tears the cluster down: node agent first, then the controller
// manager and scheduler (whose open watches would otherwise hold up the API
// server's graceful shutdown), then the API server, then etcd. It is safe
// to call more than once and from several goroutines.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		<-c.stopDone
		return c.stopErr
	}
	c.stopped = true
	agent := c.Nodes
	procs := slices.Clone(c.procs)
	c.mu.Unlock()

	if agent != nil {
		agent.Stop()
	}
	order := map[string]int{ComponentControllerManager: 0, ComponentScheduler: 0, ComponentAPIServer: 1, ComponentEtcd: 2}
	sort.SliceStable(procs, func(i, j int) bool { return order[procs[i].name] < order[procs[j].name] })
	var errs []error
	for _, p := range procs {
		// The data is throw-away, so nothing needs a clean shutdown. The
		// others exit within milliseconds of SIGTERM; the API server's
		// graceful shutdown takes over a second, so it is killed outright.
		grace := 2 * time.Second
		if p.name == ComponentAPIServer {
			grace = 0
		}
		if err := p.stop(grace); err != nil {
			errs = append(errs, err)
		}
	}
	c.stopErr = errors.Join(errs...)
	close(c.stopDone)
	return c.stopErr
}

// ProcessIDs maps component names to the process ids of the running
// children.
func (c *Cluster) ProcessIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, p := range c.procs {
		if ok, _ := p.exited(); !ok {
			out[p.name] = p.pid()
		}
	}
	return out
}

// RSS returns the resident memory, in bytes, of every child process by
// component name. The node agent runs inside the caller's process and is
// not included.
func (c *Cluster) RSS() (map[string]int64, error) {
	out := map[string]int64{}
	for name, pid := range c.ProcessIDs() {
		rss, err := ProcessRSS(pid)
		if err != nil {
			return nil, err
		}
		out[name] = rss
	}
	return out, nil
}

// CPUTime is the CPU time, user and system, that the cluster's child
// processes have used so far. The node agent runs inside the caller's
// process and is not included.
func (c *Cluster) CPUTime() (time.Duration, error) {
	var total time.Duration
	for _, pid := range c.ProcessIDs() {
		t, err := ProcessCPUTime(pid)
		if err != nil {
			return 0, err
		}
		total += t
	}
	return total, nil
}

// LogTails returns the last n lines of every component's log, for failure
// reports.
func (c *Cluster) LogTails(n int) string {
	c.mu.Lock()
	procs := slices.Clone(c.procs)
	c.mu.Unlock()
	var b strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&b, "==== %s (%s) ====\n%s\n", p.name, p.logPath, p.logTail(n))
	}
	return b.String()
}
