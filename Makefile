# lws-crossplane. `make run` brings up the local multi-cluster environment;
# `make test` runs every test. See README.md.

GO      ?= go
BIN     := $(CURDIR)/bin

include cluster/controlplane.mk

.PHONY: all build generate test fuzz fuzz-long chaos bench peer bench-peer vet lint run down render crossplane validate packages

all: build

# The main job: three local clusters, the provider, and every example,
# shown live until their groups are ready. `make down` stops it.
run: controlplane packages
	$(GO) run ./cmd/localenv up

down:
	$(GO) run ./cmd/localenv down

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# Regenerates deepcopy methods, managed-resource method sets, the provider's
# CRDs and the XRDs from apis/.
$(BIN)/angryjet:
	cd cluster/codegen && $(GO) build -o $(BIN)/angryjet github.com/crossplane/crossplane-tools/cmd/angryjet

generate: $(BIN)/angryjet
	cd apis && $(GO) generate -tags generate .

vet:
	$(GO) vet -tags e2e ./...

# golangci-lint (.golangci.yml), built from its own module so that its
# dependencies stay out of go.mod; go build makes this a no-op when current.
LINT := $(BIN)/golangci-lint
lint:
	cd cluster/lint && $(GO) build -o $(LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint
	$(LINT) run ./...

# The linter, then every test, with the Crossplane binaries and the
# packages they install: the e2e tag adds the tests that start clusters
# (internal/e2e and the real-cluster tests beside the code); fuzz targets
# get a short run. Its budget is a count of inputs, not a
# duration: Go 1.26's fuzzing coordinator can fail a target with a bare
# "context deadline exceeded" when a duration runs out under load
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
test: controlplane packages lint
	KUBEBUILDER_ASSETS=$(BIN)/k8s $(GO) test -tags e2e -timeout 20m ./...
	$(MAKE) fuzz FUZZTIME=2000x

FUZZTIME ?= 2m
FUZZTIMEOUT ?= 10m
fuzz:
	$(GO) test ./internal/lws -run '^$$' -fuzz FuzzDefaultAndValidate -fuzztime $(FUZZTIME) -timeout $(FUZZTIMEOUT)
	$(GO) test ./internal/podmeta -run '^$$' -fuzz FuzzMutate -fuzztime $(FUZZTIME) -timeout $(FUZZTIMEOUT)
	$(GO) test ./internal/compose -run '^$$' -fuzz FuzzPlan -fuzztime $(FUZZTIME) -timeout $(FUZZTIMEOUT)

# Ten million inputs a target, for the record in BENCHMARKS.md ("Fuzzing"),
# not for CI: hours on two cores. go test's timeout also ends a fuzzing
# run, so this one has none.
fuzz-long:
	$(MAKE) fuzz FUZZTIME=10000000x FUZZTIMEOUT=0

# The chaos suite (internal/e2e, TestChaos) on several seeds, each a longer
# schedule than the one `make test` runs; a failing seed reproduces with
# CHAOS_SEEDS=<seed>. Results go to BENCHMARKS.md ("Chaos").
CHAOS_SEEDS ?= 1 2 3 4 5
CHAOS_STEPS ?= 40
chaos: controlplane packages
	for seed in $(CHAOS_SEEDS); do \
		CHAOS_SEED=$$seed CHAOS_STEPS=$(CHAOS_STEPS) KUBEBUILDER_ASSETS=$(BIN)/k8s \
			$(GO) test -tags e2e ./internal/e2e -run '^TestChaos$$' -count=1 -v -timeout 30m || exit 1; \
	done

bench:
	$(GO) test ./internal/function -run '^$$' -bench . -benchmem -benchtime=300ms

# Upstream LeaderWorkerSet's manager, a benchmark peer only: built from a
# checkout of its source (LWS_UPSTREAM, tag v0.10.0) as its own Makefile
# builds it, inside that checkout and its module; nothing here imports it.
# The peer benchmarks read its CRDs and webhooks from the same checkout.
LWS_UPSTREAM_VERSION ?= v0.10.0
LWS_VERSION_PKG = sigs.k8s.io/lws/pkg/version
peer:
	@test -n "$(LWS_UPSTREAM)" || { echo 'set LWS_UPSTREAM to a checkout of kubernetes-sigs/lws $(LWS_UPSTREAM_VERSION)'; exit 1; }
	cd "$(LWS_UPSTREAM)" && $(GO) build -ldflags "-X '$(LWS_VERSION_PKG).GitVersion=$(LWS_UPSTREAM_VERSION)' -X '$(LWS_VERSION_PKG).BuildDate=$$(date -u +%Y-%m-%dT%H:%M:%SZ)'" -o $(BIN)/peer/lws-manager ./cmd

# Ours against upstream in one run (BENCHMARKS.md, "Upstream as a peer").
bench-peer: controlplane packages peer
	KUBEBUILDER_ASSETS=$(BIN)/k8s LWS_UPSTREAM="$(LWS_UPSTREAM)" $(GO) test -tags e2e ./internal/e2e -run '^$$' -bench BenchmarkPeer -benchtime=1x -count=3 -timeout 60m

# Crossplane core (the render engine) and CLI, built from wrapper modules
# because the module proxy refuses `go install` for them. Like the control
# plane, go build makes this a no-op when they are current.
# Core reports its module's version, which packages' crossplane.version
# constraints are checked against.
XP_VERSION = github.com/crossplane/crossplane-runtime/v2/pkg/version.version
crossplane:
	cd cluster/crossplane/core && $(GO) build -trimpath -ldflags "-s -w -X $(XP_VERSION)=$$($(GO) list -m -f '{{.Version}}' github.com/crossplane/crossplane/v2)" -o $(BIN)/crossplane-core github.com/crossplane/crossplane/v2/cmd/crossplane
	cd cluster/crossplane/cli && $(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/crossplane github.com/crossplane/cli/v2/cmd/crossplane
	@# Core's own CRDs, for the test harness that runs core (internal/testenv).
	@rm -rf $(BIN)/crossplane-crds && mkdir -p $(BIN)/crossplane-crds
	cp "$$(cd cluster/crossplane/core && $(GO) list -m -f '{{.Dir}}' github.com/crossplane/crossplane/v2)"/cluster/crds/*.yaml $(BIN)/crossplane-crds/
	@chmod -R u+w $(BIN)/crossplane-crds

# The function, provider and configuration packages, built by the real
# `crossplane xpkg build`; the function's and provider's runtime images hold
# a static binary each and are made without Docker (internal/xpkg).
packages: crossplane
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/packages/ ./cmd/function ./cmd/provider
	$(GO) run ./cmd/localenv packages --crossplane=$(BIN)/crossplane --binaries=$(BIN)/packages --out=$(BIN)/packages

# Renders every example through the real `crossplane render`, with the
# function served locally in development mode.
RENDER_ADDR ?= 127.0.0.1:9443
render: crossplane build
	@set -e; $(BIN)/function --insecure --address=$(RENDER_ADDR) --metrics-address=127.0.0.1:0 & fn=$$!; \
	trap "kill $$fn" EXIT; mkdir -p $(BIN)/render $(BIN)/.home; \
	for f in examples/*.yaml; do \
	  grep -q '^apiVersion: lws.crossplane.io' $$f || continue; \
	  kind=$$(sed -nE 's/^kind: X?(LeaderWorkerSet|DisaggregatedSet)$$/\1/p' $$f); [ -n "$$kind" ] || continue; \
	  sed "s/^kind: $$kind$$/kind: X$$kind/" $$f > $(BIN)/render/xr.yaml; \
	  echo "# $$f"; \
	  HOME=$(BIN)/.home $(BIN)/crossplane render $(BIN)/render/xr.yaml package/configuration/composition-$$(echo $$kind | tr A-Z a-z).yaml examples/functions.yaml \
	    --crossplane-binary=$(BIN)/crossplane-core -a render.crossplane.io/runtime-development-target=$(RENDER_ADDR); \
	done

# Validates every example, offline, against the XRDs and the provider's
# CRDs with the real `crossplane resource validate`.
validate: crossplane
	@rm -rf $(BIN)/validate && mkdir -p $(BIN)/validate $(BIN)/.home
	@cp package/configuration/definition-*.yaml package/provider/crds/*.yaml $(BIN)/validate/
	HOME=$(BIN)/.home $(BIN)/crossplane resource validate $(BIN)/validate examples --crossplane-image= --cache-dir=$(BIN)/.home/cache
