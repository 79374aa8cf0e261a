package testenv

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Upstream LeaderWorkerSet runs here only as a benchmark peer: its manager
// is built from a checkout of its source by `make peer`, and this file
// installs it in a cluster as its release manifests would, with the
// webhook server on the loopback instead of behind a Service. Nothing of
// it is imported.
const (
	// UpstreamSourceEnv names the directory of the checkout (tag v0.10.0).
	UpstreamSourceEnv = "LWS_UPSTREAM"
	// ComponentUpstreamLWS is the manager's process and log name.
	ComponentUpstreamLWS = "lws-upstream"
	// upstreamLabelName is upstream's name label: its pod webhooks only
	// see pods that carry it, as its kustomize patches configure them.
	upstreamLabelName = "leaderworkerset.sigs.k8s.io/name"
)

// ErrNoUpstream is returned by UpstreamAssets when UpstreamSourceEnv is not
// set: peer benchmarks skip rather than fail.
var ErrNoUpstream = errors.New(UpstreamSourceEnv + " is not set: point it at a checkout of kubernetes-sigs/lws v0.10.0 and run `make peer` to build its manager")

// UpstreamAssets returns upstream's source directory and the manager that
// `make peer` built from it into <repo root>/bin/peer.
func UpstreamAssets() (src, manager string, err error) {
	src = os.Getenv(UpstreamSourceEnv)
	if src == "" {
		return "", "", ErrNoUpstream
	}
	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	manager = filepath.Join(root, "bin", "peer", "lws-manager")
	if _, err := os.Stat(manager); err != nil {
		return "", "", fmt.Errorf("upstream's manager is missing (%w): build it with `make peer %s=%s`", err, UpstreamSourceEnv, src)
	}
	return src, manager, nil
}

// StartUpstreamLWS installs upstream LeaderWorkerSet in c: its CRDs, its
// manager as one of c's processes (leader election and its own certificate
// management off, client rate limits its defaults), and its webhooks at
// the manager's loopback address with a certificate of c's CA. It returns
// once its webhooks and controllers are at work (upstreamReady).
func StartUpstreamLWS(ctx context.Context, c *Cluster, src, manager string) error {
	// Established before the manager starts: its controllers would
	// otherwise wait ten seconds to watch them.
	if _, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(src, "config", "crd", "bases")}, ErrorIfPathMissing: true}); err != nil {
		return fmt.Errorf("installing upstream's CRDs (is %s a checkout of kubernetes-sigs/lws?): %w", UpstreamSourceEnv, err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	dir := filepath.Join(c.Dir, ComponentUpstreamLWS)
	serving, err := c.pki.issue(pkix.Name{CommonName: ComponentUpstreamLWS}, x509.ExtKeyUsageServerAuth, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	if err := writeKeyPair(dir, c.pki.caPEM, serving); err != nil {
		return fmt.Errorf("writing upstream's webhook certificate: %w", err)
	}
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, `apiVersion: config.lws.x-k8s.io/v1alpha1
kind: Configuration
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
webhook:
  host: 127.0.0.1
  port: %d
  certDir: %s
metrics:
  bindAddress: 127.0.0.1:%d
health:
  healthProbeBindAddress: 127.0.0.1:%d
`, ports[0], dir, ports[1], ports[2]), 0o600); err != nil {
		return fmt.Errorf("writing upstream's configuration: %w", err)
	}
	p, err := startProcess(ComponentUpstreamLWS, manager, []string{"--config=" + config, "--zap-log-level=2"},
		[]string{"KUBECONFIG=" + c.KubeconfigPath}, c.Dir)
	if err != nil {
		return err
	}
	if err := c.addProcess(p); err != nil {
		return err
	}
	if err := upstreamWebhooks(ctx, c, filepath.Join(src, "config", "webhook", "manifests.yaml"), fmt.Sprintf("https://127.0.0.1:%d", ports[0])); err != nil {
		return err
	}
	return upstreamReady(ctx, c, p)
}

// upstreamReady waits until upstream's webhooks admit a LeaderWorkerSet
// of no groups and its controller renders the leader StatefulSet, then
// deletes it: webhooks and controllers are at work.
func upstreamReady(ctx context.Context, c *Cluster, p *process) error {
	probe := upstreamProbe()
	if err := WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		if exited, werr := p.exited(); exited {
			return false, fmt.Errorf("upstream's manager exited (%w); log tail:\n%s", werr, p.logTail(20))
		}
		if err := c.Client.Create(ctx, probe); err != nil && !kerrors.IsAlreadyExists(err) {
			return false, Pendingf("a LeaderWorkerSet not admitted yet: %v", err)
		}
		return true, nil
	}); err != nil {
		return err
	}
	if err := WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := c.Client.Get(ctx, client.ObjectKeyFromObject(probe), &appsv1.StatefulSet{})
		return err == nil, client.IgnoreNotFound(err)
	}); err != nil {
		return fmt.Errorf("upstream's controller did not render a LeaderWorkerSet: %w; log tail:\n%s", err, p.logTail(20))
	}
	return c.Client.Delete(ctx, probe, client.PropagationPolicy(metav1.DeletePropagationForeground))
}

// upstreamWebhooks creates upstream's webhook configurations from its
// manifests, each webhook called at url plus its path and trusting c's CA;
// the pod webhooks select pods with upstream's name label, as upstream's
// kustomize patches make them do.
func upstreamWebhooks(ctx context.Context, c *Cluster, manifests, url string) error {
	f, err := os.Open(manifests)
	if err != nil {
		return fmt.Errorf("reading upstream's webhooks: %w", err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", manifests, err)
		}
		webhooks, _, err := unstructured.NestedSlice(u.Object, "webhooks")
		if err != nil || len(webhooks) == 0 {
			continue
		}
		for _, w := range webhooks {
			if err := loopback(w.(map[string]any), url, c.pki.caPEM); err != nil {
				return fmt.Errorf("%s: %s: %w", manifests, u.GetName(), err)
			}
		}
		if err := unstructured.SetNestedSlice(u.Object, webhooks, "webhooks"); err != nil {
			return err
		}
		if err := c.Client.Create(ctx, u); err != nil {
			return fmt.Errorf("creating upstream's %s: %w", u.GetName(), err)
		}
	}
}

// loopback points a webhook's client at url and its service path, trusting
// ca, and has the webhooks of pods select upstream's name label.
func loopback(w map[string]any, url string, ca []byte) error {
	path, _, err := unstructured.NestedString(w, "clientConfig", "service", "path")
	if err != nil {
		return err
	}
	w["clientConfig"] = map[string]any{"url": url + path, "caBundle": base64.StdEncoding.EncodeToString(ca)}
	rules, _, err := unstructured.NestedSlice(w, "rules")
	if err != nil {
		return err
	}
	for _, r := range rules {
		resources, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
		if slices.Contains(resources, "pods") {
			w["objectSelector"] = map[string]any{"matchExpressions": []any{map[string]any{"key": upstreamLabelName, "operator": "Exists"}}}
		}
	}
	return nil
}

// upstreamProbe is a LeaderWorkerSet of no groups.
func upstreamProbe() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "leaderworkerset.x-k8s.io/v1",
		"kind":       "LeaderWorkerSet",
		"metadata":   map[string]any{"name": "webhook-probe", "namespace": metav1.NamespaceDefault},
		"spec": map[string]any{"replicas": int64(0), "leaderWorkerTemplate": map[string]any{"workerTemplate": map[string]any{
			"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "probe"}}},
		}}},
	}}
}
