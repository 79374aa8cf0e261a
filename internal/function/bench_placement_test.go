package function_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/function"
	"github.com/lws-crossplane/lws-crossplane/internal/observation"
)

// observedCluster is the TargetCluster the provider would keep for a
// cluster of n nodes with 8 GPUs and 4 TPU chips each, in node pools
// (accelerator islands) of 8 over 4 zones, a quarter of the pools busy.
func observedCluster(b *testing.B, name string, n int) *structpb.Struct {
	b.Helper()
	nodes := make([]corev1.Node, n)
	var pods []corev1.Pod
	for i := range nodes {
		nodes[i] = corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i), Labels: map[string]string{
				"cloud.google.com/gke-nodepool": fmt.Sprintf("pool-%d", i/8), corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%4),
			}},
			Status: corev1.NodeStatus{
				Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				Allocatable: corev1.ResourceList{"nvidia.com/gpu": kresource.MustParse("8"), "google.com/tpu": kresource.MustParse("4")},
			},
		}
		if (i/8)%4 == 0 {
			pods = append(pods, corev1.Pod{Spec: corev1.PodSpec{NodeName: nodes[i].Name}})
		}
	}
	st := observation.Of(nodes, pods, observation.DefaultTopologyKeys)
	st.Conditions = []metav1.Condition{{Type: "Reachable", Status: metav1.ConditionTrue, Reason: "Contacted", LastTransitionTime: metav1.Now()}}
	tc := v1alpha1.TargetCluster{TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.TargetClusterKind},
		ObjectMeta: metav1.ObjectMeta{Name: name}, Status: st}
	js, err := json.Marshal(tc)
	if err != nil {
		b.Fatal(err)
	}
	return resource.MustStructJSON(string(js))
}

// BenchmarkRunFunctionObserved measures RunFunction placing a
// LeaderWorkerSet over three clusters by their TargetClusters, each
// observing 1,000 nodes, and reports the median call (p50-ns); it must not
// grow with replicas.
func BenchmarkRunFunctionObserved(b *testing.B) {
	required := map[string]*fnv1.Resources{}
	for i := range 3 {
		name := fmt.Sprintf("cluster-%d", i)
		required[function.RequiredPrefix+name] = &fnv1.Resources{Items: []*fnv1.Resource{{Resource: observedCluster(b, name, 1000)}}}
	}
	for _, replicas := range []int{16, 256} {
		b.Run(fmt.Sprintf("nodes=3x1000/replicas=%d", replicas), func(b *testing.B) {
			f := function.New(logging.NewNopLogger())
			req := &fnv1.RunFunctionRequest{
				Observed:          &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(benchXR(replicas, 8, 3))}},
				RequiredResources: required,
			}
			var took []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				rsp, err := f.RunFunction(context.Background(), req)
				took = append(took, time.Since(start))
				if err != nil || len(rsp.GetResults()) > 0 {
					b.Fatalf("RunFunction: %v %v", err, rsp.GetResults())
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
		})
	}
}
