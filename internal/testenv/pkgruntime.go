package testenv

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	pkgv1 "github.com/crossplane/crossplane/apis/v2/pkg/v1"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/lws-crossplane/lws-crossplane/internal/xpkg"
)

// packageRuntime is the External package runtime of the local environment:
// core runs with --package-runtime=External, and this does for function and
// provider packages what Crossplane's Deployment runtime does with
// Deployments, with local processes. For each active revision it pulls the
// package image, runs its entrypoint, puts a server certificate from core's
// CA in the revision's TLS server Secret, and publishes the function's
// endpoint and the runtime's health in the revision's status. A process that
// exits is started again, as a kubelet restarts a container.
type packageRuntime struct {
	c   *Cluster
	pk  *pki
	dir string

	mu     sync.Mutex
	procs  map[string]*runtimeProcess // by revision name
	cancel context.CancelFunc
	done   chan struct{}
}

// runtimeProcess is the process of one package revision.
type runtimeProcess struct {
	pkg, image string
	dir        string // the entrypoint, runtime, and certificates, tls/
	port       int    // the function's gRPC port, kept across restarts
	p          *process
	restartAt  time.Time // when a process that exited may start again
	quickExits int       // exits in a row within crashWindow of the start
}

// A process that exits within crashWindow of its start waits before it
// starts again, from crashDelay doubling up to maxCrashDelay, so that a
// crashing package does not spin; one that ran longer starts again at once,
// as after a kill.
const (
	crashWindow   = 10 * time.Second
	crashDelay    = time.Second
	maxCrashDelay = 30 * time.Second
)

// restartDelay is how long a process waits to start again after exiting
// soon after its start quickExits times in a row.
func restartDelay(quickExits int) time.Duration {
	if quickExits == 0 {
		return 0
	}
	return min(crashDelay<<min(quickExits-1, 6), maxCrashDelay)
}

// crashLoop is a process that exited soon after it started, waiting.
type crashLoop struct {
	until time.Time
	log   string
}

func (e *crashLoop) Error() string {
	return fmt.Sprintf("the process exited soon after it started and starts again in %s; its log: %s", time.Until(e.until).Round(time.Second), e.log)
}

// quiet logs nothing. logr.Discard would not do: controller-runtime takes
// its nil sink for no logger and logs to its global one, then complains
// that it was never set.
var quiet = funcr.New(func(string, string) {}, funcr.Options{})

func (r *packageRuntime) start(ctx context.Context) error {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, pkgv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	mgr, err := ctrl.NewManager(r.c.Config, ctrl.Options{Scheme: scheme, Logger: quiet, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		// One runtime per control plane, several in a test process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		return fmt.Errorf("creating the package runtime's manager: %w", err)
	}
	for name, rev := range map[string]pkgv1.PackageRevisionWithRuntime{"functionrevision": &pkgv1.FunctionRevision{}, "providerrevision": &pkgv1.ProviderRevision{}} {
		exits := make(chan event.GenericEvent, 16)
		if err := ctrl.NewControllerManagedBy(mgr).For(rev).Named("package-runtime-" + name).
			WatchesRawSource(source.Channel(exits, &handler.EnqueueRequestForObject{})).
			Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
				return r.reconcile(ctx, mgr.GetClient(), rev.DeepCopyObject().(pkgv1.PackageRevisionWithRuntime), req.Name, exits)
			})); err != nil {
			return err
		}
	}
	ctx, r.cancel = context.WithCancel(logr.NewContext(ctx, quiet))
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		_ = mgr.Start(ctx)
	}()
	return nil
}

