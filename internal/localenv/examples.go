package localenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// ApplyExamples creates every example claim and composite resource in the
// control plane, for Crossplane to compose, and returns their names.
//
// Exclusive placement keeps a topology domain free of every other group's
// leader, as upstream keeps it free of every other group. The examples
// asking for it go first, and the others wait until their leaders hold
// their domains, so that the scheduler's spreading of the others does not
// leave them none.
func (e *Env) ApplyExamples(ctx context.Context, dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var exclusive, others []*unstructured.Unstructured
	for _, f := range files {
		u, err := readExample(f)
		if err != nil {
			return nil, err
		}
		switch {
		case u == nil:
		case u.GetAnnotations()[lws.AnnotationExclusiveTopology] != "":
			exclusive = append(exclusive, u)
		default:
			others = append(others, u)
		}
	}
	names, err := e.apply(ctx, exclusive)
	if err != nil {
		return nil, err
	}
	if err := e.leadersScheduled(ctx, exclusive); err != nil {
		return nil, err
	}
	more, err := e.apply(ctx, others)
	return append(names, more...), err
}

// readExample reads a claim or composite resource, of a LeaderWorkerSet or
// a DisaggregatedSet; other files give nil.
func readExample(f string) (*unstructured.Unstructured, error) {
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	u := &unstructured.Unstructured{Object: obj}
	if !strings.HasPrefix(u.GetAPIVersion(), "lws.crossplane.io/") || !strings.HasSuffix(u.GetKind(), "LeaderWorkerSet") && !strings.HasSuffix(u.GetKind(), "DisaggregatedSet") {
		return nil, nil
	}
	return u, nil
}

func (e *Env) apply(ctx context.Context, examples []*unstructured.Unstructured) ([]string, error) {
	var names []string
	for _, u := range examples {
		if err := e.ControlPlane.Client.Create(ctx, u); err != nil {
			return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		names = append(names, u.GetNamespace()+"/"+u.GetName())
	}
	return names, nil
}

// leadersScheduled waits until every leader of the examples is bound to a
// node, at most a minute.
func (e *Env) leadersScheduled(ctx context.Context, examples []*unstructured.Unstructured) error {
	return testenv.WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		for _, u := range examples {
			for _, c := range e.Targets {
				var pods corev1.PodList
				if err := c.Client.List(ctx, &pods, client.InNamespace(u.GetNamespace()), client.MatchingLabels{lws.LabelName: u.GetName(), lws.LabelWorkerIndex: "0"}); err != nil {
					return false, err
				}
				for _, p := range pods.Items {
					if p.Spec.NodeName == "" {
						return false, nil
					}
				}
			}
		}
		return true, nil
	})
}

// RollOut changes the image of the first container of an example's
// templates to image, as a user editing the claim would; Crossplane
// composes the change, and the provider rolls the groups out.
func (e *Env) RollOut(ctx context.Context, dir, name, image string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		u, err := readExample(f)
		if err != nil {
			return err
		}
		if u == nil || u.GetName() != name {
			continue
		}
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(u.GroupVersionKind())
			if err := e.ControlPlane.Client.Get(ctx, client.ObjectKeyFromObject(u), live); err != nil {
				return err
			}
			for _, tmpl := range []string{"workerTemplate", "leaderTemplate"} {
				path := []string{"spec", "leaderWorkerTemplate", tmpl, "spec", "containers"}
				cs, found, err := unstructured.NestedSlice(live.Object, path...)
				if err != nil || !found || len(cs) == 0 {
					continue
				}
				cs[0].(map[string]any)["image"] = image
				if err := unstructured.SetNestedSlice(live.Object, cs, path...); err != nil {
					return err
				}
			}
			return e.ControlPlane.Client.Update(ctx, live)
		})
	}
	return fmt.Errorf("no example named %s in %s", name, dir)
}
