//go:build tools

// Package controlplane pins the Kubernetes control-plane binaries used by the
// test harness (internal/testenv). It is a separate module so that the 29
// k8s.io replace directives k8s.io/kubernetes needs never reach the root
// go.mod, where they would break `go install` of the project's commands.
package controlplane

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
