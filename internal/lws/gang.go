package lws

import (
	"fmt"
	"strconv"
)

// Gang scheduling of groups (README, "Gang scheduling"). A LeaderWorkerSet
// opts in with AnnotationGangScheduling, an annotation rather than a spec
// field: upstream's placement knobs are LeaderWorkerSet annotations
// (exclusive-topology, Volcano's queue-name), an annotation travels from the
// claim to every cluster's managed resource as the LeaderWorkerSet's
// metadata, and the spec stays exactly upstream's.
const (
	// AnnotationGangScheduling asks for every group to be scheduled whole or
	// not at all; its value is a GangScheduler.
	AnnotationGangScheduling = "lws.crossplane.io/gang-scheduling"

	// AnnotationVolcanoGroupName is the pod annotation that names a pod's
	// Volcano PodGroup (upstream's key).
	AnnotationVolcanoGroupName = "scheduling.k8s.io/group-name"
	// AnnotationVolcanoQueue on a LeaderWorkerSet names the Volcano queue of
	// its PodGroups (upstream's key).
	AnnotationVolcanoQueue = "scheduling.volcano.sh/queue-name"
)

// GangScheduler is what carries a group's all-or-nothing scheduling.
type GangScheduler string

const (
	// GangAuto: the Kubernetes Workload API where the cluster serves it,
	// else a Volcano PodGroup.
	GangAuto GangScheduler = "Auto"
	// GangWorkload: a scheduling.k8s.io Workload per group, scheduled by
	// kube-scheduler's GangScheduling plugin.
	GangWorkload GangScheduler = "Workload"
	// GangVolcano: a Volcano PodGroup per group, as upstream's
	// gangSchedulingManagement with schedulerProvider volcano.
	GangVolcano GangScheduler = "Volcano"
)

// GangOf is the gang scheduler a LeaderWorkerSet's annotations ask for, ""
// when none.
func GangOf(annotations map[string]string) (GangScheduler, error) {
	v, ok := annotations[AnnotationGangScheduling]
	if !ok {
		return "", nil
	}
	switch g := GangScheduler(v); g {
	case GangAuto, GangWorkload, GangVolcano:
		return g, nil
	default:
		return "", fmt.Errorf("must be one of %s, %s or %s, not %q", GangAuto, GangWorkload, GangVolcano, v)
	}
}

// GangName names the gang object (Workload or PodGroup) of a group at a
// revision: upstream's PodGroup name, which a new revision changes, so that
// a rolled group never joins its predecessor's gang.
func GangName(lws string, group int, revisionKey string) string {
	return lws + "-" + strconv.Itoa(group) + "-" + revisionKey
}
