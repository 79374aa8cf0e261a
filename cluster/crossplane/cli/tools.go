//go:build tools

// Package cli builds the crossplane CLI (render, validate, xpkg) from the Go
// module proxy, which refuses `go install` for it.
package cli

import (
	_ "github.com/crossplane/cli/v2/cmd/crossplane"
)
