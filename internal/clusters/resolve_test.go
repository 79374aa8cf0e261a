package clusters

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// secret is a marker planted in broken kubeconfigs; no error may repeat it.
const secret = "SECRET-MARKER-0123456789abcdef"

func kubeconfig(t *testing.T, mutate func(*clientcmdapi.Config)) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: secret}
	cfg.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "x"
	if mutate != nil {
		mutate(cfg)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestKubeconfigsAreParsedWithoutEchoingThem(t *testing.T) {
	cases := map[string]struct {
		data          []byte
		allowExternal bool
		wantErr       string // empty: must parse
	}{
		"self-contained token kubeconfig parses": {
			data: kubeconfig(t, nil),
		},
		"garbage is rejected": {
			data:    []byte("not a kubeconfig " + secret),
			wantErr: "cannot parse",
		},
		"a mistyped field is rejected without quoting it": {
			data:    []byte("apiVersion: v1\nkind: Config\nclusters: " + secret + "\n"),
			wantErr: "cannot parse",
		},
		"a mistyped nested field is rejected without quoting it": {
			data:    []byte("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: [" + secret + "]\n"),
			wantErr: "cannot parse",
		},
		"invalid base64 certificate data is rejected": {
			data:    []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://x\n    certificate-authority-data: " + secret + "\n"),
			wantErr: "cannot parse",
		},
		"a missing current-context is rejected": {
			data:    kubeconfig(t, func(c *clientcmdapi.Config) { c.CurrentContext = "" }),
			wantErr: "no current-context",
		},
		"a dangling current-context is rejected": {
			data:    kubeconfig(t, func(c *clientcmdapi.Config) { c.CurrentContext = "elsewhere" }),
			wantErr: `current-context "elsewhere" is not among the contexts`,
		},
		"a context without a server is rejected": {
			data:    kubeconfig(t, func(c *clientcmdapi.Config) { c.Clusters["c"].Server = "" }),
			wantErr: "no server",
		},
		"an exec plugin is rejected": {
			data: kubeconfig(t, func(c *clientcmdapi.Config) {
				c.AuthInfos["u"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "/bin/sh", Args: []string{"-c", secret}, APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
			}),
			wantErr: "exec credential plugin",
		},
		"an exec plugin is accepted when external credentials are allowed": {
			data: kubeconfig(t, func(c *clientcmdapi.Config) {
				c.AuthInfos["u"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "/bin/true", APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
			}),
			allowExternal: true,
		},
		"a token file is rejected": {
			data: kubeconfig(t, func(c *clientcmdapi.Config) {
				c.AuthInfos["u"] = &clientcmdapi.AuthInfo{TokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"}
			}),
			wantErr: "tokenFile",
		},
		"certificate files are rejected": {
			data: kubeconfig(t, func(c *clientcmdapi.Config) {
				c.Clusters["c"].CertificateAuthority = "/etc/ca.crt"
				c.AuthInfos["u"] = &clientcmdapi.AuthInfo{ClientCertificate: "/etc/tls.crt", ClientKey: "/etc/tls.key"}
			}),
			wantErr: "certificate-authority (use certificate-authority-data), client-certificate",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := restConfigFromKubeconfig(tc.data, tc.allowExternal)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("want a config, got %v", err)
				}
				if cfg.Host == "" {
					t.Fatal("config without host")
				}
				return
			}
			if err == nil {
				t.Fatal("want an error, got none")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %q does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not say %q", err, tc.wantErr)
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "MARKER") {
				t.Errorf("error echoes Secret content: %q", err)
			}
		})
	}
}

func TestRedactWithholdsQuotedContent(t *testing.T) {
	data := []byte("users:\n- name: u\n  user:\n    token: " + secret + "\n")
	cases := map[string]struct {
		err      error
		withheld bool
	}{
		"an error quoting a token is withheld":          {err: errors.New(`cannot decode "` + secret + `"`), withheld: true},
		"an error naming only field names is kept":      {err: errors.New("unknown field users in user"), withheld: false},
		"an error quoting a long field name is kept":    {err: errors.New("bad client-certificate-data"), withheld: false},
		"an error without any content is kept verbatim": {err: errors.New("yaml: line 3: mapping values are not allowed"), withheld: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := redact(tc.err, data)
			if withheld := got != tc.err; withheld != tc.withheld { //nolint:errorlint // Identity: redact returns its input when it withholds nothing.
				t.Errorf("redact(%q) = %q, withheld %t, want %t", tc.err, got, withheld, tc.withheld)
			}
		})
	}
}
