//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// secret is a credential a component was given, and the forms in which a
// log line could carry it.
type secret struct {
	name  string
	forms [][]byte
}

// kubeconfigSecrets are the client keys, certificates and tokens of a
// kubeconfig: raw, base64 as kubeconfigs hold them, and each PEM block's
// body, whose first line is enough to give it away.
func kubeconfigSecrets(t *testing.T, name string, kubeconfig []byte) []secret {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	must(t, err)
	var out []secret
	for user, a := range cfg.AuthInfos {
		for kind, data := range map[string][]byte{"client key": a.ClientKeyData, "client certificate": a.ClientCertificateData, "token": []byte(a.Token)} {
			if len(data) > 0 {
				out = append(out, secretForms(name+" "+user+" "+kind, data))
			}
		}
	}
	return out
}

// fileSecrets are the PEM files matching a glob, such as the packages'
// serving keys.
func fileSecrets(t *testing.T, glob string) []secret {
	t.Helper()
	files, err := filepath.Glob(glob)
	must(t, err)
	var out []secret
	for _, f := range files {
		data, err := os.ReadFile(f)
		must(t, err)
		out = append(out, secretForms(f, data))
	}
	return out
}

func secretForms(name string, data []byte) secret {
	s := secret{name: name, forms: [][]byte{data, []byte(base64.StdEncoding.EncodeToString(data))}}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		// The body's first 64 characters, as a PEM line.
		body := base64.StdEncoding.EncodeToString(b.Bytes)
		s.forms = append(s.forms, []byte(body[:min(64, len(body))]))
	}
	return s
}

// loggedSecrets names every log file that carries a secret in any of its
// forms, and the secret.
func loggedSecrets(logs []string, secrets []secret) ([]string, error) {
	var found []string
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			return nil, err
		}
		for _, s := range secrets {
			if slices.ContainsFunc(s.forms, func(f []byte) bool { return bytes.Contains(data, f) }) {
				found = append(found, l+" carries the "+s.name)
			}
		}
	}
	return found, nil
}

// TestLoggedSecretsFindsEveryForm: a key is found whole, base64-encoded as
// a kubeconfig holds it, or by a line of its PEM body, and a log without
// it passes.
func TestLoggedSecretsFindsEveryForm(t *testing.T) {
	key := []byte("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDs3Fh2XzLr1Yl8yq0mN4sVb0yZkq6qJ1F6b6mZt9uTToAoGCCqGSM49\nAwEHoUQDQgAE5Vv1c3n3o2xQ9m0c3bqS0Q0g8x8W4l0C3v3m8f2bP9a8e0Pz1sP9\nr1Jb0rj7m3q8c6n2JvV7h8lGmF9cZ6d9xw==\n-----END EC PRIVATE KEY-----\n")
	s := secretForms("client key", key)
	bodyLine := bytes.Split(key, []byte("\n"))[1]
	cases := map[string]struct {
		log       []byte
		wantFound bool
	}{
		"Whole":      {log: append([]byte("loaded "), key...), wantFound: true},
		"Base64":     {log: []byte(`{"client-key-data":"` + base64.StdEncoding.EncodeToString(key) + `"}`), wantFound: true},
		"APEMLine":   {log: append([]byte("line "), bodyLine...), wantFound: true},
		"NoneOfThem": {log: []byte("Reconciled LeaderWorkerSet default/demo")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "provider.log")
			must(t, os.WriteFile(f, tc.log, 0o600))
			found, err := loggedSecrets([]string{f}, []secret{s})
			must(t, err)
			if got := len(found) > 0; got != tc.wantFound {
				t.Errorf("found %v, want found: %t", found, tc.wantFound)
			}
		})
	}
}
