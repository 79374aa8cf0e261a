package testenv

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/internal/xpkg"
)

// installPackages installs the product from the package files in files as
// a platform team installs it from a registry. A registry on loopback
// serves them, and an ImageConfig rewrites their public names (xpkg.Prefix)
// to it; the Configuration is applied, Crossplane's package manager
// resolves the function and provider it depends on, and the package
// runtime (runtimeDir) runs them from their runtime images. It returns when
// every package is installed and healthy.
func (x *Crossplane) installPackages(ctx context.Context, c *Cluster, pk *pki, runtimeDir, files string) error {
	reg, err := xpkg.StartRegistry()
	if err != nil {
		return err
	}
	x.registry = reg
	if err := xpkg.Publish(reg, files); err != nil {
		return err
	}
	if err := c.packageConfig(ctx, reg.Rewrite()); err != nil {
		return err
	}
	x.runtime = &packageRuntime{c: c, pk: pk, dir: runtimeDir, procs: map[string]*runtimeProcess{}}
	x.PackageLogs = runtimeDir
	if err := x.runtime.start(ctx); err != nil {
		return err
	}
	return installConfiguration(ctx, c, xpkg.Configuration, xpkg.Prefix+xpkg.Configuration+":"+xpkg.Version)
}

// packageConfig is what `core init` and Crossplane's Helm chart would
// otherwise set up for packages: a policy activating every managed resource
// definition (the chart's default), and the ImageConfigs of rewrites.
func (c *Cluster) packageConfig(ctx context.Context, rewrites map[string]string) error {
	objs := []map[string]any{{
		"apiVersion": "apiextensions.crossplane.io/v1alpha1", "kind": "ManagedResourceActivationPolicy",
		"metadata": map[string]any{"name": "default"},
		"spec":     map[string]any{"activate": []any{"*"}},
	}}
	i := 0
	for from, to := range rewrites {
		objs = append(objs, map[string]any{
			"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "ImageConfig",
			"metadata": map[string]any{"name": fmt.Sprintf("rewrite-%d", i)},
			"spec": map[string]any{
				"matchImages":  []any{map[string]any{"type": "Prefix", "prefix": from}},
				"rewriteImage": map[string]any{"prefix": to},
			},
		})
		i++
	}
	for _, o := range objs {
		if err := c.Client.Create(ctx, &unstructured.Unstructured{Object: o}); err != nil {
			return fmt.Errorf("creating %s: %w", o["kind"], err)
		}
	}
	return nil
}

// installConfiguration installs the Configuration package ref as name
// through Crossplane's package manager, which resolves the packages it
// depends on, and waits until it and every Function and Provider are
// Installed and Healthy.
func installConfiguration(ctx context.Context, c *Cluster, name, ref string) error {
	cfg := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "pkg.crossplane.io/v1", "kind": "Configuration",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"package": ref},
	}}
	if err := c.Client.Create(ctx, cfg); err != nil {
		return fmt.Errorf("creating Configuration %s: %w", name, err)
	}
	// The objects the packages install include Crossplane's deprecated
	// versions; their API warnings are Crossplane's to heed, not ours.
	ctx = logr.NewContext(ctx, quiet)
	return WaitFor(ctx, 3*time.Minute, func(ctx context.Context) (bool, error) {
		for _, kind := range []string{"Configuration", "Function", "Provider"} {
			pkgs, err := list(ctx, c, "pkg.crossplane.io/v1", kind)
			if err != nil {
				return false, err
			}
			if len(pkgs) == 0 {
				return false, Pendingf("no %s yet", kind)
			}
			for i := range pkgs {
				for _, want := range []string{"Installed", "Healthy"} {
					if !conditionTrue(&pkgs[i], want) {
						return false, Pendingf("%s %s not %s: %s", kind, pkgs[i].GetName(), want, conditionMessages(&pkgs[i]))
					}
				}
			}
			revs, err := list(ctx, c, "pkg.crossplane.io/v1", kind+"Revision")
			if err != nil {
				return false, err
			}
			for i := range revs {
				if err := established(ctx, c, &revs[i]); err != nil {
					return false, err
				}
			}
		}
		// ConfigurationRevisions name their XRDs without a type, so
		// every XRD is waited for.
		xrds, err := list(ctx, c, "apiextensions.crossplane.io/v2", "CompositeResourceDefinition")
		if err != nil {
			return false, err
		}
		names := make([]string, 0, len(xrds))
		for _, x := range xrds {
			names = append(names, x.GetName())
		}
		return xrdsReady(ctx, c, names)
	})
}

func list(ctx context.Context, c *Cluster, apiVersion, kind string) ([]unstructured.Unstructured, error) {
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion(apiVersion)
	l.SetKind(kind + "List")
	if err := c.Client.List(ctx, l); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// established is nil when every object an active revision installed that
// reports an Established condition (CRDs, MRDs) reports it True: a package
// is Healthy a moment before its types are served.
func established(ctx context.Context, c *Cluster, rev *unstructured.Unstructured) error {
	if state, _, _ := unstructured.NestedString(rev.Object, "spec", "desiredState"); state != "Active" {
		return nil
	}
	refs, _, _ := unstructured.NestedSlice(rev.Object, "status", "objectRefs")
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		if ref["kind"] == "" || ref["kind"] == nil {
			continue // a ConfigurationRevision's; see installConfiguration
		}
		o := &unstructured.Unstructured{}
		o.SetAPIVersion(fmt.Sprint(ref["apiVersion"]))
		o.SetKind(fmt.Sprint(ref["kind"]))
		if err := c.Client.Get(ctx, client.ObjectKey{Name: fmt.Sprint(ref["name"])}, o); err != nil {
			return fmt.Errorf("%s %v: %w", rev.GetName(), ref, err)
		}
		if hasCondition(o, "Established") && !conditionTrue(o, "Established") {
			return Pendingf("%s %s not Established", o.GetKind(), o.GetName())
		}
	}
	return nil
}

// conditionMessages are an object's conditions, for a pending wait.
func conditionMessages(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	return fmt.Sprint(conds)
}
