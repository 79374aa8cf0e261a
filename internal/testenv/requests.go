package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParseMetrics reads metrics in the Prometheus text format into a map from
// series, as written (`name{label="value"}`), to value. Comments and lines
// without a number are skipped.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// Requests counts the requests the cluster's API server has answered with
// a verb (POST, PUT, PATCH, ...) on a resource and subresource ("" for the
// object itself), from its apiserver_request_total metric.
func (c *Cluster) Requests(ctx context.Context, verb, resource, subresource string) (float64, error) {
	raw, err := c.Clientset.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("cluster %s: reading metrics: %w", c.Name, err)
	}
	series, err := ParseMetrics(bytes.NewReader(raw))
	if err != nil {
		return 0, fmt.Errorf("cluster %s: parsing metrics: %w", c.Name, err)
	}
	want := []string{`verb="` + verb + `"`, `resource="` + resource + `"`, `subresource="` + subresource + `"`}
	total := 0.0
	for s, v := range series {
		if strings.HasPrefix(s, "apiserver_request_total{") && containsAll(s, want) {
			total += v
		}
	}
	return total, nil
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
