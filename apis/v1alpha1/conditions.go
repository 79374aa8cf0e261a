package v1alpha1

// The conditions this API reports, in one place: their types, reasons and,
// where upstream fixes them, messages. Controllers and the composition
// function set them; nothing else defines a condition.

// A LeaderWorkerSet's conditions, upstream's
// (https://lws.sigs.k8s.io/docs/reference/leaderworkerset.v1/): each
// managed resource reports them for its cluster in status.atProvider, and
// the composite resource and its claim for all clusters. Available
// excludes the other two; Progressing and UpdateInProgress may both be
// True.
const (
	ConditionAvailable        = "Available"
	ConditionProgressing      = "Progressing"
	ConditionUpdateInProgress = "UpdateInProgress"

	ReasonAllGroupsReady    = "AllGroupsReady"
	ReasonGroupsProgressing = "GroupsProgressing"
	ReasonGroupsUpdating    = "GroupsUpdating"

	MessageAvailable        = "All replicas are ready"
	MessageProgressing      = "Replicas are progressing"
	MessageUpdateInProgress = "Rolling Upgrade is in progress"
)

// The restart budget's condition, reported like upstream's (ours: upstream
// has neither a backoff nor a budget).
const (
	ConditionGroupRestartBudgetExhausted = "GroupRestartBudgetExhausted"
	ReasonRestartBudgetExhausted         = "RestartBudgetExhausted"
	ReasonRestartBudgetAvailable         = "RestartBudgetAvailable"
)

// Conditions of the composite resource and its claim only. A claim's own
// Synced is its claim reconciler's, which a function cannot set: Valid is
// where a claim says why it was refused, and TargetsSynced which clusters
// the provider could not bring to their share.
const (
	ConditionValid    = "Valid"
	ReasonValidSpec   = "ValidSpec"
	ReasonInvalidSpec = "InvalidSpec"

	// Placed: every group has a place in a reachable cluster with room.
	ConditionPlaced            = "Placed"
	ReasonPlaced               = "Placed"
	ReasonClusterLost          = "ClusterLost"
	ReasonInsufficientCapacity = "InsufficientCapacity"
	ReasonGroupsSpilled        = "GroupsSpilled"

	ConditionTargetsSynced = "TargetsSynced"
	ReasonTargetsSynced    = "Synced"
	ReasonTargetNotSynced  = "TargetNotSynced"

	// RolloutHalted: a Sequential rollout stopped at a cluster past its
	// progress deadline.
	ConditionRolloutHalted         = "RolloutHalted"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	ReasonRolloutProgressing       = "Progressing"
)

// A TargetCluster's condition: whether the provider reaches the cluster.
const (
	ConditionReachable = "Reachable"
	ReasonContacted    = "Contacted"
	ReasonUnreachable  = "Unreachable"
)
