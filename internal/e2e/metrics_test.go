//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

// freeAddress is a loopback address with a port free at the time of the call.
func freeAddress(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// scrape reads the provider's metrics endpoint into a map from series, as
// written in the text format (`name{label="value"}`), to value.
func (e *env) scrape(t testing.TB) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + e.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := testenv.ParseMetrics(resp.Body)
	must(t, err)
	return out
}

// targetWrites is the number of writes (POST, PUT, PATCH, DELETE) the
// provider made to the target clusters so far.
func (e *env) targetWrites(t testing.TB) float64 {
	t.Helper()
	n := 0.0
	for series, v := range e.scrape(t) {
		if !strings.HasPrefix(series, "lws_target_requests_total{") {
			continue
		}
		for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			if strings.Contains(series, `method="`+m+`"`) {
				n += v
			}
		}
	}
	return n
}

// reconciles is the number of reconciles of managed resources so far.
func (e *env) reconciles(t testing.TB) float64 {
	t.Helper()
	n := 0.0
	for series, v := range e.scrape(t) {
		if strings.HasPrefix(series, "controller_runtime_reconcile_total{") && strings.Contains(series, `controller="managed/remoteleaderworkerset`) {
			n += v
		}
	}
	return n
}

// touch annotates a pod of the default namespace of c n times, each time
// waiting for the reconcile its watch triggers, and returns the provider's
// writes meanwhile (to the target clusters, and of managed resources'
// status) and the reconciles: at steady state the writes are 0.
func (e *env) touch(t testing.TB, c *testenv.Cluster, pod string, n int) (writes, reconciles float64) {
	t.Helper()
	ctx := context.Background()
	w0, r0 := e.writes(t), e.reconciles(t)
	for i := range n {
		seen := e.reconciles(t)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"test.lws.crossplane.io/touch":"%d"}}}`, i)
		_, err := c.Clientset.CoreV1().Pods("default").Patch(ctx, pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		must(t, err)
		testenv.Eventually(t, 10*time.Second, "a reconcile after touching pod "+pod, func(context.Context) (bool, error) {
			return e.reconciles(t) > seen, nil
		})
	}
	return e.writes(t) - w0, e.reconciles(t) - r0
}

// writes are the provider's writes to the target clusters and of managed
// resources' status.
func (e *env) writes(t testing.TB) float64 {
	t.Helper()
	status, err := e.cp.Requests(context.Background(), "PUT", "remoteleaderworkersets", "status")
	must(t, err)
	return e.targetWrites(t) + status
}
