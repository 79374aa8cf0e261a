package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/grpc"
	grpccredentials "google.golang.org/grpc/credentials"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/lws-crossplane/lws-crossplane/internal/xpkg"
)

// ComponentCrossplane is the Crossplane core process of a cluster.
const ComponentCrossplane = "crossplane"

// CrossplaneOptions configure StartCrossplane.
type CrossplaneOptions struct {
	// Functions are served by this process, over mTLS on loopback, by the
	// name Compositions give them in functionRef.
	Functions map[string]fnv1.FunctionRunnerServiceServer
	// Packages is a directory of the project's package files (`make
	// packages`). With it, the Configuration is installed from them, as a
	// platform team installs it, before StartCrossplane returns; see
	// installPackages.
	Packages string
}

// Crossplane is Crossplane core, running against a cluster.
type Crossplane struct {
	// Endpoints of the functions served in this process, by name.
	Endpoints map[string]string
	// PackageLogs is the directory of the package runtime's processes'
	// logs, <revision>.log, with CrossplaneOptions.Packages.
	PackageLogs string

	pk        *pki
	functions map[string]*servedFunction
	core      func() (*process, error)
	process   *process
	runtime   *packageRuntime
	registry  *xpkg.Registry
}

// servedFunction is a function served in this process.
type servedFunction struct {
	fn     fnv1.FunctionRunnerServiceServer
	server *grpc.Server
}

// StartCrossplane runs the real Crossplane core (`bin/crossplane-core`,
// built by `make crossplane`) against c, as a plain process: its CRDs,
// webhooks off, the External package runtime, the functions served in this
// process behind hand-made FunctionRevisions that point at them, and with
// opts.Packages the installed packages. Without the binaries the test
// fails, naming the command that builds them. Core stops with c, the
// package runtime with the test.
func StartCrossplane(t testing.TB, c *Cluster, opts CrossplaneOptions) *Crossplane {
	t.Helper()
	core, crds, err := crossplaneAssets()
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%v: build it with `make crossplane`", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	x := &Crossplane{Endpoints: map[string]string{}, functions: map[string]*servedFunction{}}
	t.Cleanup(func() {
		if t.Failed() && x.runtime != nil {
			t.Logf("testenv: package runtime logs (tails):\n%s", x.runtime.logTails(40))
		}
		x.Stop()
	})
	if err := x.start(context.Background(), c, core, crds, opts); err != nil {
		t.Fatalf("starting Crossplane: %v", err)
	}
	return x
}

// StartCrossplaneLocal is StartCrossplane for long-running tools such as
// the local environment. Core stops with c; Stop stops the functions and
// the package runtime.
func StartCrossplaneLocal(ctx context.Context, c *Cluster, opts CrossplaneOptions) (*Crossplane, error) {
	core, crds, err := crossplaneAssets()
	if err != nil {
		return nil, fmt.Errorf("%w; run `make crossplane`", err)
	}
	x := &Crossplane{Endpoints: map[string]string{}, functions: map[string]*servedFunction{}}
	if err := x.start(ctx, c, core, crds, opts); err != nil {
		x.Stop()
		return nil, err
	}
	return x, nil
}

// crossplaneAssets are core's binary and CRDs, as `make crossplane` leaves
// them under bin/.
func crossplaneAssets() (core, crds string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	core, crds = filepath.Join(root, "bin", "crossplane-core"), filepath.Join(root, "bin", "crossplane-crds")
	for _, p := range []string{core, crds} {
		if _, err := os.Stat(p); err != nil {
			return "", "", err
		}
	}
	return core, crds, nil
}

// Stop stops the functions served in this process and the package
// runtime's processes.
func (x *Crossplane) Stop() {
	for _, f := range x.functions {
		f.server.Stop()
	}
	if x.runtime != nil {
		x.runtime.stopAll()
	}
	if x.registry != nil {
		_ = x.registry.Close()
	}
}

// PackageProcessIDs are the process ids of the package runtime's running
// processes, by package (a Function's or Provider's name).
func (x *Crossplane) PackageProcessIDs() map[string]int {
	if x.runtime == nil {
		return nil
	}
	return x.runtime.pids()
}

