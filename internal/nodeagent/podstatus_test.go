package nodeagent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testPod() *corev1.Pod {
	always := corev1.ContainerRestartPolicyAlways
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1", Generation: 2},
		Spec: corev1.PodSpec{
			NodeName: "pool-a-0",
			InitContainers: []corev1.Container{
				{Name: "setup", Image: "setup:v1"},
				{Name: "sidecar", Image: "proxy:v1", RestartPolicy: &always},
			},
			Containers: []corev1.Container{{Name: "main", Image: "app:v1"}, {Name: "helper", Image: "helper:v1"}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
		},
	}
}

func TestRunningStatus(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name      string
		mutate    func(*corev1.Pod)
		ready     bool
		wantReady corev1.ConditionStatus
		wantCR    corev1.ConditionStatus
	}{
		{name: "Ready", ready: true, wantReady: corev1.ConditionTrue, wantCR: corev1.ConditionTrue},
		{name: "NeverReady", ready: false, wantReady: corev1.ConditionFalse, wantCR: corev1.ConditionFalse},
		{
			name: "ReadinessGatePending",
			mutate: func(p *corev1.Pod) {
				p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/gate"}}
			},
			ready: true, wantReady: corev1.ConditionFalse, wantCR: corev1.ConditionTrue,
		},
		{
			name: "ReadinessGatePassed",
			mutate: func(p *corev1.Pod) {
				p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/gate"}}
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "example.com/gate", Status: corev1.ConditionTrue})
			},
			ready: true, wantReady: corev1.ConditionTrue, wantCR: corev1.ConditionTrue,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := testPod()
			if tc.mutate != nil {
				tc.mutate(pod)
			}
			st := runningStatus(pod, "172.16.0.1", "10.0.0.2", tc.ready, now)
			if st.Phase != corev1.PodRunning || st.PodIP != "10.0.0.2" || st.HostIP != "172.16.0.1" || st.StartTime == nil {
				t.Fatalf("phase %s, podIP %q, hostIP %q, startTime %v", st.Phase, st.PodIP, st.HostIP, st.StartTime)
			}
			if st.ObservedGeneration != 2 {
				t.Errorf("observedGeneration %d, want 2", st.ObservedGeneration)
			}
			if got := conditionStatus(st.Conditions, corev1.PodReady); got != tc.wantReady {
				t.Errorf("Ready=%s, want %s", got, tc.wantReady)
			}
			if got := conditionStatus(st.Conditions, corev1.ContainersReady); got != tc.wantCR {
				t.Errorf("ContainersReady=%s, want %s", got, tc.wantCR)
			}
			if got := conditionStatus(st.Conditions, corev1.PodScheduled); got != corev1.ConditionTrue {
				t.Errorf("PodScheduled=%s, want the scheduler's True kept", got)
			}
			if len(st.ContainerStatuses) != 2 || st.ContainerStatuses[0].State.Running == nil || st.ContainerStatuses[0].Ready != tc.ready {
				t.Errorf("container statuses %+v", st.ContainerStatuses)
			}
			setup, sidecar := st.InitContainerStatuses[0], st.InitContainerStatuses[1]
			if setup.State.Terminated == nil || setup.State.Terminated.ExitCode != 0 {
				t.Errorf("init container %s state %+v, want completed", setup.Name, setup.State)
			}
			if sidecar.State.Running == nil {
				t.Errorf("sidecar %s state %+v, want running", sidecar.Name, sidecar.State)
			}
		})
	}
}

func TestRunningStatusIsStable(t *testing.T) {
	pod := testPod()
	t0 := time.Unix(1_700_000_000, 0)
	pod.Status = runningStatus(pod, "172.16.0.1", "10.0.0.2", true, t0)
	again := runningStatus(pod, "172.16.0.1", "10.0.0.9", true, t0.Add(time.Minute))
	if statusDiffers(pod.Status, again) {
		t.Error("recomputing a running pod's status reports a difference; the agent would rewrite it forever")
	}
	if again.PodIP != "10.0.0.2" {
		t.Errorf("pod IP changed to %s; it must stay what was reported first", again.PodIP)
	}
	if notReady := runningStatus(pod, "172.16.0.1", "", false, t0); !statusDiffers(pod.Status, notReady) {
		t.Error("readiness change not detected")
	}
}

