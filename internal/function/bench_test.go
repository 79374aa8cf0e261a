package function_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lws-crossplane/lws-crossplane/internal/function"
	"github.com/lws-crossplane/lws-crossplane/internal/preview"
)

// benchXR is a LeaderWorkerSet of the given shape over n clusters, with a
// realistic inference pod: resources, probes, volumes and a TPU request.
func benchXR(replicas, size, clusters int) string {
	placement := `"placement":{"clusters":[`
	for i := range clusters {
		if i > 0 {
			placement += ","
		}
		placement += fmt.Sprintf(`{"name":"cluster-%d"}`, i)
	}
	placement += `]},`
	return fmt.Sprintf(`{
	  "apiVersion": "lws.crossplane.io/v1alpha1", "kind": "XLeaderWorkerSet",
	  "metadata": {"name": "vllm", "namespace": "default", "annotations": {"leaderworkerset.sigs.k8s.io/exclusive-topology": "cloud.google.com/gke-nodepool"}},
	  "spec": {
	    "replicas": %d, %s
	    "rolloutStrategy": {"rollingUpdateConfiguration": {"maxUnavailable": 2, "maxSurge": 2}},
	    "leaderWorkerTemplate": {
	      "size": %d,
	      "leaderTemplate": {"metadata": {"labels": {"role": "leader"}}, "spec": {"containers": [{"name": "vllm-leader", "image": "vllm/vllm-openai:v0.9.0",
	        "command": ["sh", "-c", "ray start --head && python3 -m vllm.entrypoints.openai.api_server --tensor-parallel-size 8"],
	        "resources": {"limits": {"nvidia.com/gpu": "8"}}, "ports": [{"containerPort": 8080}],
	        "readinessProbe": {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 15},
	        "volumeMounts": [{"mountPath": "/dev/shm", "name": "dshm"}]}],
	        "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "15Gi"}}]}},
	      "workerTemplate": {"spec": {"containers": [{"name": "vllm-worker", "image": "vllm/vllm-openai:v0.9.0",
	        "command": ["sh", "-c", "ray start --address=$(LWS_LEADER_ADDRESS):6379 --block"],
	        "resources": {"limits": {"google.com/tpu": "4"}, "requests": {"cpu": "8"}},
	        "volumeMounts": [{"mountPath": "/dev/shm", "name": "dshm"}]}],
	        "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "15Gi"}}]}}
	    }
	  }
	}`, replicas, placement, size)
}

// BenchmarkRunFunction measures one RunFunction call. The function renders
// nothing (the provider does), so its cost must not grow with replicas.
func BenchmarkRunFunction(b *testing.B) {
	shapes(b, func(b *testing.B, xr *structpb.Struct) {
		f := function.New(logging.NewNopLogger())
		req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: xr}}}
		for b.Loop() {
			rsp, err := f.RunFunction(context.Background(), req)
			if err != nil || len(rsp.GetResults()) > 0 {
				b.Fatalf("RunFunction: %v %v", err, rsp.GetResults())
			}
		}
	})
}

// BenchmarkRender measures `lws render --objects`: the provider's planner
// taking a simulated empty cluster to every group running, for every
// cluster. It grows with replicas.
func BenchmarkRender(b *testing.B) {
	shapes(b, func(b *testing.B, xr *structpb.Struct) {
		obj := xr.AsMap()
		for b.Loop() {
			if _, err := preview.Objects(obj); err != nil {
				b.Fatalf("Objects: %v", err)
			}
		}
	})
}

// shapes runs a benchmark over replicas {1, 16, 256, 1024} × size {2, 16,
// 64} × clusters {1, 3}.
func shapes(b *testing.B, bench func(*testing.B, *structpb.Struct)) {
	for _, clusters := range []int{1, 3} {
		for _, size := range []int{2, 16, 64} {
			for _, replicas := range []int{1, 16, 256, 1024} {
				xr := resource.MustStructJSON(benchXR(replicas, size, clusters))
				b.Run(fmt.Sprintf("clusters=%d/size=%d/replicas=%d", clusters, size, replicas), func(b *testing.B) {
					b.ReportAllocs()
					bench(b, xr)
				})
			}
		}
	}
}
