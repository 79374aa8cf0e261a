// Package xpkg builds the project's Crossplane packages without Docker: a
// runtime image holding one static binary, made with go-containerregistry,
// embedded in the package by the real `crossplane xpkg build`.
package xpkg

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Package is one of the project's packages: where its metadata and
// resources are, and for a function or provider the binary it runs.
type Package struct {
	// Name is the package's repository under the registry, e.g.
	// lws-crossplane/function-lws.
	Name string
	// Root is the directory `crossplane xpkg build` packages.
	Root string
	// Binary is the static binary of a function or provider; empty for a
	// configuration.
	Binary string
}

// Entrypoint is where the runtime image keeps its binary, as Crossplane's
// provider template does.
const Entrypoint = "/usr/local/bin/runtime"

// nonRoot is the distroless nonroot user, which Crossplane's Deployment
// runtime also runs packages as.
const nonRoot = "65532"

// RuntimeImage is an image of one layer, the binary at Entrypoint, for
// linux/amd64. Timestamps are fixed so that the same binary makes the same
// digest.
func RuntimeImage(binary string) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("reading the runtime binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"usr/", "usr/local/", "usr/local/bin/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: Entrypoint[1:], Mode: 0o755, Size: int64(len(data)), ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint = []string{Entrypoint}
	cfg.Config.User = nonRoot
	return mutate.ConfigFile(img, cfg)
}

// Build writes p's package file to out with the crossplane CLI at cli,
// embedding a runtime image of p.Binary when it has one.
func Build(cli string, p Package, out string) error {
	args := []string{"xpkg", "build", "--package-root=" + p.Root, "--package-file=" + out,
		// Examples live in the repository's examples/, tested there.
		"--examples-root=" + filepath.Join(p.Root, "examples")}
	if p.Binary != "" {
		img, err := RuntimeImage(p.Binary)
		if err != nil {
			return err
		}
		tarFile := out + ".runtime.tar"
		ref, err := name.NewTag(path.Join("runtime.local", p.Name) + ":build")
		if err != nil {
			return err
		}
		if err := tarball.WriteToFile(tarFile, ref, img); err != nil {
			return fmt.Errorf("writing the runtime image of %s: %w", p.Name, err)
		}
		defer os.Remove(tarFile) // A build leftover.
		args = append(args, "--embed-runtime-image-tarball="+tarFile)
	}
	cmd := exec.Command(cli, args...)
	// The CLI keeps a cache and config under $HOME.
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(out))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("crossplane xpkg build of %s: %w: %s", p.Name, err, b)
	}
	return nil
}
