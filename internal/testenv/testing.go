package testenv

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Start starts a cluster for a test and stops it in t.Cleanup. Component
// logs are kept in a temporary directory and their tails printed when the
// test fails. Without binaries it fails, naming the command that builds
// them.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	return StartN(t, 1, opts)[0]
}

// StartN starts n isolated clusters concurrently, named <name>-0 ...
// <name>-<n-1> (just <name> when n is 1).
func StartN(t testing.TB, n int, opts Options) []*Cluster {
	t.Helper()
	opts = opts.withDefaults()
	if opts.AssetsDir == "" {
		dir, err := BinaryAssetsDir()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		opts.AssetsDir = dir
	}
	// TempDir registers its removal first, so it runs after the clusters
	// are stopped (cleanups run last-in first-out).
	base := t.TempDir()

	clusters := make([]*Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		o := opts
		if n > 1 {
			o.Name = fmt.Sprintf("%s-%d", opts.Name, i)
		}
		wg.Go(func() {
			clusters[i], errs[i] = start(context.Background(), filepath.Join(base, o.Name), o)
		})
	}
	wg.Wait()
	for _, c := range clusters {
		if c == nil {
			continue
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("testenv: cluster %s component logs (tails):\n%s", c.Name, c.LogTails(40))
			}
			if err := c.Stop(); err != nil {
				t.Errorf("testenv: stopping cluster %s: %v", c.Name, err)
			}
		})
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return clusters
}

// CreateNamespace creates a namespace with a generated name starting with
// prefix and returns its name. It is deleted with the cluster.
func (c *Cluster) CreateNamespace(t testing.TB, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: strings.TrimSuffix(prefix, "-") + "-"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := c.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return created.Name
}

// Eventually polls cond every 25ms until it returns true and fails the
// test when timeout passes first or cond returns an error. what describes
// the awaited condition for the failure message; cond may return a
// non-nil *Pending error to explain what it is still waiting for.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := WaitFor(context.Background(), timeout, cond); err != nil {
		t.Fatalf("waiting %v for %s: %v", timeout, what, err)
	}
}

// Pending is returned by a condition to say what it is still waiting
// for. It does not end polling; the last one is reported on timeout.
type Pending struct{ Reason string }

func (p *Pending) Error() string { return p.Reason }

// Pendingf returns a *Pending with a formatted reason.
func Pendingf(format string, args ...any) error {
	return &Pending{Reason: fmt.Sprintf(format, args...)}
}

// WaitFor polls cond every 25ms until it returns true (whatever the error),
// returns an error other than *Pending, or timeout passes.
func WaitFor(ctx context.Context, timeout time.Duration, cond func(ctx context.Context) (bool, error)) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		done, err := cond(ctx)
		if done {
			return true, nil
		}
		var pending *Pending
		if errors.As(err, &pending) {
			last = err
			return false, nil
		}
		return false, err
	})
	// The last reason is kept whatever ended the wait: a request cut short
	// by the deadline ends it with the client's error, not the poll's.
	if err != nil && last != nil {
		return fmt.Errorf("%w; still %v", err, last) //nolint:errorlint // The reason only: an ended wait must not read as Pending to an outer one.
	}
	return err
}
