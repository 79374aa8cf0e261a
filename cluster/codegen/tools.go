//go:build tools

// Package codegen pins code generators whose dependencies clash with the root
// module: angryjet needs k8s.io/* v0.36, which would break controller-runtime
// v0.23 if it were a tool of the root module.
package codegen

import (
	_ "github.com/crossplane/crossplane-tools/cmd/angryjet"
)
