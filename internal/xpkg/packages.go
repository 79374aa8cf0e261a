package xpkg

import (
	"fmt"
	"path/filepath"
)

// The project's packages are published under Prefix, all at Version; the
// configuration's dependsOn names the others there.
const (
	Prefix  = "xpkg.crossplane.io/lws-crossplane/"
	Version = "v0.2.0"
)

// Package names, which are also the names of their package files and of
// the Function, Provider and Configuration objects installing them.
const (
	Configuration = "configuration-lws"
	Function      = "function-lws"
	Provider      = "provider-lws"
)

// Packages are the project's three packages, from the repository at root,
// with the function and provider binaries in bin.
func Packages(root, bin string) []Package {
	return []Package{
		{Name: Function, Root: filepath.Join(root, "package", "function"), Binary: filepath.Join(bin, "function")},
		{Name: Provider, Root: filepath.Join(root, "package", "provider"), Binary: filepath.Join(bin, "provider")},
		{Name: Configuration, Root: filepath.Join(root, "package", "configuration")},
	}
}

// File is the package file of name in dir.
func File(dir, name string) string { return filepath.Join(dir, name+".xpkg") }

// Publish pushes the package files in dir to r, each at Prefix's path and
// Version, as the public registry would serve them.
func Publish(r *Registry, dir string) error {
	for _, n := range []string{Function, Provider, Configuration} {
		if _, err := r.Push(File(dir, n), "lws-crossplane/"+n, Version); err != nil {
			return fmt.Errorf("publishing %s: %w", n, err)
		}
	}
	return nil
}

// Rewrite maps Prefix to where r serves the packages, for an ImageConfig.
func (r *Registry) Rewrite() map[string]string {
	return map[string]string{Prefix: r.Host + "/lws-crossplane/"}
}
