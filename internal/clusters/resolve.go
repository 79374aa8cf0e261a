package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// target is a resolved provider config: how to reach its cluster.
type target struct {
	config      *rest.Config
	fingerprint string // hex SHA-256 of the credential source and bytes
	// settings are the config's, which may change without the
	// credentials.
	settings Settings
}

// Settings are what a provider config says of its cluster besides how to
// reach it.
type Settings struct {
	WorkerLabels v1alpha1.WorkerLabelsPolicy
	Namespaces   v1alpha1.NamespacePolicy
}

// resolve reads the provider config of k and its credentials. Errors wrap
// ErrInvalidConfig when the config itself is wrong (as opposed to the
// control plane failing to answer), and never contain Secret content.
func (m *Manager) resolve(ctx context.Context, k Key) (*target, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	var spec v1alpha1.ProviderConfigSpec
	switch k.Kind {
	case v1alpha1.ProviderConfigKind:
		pc := &v1alpha1.ProviderConfig{}
		if err := m.cp.Get(ctx, client.ObjectKey{Namespace: k.Namespace, Name: k.Name}, pc); err != nil {
			return nil, getError(k, "cannot get provider config", err)
		}
		spec = pc.Spec
	default:
		pc := &v1alpha1.ClusterProviderConfig{}
		if err := m.cp.Get(ctx, client.ObjectKey{Name: k.Name}, pc); err != nil {
			return nil, getError(k, "cannot get provider config", err)
		}
		spec = pc.Spec
	}

	t, err := m.resolveCredentials(ctx, k, spec.Credentials)
	if err != nil {
		return nil, err
	}
	t.settings = Settings{WorkerLabels: spec.WorkerLabels, Namespaces: spec.Namespaces}
	return t, nil
}

func (m *Manager) resolveCredentials(ctx context.Context, k Key, creds v1alpha1.ProviderCredentials) (*target, error) {
	switch creds.Source {
	case xpv2.CredentialsSourceSecret:
		return m.resolveSecret(ctx, k, creds)
	case xpv2.CredentialsSourceInjectedIdentity:
		// A namespaced ProviderConfig is written by the namespace's users;
		// letting it borrow the provider's own identity would hand them the
		// provider's permissions in the control-plane cluster.
		if k.Kind == v1alpha1.ProviderConfigKind && !m.opts.AllowNamespacedInjectedIdentity {
			return nil, fmt.Errorf("%s: credentials source InjectedIdentity is only allowed for a ClusterProviderConfig: %w", k, ErrInvalidConfig)
		}
		cfg, err := m.opts.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("%s: cannot load the in-cluster configuration for InjectedIdentity: %w: %w", k, err, ErrInvalidConfig)
		}
		// The token file is re-read by client-go as it rotates; only the
		// endpoint identifies these credentials.
		return &target{config: cfg, fingerprint: fingerprint(string(creds.Source), []byte(cfg.Host))}, nil
	default:
		return nil, fmt.Errorf("%s: unsupported credentials source %q (want %s or %s): %w",
			k, creds.Source, xpv2.CredentialsSourceSecret, xpv2.CredentialsSourceInjectedIdentity, ErrInvalidConfig)
	}
}

func (m *Manager) resolveSecret(ctx context.Context, k Key, creds v1alpha1.ProviderCredentials) (*target, error) {
	ref := creds.SecretRef
	if ref == nil || ref.Name == "" || ref.Key == "" {
		return nil, fmt.Errorf("%s: credentials source Secret needs secretRef with name and key: %w", k, ErrInvalidConfig)
	}
	sel := creds.CommonCredentialSelectors
	if k.Kind == v1alpha1.ProviderConfigKind {
		// A namespaced config may only read Secrets of its own namespace:
		// otherwise any namespace could borrow another's kubeconfig.
		if ref.Namespace != "" && ref.Namespace != k.Namespace {
			return nil, fmt.Errorf("%s: secretRef namespace %q differs from the ProviderConfig's namespace: %w", k, ref.Namespace, ErrInvalidConfig)
		}
		r := *ref
		r.Namespace = k.Namespace
		sel.SecretRef = &r
	}
	where := fmt.Sprintf("Secret %s/%s key %q", sel.SecretRef.Namespace, sel.SecretRef.Name, sel.SecretRef.Key)
	data, err := resource.CommonCredentialExtractor(ctx, creds.Source, m.cp, sel)
	if err != nil {
		return nil, getError(k, "cannot read kubeconfig from "+where, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: %s is missing or empty: %w", k, where, ErrInvalidConfig)
	}
	fp := fingerprint(string(creds.Source), data)
	if c := m.current(k, fp); c != nil {
		// Parsed when the connection was made; every reconcile resolves
		// its config, and parsing took a millisecond each time.
		return &target{config: c.config, fingerprint: fp}, nil
	}
	// Only ClusterProviderConfigs are written by cluster administrators;
	// a namespaced one must never run a binary or read a file in the
	// provider's pod.
	allowExternal := m.opts.AllowExternalCredentials && k.Kind == v1alpha1.ClusterProviderConfigKind
	cfg, err := restConfigFromKubeconfig(data, allowExternal)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid kubeconfig in %s: %w", k, where, err)
	}
	return &target{config: cfg, fingerprint: fp}, nil
}

