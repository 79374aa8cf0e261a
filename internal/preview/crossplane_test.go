package preview

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/lws-crossplane/lws-crossplane/internal/function"
)

// crossplaneBinaries returns the Crossplane CLI and core that `make
// crossplane` builds, or skips the test when they are not built.
func crossplaneBinaries(t *testing.T) (cli, core string) {
	t.Helper()
	bin, err := filepath.Abs("../../bin")
	if err != nil {
		t.Fatal(err)
	}
	cli, core = filepath.Join(bin, "crossplane"), filepath.Join(bin, "crossplane-core")
	for _, b := range []string{cli, core} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("%s is not built; run `make crossplane`", b)
		}
	}
	return cli, core
}

// serve runs the composition function on a loopback port, the way
// `crossplane render` reaches a function in development mode.
func serve(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	fnv1.RegisterFunctionRunnerServiceServer(srv, function.New(logging.NewNopLogger()))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestCrossplaneRender renders every example through the real Crossplane
// render engine and checks that it composes what `lws render` shows.
func TestCrossplaneRender(t *testing.T) {
	cli, core := crossplaneBinaries(t)
	addr := serve(t)
	home := t.TempDir()
	for name, obj := range examples(t) {
		t.Run(name, func(t *testing.T) {
			// crossplane render takes a composite resource, not a claim.
			kind, composition := "XLeaderWorkerSet", "../../package/configuration/composition-leaderworkerset.yaml"
			if disaggregatedClaim(obj) {
				kind, composition = "XDisaggregatedSet", "../../package/configuration/composition-disaggregatedset.yaml"
			}
			obj["kind"] = kind
			xr := filepath.Join(t.TempDir(), "xr.yaml")
			b, err := sigsyaml.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(xr, b, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(cli, "render", xr, composition, "../../examples/functions.yaml",
				"--crossplane-binary="+core, "-a", "render.crossplane.io/runtime-development-target="+addr)
			cmd.Env = append(os.Environ(), "HOME="+home)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("crossplane render: %v\n%s", err, stderr.String())
			}
			got := map[string]any{}
			dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
			for {
				doc := map[string]any{}
				if err := dec.Decode(&doc); err != nil {
					break
				}
				if doc["kind"] == "RemoteLeaderWorkerSet" {
					got[doc["metadata"].(map[string]any)["name"].(string)] = doc["spec"].(map[string]any)["forProvider"]
				}
			}
			composed, err := Composed(obj)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{}
			for _, c := range composed {
				// Through YAML, so that numbers compare as crossplane's do.
				js, err := sigsyaml.Marshal(c.Object)
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]any{}
				if err := sigsyaml.Unmarshal(js, &m); err != nil {
					t.Fatal(err)
				}
				if m["kind"] == "RemoteLeaderWorkerSet" {
					want[m["metadata"].(map[string]any)["name"].(string)] = m["spec"].(map[string]any)["forProvider"]
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("crossplane render composed other managed resources than lws render: -lws render, +crossplane render:\n%s", diff)
			}
		})
	}
}
