package nodeagent

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Well-known node labels the agent sets. Pools, zones and racks form the
// accelerator islands that exclusive placement spreads groups over.
const (
	LabelNodePool = "cloud.google.com/gke-nodepool"
	LabelZone     = corev1.LabelTopologyZone
	LabelRegion   = corev1.LabelTopologyRegion
	LabelHostname = corev1.LabelHostname
	// LabelRack is the default rack label. Real clusters use provider
	// specific keys; Config.RackLabel overrides it.
	LabelRack = "topology.lws.crossplane.io/rack"

	// ResourceTPU is the extended resource GKE advertises for TPU chips.
	ResourceTPU corev1.ResourceName = "google.com/tpu"

	// KubeletVersion is reported in node status; it matches the control plane.
	KubeletVersion = "v1.35.8"
)

// Pool describes a group of identical nodes, like a cloud node pool.
type Pool struct {
	// Name is the node-pool label value and the node name prefix
	// (<name>-<index>).
	Name string
	// Nodes is the number of nodes in the pool.
	Nodes int
	// Zone is the topology.kubernetes.io/zone label value. Default "zone-a".
	Zone string
	// RackSize is the number of consecutive nodes sharing a rack label value
	// (<pool>-rack-<n>). Zero puts the whole pool in one rack.
	RackSize int
	// Capacity is every node's capacity and allocatable. Missing cpu, memory
	// and pods entries get defaults (8 CPUs, 32Gi, 110 pods).
	Capacity corev1.ResourceList
	// TPUs, when positive, adds the google.com/tpu extended resource.
	TPUs int64
	// Labels are added to every node of the pool, e.g. TPU topology labels.
	Labels map[string]string
	// Taints are set on every node of the pool.
	Taints []corev1.Taint
}

// Config configures an Agent.
type Config struct {
	// Pools are the node pools to register. Default: one pool "pool-a" of 4
	// nodes.
	Pools []Pool
	// Region is the topology.kubernetes.io/region label value. Default
	// "region-a".
	Region string
	// RackLabel is the label key for racks. Default LabelRack.
	RackLabel string
	// StartDelay is how long a bound pod stays Pending before the agent
	// reports it Running. Zero starts pods as soon as they are bound.
	StartDelay time.Duration
	// StopDelay is how long a pod's containers take to "stop" after the pod
	// is deleted, before the agent finishes the deletion.
	StopDelay time.Duration
	// HeartbeatInterval is how often node Leases are renewed. Default 10s.
	HeartbeatInterval time.Duration
	// LeaseDuration is the node Lease duration. Default 40s.
	LeaseDuration time.Duration
	// Workers is the number of concurrent pod status writers. Default 16.
	Workers int
	// QPS and Burst limit the agent's API client. Defaults 1000 and 2000:
	// the agent plays every kubelet of the cluster at once.
	QPS   float32
	Burst int
}

// DefaultPools is a small island layout: two pools of 4 nodes in different
// zones, two racks each.
func DefaultPools() []Pool {
	return []Pool{
		{Name: "pool-a", Nodes: 4, Zone: "zone-a", RackSize: 2},
		{Name: "pool-b", Nodes: 4, Zone: "zone-b", RackSize: 2},
	}
}

func (c Config) withDefaults() Config {
	if len(c.Pools) == 0 {
		c.Pools = []Pool{{Name: "pool-a", Nodes: 4}}
	}
	if c.Region == "" {
		c.Region = "region-a"
	}
	if c.RackLabel == "" {
		c.RackLabel = LabelRack
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 10 * time.Second
	}
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 40 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.QPS <= 0 {
		c.QPS = 1000
	}
	if c.Burst <= 0 {
		c.Burst = 2000
	}
	return c
}

