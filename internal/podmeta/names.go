// Package podmeta is upstream LeaderWorkerSet's pod webhook as pure
// functions: the labels, subdomain, affinity and environment that upstream
// adds to every LeaderWorkerSet pod when it is created (https://lws.sigs.k8s.io/docs/reference/labels-annotations-and-environment-variables/).
// Target clusters run no webhook of ours, so package render computes with it
// what each pod must look like, and the provider applies the per-pod part
// while the pod waits behind its scheduling gate.
package podmeta

import (
	"crypto/sha1" //nolint:gosec // Upstream's group keys are SHA-1; a key, not a secret.
	"encoding/hex"
	"strconv"
	"strings"
)

// ParentNameAndOrdinal splits a StatefulSet pod name into its StatefulSet's
// name and its ordinal, the last numeric suffix: "lws-1-0" is ("lws-1", 0).
// A name without one gives ("", -1).
// The provider splits every pod's name at every reconcile, so this is a
// scan, not a regular expression.
func ParentNameAndOrdinal(name string) (string, int) {
	i := strings.LastIndexByte(name, '-')
	digits := name[i+1:]
	if i < 0 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", -1
	}
	ordinal, err := strconv.Atoi(digits)
	if err != nil {
		return "", -1
	}
	return name[:i], ordinal
}

// GroupKey identifies a group: the SHA-1 of its leader's namespace and name.
func GroupKey(namespace, leaderName string) string {
	return sha1Hex(namespace + "/" + leaderName)
}

// SubGroupKey identifies a subgroup of a group: the SHA-1 of the leader's
// name and the subgroup index. It leaves out the namespace, as upstream does.
func SubGroupKey(leaderName string, subGroupIndex int) string {
	return sha1Hex(leaderName + "/" + strconv.Itoa(subGroupIndex))
}

// SubGroupIndex is the subgroup of pod workerIndex (0 is the leader) in a
// group of size pods split into subgroups of subGroupSize. When only size-1
// divides evenly, the leader is the extra pod of subgroup 0.
func SubGroupIndex(size, subGroupSize, workerIndex int) int {
	if subGroupSize < 1 {
		return 0
	}
	if (size-1)%subGroupSize == 0 && size%subGroupSize != 0 {
		return (workerIndex - 1) / subGroupSize
	}
	return workerIndex / subGroupSize
}

func sha1Hex(s string) string {
	h := sha1.Sum([]byte(s)) //nolint:gosec // See import.
	return hex.EncodeToString(h[:])
}
