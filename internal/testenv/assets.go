package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
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

// ErrNoBinaries is returned by BinaryAssetsDir when the binaries are missing
// and building them is turned off with TESTENV_NO_BUILD=1.
var ErrNoBinaries = errors.New("control-plane binaries missing and TESTENV_NO_BUILD=1")

// BinaryAssetsDir returns the directory holding the control-plane binaries:
// $KUBEBUILDER_ASSETS if set, else <repo root>/bin/k8s. When the binaries
// are missing from the repository's bin/k8s it runs `make controlplane`
// once, under an exclusive lock on bin/.controlplane.lock so that test
// packages running in parallel build only once. This is what lets a plain
// `go test ./...` work on a fresh checkout (slowly, the first time).
func BinaryAssetsDir() (string, error) {
	root, rootErr := RepoRoot()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		if rootErr != nil {
			return "", fmt.Errorf("KUBEBUILDER_ASSETS is not set and %w", rootErr)
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	if missingBinaries(dir) == nil {
		return dir, nil
	}
	if rootErr != nil || filepath.Clean(dir) != filepath.Join(root, "bin", "k8s") {
		// Never build into a directory the repository does not own.
		return "", fmt.Errorf("control-plane binaries missing in KUBEBUILDER_ASSETS=%s: %v", dir, missingBinaries(dir))
	}
	if os.Getenv("TESTENV_NO_BUILD") == "1" {
		return "", ErrNoBinaries
	}
	if err := buildBinaries(root); err != nil {
		return "", err
	}
	if missing := missingBinaries(dir); missing != nil {
		return "", fmt.Errorf("`make controlplane` succeeded but binaries are missing in %s: %v", dir, missing)
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

// buildBinaries runs `make controlplane` in root while holding the build
// lock. Whoever waited for the lock re-checks first: the holder probably
// built everything already.
func buildBinaries(root string) error {
	binDir := filepath.Join(root, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", binDir, err)
	}
	lockPath := filepath.Join(binDir, ".controlplane.lock")
	lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("opening build lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", lockPath, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file unlocks too

	if missingBinaries(filepath.Join(binDir, "k8s")) == nil {
		return nil
	}
	logPath := filepath.Join(binDir, ".controlplane-build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating build log: %w", err)
	}
	defer logFile.Close()
	fmt.Fprintf(os.Stderr, "testenv: building control-plane binaries with `make controlplane` (~5 min on a cold cache, log: %s)\n", logPath)
	// The fragment is used directly so that the build does not depend on
	// the root Makefile's other targets.
	cmd := exec.Command("make", "-f", filepath.Join("cluster", "controlplane.mk"), "controlplane")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("make controlplane failed (see %s): %w", logPath, err)
	}
	return nil
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
