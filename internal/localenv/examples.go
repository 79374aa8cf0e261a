package localenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/lws-crossplane/lws-crossplane/internal/preview"
)

// ApplyExamples creates every example claim and composite resource in the
// control plane and, until Crossplane core runs here, composes each with
// the composition function in process and creates the managed resources it
// returns. It returns the managed resources' names.
func (e *Env) ApplyExamples(ctx context.Context, dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(b, &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if !strings.HasPrefix(u.GetAPIVersion(), "lws.crossplane.io/") || !strings.HasSuffix(u.GetKind(), "LeaderWorkerSet") {
			continue
		}
		composed, err := preview.Composed(obj)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if err := e.ControlPlane.Client.Create(ctx, u); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range composed {
			mr := &unstructured.Unstructured{Object: c.Object}
			if err := e.ControlPlane.Client.Create(ctx, mr); err != nil {
				return nil, fmt.Errorf("%s: cluster %s: %w", f, c.Cluster, err)
			}
			names = append(names, mr.GetNamespace()+"/"+mr.GetName())
		}
	}
	return names, nil
}
