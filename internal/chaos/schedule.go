// Package chaos is the pure half of the chaos suite (internal/e2e,
// TestChaos): a schedule of edits and faults generated from a seed, so that
// a failing run reproduces by its number, and a checker of the invariants
// of a LeaderWorkerSet's groups over several clusters, fed with snapshots
// of what the clusters hold.
package chaos

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind is what a step does.
type Kind string

// Edits of the claim, disruptions of groups, and faults of components.
const (
	// Rollout sets a new image: a new template revision.
	Rollout Kind = "rollout"
	// TemplateEdit sets a new value of an environment variable: a new
	// template revision too, by another field.
	TemplateEdit Kind = "template-edit"
	// Scale sets Step.Replicas.
	Scale Kind = "scale"
	// PodRestart restarts a container of a ready group's pod.
	PodRestart Kind = "pod-restart"
	// PodDelete deletes a ready group's pod.
	PodDelete Kind = "pod-delete"
	// KillProvider, KillFunction and KillCore SIGKILL the provider, the
	// composition function and Crossplane core; they are started again as
	// a crashed pod would be.
	KillProvider Kind = "kill-provider"
	KillFunction Kind = "kill-function"
	KillCore     Kind = "kill-core"
	// RestartAPIServer kills a target cluster's etcd and API server and
	// starts them again.
	RestartAPIServer Kind = "restart-apiserver"
)

// Edits are the kinds that change or disrupt the LeaderWorkerSet, and
// Faults those that break a component, which every schedule has at least
// once.
var (
	Edits  = []Kind{Rollout, TemplateEdit, Scale, PodRestart, PodDelete}
	Faults = []Kind{KillProvider, KillFunction, KillCore, RestartAPIServer}
)

// Step is one action of a schedule.
type Step struct {
	// Wait is the pause before the step.
	Wait time.Duration
	Kind Kind
	// Cluster is the index of the target cluster (RestartAPIServer,
	// PodRestart, PodDelete).
	Cluster int
	// Replicas is the new number of groups (Scale).
	Replicas int
	// Pick chooses the group and pod of PodRestart and PodDelete among
	// those ready when the step runs, which the schedule cannot know.
	Pick int
}

func (s Step) String() string {
	switch s.Kind {
	case Scale:
		return fmt.Sprintf("%s to %d", s.Kind, s.Replicas)
	case RestartAPIServer, PodRestart, PodDelete:
		return fmt.Sprintf("%s in cluster %d", s.Kind, s.Cluster)
	}
	return string(s.Kind)
}

// Options shape a schedule.
type Options struct {
	// Steps is the number of steps, at least len(Faults).
	Steps int
	// Clusters is the number of target clusters.
	Clusters int
	// MinReplicas and MaxReplicas bound Scale.
	MinReplicas, MaxReplicas int
	// MinWait and MaxWait bound the pause before each step.
	MinWait, MaxWait time.Duration
}

// NewSchedule generates the schedule of a seed: Options.Steps steps, each
// fault of Faults at least once, the rest edits and faults drawn at random,
// each Scale to a number other than the one before (starting from
// replicas).
func NewSchedule(seed uint64, replicas int, o Options) ([]Step, error) {
	if o.Steps < len(Faults) {
		return nil, fmt.Errorf("a schedule of %d steps cannot hold the %d faults", o.Steps, len(Faults))
	}
	if o.Clusters < 1 || o.MinReplicas < 1 || o.MaxReplicas <= o.MinReplicas || o.MaxWait < o.MinWait {
		return nil, fmt.Errorf("invalid options %+v", o)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // reproducible by seed, on purpose
	kinds := append([]Kind(nil), Faults...)
	for len(kinds) < o.Steps {
		// Edits twice as likely as faults: the faults are there to hit
		// edits in flight.
		if r.IntN(3) < 2 {
			kinds = append(kinds, Edits[r.IntN(len(Edits))])
		} else {
			kinds = append(kinds, Faults[r.IntN(len(Faults))])
		}
	}
	r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })

	steps := make([]Step, len(kinds))
	for i, k := range kinds {
		s := Step{Kind: k, Cluster: r.IntN(o.Clusters), Pick: r.IntN(1 << 20)}
		s.Wait = o.MinWait + time.Duration(r.Int64N(int64(o.MaxWait-o.MinWait)+1))
		if k == Scale {
			s.Replicas = o.MinReplicas + r.IntN(o.MaxReplicas-o.MinReplicas)
			if s.Replicas >= replicas {
				s.Replicas++
			}
			replicas = s.Replicas
		}
		steps[i] = s
	}
	return steps, nil
}
