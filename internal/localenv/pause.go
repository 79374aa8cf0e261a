package localenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// A paused target cluster's API server is stopped (SIGSTOP), as a cluster
// whose control plane went away: the provider cannot reach it, its pods
// keep running, and nothing in it changes until it is resumed (SIGCONT).
// `up` records each target's API server process here, for `pause` and
// `resume` run from another shell.
func apiServerPIDFile(dir, cluster string) string {
	return filepath.Join(dir, cluster, "kube-apiserver.pid")
}

// RecordAPIServers writes each target cluster's API server process id.
func (e *Env) RecordAPIServers(dir string) error {
	for name, c := range e.Targets {
		pid := c.ProcessIDs()[testenv.ComponentAPIServer]
		if err := os.WriteFile(apiServerPIDFile(dir, name), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("cannot record the API server of %s: %w", name, err)
		}
	}
	return nil
}

// Pause stops the API server of a running environment's target cluster.
func Pause(dir, cluster string) error { return signalAPIServer(dir, cluster, syscall.SIGSTOP) }

// Resume lets a paused API server run again.
func Resume(dir, cluster string) error { return signalAPIServer(dir, cluster, syscall.SIGCONT) }

func signalAPIServer(dir, cluster string, sig syscall.Signal) error {
	if !slices.Contains(Targets, cluster) {
		return fmt.Errorf("no target cluster %q; the target clusters are %v", cluster, Targets)
	}
	b, err := os.ReadFile(apiServerPIDFile(dir, cluster))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cluster %s is not running; start the environment with `make run`", cluster)
	} else if err != nil {
		return err
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", apiServerPIDFile(dir, cluster), err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("cannot signal the API server of %s (pid %d): %w", cluster, pid, err)
	}
	return nil
}
