//go:build tools

// Package lint pins golangci-lint, built from the module proxy by `make
// lint`, in a module of its own so that its dependencies stay out of the
// product's go.mod.
package lint

import _ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
