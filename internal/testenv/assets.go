package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Binary names in the assets directory.
const (
	binEtcd              = "etcd"
	binAPIServer         = "kube-apiserver"
	binControllerManager = "kube-controller-manager"
	binScheduler         = "kube-scheduler"
)

// requiredBinaries are what a full cluster runs; kubectl is optional.
var requiredBinaries = []string{binEtcd, binAPIServer, binControllerManager, binScheduler}

// BinaryAssetsDir returns the directory holding the control-plane binaries:
// $KUBEBUILDER_ASSETS if set, else <repo root>/bin/k8s. Tests do not build
// them: a missing binary is an error that names the command that builds it
// (`make test` and `make run` build them first).
func BinaryAssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("KUBEBUILDER_ASSETS is not set and %w", err)
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	if missing := missingBinaries(dir); missing != nil {
		return "", fmt.Errorf("control-plane binaries %v missing in %s: build them with `make controlplane` (about 5 minutes on a cold cache)", missing, dir)
	}
	return dir, nil
}

func missingBinaries(dir string) []string {
	var missing []string
	for _, b := range requiredBinaries {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	return missing
}

// RepoRoot finds the repository root by walking up from the working
// directory to the directory holding cluster/controlplane.mk.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cluster", "controlplane.mk")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no repository root (a directory with cluster/controlplane.mk) above the working directory")
		}
		dir = parent
	}
}
