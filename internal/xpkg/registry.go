package xpkg

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Registry is an OCI registry in memory on loopback. Crossplane and
// go-containerregistry speak plain HTTP to 127.0.0.1 without being told.
type Registry struct {
	// Host is the registry's address, 127.0.0.1:port.
	Host string

	srv *http.Server
}

// StartRegistry serves an empty registry on a free loopback port.
func StartRegistry() (*Registry, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the registry: %w", err)
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))} //nolint:gosec // Loopback only, for tests.
	go func() { _ = srv.Serve(lis) }()
	return &Registry{Host: lis.Addr().String(), srv: srv}, nil
}

// Close stops the registry.
func (r *Registry) Close() error { return r.srv.Close() }

// Push pushes the package file to repo:tag and returns the reference.
func (r *Registry) Push(file, repo, tag string) (string, error) {
	ref, err := name.NewTag(path.Join(r.Host, repo) + ":" + tag)
	if err != nil {
		return "", err
	}
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		return "", fmt.Errorf("reading package %s: %w", file, err)
	}
	if err := remote.Write(ref, img); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	return ref.String(), nil
}

// ExtractEntrypoint pulls image ref and writes the file its entrypoint
// names to out: what a container runtime would run, as a local process.
func ExtractEntrypoint(ref, out string) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	img, err := remote.Image(r)
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	if len(cfg.Config.Entrypoint) == 0 {
		return fmt.Errorf("image %s has no entrypoint", ref)
	}
	want := cfg.Config.Entrypoint[0][1:]
	fs := mutate.Extract(img)
	defer fs.Close() // Read only.
	tr := tar.NewReader(fs)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("image %s has no file %s", ref, cfg.Config.Entrypoint[0])
		}
		if err != nil {
			return fmt.Errorf("reading image %s: %w", ref, err)
		}
		if h.Name != want {
			continue
		}
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil { //nolint:gosec // Our own images.
			f.Close() //nolint:gosec // Already failing.
			return err
		}
		return f.Close()
	}
}
