// Package kube converts typed Kubernetes objects into the plain JSON maps that
// are sent to API servers and Crossplane, holding only the fields the object
// really sets.
package kube

import (
	"encoding/json"
	"fmt"
)

// ToMap serialises an object without its status and without null fields, so
// that whoever applies it claims ownership of the fields it sets and nothing
// else (Go's zero-value structs would otherwise add "status" and
// "creationTimestamp": null).
func ToMap(obj any) (map[string]any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("cannot serialise object: %w", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("cannot read serialised object: %w", err)
	}
	delete(m, "status")
	DropNulls(m)
	return m, nil
}

// DropNulls removes null values from a JSON value, in place. Empty objects
// stay: "emptyDir: {}" means something.
func DropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			DropNulls(e)
		}
	case []any:
		for _, e := range t {
			DropNulls(e)
		}
	}
}