func (c Config) validate() error {
	seen := map[string]bool{}
	for _, p := range c.Pools {
		if p.Name == "" {
			return fmt.Errorf("node pool without a name")
		}
		if seen[p.Name] {
			return fmt.Errorf("node pool %q defined twice", p.Name)
		}
		seen[p.Name] = true
		if p.Nodes < 0 || p.RackSize < 0 || p.TPUs < 0 {
			return fmt.Errorf("node pool %q: negative node count, rack size or TPU count", p.Name)
		}
	}
	return nil
}

func nodeName(p Pool, i int) string { return fmt.Sprintf("%s-%d", p.Name, i) }

// buildNodes returns the Node objects for all pools, Ready and with status,
// which the API server accepts on create for Nodes.
func (c Config) buildNodes(now time.Time) []*corev1.Node {
	var nodes []*corev1.Node
	n := 0
	for _, p := range c.Pools {
		for i := 0; i < p.Nodes; i++ {
			nodes = append(nodes, c.buildNode(p, i, n, now))
			n++
		}
	}
	return nodes
}

func (c Config) buildNode(p Pool, i, global int, now time.Time) *corev1.Node {
	name := nodeName(p, i)
	zone := p.Zone
	if zone == "" {
		zone = "zone-a"
	}
	rack := 0
	if p.RackSize > 0 {
		rack = i / p.RackSize
	}
	labels := map[string]string{
		LabelHostname:             name,
		LabelNodePool:             p.Name,
		LabelZone:                 zone,
		LabelRegion:               c.Region,
		c.RackLabel:               fmt.Sprintf("%s-rack-%d", p.Name, rack),
		corev1.LabelOSStable:      "linux",
		corev1.LabelArchStable:    "amd64",
		"node.kubernetes.io/fake": "true",
	}
	for k, v := range p.Labels {
		labels[k] = v
	}
	capacity := nodeCapacity(p)
	ip := nodeIP(global)
	return &corev1.Node{
		ObjectMeta: metaWithLabels(name, labels),
		Spec: corev1.NodeSpec{
			Taints:   append([]corev1.Taint(nil), p.Taints...),
			PodCIDR:  podCIDR(global),
			PodCIDRs: []string{podCIDR(global)},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Phase:       corev1.NodeRunning,
			Conditions:  nodeConditions(corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status", now),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: ip},
				{Type: corev1.NodeHostName, Address: name},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion:          KubeletVersion,
				ContainerRuntimeVersion: "fake://1.0.0",
				OperatingSystem:         "linux",
				Architecture:            "amd64",
				OSImage:                 "lws-crossplane node agent",
				KernelVersion:           "6.1.0",
			},
		},
	}
}

func nodeCapacity(p Pool) corev1.ResourceList {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("8"),
		corev1.ResourceMemory:           resource.MustParse("32Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	for k, v := range p.Capacity {
		capacity[k] = v.DeepCopy()
	}
	if p.TPUs > 0 {
		capacity[ResourceTPU] = *resource.NewQuantity(p.TPUs, resource.DecimalSI)
	}
	return capacity
}

// nodeConditions is the kubelet's condition set with the given Ready status
// and healthy pressure conditions.
func nodeConditions(ready corev1.ConditionStatus, reason, message string, now time.Time) []corev1.NodeCondition {
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, message string) corev1.NodeCondition {
		return corev1.NodeCondition{
			Type: t, Status: s, Reason: reason, Message: message,
			LastHeartbeatTime: *metaTime(now), LastTransitionTime: *metaTime(now),
		}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, ready, reason, message),
	}
}

// nodeIP is the node's internal address: 172.16.0.0/12 has room for far
// more nodes than a test registers.
func nodeIP(global int) string {
	return fmt.Sprintf("172.%d.%d.%d", 16+(global>>16)&0x0f, (global>>8)&0xff, global&0xff)
}

// podCIDR gives every node its own /24 in 10.0.0.0/8; pod IPs come from it.
func podCIDR(global int) string {
	return fmt.Sprintf("10.%d.%d.0/24", (global>>8)&0xff, global&0xff)
}