// KillPackage kills the process running package pkg (a Function's or
// Provider's name), as a crashing pod would end; the package runtime starts
// it again.
func (x *Crossplane) KillPackage(pkg string) error {
	if x.runtime == nil {
		return errors.New("no package runtime")
	}
	return x.runtime.Kill(pkg)
}

// LogFiles are the logs of core, its runs before a restart included, and
// of the package runtime's processes.
func (x *Crossplane) LogFiles() ([]string, error) {
	core, err := filepath.Glob(strings.TrimSuffix(x.process.logPath, ".log") + "*.log")
	if err != nil || x.PackageLogs == "" {
		return core, err
	}
	packages, err := filepath.Glob(filepath.Join(x.PackageLogs, "*.log"))
	return append(core, packages...), err
}

// RestartCore kills core outright and starts it again, as a crashed pod
// restarts: its work queues, caches and circuit breakers start empty. The
// log of the run killed is kept (keepLog).
func (x *Crossplane) RestartCore() error {
	if err := x.process.stop(0); err != nil {
		return err
	}
	if err := x.process.keepLog(); err != nil {
		return err
	}
	p, err := x.core()
	if err != nil {
		return fmt.Errorf("restarting Crossplane: %w", err)
	}
	x.process = p
	return nil
}

// StopFunctions stops serving the functions, as if their pods were gone;
// serve serves them again on the same endpoints, which core still has.
func (x *Crossplane) StopFunctions() (serve func() error) {
	for _, f := range x.functions {
		f.server.Stop()
	}
	return func() error {
		for name, f := range x.functions {
			srv, _, err := serveFunction(x.pk, f.fn, x.Endpoints[name])
			if err != nil {
				return fmt.Errorf("serving function %s again: %w", name, err)
			}
			f.server = srv
		}
		return nil
	}
}

func (x *Crossplane) start(ctx context.Context, c *Cluster, core, crds string, opts CrossplaneOptions) error {
	if _, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{Paths: []string{crds}}); err != nil {
		return fmt.Errorf("installing Crossplane's CRDs: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "crossplane-system"}}
	if err := c.Client.Create(ctx, ns); err != nil && !kerrors.IsAlreadyExists(err) {
		return err
	}
	dir := filepath.Join(c.Dir, "crossplane")
	// Core streams pulled packages into its cache, and fails to parse
	// them ("read/write on closed pipe") when the directory is missing.
	if err := os.MkdirAll(filepath.Join(dir, "cache"), 0o700); err != nil {
		return err
	}
	pk, err := newPKI(filepath.Join(dir, "pki"))
	if err != nil {
		return err
	}
	// Core reads its client certificate for calling functions from a
	// directory, always: there is no insecure mode.
	clientDir := filepath.Join(dir, "client")
	cl, err := pk.issue(pkix.Name{CommonName: "crossplane"}, x509.ExtKeyUsageClientAuth, []string{"crossplane.crossplane-system"}, nil)
	if err != nil {
		return err
	}
	if err := writeKeyPair(clientDir, pk.caPEM, cl); err != nil {
		return err
	}
	x.pk = pk
	for name, fn := range opts.Functions {
		srv, endpoint, err := serveFunction(pk, fn, "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("serving function %s: %w", name, err)
		}
		x.functions[name] = &servedFunction{fn: fn, server: srv}
		x.Endpoints[name] = endpoint
	}
	// Health and metrics ports of 0: core binds all interfaces, and a fixed
	// port may be held by one of the API server's own connections.
	x.core = func() (*process, error) {
		p, err := startProcess(ComponentCrossplane, core, []string{"core", "start", "--debug",
			"--enable-webhooks=false", "--package-runtime=External",
			"--xpkg-cache-dir=" + filepath.Join(dir, "cache"), "--tls-client-certs-dir=" + clientDir,
			"--metrics-port=0", "--health-probe-port=0",
		}, []string{"KUBECONFIG=" + c.KubeconfigPath}, c.Dir)
		if err != nil {
			return nil, err
		}
		return p, c.addProcess(p)
	}
	if x.process, err = x.core(); err != nil {
		return err
	}
	for name, endpoint := range x.Endpoints {
		if err := c.functionRevision(ctx, name, endpoint); err != nil {
			return err
		}
	}
	if opts.Packages != "" {
		return x.installPackages(ctx, c, pk, filepath.Join(dir, "runtime"), opts.Packages)
	}
	return nil
}

// serveFunction serves fn over mTLS on a loopback address, with a server
// certificate from core's CA.
func serveFunction(pk *pki, fn fnv1.FunctionRunnerServiceServer, address string) (*grpc.Server, string, error) {
	srv, err := pk.issue(pkix.Name{CommonName: "function"}, x509.ExtKeyUsageServerAuth, []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return nil, "", err
	}
	cert, err := tls.X509KeyPair(srv.certPEM, srv.keyPEM)
	if err != nil {
		return nil, "", err
	}
	cas := x509.NewCertPool()
	cas.AppendCertsFromPEM(pk.caPEM)
	lis, err := net.Listen("tcp", address)
	if err != nil {
		return nil, "", err
	}
	s := grpc.NewServer(grpc.Creds(grpccredentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: cas, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})))
	fnv1.RegisterFunctionRunnerServiceServer(s, fn)
	go func() { _ = s.Serve(lis) }()
	return s, lis.Addr().String(), nil
}

