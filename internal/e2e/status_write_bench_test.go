//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/lws-crossplane/lws-crossplane/apis"
	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// BenchmarkStatusWrite is what one status write of a managed resource
// costs the control-plane API server and its etcd (issue 14): the examples'
// RemoteLeaderWorkerSets as the function composes them (intent), and the
// same objects grown to the size they had when they also carried the
// rendered leader StatefulSet and Services (rendered-size; BENCHMARKS.md,
// "Managed resource size"). The old shape's fields are gone from the CRD,
// so its size is carried by an annotation: the server decodes, converts,
// stores and sends out bytes, whichever field holds them.
func BenchmarkStatusWrite(b *testing.B) {
	scheme := testenv.DefaultScheme()
	if err := apis.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	// The API server and etcd only: the cluster's CPU time is theirs.
	cp := testenv.Start(b, testenv.Options{Name: "control-plane", WithoutControllerManager: true, WithoutScheduler: true, WithoutNodeAgent: true,
		CRDDirectoryPaths: []string{filepath.Join("..", "..", "package", "provider", "crds")}, Scheme: scheme})
	// The spec sizes of the examples' managed resources before and after
	// the managed resource carried intent only.
	for _, c := range []struct {
		example               string
		rendered, intentBytes int
	}{
		{example: "leaderworkerset", rendered: 2560, intentBytes: 767},
		{example: "subgroups-tpu", rendered: 3181, intentBytes: 1170},
	} {
		mr := composedExample(b, c.example)
		for _, shape := range []struct {
			name string
			pad  int
		}{{"intent", 0}, {"rendered-size", c.rendered - c.intentBytes}} {
			o := mr.DeepCopy()
			o.Name += "-" + shape.name
			if shape.pad > 0 {
				o.Annotations = map[string]string{"lws.crossplane.io/benchmark-padding": strings.Repeat("x", shape.pad)}
			}
			must(b, cp.Client.Create(context.Background(), o))
			size, err := json.Marshal(o)
			must(b, err)
			// b.Run calls its function once more for every b.N it tries.
			b.Run(c.example+"/"+shape.name, func(b *testing.B) {
				before, err := cp.CPUTime()
				must(b, err)
				b.ResetTimer()
				for i := range b.N {
					// A status that changes at every write, as a group
					// count does, so that none is a no-op.
					o.Status.AtProvider.ReadyReplicas = int32(i%2 + 1)
					must(b, cp.Client.Status().Update(context.Background(), o))
				}
				b.StopTimer()
				after, err := cp.CPUTime()
				must(b, err)
				b.ReportMetric(float64((after-before).Microseconds())/1000/float64(b.N), "ms-cpu/write")
				b.ReportMetric(float64(len(size)), "bytes")
			})
		}
	}
}

// composedExample is the first RemoteLeaderWorkerSet the function composes
// for an example, as internal/preview's golden file holds it.
func composedExample(b *testing.B, example string) *v1alpha1.RemoteLeaderWorkerSet {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "preview", "testdata", example+".composed.yaml"))
	must(b, err)
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var composed struct {
			Object v1alpha1.RemoteLeaderWorkerSet `json:"object"`
		}
		must(b, yaml.Unmarshal(doc, &composed))
		if composed.Object.Kind == "RemoteLeaderWorkerSet" {
			return &composed.Object
		}
	}
	b.Fatalf("no RemoteLeaderWorkerSet in %s", example)
	return nil
}