// reconcile does what the Deployment runtime's hooks do: before the
// revision establishes its objects, the TLS server Secret it waits for;
// once it is healthy (its types exist, which a provider needs to start),
// the process, then the function's endpoint and the runtime's health.
func (r *packageRuntime) reconcile(ctx context.Context, kube client.Client, rev pkgv1.PackageRevisionWithRuntime, name string, exits chan event.GenericEvent) (reconcile.Result, error) {
	if err := kube.Get(ctx, client.ObjectKey{Name: name}, rev); err != nil {
		if kerrors.IsNotFound(err) {
			return reconcile.Result{}, r.stop(name)
		}
		return reconcile.Result{}, err
	}
	if rev.GetDesiredState() != pkgv1.PackageRevisionActive || rev.GetResolvedSource() == "" {
		return reconcile.Result{}, r.stop(name)
	}
	rp, err := r.prepare(ctx, kube, rev)
	if err != nil {
		return reconcile.Result{}, err
	}
	if secret := r.secretName(rev); ptr.Deref(rev.GetObservedTLSServerSecretName(), "") != secret {
		rev.SetObservedTLSServerSecretName(&secret)
		return reconcile.Result{}, kube.Status().Update(ctx, rev)
	}
	if rev.GetCondition(pkgv1.TypeRevisionHealthy).Status != corev1.ConditionTrue {
		return reconcile.Result{}, nil // a status change brings it back
	}
	err = r.run(rev, rp, exits)
	var wait *crashLoop
	switch {
	case errors.As(err, &wait):
		rev.SetConditions(pkgv1.RuntimeUnhealthy().WithMessage(err.Error()))
		return reconcile.Result{RequeueAfter: time.Until(wait.until)}, kube.Status().Update(ctx, rev)
	case err != nil:
		rev.SetConditions(pkgv1.RuntimeUnhealthy().WithMessage(err.Error()))
		return reconcile.Result{}, errors.Join(err, kube.Status().Update(ctx, rev))
	}
	if fn, ok := rev.(*pkgv1.FunctionRevision); ok {
		fn.Status.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(rp.port))
	}
	rev.SetConditions(pkgv1.RuntimeHealthy())
	return reconcile.Result{}, kube.Status().Update(ctx, rev)
}

