# Make fragment for the embedded Kubernetes control plane used by the tests
# and the local environment. The root Makefile includes it:
#
#   include cluster/controlplane.mk
#
# `make controlplane` builds etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl from Go modules (cluster/controlplane) into
# bin/k8s. Run it unconditionally: when bin/k8s is current it takes ~1 s, a
# relink ~10 s, a cold build ~5 min on 2 cores.

GO          ?= go
K8S_VERSION ?= v1.35.8
K8S_MINOR   ?= 35
CP_BIN      ?= $(CURDIR)/bin/k8s
CP_MODULE   := $(CURDIR)/cluster/controlplane

# Without the version stamps /version reports v0.0.0-master+$Format:%H$,
# which kubectl and other clients fail to parse.
CP_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=$(K8S_MINOR) \
	-X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/client-go/pkg/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/client-go/pkg/version.gitMajor=1 \
	-X k8s.io/client-go/pkg/version.gitMinor=$(K8S_MINOR)

CP_PACKAGES := ./cmd/etcd \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler \
	k8s.io/kubernetes/cmd/kubectl

# -buildvcs=false: stamping the repository's commit would relink all five
# binaries after every commit (and fails in a checkout git cannot read).
.PHONY: controlplane
controlplane: ## Build the control-plane binaries into bin/k8s.
	@mkdir -p $(CP_BIN)
	cd $(CP_MODULE) && $(GO) build -trimpath -buildvcs=false -ldflags '$(CP_LDFLAGS)' -o $(CP_BIN)/ $(CP_PACKAGES)
