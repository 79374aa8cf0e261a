package xpkg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"
)

// binary writes a stand-in for a function or provider binary.
func binary(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(f, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRuntimeImageIsReproducible(t *testing.T) {
	bin := binary(t, "#!/bin/true\n")
	a, err := RuntimeImage(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RuntimeImage(bin)
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("the same binary made digests %s and %s", da, db)
	}
	cfg, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.Entrypoint[0] != Entrypoint || cfg.Config.User != nonRoot || cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("config: entrypoint %v, user %q, platform %s/%s", cfg.Config.Entrypoint, cfg.Config.User, cfg.OS, cfg.Architecture)
	}
}

// TestPushedImageRunsItsEntrypoint pushes a runtime image through the
// registry and extracts the file its entrypoint names: the binary it was
// made from.
func TestPushedImageRunsItsEntrypoint(t *testing.T) {
	const content = "the provider"
	img, err := RuntimeImage(binary(t, content))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "pkg.xpkg")
	if err := tarball.WriteToFile(file, name.MustParseReference("runtime.local/provider:build").(name.Tag), img); err != nil {
		t.Fatal(err)
	}
	r, err := StartRegistry()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ref, err := r.Push(file, "lws-crossplane/provider-lws", Version)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(parsed); err != nil {
		t.Fatalf("the registry does not serve %s: %v", ref, err)
	}
	out := filepath.Join(t.TempDir(), "runtime")
	if err := ExtractEntrypoint(ref, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(content)) {
		t.Errorf("extracted %q, want %q", got, content)
	}
	if fi, _ := os.Stat(out); fi.Mode()&0o100 == 0 {
		t.Errorf("extracted entrypoint is not executable: %v", fi.Mode())
	}
}

func TestRewriteNamesTheLocalRegistry(t *testing.T) {
	r := &Registry{Host: "127.0.0.1:5000"}
	want := map[string]string{"xpkg.crossplane.io/lws-crossplane/": "127.0.0.1:5000/lws-crossplane/"}
	if got := r.Rewrite(); len(got) != 1 || got[Prefix] != want[Prefix] {
		t.Errorf("Rewrite() = %v, want %v", got, want)
	}
}

// TestConfigurationPinsThisRelease: the configuration depends on the function
// and provider of its own release, exactly, so that the two sides of the
// managed resource never come from different releases.
func TestConfigurationPinsThisRelease(t *testing.T) {
	b, err := os.ReadFile("../../package/configuration/crossplane.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Spec struct {
			DependsOn []struct {
				Function, Provider, Version string
			} `json:"dependsOn"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{Prefix + Function: true, Prefix + Provider: true}
	for _, d := range meta.Spec.DependsOn {
		pkg := d.Function + d.Provider
		if !want[pkg] {
			t.Errorf("unexpected dependency %s", pkg)
		}
		delete(want, pkg)
		if d.Version != Version {
			t.Errorf("%s: version %q, want exactly %q", pkg, d.Version, Version)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing dependencies: %v", want)
	}
}