// prepare returns the revision's process entry, made the first time with
// the image's entrypoint, a port and a server certificate.
func (r *packageRuntime) prepare(ctx context.Context, kube client.Client, rev pkgv1.PackageRevisionWithRuntime) (*runtimeProcess, error) {
	name, image := rev.GetName(), rev.GetResolvedSource()
	r.mu.Lock()
	rp := r.procs[name]
	r.mu.Unlock()
	if rp != nil && rp.image == image {
		return rp, nil
	}
	if err := r.stop(name); err != nil {
		return nil, err
	}
	rp = &runtimeProcess{pkg: rev.GetLabels()[pkgv1.LabelParentPackage], image: image, dir: filepath.Join(r.dir, name)}
	if err := os.MkdirAll(rp.dir, 0o700); err != nil {
		return nil, err
	}
	if err := xpkg.ExtractEntrypoint(image, filepath.Join(rp.dir, "runtime")); err != nil {
		return nil, err
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	rp.port = ports[0]
	if err := r.serverCertificate(ctx, kube, rev, filepath.Join(rp.dir, "tls")); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.procs[name] = rp
	r.mu.Unlock()
	return rp, nil
}

// run starts the revision's process unless it runs, or is waiting after
// exiting soon after its start.
func (r *packageRuntime) run(rev pkgv1.PackageRevisionWithRuntime, rp *runtimeProcess, exits chan event.GenericEvent) error {
	r.mu.Lock()
	p, restartAt := rp.p, rp.restartAt
	r.mu.Unlock()
	if p != nil {
		if done, _ := p.exited(); !done {
			return nil
		}
		if time.Now().Before(restartAt) {
			return &crashLoop{until: restartAt, log: p.logPath}
		}
		if err := p.keepLog(); err != nil {
			return err
		}
	}
	p, err := startProcess(rev.GetName(), filepath.Join(rp.dir, "runtime"), args(rev, rp.port, filepath.Join(rp.dir, "tls")),
		[]string{"KUBECONFIG=" + r.c.KubeconfigPath}, r.dir)
	if err != nil {
		return err
	}
	r.mu.Lock()
	rp.p = p
	r.mu.Unlock()
	go func() {
		<-p.done
		r.mu.Lock()
		rp.quickExits = p.quickExits(rp.quickExits)
		rp.restartAt = time.Now().Add(restartDelay(rp.quickExits))
		r.mu.Unlock()
		select {
		case exits <- event.GenericEvent{Object: rev}:
		default: // a reconcile is queued already
		}
	}()
	return nil
}

// args are the flags a local process needs beyond a pod's: loopback
// addresses. DeploymentRuntimeConfigs are not applied; the packages' defaults
// suit the local environment.
func args(rev pkgv1.PackageRevisionWithRuntime, port int, tlsDir string) []string {
	if _, ok := rev.(*pkgv1.FunctionRevision); ok {
		return []string{"--address=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "--tls-certs-dir=" + tlsDir, "--metrics-address=127.0.0.1:0"}
	}
	return []string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}
}

// secretName is the revision's TLS server Secret: the one the package
// manager named, or one of ours.
func (r *packageRuntime) secretName(rev pkgv1.PackageRevisionWithRuntime) string {
	if n := rev.GetTLSServerSecretName(); n != nil {
		return *n
	}
	return rev.GetName() + "-tls-server"
}

// serverCertificate issues the process a loopback server certificate from
// core's CA, to dir and to the revision's TLS server Secret, where core
// looks for the CA bundle of a package's webhooks.
func (r *packageRuntime) serverCertificate(ctx context.Context, kube client.Client, rev pkgv1.PackageRevisionWithRuntime, dir string) error {
	kp, err := r.pk.issue(pkix.Name{CommonName: rev.GetName()}, x509.ExtKeyUsageServerAuth, []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	if err := writeKeyPair(dir, r.pk.caPEM, kp); err != nil {
		return err
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: r.secretName(rev), Namespace: "crossplane-system"}}
	_, err = controllerutil.CreateOrUpdate(ctx, kube, s, func() error {
		s.Data = map[string][]byte{"ca.crt": r.pk.caPEM, "tls.crt": kp.certPEM, "tls.key": kp.keyPEM}
		return nil
	})
	return err
}

// stop ends the revision's process, if it runs.
func (r *packageRuntime) stop(name string) error {
	r.mu.Lock()
	rp := r.procs[name]
	delete(r.procs, name)
	r.mu.Unlock()
	if rp == nil || rp.p == nil {
		return nil
	}
	return rp.p.stop(5 * time.Second)
}

// Kill kills the process of the revision of package pkg, as a crashing
// container would end; the runtime starts it again.
func (r *packageRuntime) Kill(pkg string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rp := range r.procs {
		if rp.pkg == pkg && rp.p != nil {
			return rp.p.stop(0)
		}
	}
	return fmt.Errorf("no running revision of package %s", pkg)
}

// stopAll stops the runtime, then every process, which it would otherwise
// start again.
func (r *packageRuntime) stopAll() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
	r.mu.Lock()
	names := make([]string, 0, len(r.procs))
	for n := range r.procs {
		names = append(names, n)
	}
	r.mu.Unlock()
	for _, n := range names {
		_ = r.stop(n)
	}
}

func (r *packageRuntime) pids() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, rp := range r.procs {
		if rp.p != nil {
			if done, _ := rp.p.exited(); !done {
				out[rp.pkg] = rp.p.pid()
			}
		}
	}
	return out
}

// logTails are the ends of the processes' logs.
func (r *packageRuntime) logTails(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for name, rp := range r.procs {
		if rp.p != nil {
			fmt.Fprintf(&b, "--- %s\n%s\n", name, rp.p.logTail(n))
		}
	}
	return b.String()
}
