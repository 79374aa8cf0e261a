//go:build tools

// Package core builds Crossplane core from the Go module proxy. `go install`
// refuses the module (its proxy version list is unavailable, and it replaces
// its own apis module), so this wrapper pins it, and its apis, explicitly.
package core

import (
	_ "github.com/crossplane/crossplane/v2/cmd/crossplane"
)
