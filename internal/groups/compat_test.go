package groups

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// v010Resource is a managed resource as v0.1.0's function composed it: the
// intent, and the leader StatefulSet and Services it rendered.
type v010Resource struct {
	Cluster string
	Params  v1alpha1.RemoteLeaderWorkerSetParameters
	Leader  appsv1.StatefulSet
	Service []corev1.Service
}

func readV010(t *testing.T, file string) []v010Resource {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []v010Resource
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var doc struct {
			Cluster string `json:"cluster"`
			Object  struct {
				Spec struct {
					ForProvider json.RawMessage `json:"forProvider"`
				} `json:"spec"`
			} `json:"object"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var legacy struct {
			LeaderStatefulSet appsv1.StatefulSet `json:"leaderStatefulSet"`
			Services          []corev1.Service   `json:"services"`
		}
		r := v010Resource{Cluster: doc.Cluster}
		for _, into := range []any{&r.Params, &legacy} {
			if err := json.Unmarshal(doc.Object.Spec.ForProvider, into); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
		}
		r.Leader, r.Service = legacy.LeaderStatefulSet, legacy.Services
		out = append(out, r)
	}
}

// TestAdoptsV010Shape: v0.1.0's function rendered the leader StatefulSet and
// the shared Services into the managed resource, and its provider applied
// them. The provider renders them itself now, from the intent that the old
// shape carries too. For every example, what it renders is what v0.1.0
// rendered, and a cluster v0.1.0 left running (its leader StatefulSet and
// Services, every group ready) is planned without a single write: no leader
// is replaced, so no pod restarts across the upgrade.
func TestAdoptsV010Shape(t *testing.T) {
	files, err := filepath.Glob("testdata/v0.1.0/*.yaml")
	if err != nil || len(files) < 8 {
		t.Fatalf("want the managed resources of every example, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		for _, old := range readV010(t, f) {
			t.Run(filepath.Base(f)+"/"+old.Cluster, func(t *testing.T) {
				c := NewSimulation(old.Params)
				if _, err := c.Converge(now); err != nil {
					t.Fatal(err)
				}
				leader := old.Leader.DeepCopy()
				// The provider set replicas and partition on what the
				// function rendered, and the cluster its UID and status;
				// the rest is as rendered.
				leader.UID, leader.Status = c.Leader.UID, c.Leader.Status
				leader.Spec.Replicas = c.Leader.Spec.Replicas
				leader.Spec.UpdateStrategy.RollingUpdate.Partition = c.Leader.Spec.UpdateStrategy.RollingUpdate.Partition
				if diff := cmp.Diff(leader, c.Leader); diff != "" {
					t.Errorf("leader StatefulSet: -v0.1.0, +now:\n%s", diff)
				}
				shared := c.Services[:len(old.Service)]
				if diff := cmp.Diff(old.Service, shared, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("shared Services: -v0.1.0, +now:\n%s", diff)
				}

				c.Leader = leader
				copy(c.Services, old.Service)
				p, err := Compute(&c.State, nil, 1, now)
				if err != nil {
					t.Fatal(err)
				}
				if p.Changes() {
					t.Errorf("a cluster v0.1.0 left running is changed: leader %v, services %d, workers %d, restarts %d",
						p.Leader != nil, len(p.Services), len(p.Workers), len(p.Restarts))
				}
			})
		}
	}
}
