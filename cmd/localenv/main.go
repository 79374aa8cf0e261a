// Command localenv runs the local multi-cluster environment (`make run`,
// `make down`): three clusters on loopback, the provider, and the examples.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/lws-crossplane/lws-crossplane/internal/localenv"
	"github.com/lws-crossplane/lws-crossplane/internal/xpkg"
)

// CLI is the localenv command line.
type CLI struct {
	Dir  string  `default:".local" help:"Directory for the clusters' files and kubeconfigs."`
	Up   UpCmd   `cmd:"" help:"Start the environment and apply the examples; runs until interrupted or 'down'."`
	Down DownCmd `cmd:"" help:"Stop a running environment."`

	Pause  PauseCmd  `cmd:"" help:"Stop a target cluster's API server (SIGSTOP), as if its control plane went away; its pods keep running."`
	Resume ResumeCmd `cmd:"" help:"Let a paused target cluster's API server run again."`

	Packages PackagesCmd `cmd:"" help:"Build the function, provider and configuration packages with the crossplane CLI."`
}

// PackagesCmd builds the three package files.
type PackagesCmd struct {
	Crossplane string `default:"bin/crossplane" help:"The crossplane CLI."`
	Binaries   string `default:"bin/packages" help:"Directory of the static function and provider binaries the runtime images hold."`
	Out        string `default:"bin/packages" help:"Directory the package files are written to."`
}

// Run builds each package into Out.
func (p *PackagesCmd) Run() error {
	for _, pkg := range xpkg.Packages(".", p.Binaries) {
		if err := xpkg.Build(p.Crossplane, pkg, xpkg.File(p.Out, pkg.Name)); err != nil {
			return err
		}
		fmt.Println("built", xpkg.File(p.Out, pkg.Name))
	}
	return nil
}

// UpCmd starts the environment.
type UpCmd struct {
	Examples string `default:"examples" help:"Directory of example claims and composite resources to apply."`
	Packages string `default:"bin/packages" help:"Directory of the package files that 'make packages' builds."`
	RollOut  string `default:"leaderworkerset-rollout" help:"Once every group is ready, roll this example out to a new image, to show a rolling update; empty for none."`
	Image    string `default:"nginxinc/nginx-unprivileged:1.28" help:"The image --roll-out rolls out."`
}

func pidFile(dir string) string { return filepath.Join(dir, "localenv.pid") }

// Run starts the clusters and installs the packages, applies the examples and shows
// their groups until every one is ready, then keeps running until stopped.
func (u *UpCmd) Run(cli *CLI) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	fmt.Println("Starting the control-plane cluster and the target clusters", localenv.Targets)
	env, err := localenv.Up(ctx, cli.Dir, u.Packages)
	if err != nil {
		return err
	}
	defer env.Down() //nolint:errcheck // Best effort on the way out.
	if err := os.WriteFile(pidFile(cli.Dir), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	if err := env.RecordAPIServers(cli.Dir); err != nil {
		return err
	}
	for name, kc := range env.Kubeconfigs() {
		labels := ""
		if localenv.AdmissionPolicyTargets[name] {
			labels = "  (workerLabels: AdmissionPolicy)"
		}
		if localenv.GangTargets[name] {
			labels += "  (gang scheduling: Workload API)"
		}
		fmt.Printf("  %-14s KUBECONFIG=%s%s\n", name, kc, labels)
	}
	pkgs, err := env.Packages(ctx)
	if err != nil {
		return err
	}
	fmt.Println("Installed and healthy, from the local registry:")
	for _, p := range pkgs {
		fmt.Println("  " + p)
	}
	fmt.Printf("  package logs   %s\n", env.PackageLogs())
	names, err := env.ApplyExamples(ctx, u.Examples)
	if err != nil {
		return err
	}
	fmt.Printf("Applied %d example claims and composite resources; Crossplane composes them:\n", len(names))

	var last []byte
	announced, rolled := false, false
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Println("Stopping.")
			return nil
		case <-tick.C:
		}
		var buf bytes.Buffer
		ready, err := env.Table(ctx, &buf)
		if err != nil {
			continue
		}
		if !bytes.Equal(buf.Bytes(), last) {
			fmt.Printf("\n[%s]\n%s", time.Since(began).Round(time.Second), buf.String())
			last = buf.Bytes()
		}
		switch {
		case !ready || announced:
		case !rolled && u.RollOut != "":
			fmt.Printf("\nEvery group is ready, %s after start. Rolling %s out to %s:\n", time.Since(began).Round(time.Second), u.RollOut, u.Image)
			if err := env.RollOut(ctx, u.Examples, u.RollOut, u.Image); err != nil {
				return err
			}
			rolled = true
		default:
			fmt.Printf("\nEvery group is ready, %s after start. The environment keeps running; `make down` stops it.\n", time.Since(began).Round(time.Second))
			announced = true
		}
	}
}

// PauseCmd pauses a target cluster.
type PauseCmd struct {
	Cluster string `arg:"" help:"The target cluster, e.g. eu-west."`
}

// Run pauses the cluster's API server.
func (p *PauseCmd) Run(cli *CLI) error {
	if err := localenv.Pause(cli.Dir, p.Cluster); err != nil {
		return err
	}
	fmt.Printf("Paused the API server of %s; `go run ./cmd/localenv resume %s` lets it run again.\n", p.Cluster, p.Cluster)
	return nil
}

// ResumeCmd resumes a paused target cluster.
type ResumeCmd struct {
	Cluster string `arg:"" help:"The target cluster, e.g. eu-west."`
}

// Run resumes the cluster's API server.
func (r *ResumeCmd) Run(cli *CLI) error {
	if err := localenv.Resume(cli.Dir, r.Cluster); err != nil {
		return err
	}
	fmt.Printf("Resumed the API server of %s.\n", r.Cluster)
	return nil
}

// DownCmd stops the environment.
type DownCmd struct{}

// Run signals a running `up` and waits for it to stop.
func (*DownCmd) Run(cli *CLI) error {
	b, err := os.ReadFile(pidFile(cli.Dir))
	if os.IsNotExist(err) {
		fmt.Println("No local environment is running.")
		return nil
	}
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", pidFile(cli.Dir), err)
	}
	defer os.Remove(pidFile(cli.Dir)) // Gone either way.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		fmt.Println("The local environment was not running.")
		return nil
	}
	for range 60 {
		if syscall.Kill(pid, 0) != nil {
			fmt.Println("Stopped.")
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("process %d did not stop in 30s", pid)
}

func main() {
	// Informers of the package runtime log their shutdown through
	// controller-runtime's root logger; the environment's own output is the
	// table, and its components log to files.
	ctrl.SetLogger(logr.Discard())
	cli := &CLI{}
	ctx := kong.Parse(cli, kong.Description("The lws-crossplane local environment."))
	ctx.FatalIfErrorf(ctx.Run(cli))
}