func TestRestartedStatus(t *testing.T) {
	pod := testPod()
	t0 := time.Unix(1_700_000_000, 0)
	pod.Status = runningStatus(pod, "172.16.0.1", "10.0.0.2", true, t0)

	st, ok := restartedStatus(pod, "helper", t0.Add(time.Minute))
	if !ok {
		t.Fatal("container helper not found")
	}
	cs := findStatus(st.ContainerStatuses, "helper")
	if cs.RestartCount != 1 || cs.LastTerminationState.Terminated == nil || cs.State.Running == nil {
		t.Fatalf("helper status %+v, want one restart, a terminated last state and running", cs)
	}
	if findStatus(st.ContainerStatuses, "main").RestartCount != 0 {
		t.Error("restart counted on the wrong container")
	}
	pod.Status = st
	if kept := runningStatus(pod, "172.16.0.1", "", true, t0.Add(2*time.Minute)); findStatus(kept.ContainerStatuses, "helper").RestartCount != 1 {
		t.Error("the restart count is lost when the agent recomputes the status")
	}
	if _, ok := restartedStatus(pod, "missing", t0); ok {
		t.Error("restarting a missing container reported success")
	}
}

func TestFailedStatus(t *testing.T) {
	pod := testPod()
	t0 := time.Unix(1_700_000_000, 0)
	pod.Status = runningStatus(pod, "172.16.0.1", "10.0.0.2", true, t0)
	st := failedStatus(pod, "Error", "boom", t0.Add(time.Second))
	if st.Phase != corev1.PodFailed || conditionStatus(st.Conditions, corev1.PodReady) != corev1.ConditionFalse {
		t.Fatalf("phase %s, Ready %s; want Failed and not ready", st.Phase, conditionStatus(st.Conditions, corev1.PodReady))
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode == 0 || cs.Ready {
			t.Errorf("container %s state %+v ready %t, want terminated with an error", cs.Name, cs.State, cs.Ready)
		}
	}
}

func TestBuildNodes(t *testing.T) {
	cfg := Config{Pools: []Pool{
		{Name: "tpu", Nodes: 4, Zone: "us-a", RackSize: 2, TPUs: 4,
			Labels:   map[string]string{"cloud.google.com/gke-tpu-topology": "2x4"},
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("96")}},
		{Name: "cpu", Nodes: 1},
	}}.withDefaults()
	nodes := cfg.buildNodes(time.Unix(1_700_000_000, 0))
	if len(nodes) != 5 {
		t.Fatalf("%d nodes, want 5", len(nodes))
	}
	wantRacks := []string{"tpu-rack-0", "tpu-rack-0", "tpu-rack-1", "tpu-rack-1", "cpu-rack-0"}
	ips := map[string]bool{}
	for i, n := range nodes {
		if got := n.Labels[LabelRack]; got != wantRacks[i] {
			t.Errorf("node %s rack %q, want %q", n.Name, got, wantRacks[i])
		}
		if n.Labels[LabelHostname] != n.Name {
			t.Errorf("node %s hostname label %q", n.Name, n.Labels[LabelHostname])
		}
		ip := n.Status.Addresses[0].Address
		if ips[ip] {
			t.Errorf("node %s reuses address %s", n.Name, ip)
		}
		ips[ip] = true
	}
	tpu := nodes[0]
	if tpu.Name != "tpu-0" || tpu.Labels[LabelNodePool] != "tpu" || tpu.Labels[LabelZone] != "us-a" ||
		tpu.Labels["cloud.google.com/gke-tpu-topology"] != "2x4" {
		t.Errorf("tpu node %s labels %v", tpu.Name, tpu.Labels)
	}
	if got := tpu.Status.Allocatable[ResourceTPU]; got.Value() != 4 {
		t.Errorf("tpu allocatable %v, want 4", got)
	}
	if got := tpu.Status.Capacity[corev1.ResourceCPU]; got.String() != "96" {
		t.Errorf("cpu capacity %v, want the pool's 96", got)
	}
	if _, ok := nodes[4].Status.Capacity[ResourceTPU]; ok {
		t.Error("cpu pool node advertises TPUs")
	}
	if got := nodes[4].Labels[LabelZone]; got != "zone-a" {
		t.Errorf("default zone %q, want zone-a", got)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name  string
		pools []Pool
		ok    bool
	}{
		{"Valid", []Pool{{Name: "a", Nodes: 1}, {Name: "b", Nodes: 2}}, true},
		{"Unnamed", []Pool{{Nodes: 1}}, false},
		{"Duplicate", []Pool{{Name: "a", Nodes: 1}, {Name: "a", Nodes: 1}}, false},
		{"Negative", []Pool{{Name: "a", Nodes: -1}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Config{Pools: tc.pools}.validate()
			if (err == nil) != tc.ok {
				t.Errorf("validate() = %v, want ok=%t", err, tc.ok)
			}
		})
	}
}