// functionRevision makes a function reachable by core without a package:
// an active FunctionRevision whose status has the endpoint and the
// composition capability. Core never clears them, though it keeps failing
// to pull the revision's made-up image.
func (c *Cluster) functionRevision(ctx context.Context, name, endpoint string) error {
	rev := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "pkg.crossplane.io/v1",
		"kind":       "FunctionRevision",
		"metadata":   map[string]any{"name": name + "-dev", "labels": map[string]any{"pkg.crossplane.io/package": name}},
		"spec":       map[string]any{"desiredState": "Active", "image": "local.invalid/" + name + ":dev", "revision": int64(1)},
	}}
	if err := c.Client.Create(ctx, rev); err != nil {
		return fmt.Errorf("creating FunctionRevision for %s: %w", name, err)
	}
	patch := fmt.Sprintf(`{"status":{"endpoint":%q,"capabilities":["composition"]}}`, endpoint)
	if err := c.Client.Status().Patch(ctx, rev, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		return fmt.Errorf("publishing the endpoint of %s: %w", name, err)
	}
	return nil
}

func writeKeyPair(dir string, ca []byte, kp clientCert) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, data := range map[string][]byte{"ca.crt": ca, "tls.crt": kp.certPEM, "tls.key": kp.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// ApplyFiles creates every object of the YAML files in c, and waits until
// each CompositeResourceDefinition among them is established and, with
// claims, offered.
func ApplyFiles(ctx context.Context, c *Cluster, files ...string) error {
	var xrds []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
		for {
			obj := map[string]any{}
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", f, err)
			}
			if len(obj) == 0 {
				continue
			}
			u := &unstructured.Unstructured{Object: obj}
			if err := c.Client.Create(ctx, u); err != nil {
				return fmt.Errorf("%s: %s %s: %w", f, u.GetKind(), u.GetName(), err)
			}
			if u.GetKind() == "CompositeResourceDefinition" {
				xrds = append(xrds, u.GetName())
			}
		}
	}
	return WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		return xrdsReady(ctx, c, xrds)
	})
}

// xrdsReady reports whether every CompositeResourceDefinition named is
// established and, with claims, offered.
func xrdsReady(ctx context.Context, c *Cluster, names []string) (bool, error) {
	for _, name := range names {
		xrd := &unstructured.Unstructured{}
		xrd.SetAPIVersion("apiextensions.crossplane.io/v2")
		xrd.SetKind("CompositeResourceDefinition")
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, xrd); err != nil {
			return false, err
		}
		_, claims, _ := unstructured.NestedMap(xrd.Object, "spec", "claimNames")
		for _, want := range []string{"Established", "Offered"} {
			if want == "Offered" && !claims {
				continue
			}
			if !conditionTrue(xrd, want) {
				return false, Pendingf("XRD %s not %s", name, want)
			}
		}
	}
	return true, nil
}

func conditionTrue(u *unstructured.Unstructured, typ string) bool {
	c := condition(u, typ)
	return c != nil && c["status"] == "True"
}

func hasCondition(u *unstructured.Unstructured, typ string) bool { return condition(u, typ) != nil }

func condition(u *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}
