//go:build generate

// Code generation for the API types: deepcopy methods, the provider's CRDs,
// Crossplane managed-resource method sets, and the XRDs of the platform API.
// Run with `go generate -tags generate ./apis` (or `make generate`).

// Remove generated files first so that deleted types leave nothing behind.
//go:generate rm -rf ../package/provider/crds ../package/function/input ../bin/generated-crds
//go:generate go tool controller-gen object:headerFile=../cluster/codegen/boilerplate.go.txt paths=./... crd:crdVersions=v1,generateEmbeddedObjectMeta=true output:artifacts:config=../bin/generated-crds
//go:generate ../bin/angryjet generate-methodsets --header-file=../cluster/codegen/boilerplate.go.txt ./...
//go:generate go run ../internal/xrdgen -crds ../bin/generated-crds -provider-crds ../package/provider/crds -configuration ../package/configuration -function-input ../package/function/input

package apis
