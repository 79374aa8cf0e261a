package lws

import (
	"strconv"
)

// Names of the objects made for a LeaderWorkerSet (as upstream names them).

// LeaderPodName is the leader pod of a group, which is also the name of the
// group's worker StatefulSet and, under UniquePerReplica, of its Service.
func LeaderPodName(lwsName string, group int) string {
	return lwsName + "-" + strconv.Itoa(group)
}

// WorkerPodName is worker w (1..size-1) of a group.
func WorkerPodName(lwsName string, group, worker int) string {
	return LeaderPodName(lwsName, group) + "-" + strconv.Itoa(worker)
}

// LeaderEndpointSliceName is, under UniquePerReplica, the EndpointSlice
// that gives a group's leader its hostname in the group's Service. The
// EndpointSlice controller names its own slices "<service>-" and 5 random
// characters, so none of them ends in "-leader".
func LeaderEndpointSliceName(lwsName string, group int) string {
	return LeaderPodName(lwsName, group) + leaderEndpointSliceSuffix
}

const leaderEndpointSliceSuffix = "-leader"

// LeaderPodSelector selects a LeaderWorkerSet's leader pods; it is the
// hpaPodSelector of the status.
func LeaderPodSelector(lwsName string) string {
	return LabelName + "=" + lwsName + "," + LabelWorkerIndex + "=0"
}

// MaxNameLength is the longest name a generated object name may have.
const MaxNameLength = 63

// revisionHashSuffix is what the StatefulSet controller appends to a
// StatefulSet's name in the controller-revision-hash label of its pods: a
// dash and a hash of up to 10 characters.
const revisionHashSuffix = 11

// MaxLWSNameLength is the longest LeaderWorkerSet name for which every
// generated object name and every controller-revision-hash label stays within
// 63 characters (lws#410), given the highest group index and the group size.
func MaxLWSNameLength(maxGroupIndex, size int32) int {
	d := len(strconv.Itoa(int(max(maxGroupIndex, 0))))
	// The leader StatefulSet's pods: "<name>-<hash>".
	n := MaxNameLength - revisionHashSuffix
	// Leader pods and per-group Services, "<name>-<index>", and under
	// UniquePerReplica the leaders' EndpointSlices, which are longer.
	n = min(n, MaxNameLength-1-d-len(leaderEndpointSliceSuffix))
	if size > 1 {
		// Worker StatefulSets' pods: "<name>-<index>-<hash>".
		n = min(n, MaxNameLength-1-d-revisionHashSuffix)
		// Worker pods: "<name>-<index>-<worker>".
		n = min(n, MaxNameLength-1-d-1-len(strconv.Itoa(int(size-1))))
	}
	return n
}
