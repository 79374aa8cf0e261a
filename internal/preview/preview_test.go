package preview

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// examples are the claims and composite resources under examples/.
func examples(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(b, &obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if k := obj["kind"]; obj["apiVersion"] == "lws.crossplane.io/v1alpha1" && (k == "LeaderWorkerSet" || k == "XLeaderWorkerSet" || k == "DisaggregatedSet") {
			out[strings.TrimSuffix(filepath.Base(f), ".yaml")] = obj
		}
	}
	if len(out) < 8 {
		t.Fatalf("found %d examples, want every seed example", len(out))
	}
	return out
}

// TestGolden renders every example both ways and compares with the golden
// files; `go test ./internal/preview -update` rewrites them.
func TestGolden(t *testing.T) {
	for name, obj := range examples(t) {
		for kind, render := range map[string]func(map[string]any) ([]ClusterObject, error){"composed": Composed, "objects": Objects} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				objs, err := render(obj)
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				var got bytes.Buffer
				for _, o := range objs {
					b, err := yaml.Marshal(o)
					if err != nil {
						t.Fatal(err)
					}
					got.WriteString("---\n")
					got.Write(b)
				}
				file := filepath.Join("testdata", name+"."+kind+".yaml")
				if *update {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), got.String()); diff != "" {
					t.Errorf("%s: -golden, +rendered:\n%s", file, diff)
				}
			})
		}
	}
}

func TestInvalidNamesTheField(t *testing.T) {
	obj := map[string]any{
		"apiVersion": "lws.crossplane.io/v1alpha1", "kind": "LeaderWorkerSet",
		"metadata": map[string]any{"name": "bad"},
		"spec": map[string]any{
			"replicas":             int64(2),
			"leaderWorkerTemplate": map[string]any{"size": int64(8), "subGroupPolicy": map[string]any{"subGroupSize": int64(3)}, "workerTemplate": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c"}}}}},
		},
	}
	for kind, render := range map[string]func(map[string]any) ([]ClusterObject, error){"composed": Composed, "objects": Objects} {
		_, err := render(obj)
		want := "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: size or size - 1 must be divisible by subGroupSize"
		if err == nil || err.Error() != want {
			t.Errorf("%s: want error %q, got %v", kind, want, err)
		}
	}
}
