package render

import "strconv"

// Version is the provider's render version. Bump it with any change that
// renders an unchanged LeaderWorkerSet differently (a new label, an
// environment variable, an affinity term): running groups then move to the
// new rendering as a rolling update under maxUnavailable and maxSurge,
// with UpdateInProgress, as they would for a new template. Without it the
// provider would apply the new leader template at the partition it holds,
// and the StatefulSet controller would replace every leader at once.
//
// Version 1 is the rendering from before versions existed: it carries no
// label, so that LeaderWorkerSets created before are adopted as they run.
const Version = 1

// LabelRenderVersion marks the leader StatefulSet, its pods and each
// group's worker StatefulSet and pods with the render version they were
// rendered at, from version 2 on.
const LabelRenderVersion = "lws.crossplane.io/render-version"

// VersionOf is the render version labels say: 1 without the label.
func VersionOf(labels map[string]string) int {
	if v, err := strconv.Atoi(labels[LabelRenderVersion]); err == nil && v > 1 {
		return v
	}
	return 1
}

// versionLabels adds the render version's label, from version 2 on.
func (in Input) versionLabels(labels map[string]string) map[string]string {
	if in.RenderVersion > 1 {
		labels[LabelRenderVersion] = strconv.Itoa(in.RenderVersion)
	}
	return labels
}
