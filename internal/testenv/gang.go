package testenv

import (
	"maps"
	"slices"
)

// gangGates are the alpha feature gates of Kubernetes 1.35's Workload API
// and of kube-scheduler's GangScheduling plugin, which the gate adds to the
// default profile.
var gangGates = map[string]bool{"GenericWorkload": true, "GangScheduling": true}

// WithGangScheduling returns o for a cluster that serves the
// scheduling.k8s.io/v1alpha1 Workload API and whose scheduler gang-schedules
// the pods of a Workload's gang pod groups. The API server's
// --runtime-config accumulates over repeated flags, so this adds to, and
// does not replace, what other options enable.
func (o Options) WithGangScheduling() Options {
	gates := maps.Clone(gangGates)
	maps.Copy(gates, o.FeatureGates)
	o.FeatureGates = gates
	o.APIServerFlags = append(slices.Clone(o.APIServerFlags), "--runtime-config=scheduling.k8s.io/v1alpha1=true")
	o.SchedulerFlags = append(slices.Clone(o.SchedulerFlags), "--feature-gates=GenericWorkload=true,GangScheduling=true")
	return o
}
