// Package localenv is the local multi-cluster environment of `make run`: a
// control-plane cluster where Crossplane core, the function and the provider
// run, and two target clusters with node pools forming accelerator islands,
// all on loopback.
package localenv

import (
	"context"
	"errors"
	"fmt"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/lws-crossplane/lws-crossplane/apis"
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/nodeagent"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// Target clusters and the provider configs that reach them: "default" is
// the cluster of LeaderWorkerSets without a placement.
var (
	Targets = []string{"us-east", "eu-west"}
	Configs = map[string]string{"default": "us-east", "us-east": "us-east", "eu-west": "eu-west"}
	// AdmissionPolicyTargets serve MutatingAdmissionPolicies, and their
	// provider configs label workers by the policy (workerLabels
	// AdmissionPolicy); the others by patch, so both ways run.
	AdmissionPolicyTargets = map[string]bool{"eu-west": true}
	// GangTargets serve the Workload API and gang-schedule its groups
	// (testenv.Options.WithGangScheduling), where
	// examples/gang-scheduling.yaml is placed; it needs an admission
	// policy target.
	GangTargets = map[string]bool{"eu-west": true}
)

// Env is a running local environment.
type Env struct {
	ControlPlane *testenv.Cluster
	Targets      map[string]*testenv.Cluster

	crossplane *testenv.Crossplane
}

// pools are a target cluster's nodes: four general pools, exclusive
// placement's islands, and four TPU pools with v5e slice labels, one per
// subgroup of examples/subgroups-tpu.yaml, which keeps them apart.
func pools(zone string) []nodeagent.Pool {
	out := []nodeagent.Pool{}
	for _, p := range []string{"pool-a", "pool-b", "pool-c", "pool-d"} {
		out = append(out, nodeagent.Pool{Name: zone + "-" + p, Nodes: 4, Zone: zone, RackSize: 2})
	}
	for _, p := range []string{"tpu-a", "tpu-b", "tpu-c", "tpu-d"} {
		out = append(out, nodeagent.Pool{
			Name: zone + "-" + p, Nodes: 2, Zone: zone, RackSize: 2, TPUs: 4,
			Labels:   map[string]string{"cloud.google.com/gke-tpu-topology": "2x2", "cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice"},
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")},
		})
	}
	return out
}

// Up starts the clusters under dir, installs the product in the control
// plane as a platform team would (Crossplane core; the Configuration
// package from a registry, with the function and provider it depends on,
// from the package files in packageFiles), then creates a kubeconfig
// Secret and ClusterProviderConfig for each target.
func Up(ctx context.Context, dir, packageFiles string) (_ *Env, err error) {
	scheme := testenv.DefaultScheme()
	if err := apis.AddToScheme(scheme); err != nil {
		return nil, err
	}
	e := &Env{Targets: map[string]*testenv.Cluster{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Down())
		}
	}()
	e.ControlPlane, err = testenv.StartLocal(ctx, dir, testenv.Options{Name: "control-plane", WithoutScheduler: true, WithoutNodeAgent: true, Scheme: scheme})
	if err != nil {
		return e, fmt.Errorf("cannot start the control-plane cluster: %w", err)
	}
	for _, name := range Targets {
		opts := testenv.Options{Name: name, NodeAgent: nodeagent.Config{Pools: pools(name)}, MutatingAdmissionPolicies: AdmissionPolicyTargets[name]}
		if GangTargets[name] {
			opts = opts.WithGangScheduling()
		}
		c, err := testenv.StartLocal(ctx, dir, opts)
		if err != nil {
			return e, fmt.Errorf("cannot start cluster %s: %w", name, err)
		}
		e.Targets[name] = c
	}
	e.crossplane, err = testenv.StartCrossplaneLocal(ctx, e.ControlPlane, testenv.CrossplaneOptions{Packages: packageFiles})
	if err != nil {
		return e, fmt.Errorf("cannot install the packages: %w", err)
	}
	return e, e.configure(ctx)
}

// Packages are the installed Configuration, Function and Provider objects,
// as "kind name (package)".
func (e *Env) Packages(ctx context.Context) ([]string, error) {
	var out []string
	for _, kind := range []string{"Configuration", "Function", "Provider"} {
		l := &unstructured.UnstructuredList{}
		l.SetAPIVersion("pkg.crossplane.io/v1")
		l.SetKind(kind + "List")
		if err := e.ControlPlane.Client.List(ctx, l); err != nil {
			return nil, err
		}
		for _, p := range l.Items {
			ref, _, _ := unstructured.NestedString(p.Object, "spec", "package")
			out = append(out, fmt.Sprintf("%s %s (%s)", kind, p.GetName(), ref))
		}
	}
	return out, nil
}

// PackageLogs is the directory of the function's and provider's logs.
func (e *Env) PackageLogs() string { return e.crossplane.PackageLogs }

// configure gives the control plane a provider config per target.
func (e *Env) configure(ctx context.Context) error {
	c := e.ControlPlane.Client
	for config, cluster := range Configs {
		labels := v1alpha1.WorkerLabelsPatch
		if AdmissionPolicyTargets[cluster] {
			labels = v1alpha1.WorkerLabelsAdmissionPolicy
		}
		secret := "cluster-" + config + "-kubeconfig"
		if err := c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: "crossplane-system"},
			Data:       map[string][]byte{"kubeconfig": e.Targets[cluster].Kubeconfig},
		}); err != nil {
			return fmt.Errorf("cannot create the kubeconfig Secret of %s: %w", config, err)
		}
		if err := c.Create(ctx, &v1alpha1.ClusterProviderConfig{
			ObjectMeta: metav1.ObjectMeta{Name: config},
			Spec: v1alpha1.ProviderConfigSpec{
				Credentials: v1alpha1.ProviderCredentials{
					Source: xpv2.CredentialsSourceSecret,
					CommonCredentialSelectors: xpv2.CommonCredentialSelectors{SecretRef: &xpv2.SecretKeySelector{
						SecretReference: xpv2.SecretReference{Namespace: "crossplane-system", Name: secret}, Key: "kubeconfig",
					}},
				},
				WorkerLabels: labels,
			},
		}); err != nil {
			return fmt.Errorf("cannot create ClusterProviderConfig %s: %w", config, err)
		}
	}
	return nil
}

// Kubeconfigs are the clusters' admin kubeconfig files, by cluster.
func (e *Env) Kubeconfigs() map[string]string {
	out := map[string]string{"control-plane": e.ControlPlane.KubeconfigPath}
	for n, c := range e.Targets {
		out[n] = c.KubeconfigPath
	}
	return out
}

// Down stops the packages' processes and every cluster.
func (e *Env) Down() error {
	// The function and provider first, while the clusters they talk to are
	// still there.
	if e.crossplane != nil {
		e.crossplane.Stop()
	}
	var errs []error
	for _, c := range e.Targets {
		errs = append(errs, c.Stop())
	}
	if e.ControlPlane != nil {
		errs = append(errs, e.ControlPlane.Stop())
	}
	return errors.Join(errs...)
}