// getError wraps a failed read from the control plane. NotFound is a
// configuration error; anything else is the control plane's problem and
// may pass.
func getError(k Key, what string, err error) error {
	if kerrors.IsNotFound(err) {
		return fmt.Errorf("%s: %s: %w: %w", k, what, err, ErrInvalidConfig)
	}
	return fmt.Errorf("%s: %s: %w", k, what, err)
}

func fingerprint(source string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// restConfigFromKubeconfig parses a kubeconfig from a Secret. Unless
// allowExternal, credentials must be self-contained: no exec plugins, auth
// providers or file references, which would run programs in, or read files
// (such as the provider's own service account token) from, the provider's
// pod. Errors wrap ErrInvalidConfig and never contain the kubeconfig.
func restConfigFromKubeconfig(data []byte, allowExternal bool) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("cannot parse: %w: %w", redact(err, data), ErrInvalidConfig)
	}
	if raw.CurrentContext == "" {
		return nil, fmt.Errorf("no current-context: %w", ErrInvalidConfig)
	}
	kctx, ok := raw.Contexts[raw.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("current-context %q is not among the contexts: %w", raw.CurrentContext, ErrInvalidConfig)
	}
	if c := raw.Clusters[kctx.Cluster]; c == nil || c.Server == "" {
		return nil, fmt.Errorf("cluster %q of current-context %q has no server: %w", kctx.Cluster, raw.CurrentContext, ErrInvalidConfig)
	}
	if !allowExternal {
		if err := selfContained(raw.Clusters[kctx.Cluster], raw.AuthInfos[kctx.AuthInfo]); err != nil {
			return nil, fmt.Errorf("%w: %w", err, ErrInvalidConfig)
		}
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", redact(err, data), ErrInvalidConfig)
	}
	return cfg, nil
}

func selfContained(c *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) error {
	var refs []string
	if c != nil && c.CertificateAuthority != "" {
		refs = append(refs, "certificate-authority (use certificate-authority-data)")
	}
	if u != nil {
		if u.ClientCertificate != "" {
			refs = append(refs, "client-certificate (use client-certificate-data)")
		}
		if u.ClientKey != "" {
			refs = append(refs, "client-key (use client-key-data)")
		}
		if u.TokenFile != "" {
			refs = append(refs, "tokenFile (use token)")
		}
		if u.Exec != nil {
			refs = append(refs, "exec credential plugin")
		}
		if u.AuthProvider != nil {
			refs = append(refs, "auth-provider")
		}
	}
	if len(refs) > 0 {
		return fmt.Errorf("credentials must be embedded in the kubeconfig, found %s", strings.Join(refs, ", "))
	}
	return nil
}

// kubeconfigWords are field names and values common to every kubeconfig;
// an error that quotes them reveals nothing.
var kubeconfigWords = map[string]bool{
	"apiVersion": true, "clusters": true, "contexts": true, "current-context": true, "preferences": true,
	"certificate-authority-data": true, "certificate-authority": true, "client-certificate-data": true,
	"client-key-data": true, "client-certificate": true, "client-key": true, "insecure-skip-tls-verify": true,
	"tls-server-name": true, "proxy-url": true, "namespace": true, "extensions": true, "auth-provider": true,
	"username": true, "password": true, "tokenFile": true, "disable-compression": true, "as-groups": true,
	"as-user-extra": true, "interactiveMode": true, "provideClusterInfo": true, "command": true,
}

// redact returns err unless its message quotes a word of at least eight
// characters of the kubeconfig that is not a well-known field name, in which
// case it returns an error without the details. Parsers sometimes quote the
// input they choke on, and that input may be a token or a key.
func redact(err error, data []byte) error {
	msg := err.Error()
	words := strings.FieldsFunc(string(data), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || strings.ContainsRune(`"':,{}[]`, r)
	})
	for _, w := range words {
		if len(w) >= 8 && !kubeconfigWords[w] && strings.Contains(msg, w) {
			return errors.New("details withheld because they quote the Secret's content")
		}
	}
	return err
}
