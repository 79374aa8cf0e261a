package groups

import (
	"fmt"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
	"github.com/lws-crossplane/lws-crossplane/internal/render"
)

// Simulation is a target cluster played in memory: it applies plans, and
// plays the StatefulSet controller, the scheduler and the kubelet, just
// enough for the planner to take an empty cluster to every group running.
// `lws render --objects` shows what a simulation holds, so that the preview
// is the provider's own plan rather than a second copy of it; the planner's
// tests run on it too.
type Simulation struct {
	State

	// pods indexes State.Pods by name.
	pods map[string]int

	// Schedule is the node a released pod runs on, "" to leave it pending.
	// Nil runs every pod on a node of its own, which is its own domain of
	// every topology key the pod's exclusive placement names.
	Schedule func(*corev1.Pod) string

	// GangObjects are the gang objects created, as planned.
	GangObjects []GangObject
	// WithoutAdmissionPolicy creates leaders as a cluster would before the
	// leaders' workload admission policy takes effect: without their
	// workload reference.
	WithoutAdmissionPolicy bool
}

// NewSimulation is an empty cluster for the managed resource's parameters.
func NewSimulation(p v1alpha1.RemoteLeaderWorkerSetParameters) *Simulation {
	return &Simulation{State: State{Params: p, Nodes: map[string]*corev1.Node{}}, pods: map[string]int{}}
}

// simulationRounds bounds Converge: a LeaderWorkerSet settles in four plans
// (leader StatefulSet, leaders released, workers created, workers released),
// so more means the planner does not converge.
const simulationRounds = 10

// Converge applies plans until one changes nothing, and returns that one.
func (c *Simulation) Converge(now metav1.Time) (*Plan, error) {
	for range simulationRounds {
		p, err := Compute(&c.State, nil, 1, now)
		if err != nil {
			return nil, err
		}
		if !p.Changes() {
			return p, nil
		}
		c.Apply(p)
	}
	return nil, fmt.Errorf("no convergence after %d plans", simulationRounds)
}

// Apply writes a plan as the API server would, and creates the pods that
// new StatefulSets ask for, gated as their templates say. A released pod
// is scheduled and, once on a node, running and ready.
func (c *Simulation) Apply(p *Plan) {
	if p.Revision != nil {
		c.Revisions = append(c.Revisions, *p.Revision)
	}
	if p.Leader != nil {
		l := p.Leader.DeepCopy()
		l.UID = "leader-sts"
		l.Status.Replicas = *l.Spec.Replicas
		c.Leader = l
		c.syncLeaderPods()
	}
	for _, svc := range p.Services {
		c.Services = append(c.Services, *svc)
	}
	for _, stale := range p.StaleServices {
		c.Services = slices.DeleteFunc(c.Services, func(svc corev1.Service) bool { return svc.Name == stale.Name })
	}
	for _, w := range p.Workers {
		w := w.DeepCopy()
		w.UID = types.UID(w.Name + "-workers")
		w.Status = appsv1.StatefulSetStatus{AvailableReplicas: *w.Spec.Replicas, CurrentRevision: "r", UpdateRevision: "r"}
		c.Workers = append(c.Workers, *w)
		for j := 1; j <= int(*w.Spec.Replicas); j++ {
			c.addPod(c.podFrom(w.Spec.Template, w.Name+"-"+strconv.Itoa(j), w.Spec.ServiceName, j, controllerRef(w)))
		}
	}
	c.applyGangs(p)
	for _, id := range p.Identities {
		pod := c.Pod(id.Pod.Name)
		if pod == nil {
			continue // Readmitted.
		}
		for k, v := range id.Labels {
			pod.Labels[k] = v
		}
		for k, v := range id.Annotations {
			pod.Annotations[k] = v
		}
		pod.Spec.SchedulingGates = nil
		id.Place(&pod.Spec)
		if pod.Spec.NodeName = c.schedule(pod); pod.Spec.NodeName == "" {
			continue
		}
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	}
}

func (c *Simulation) schedule(pod *corev1.Pod) string {
	if c.Schedule != nil {
		return c.Schedule(pod)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + pod.Name, Labels: map[string]string{}}}
	for _, a := range []string{lws.AnnotationExclusiveTopology, lws.AnnotationSubGroupExclusiveTopology} {
		if key := pod.Annotations[a]; key != "" {
			node.Labels[key] = pod.Name
		}
	}
	c.Nodes[node.Name] = node
	return node.Name
}

