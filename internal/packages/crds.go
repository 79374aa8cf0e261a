// Package packages reads the project's Crossplane packages from package/.
package packages

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"
	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// XRDFiles are the configuration package's XRDs.
var XRDFiles = []string{
	"definition-xleaderworkersets.yaml", "definition-leaderworkersets.yaml",
	"definition-xdisaggregatedsets.yaml", "definition-disaggregatedsets.yaml",
}

// CRDs returns, from the package directory root, the provider's CRDs and the
// CRDs Crossplane derives from the XRDs, derived with Crossplane's own code.
// They carry no owner: without Crossplane there is no XRD to own them.
func CRDs(root string) ([]*extv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(root, "provider", "crds", "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []*extv1.CustomResourceDefinition
	for _, f := range files {
		crd := &extv1.CustomResourceDefinition{}
		if err := read(f, crd); err != nil {
			return nil, err
		}
		out = append(out, crd)
	}
	for _, f := range XRDFiles {
		xrd := &xpv1.CompositeResourceDefinition{}
		if err := read(filepath.Join(root, "configuration", f), xrd); err != nil {
			return nil, err
		}
		xr, err := xcrd.ForCompositeResource(xrd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, xr)
		if xrd.Spec.ClaimNames != nil {
			claim, err := xcrd.ForCompositeResourceClaim(xrd)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, claim)
		}
	}
	for _, crd := range out {
		crd.OwnerReferences = nil
	}
	return out, nil
}

func read(file string, into any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
