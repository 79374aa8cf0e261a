// Package e2e holds the end-to-end suites and benchmarks: the provider,
// Crossplane core and the function on a control-plane cluster, with target
// clusters of real kube-apiservers, etcds, controller managers and
// schedulers whose pods become Ready.
//
// Every test here, like every other test that starts a cluster, is built
// only with the e2e tag (go test -tags e2e), so that go test ./internal/...
// needs no cluster and no binaries; make test runs both.
package e2e