// Pod and Worker find objects of the simulated cluster as it is now; the
// State's own lookups read the index its last plan was computed from.
func (c *Simulation) Pod(name string) *corev1.Pod {
	if i, ok := c.pods[name]; ok && i < len(c.Pods) && c.Pods[i].Name == name {
		return &c.Pods[i]
	}
	for i := range c.Pods { // Pods the caller added or reordered.
		if c.Pods[i].Name == name {
			c.pods[name] = i
			return &c.Pods[i]
		}
	}
	return nil
}

func (c *Simulation) addPod(p corev1.Pod) {
	c.pods[p.Name] = len(c.Pods)
	c.Pods = append(c.Pods, p)
}

func (c *Simulation) Worker(name string) *appsv1.StatefulSet {
	for i := range c.Workers {
		if c.Workers[i].Name == name {
			return &c.Workers[i]
		}
	}
	return nil
}

// syncLeaderPods creates the leader pods the StatefulSet asks for, from its
// template, as the StatefulSet controller does.
func (c *Simulation) syncLeaderPods() {
	for i := range int(*c.Leader.Spec.Replicas) {
		name := lws.LeaderPodName(c.Params.Name, i)
		if c.Pod(name) == nil {
			c.addPod(c.podFrom(c.Leader.Spec.Template, name, c.Leader.Spec.ServiceName, i, controllerRef(c.Leader)))
		}
	}
}

func controllerRef(sts *appsv1.StatefulSet) metav1.OwnerReference {
	return metav1.OwnerReference{Kind: "StatefulSet", Name: sts.Name, UID: sts.UID, Controller: ptr.To(true)}
}

func (c *Simulation) podFrom(t corev1.PodTemplateSpec, name, subdomain string, ordinal int, owner metav1.OwnerReference) corev1.Pod {
	pod := corev1.Pod{ObjectMeta: *t.ObjectMeta.DeepCopy(), Spec: *t.Spec.DeepCopy()}
	pod.Name, pod.Namespace, pod.UID = name, c.Params.Namespace, types.UID(name)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Labels[render.LabelStatefulSetPodName] = name
	pod.Labels[render.LabelPodIndex] = strconv.Itoa(ordinal)
	pod.Spec.Hostname, pod.Spec.Subdomain = name, subdomain
	pod.OwnerReferences = []metav1.OwnerReference{owner}
	pod.Status.Phase = corev1.PodPending
	c.admit(&pod)
	return pod
}

// admit plays the leaders' workload admission policy
// (admission.LeaderWorkloadPolicy), from the same labels.
func (c *Simulation) admit(pod *corev1.Pod) {
	if c.WithoutAdmissionPolicy || pod.Annotations[lws.AnnotationGangScheduling] != string(lws.GangWorkload) ||
		pod.Labels[lws.LabelWorkerIndex] != "0" || pod.Spec.WorkloadRef != nil {
		return
	}
	pod.Spec.WorkloadRef = &corev1.WorkloadReference{
		Name:     pod.Labels[lws.LabelName] + "-" + pod.Labels[render.LabelPodIndex] + "-" + pod.Labels[lws.LabelRevisionKey],
		PodGroup: render.GangPodGroup,
	}
}

// applyGangs deletes stale gang objects and creates planned ones, and
// deletes readmitted leaders, which the leader StatefulSet creates again.
func (c *Simulation) applyGangs(p *Plan) {
	for _, stale := range p.StaleGangs {
		c.Gangs = slices.DeleteFunc(c.Gangs, func(o metav1.PartialObjectMetadata) bool { return o.UID == stale.UID })
		c.GangObjects = slices.DeleteFunc(c.GangObjects, func(o GangObject) bool { return o.GetUID() == stale.UID })
	}
	for _, o := range p.Gangs {
		o = o.DeepCopyObject().(GangObject)
		o.SetUID(types.UID(o.GetName() + "-" + string(o.GetOwnerReferences()[0].UID)))
		c.GangObjects = append(c.GangObjects, o)
		c.Gangs = append(c.Gangs, metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: o.GetObjectKind().GroupVersionKind().GroupVersion().String(), Kind: o.GetObjectKind().GroupVersionKind().Kind},
			ObjectMeta: metav1.ObjectMeta{Name: o.GetName(), Namespace: o.GetNamespace(), UID: o.GetUID(), Labels: o.GetLabels(), OwnerReferences: o.GetOwnerReferences()}})
	}
	if len(p.Readmit) == 0 {
		return
	}
	for _, leader := range p.Readmit {
		c.Pods = slices.DeleteFunc(c.Pods, func(pod corev1.Pod) bool { return pod.UID == leader.UID })
	}
	c.pods = map[string]int{}
	c.syncLeaderPods()
}
