package nodeagent

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The functions in this file compute pod statuses the way a kubelet would
// report them. They are pure so that they can be tested without a cluster.

// managedConditions are the pod conditions a kubelet owns. Others (readiness
// gates, DisruptionTarget, ...) belong to other writers and are kept.
var managedConditions = map[corev1.PodConditionType]bool{
	corev1.PodReadyToStartContainers: true,
	corev1.PodInitialized:            true,
	corev1.ContainersReady:           true,
	corev1.PodReady:                  true,
}

// runningStatus is the status of pod with all containers running. ready
// says whether the containers pass their readiness probes. Restart counts,
// start times and addresses already in the status are kept.
func runningStatus(pod *corev1.Pod, hostIP, podIP string, ready bool, now time.Time) corev1.PodStatus {
	old := pod.Status
	st := *old.DeepCopy()
	st.Phase = corev1.PodRunning
	st.Reason, st.Message = "", ""
	st.ObservedGeneration = pod.Generation
	st.HostIP = hostIP
	st.HostIPs = []corev1.HostIP{{IP: hostIP}}
	if st.PodIP == "" {
		st.PodIP = podIP
		st.PodIPs = []corev1.PodIP{{IP: podIP}}
	}
	if st.StartTime == nil {
		st.StartTime = metaTime(now)
	}

	st.InitContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.InitContainers))
	for _, c := range pod.Spec.InitContainers {
		prev := findStatus(old.InitContainerStatuses, c.Name)
		if isSidecar(c) {
			st.InitContainerStatuses = append(st.InitContainerStatuses, runningContainer(pod, c, prev, ready, now))
			continue
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, completedContainer(pod, c, prev, now))
	}
	st.ContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		prev := findStatus(old.ContainerStatuses, c.Name)
		st.ContainerStatuses = append(st.ContainerStatuses, runningContainer(pod, c, prev, ready, now))
	}

	containersReady := corev1.ConditionFalse
	readyReason := "ContainersNotReady"
	if ready {
		containersReady, readyReason = corev1.ConditionTrue, ""
	}
	podReady, podReadyReason := containersReady, readyReason
	if ready && !readinessGatesPass(pod) {
		podReady, podReadyReason = corev1.ConditionFalse, "ReadinessGatesNotReady"
	}
	st.Conditions = mergeConditions(old.Conditions, now,
		corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue},
		corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		corev1.PodCondition{Type: corev1.ContainersReady, Status: containersReady, Reason: readyReason},
		corev1.PodCondition{Type: corev1.PodReady, Status: podReady, Reason: podReadyReason},
	)
	return st
}

// failedStatus is the status of a pod whose containers exited with an error
// and will not be restarted.
func failedStatus(pod *corev1.Pod, reason, message string, now time.Time) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.Phase = corev1.PodFailed
	st.Reason, st.Message = reason, message
	st.ObservedGeneration = pod.Generation
	terminate := func(specs []corev1.Container, old []corev1.ContainerStatus) []corev1.ContainerStatus {
		out := make([]corev1.ContainerStatus, 0, len(specs))
		for _, c := range specs {
			cs := baseContainer(pod, c, findStatus(old, c.Name))
			started := now
			if prev := findStatus(old, c.Name); prev != nil && prev.State.Running != nil {
				started = prev.State.Running.StartedAt.Time
			}
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 1, Reason: "Error", Message: message,
				StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(now),
				ContainerID: cs.ContainerID,
			}}
			out = append(out, cs)
		}
		return out
	}
	st.ContainerStatuses = terminate(pod.Spec.Containers, pod.Status.ContainerStatuses)
	st.Conditions = mergeConditions(pod.Status.Conditions, now,
		corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionFalse},
		corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "PodFailed"},
		corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "PodFailed"},
	)
	return st
}

// restartedStatus records one restart of the named container: its restart
// count goes up, the last state shows the crash and the container runs
// again. It reports whether the container exists.
func restartedStatus(pod *corev1.Pod, container string, now time.Time) (corev1.PodStatus, bool) {
	st := *pod.Status.DeepCopy()
	for _, list := range [][]corev1.ContainerStatus{st.ContainerStatuses, st.InitContainerStatuses} {
		for i := range list {
			cs := &list[i]
			if cs.Name != container {
				continue
			}
			started := now
			if cs.State.Running != nil {
				started = cs.State.Running.StartedAt.Time
			}
			cs.RestartCount++
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 137, Reason: "Error", ContainerID: cs.ContainerID,
				StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(now),
			}}
			cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}
			return st, true
		}
	}
	return st, false
}

