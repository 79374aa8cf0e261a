package lws

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// ScaledValue resolves an integer or percentage against total, rounding a
// percentage up or down. It fails for a malformed percentage.
func ScaledValue(v intstr.IntOrString, total int32, roundUp bool) (int32, error) {
	if v.Type == intstr.Int {
		return v.IntVal, nil
	}
	pct, err := percent(v.StrVal)
	if err != nil {
		return 0, err
	}
	f := float64(pct) * float64(total) / 100
	if roundUp {
		return int32(math.Ceil(f)), nil
	}
	return int32(math.Floor(f)), nil
}

// MaxUnavailable is maxUnavailable against replicas, rounded down.
func MaxUnavailable(v intstr.IntOrString, replicas int32) (int32, error) {
	return ScaledValue(v, replicas, false)
}

// MaxSurge is maxSurge against replicas, rounded up and capped at replicas
// (upstream allows a larger value at admission and caps it when rolling).
func MaxSurge(v intstr.IntOrString, replicas int32) (int32, error) {
	s, err := ScaledValue(v, replicas, true)
	return min(s, replicas), err
}

func percent(s string) (int64, error) {
	n, ok := strings.CutSuffix(s, "%")
	if !ok {
		return 0, fmt.Errorf("%q must be an integer or a percentage", s)
	}
	v, err := strconv.ParseInt(n, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q must be an integer or a percentage", s)
	}
	return v, nil
}
