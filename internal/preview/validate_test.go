package preview

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// validate runs `crossplane resource validate` offline, against the XRDs
// and the provider's CRDs, on resources (files or directories), and returns
// its output and whether it passed.
func validate(t *testing.T, resources ...string) (string, bool) {
	t.Helper()
	cli, _ := crossplaneBinaries(t)
	ext := t.TempDir()
	schemas, err := filepath.Glob("../../package/configuration/definition-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	crds, err := filepath.Glob("../../package/provider/crds/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(schemas, crds...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ext, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	// --crossplane-image= keeps it offline: no Crossplane package to pull
	// for the core schemas.
	cmd := exec.Command(cli, "resource", "validate", ext, strings.Join(resources, ","), "--crossplane-image=", "--cache-dir="+filepath.Join(home, "cache"))
	cmd.Env = append(os.Environ(), "HOME="+home)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err == nil
}

// TestCrossplaneValidateExamples validates every example, and every managed
// resource they compose, with the real `crossplane resource validate`.
func TestCrossplaneValidateExamples(t *testing.T) {
	composed := filepath.Join(t.TempDir(), "composed.yaml")
	var docs []string
	for name, obj := range examples(t) {
		cs, err := Composed(obj)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range cs {
			b, err := sigsyaml.Marshal(c.Object)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
	}
	if err := os.WriteFile(composed, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, ok := validate(t, "../../examples", composed)
	if !ok || !strings.Contains(out, " 0 failure cases") {
		t.Fatalf("crossplane resource validate failed:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		// Function packages have no CRD to validate against.
		if strings.HasPrefix(line, "[!]") && !strings.Contains(line, "Kind=Function") {
			t.Errorf("no schema: %s", line)
		}
	}
}

// TestCrossplaneValidateRejects: the schemas, not only the function, turn
// invalid claims away, naming the field.
func TestCrossplaneValidateRejects(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   string
		field  string
	}{
		"NegativeReplicas": {
			reason: "spec.replicas has a minimum of 0.",
			spec:   "replicas: -1",
			field:  "spec.replicas",
		},
		"UnknownStartupPolicy": {
			reason: "spec.startupPolicy is an enum.",
			spec:   "startupPolicy: WhenReady",
			field:  "spec.startupPolicy",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			claim := filepath.Join(t.TempDir(), "claim.yaml")
			doc := "apiVersion: lws.crossplane.io/v1alpha1\nkind: LeaderWorkerSet\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  " + tc.spec +
				"\n  leaderWorkerTemplate:\n    workerTemplate:\n      spec:\n        containers:\n          - name: c\n            image: i\n"
			if err := os.WriteFile(claim, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			out, ok := validate(t, claim)
			if ok || !strings.Contains(out, tc.field) {
				t.Errorf("%s\nwant a failure naming %s, got (passed %v):\n%s", tc.reason, tc.field, ok, out)
			}
		})
	}
}
