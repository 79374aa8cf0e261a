package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Requests counts the requests the cluster's API server has answered with
// a verb (POST, PUT, PATCH, ...) on a resource and subresource ("" for the
// object itself), from its apiserver_request_total metric.
func (c *Cluster) Requests(ctx context.Context, verb, resource, subresource string) (float64, error) {
	raw, err := c.Clientset.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("cluster %s: reading metrics: %w", c.Name, err)
	}
	want := []string{`verb="` + verb + `"`, `resource="` + resource + `"`, `subresource="` + subresource + `"`}
	total := 0.0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if !strings.HasPrefix(line, "apiserver_request_total{") || i < 0 || !containsAll(line[:i], want) {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("cluster %s: parsing %q: %w", c.Name, line, err)
		}
		total += v
	}
	return total, sc.Err()
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