// statusDiffers reports whether current differs from desired in what a
// watcher of pod readiness can observe. Timestamps are ignored so that the
// agent never rewrites a status only to move a clock.
func statusDiffers(current, desired corev1.PodStatus) bool {
	if current.Phase != desired.Phase || current.PodIP != desired.PodIP || current.HostIP != desired.HostIP ||
		current.ObservedGeneration != desired.ObservedGeneration || current.StartTime == nil {
		return true
	}
	for t := range managedConditions {
		if conditionStatus(current.Conditions, t) != conditionStatus(desired.Conditions, t) {
			return true
		}
	}
	return containersDiffer(current.ContainerStatuses, desired.ContainerStatuses) ||
		containersDiffer(current.InitContainerStatuses, desired.InitContainerStatuses)
}

func containersDiffer(a, b []corev1.ContainerStatus) bool {
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Ready != b[i].Ready || a[i].RestartCount != b[i].RestartCount ||
			stateName(a[i].State) != stateName(b[i].State) || a[i].Image != b[i].Image {
			return true
		}
	}
	return false
}

func stateName(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return "terminated"
	case s.Waiting != nil:
		return "waiting"
	}
	return ""
}

func runningContainer(pod *corev1.Pod, c corev1.Container, prev *corev1.ContainerStatus, ready bool, now time.Time) corev1.ContainerStatus {
	cs := baseContainer(pod, c, prev)
	started := now
	if prev != nil && prev.State.Running != nil && prev.Image == c.Image {
		started = prev.State.Running.StartedAt.Time
	}
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}
	cs.Ready = ready
	cs.Started = ptrTo(true)
	return cs
}

func completedContainer(pod *corev1.Pod, c corev1.Container, prev *corev1.ContainerStatus, now time.Time) corev1.ContainerStatus {
	cs := baseContainer(pod, c, prev)
	if prev != nil && prev.State.Terminated != nil && prev.State.Terminated.ExitCode == 0 {
		cs.State = prev.State
	} else {
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", ContainerID: cs.ContainerID,
			StartedAt: metav1.NewTime(now), FinishedAt: metav1.NewTime(now),
		}}
	}
	cs.Ready = true
	cs.Started = ptrTo(false)
	return cs
}

// baseContainer carries identity and restart history over from prev.
func baseContainer(pod *corev1.Pod, c corev1.Container, prev *corev1.ContainerStatus) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{
		Name:        c.Name,
		Image:       c.Image,
		ImageID:     "fake://" + c.Image,
		ContainerID: fmt.Sprintf("fake://%s-%s", pod.UID, c.Name),
	}
	if prev != nil {
		cs.RestartCount = prev.RestartCount
		cs.LastTerminationState = prev.LastTerminationState
	}
	return cs
}

// mergeConditions sets the given conditions on old, keeping transition
// times of unchanged ones and every condition the agent does not own.
func mergeConditions(old []corev1.PodCondition, now time.Time, set ...corev1.PodCondition) []corev1.PodCondition {
	out := make([]corev1.PodCondition, 0, len(old)+len(set))
	byType := map[corev1.PodConditionType]corev1.PodCondition{}
	for _, c := range set {
		byType[c.Type] = c
	}
	done := map[corev1.PodConditionType]bool{}
	for _, c := range old {
		want, ok := byType[c.Type]
		if !ok {
			out = append(out, c)
			continue
		}
		done[c.Type] = true
		if c.Status == want.Status {
			c.Reason, c.Message = want.Reason, want.Message
			out = append(out, c)
			continue
		}
		want.LastTransitionTime = *metaTime(now)
		out = append(out, want)
	}
	for _, c := range set {
		if !done[c.Type] {
			c.LastTransitionTime = *metaTime(now)
			out = append(out, c)
		}
	}
	return out
}

func readinessGatesPass(pod *corev1.Pod) bool {
	for _, g := range pod.Spec.ReadinessGates {
		if conditionStatus(pod.Status.Conditions, g.ConditionType) != corev1.ConditionTrue {
			return false
		}
	}
	return true
}

func conditionStatus(conds []corev1.PodCondition, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range conds {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func findStatus(list []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// isSidecar reports whether an init container is a restartable sidecar,
// which keeps running next to the regular containers.
func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// isTerminal reports whether the pod reached a phase the kubelet never
// leaves.
func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

func metaTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

func metaWithLabels(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: labels}
}

func ptrTo[T any](v T) *T { return &v }
