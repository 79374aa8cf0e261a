package placement

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// DefaultProgressDeadline is rollout.progressDeadlineSeconds when unset.
const DefaultProgressDeadline = 600 * time.Second

// Rolled is where one cluster stands in a rollout.
type Rolled struct {
	Cluster string
	// Revision is the template revision its managed resource carries now;
	// empty for a cluster without one yet.
	Revision string
	// Groups, Updated and Ready are its groups, those on Revision, and
	// those ready, as its provider last reported them for the managed
	// resource's current generation (Fresh).
	Groups, Updated, Ready int32
	Fresh                  bool
	// ProgressTime, Updated0 and Ready0 are what the composite remembers:
	// when it last progressed, and its updated and ready groups then.
	ProgressTime     *metav1.MicroTime
	Updated0, Ready0 int32
}

// Step is the decision for one cluster.
type Step struct {
	// Hold: keep the cluster's current revision; it is not its turn.
	Hold bool
	// ProgressTime is when the cluster last progressed, for the
	// composite to remember while it is the one rolling.
	ProgressTime *metav1.MicroTime
}

// Sequenced is a Sequential rollout's decision over the clusters.
type Sequenced struct {
	Steps []Step
	// Halted names the cluster that made no progress within the deadline.
	Halted string
	// Recheck, when not zero, is when the deadline passes.
	Recheck time.Duration
}

// Sequence decides which clusters get revision key: with a Sequential
// rollout, every cluster up to the first one in list order that has not
// every group updated to key and ready; the clusters after it keep theirs.
// That cluster halts the sequence once it made no progress for the
// deadline (Halted); it still rolls. With a Parallel rollout, or with no
// cluster behind, nothing is held.
func Sequence(r *v1alpha1.PlacementRollout, key string, clusters []Rolled, now time.Time) Sequenced {
	out := Sequenced{Steps: make([]Step, len(clusters))}
	if r == nil || r.Strategy != v1alpha1.RolloutSequential {
		return out
	}
	rolling := -1
	for i, c := range clusters {
		if rolling >= 0 {
			out.Steps[i].Hold = c.Revision != "" && c.Revision != key
			continue
		}
		if c.Revision == "" || done(c, key) {
			continue
		}
		rolling = i
		since := now
		if c.ProgressTime != nil && c.Updated == c.Updated0 && c.Ready == c.Ready0 {
			since = c.ProgressTime.Time
		}
		out.Steps[i].ProgressTime = &metav1.MicroTime{Time: since}
		deadline := DefaultProgressDeadline
		if r.ProgressDeadlineSeconds != nil {
			deadline = time.Duration(*r.ProgressDeadlineSeconds) * time.Second
		}
		if stalled := now.Sub(since); stalled >= deadline {
			out.Halted = fmt.Sprintf("cluster %s (%d of %d groups updated, %d ready) made no progress for %s; the clusters after it wait", c.Cluster, c.Updated, c.Groups, c.Ready, stalled.Round(time.Second))
		} else {
			out.Recheck = deadline - stalled
		}
	}
	return out
}

// done: every group of the cluster runs key and is ready, as reported for
// its current managed resource.
func done(c Rolled, key string) bool {
	return c.Revision == key && c.Fresh && c.Updated == c.Groups && c.Ready == c.Groups
}
