package testenv

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ReadyTimes are how long pods and StatefulSets took to become ready.
type ReadyTimes struct{ Pods, StatefulSets time.Duration }

// Floor is the floor any LWS implementation on this control plane pays:
// groups of groupSize pods as bare StatefulSets (one leader StatefulSet of
// `groups` replicas plus one worker StatefulSet of groupSize-1 replicas with
// ordinals.start 1 per group, Parallel), all created at once in a new
// namespace of c, until every pod and StatefulSet is ready.
func Floor(ctx context.Context, c *Cluster, groups, groupSize int) (ReadyTimes, error) {
	return FloorOf(ctx, c, groups*groupSize, groups+1, func(ns string) ([]client.Object, error) {
		objs := []client.Object{BareStatefulSet(ns, "leader", int32(groups), 0)}
		for g := range groups {
			objs = append(objs, BareStatefulSet(ns, fmt.Sprintf("leader-%d", g), int32(groupSize-1), 1))
		}
		return objs, nil
	})
}

// FloorOf is a floor of given objects: it creates what objects returns for
// a new namespace of c, all at once, and waits until the namespace holds
// `pods` ready pods and `statefulSets` ready StatefulSets.
func FloorOf(ctx context.Context, c *Cluster, pods, statefulSets int, objects func(namespace string) ([]client.Object, error)) (ReadyTimes, error) {
	ns, err := c.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "floor-"}}, metav1.CreateOptions{})
	if err != nil {
		return ReadyTimes{}, err
	}
	objs, err := objects(ns.Name)
	if err != nil {
		return ReadyTimes{}, err
	}
	return TimeToReady(ctx, c, ns.Name, labels.Everything(), pods, statefulSets, func(ctx context.Context) error {
		return eachAtOnce(objs, func(o client.Object) error {
			if err := c.Client.Create(ctx, o); err != nil {
				return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
			}
			return nil
		})
	})
}

// replacedLabel marks the pods and StatefulSets of ReplaceFloorOf's new
// template, so that only replacements are timed.
const replacedLabel = "testenv.lws-crossplane.io/replaced"

// ReplaceFloorOf is the floor of replacing pods rather than creating them,
// which is what each step of a rolling update does: it creates objects as
// FloorOf does and, once they are ready, changes the pod template of every
// StatefulSet among them at once, with maxUnavailable 100%, and waits until
// every pod has been replaced and is ready. Beyond FloorOf's times, this
// pays the StatefulSet controller's deletion of the old pods, their
// termination, and the controller's creation of their successors.
func ReplaceFloorOf(ctx context.Context, c *Cluster, pods, statefulSets int, objects func(namespace string) ([]client.Object, error)) (ReadyTimes, error) {
	var objs []client.Object
	if _, err := FloorOf(ctx, c, pods, statefulSets, func(ns string) ([]client.Object, error) {
		var err error
		objs, err = objects(ns)
		return objs, err
	}); err != nil {
		return ReadyTimes{}, fmt.Errorf("creating the pods to replace: %w", err)
	}
	replaced := labels.Set{replacedLabel: "true"}
	return TimeToReady(ctx, c, objs[0].GetNamespace(), replaced.AsSelector(), pods, statefulSets, func(ctx context.Context) error {
		return eachAtOnce(objs, func(o client.Object) error {
			sts, ok := o.(*appsv1.StatefulSet)
			if !ok {
				return nil
			}
			before := sts.DeepCopy()
			all := intstr.FromString("100%")
			sts.Labels = labels.Merge(sts.Labels, replaced)
			sts.Spec.Template.Labels = labels.Merge(sts.Spec.Template.Labels, replaced)
			sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{
				Type:          appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0), MaxUnavailable: &all},
			}
			if err := c.Client.Patch(ctx, sts, client.MergeFrom(before)); err != nil {
				return fmt.Errorf("changing the template of StatefulSet %s: %w", sts.Name, err)
			}
			return nil
		})
	})
}

// eachAtOnce calls f on every object concurrently and returns the first
// error.
func eachAtOnce(objs []client.Object, f func(client.Object) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(objs))
	for _, o := range objs {
		wg.Go(func() {
			if err := f(o); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return nil
}

// TimeToReady starts a clock, calls start, and waits, through watches
// rather than polling, until the namespace of c holds `pods` ready pods and
// `statefulSets` StatefulSets matching selector with every replica ready and
// updated, at most 5 minutes.
func TimeToReady(ctx context.Context, c *Cluster, namespace string, selector labels.Selector, pods, statefulSets int, start func(context.Context) error) (ReadyTimes, error) {
	return timeTo(ctx, c, namespace, selector, PodReady, pods, statefulSets, start)
}

// TimeToUpdate is TimeToReady for a change of running pods, such as a
// rolling update: it waits until `pods` pods matching selector are ready
// and updated, and does not look at StatefulSets, whose counts describe
// every step rather than the end.
func TimeToUpdate(ctx context.Context, c *Cluster, namespace string, selector labels.Selector, pods int, updated func(*corev1.Pod) bool, start func(context.Context) error) (time.Duration, error) {
	r, err := timeTo(ctx, c, namespace, selector, func(p *corev1.Pod) bool { return PodReady(p) && updated(p) }, pods, 0, start)
	return r.Pods, err
}

// timeTo is TimeToReady with ready deciding which pods count.
func timeTo(ctx context.Context, c *Cluster, namespace string, selector labels.Selector, ready func(*corev1.Pod) bool, pods, statefulSets int, start func(context.Context) error) (ReadyTimes, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var (
		mu        sync.Mutex
		readyPods = map[string]bool{}
		readySts  = map[string]bool{}
		res       ReadyTimes
		podsDone  = make(chan struct{})
		stsDone   = make(chan struct{})
		began     time.Time
	)
	if statefulSets == 0 {
		close(stsDone)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector.String() }))
	onPod := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		readyPods[p.Name] = p.DeletionTimestamp == nil && ready(p)
		if res.Pods == 0 && countTrue(readyPods) == pods {
			res.Pods = time.Since(began)
			close(podsDone)
		}
	}
	onSts := func(obj any) {
		s, ok := obj.(*appsv1.StatefulSet)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		readySts[s.Name] = s.Spec.Replicas != nil && s.Status.ReadyReplicas == *s.Spec.Replicas &&
			s.Status.UpdatedReplicas == *s.Spec.Replicas && s.Status.ObservedGeneration == s.Generation
		if statefulSets > 0 && res.StatefulSets == 0 && countTrue(readySts) == statefulSets {
			res.StatefulSets = time.Since(began)
			close(stsDone)
		}
	}
	handler := func(f func(any)) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{AddFunc: f, UpdateFunc: func(_, o any) { f(o) }}
	}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(handler(onPod)); err != nil {
		return ReadyTimes{}, err
	}
	if _, err := factory.Apps().V1().StatefulSets().Informer().AddEventHandler(handler(onSts)); err != nil {
		return ReadyTimes{}, err
	}
	factory.Start(ctx.Done())
	defer func() {
		cancel() // Shutdown waits for the informers, which stop on ctx.
		factory.Shutdown()
	}()
	factory.WaitForCacheSync(ctx.Done())

	mu.Lock()
	began = time.Now()
	mu.Unlock()
	if err := start(ctx); err != nil {
		return ReadyTimes{}, err
	}
	for _, done := range []chan struct{}{podsDone, stsDone} {
		select {
		case <-done:
		case <-ctx.Done():
			mu.Lock()
			defer mu.Unlock()
			return ReadyTimes{}, fmt.Errorf("cluster %s: %d/%d pods and %d/%d StatefulSets ready at timeout", c.Name,
				countTrue(readyPods), pods, countTrue(readySts), statefulSets)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return res, nil
}

// BareStatefulSet is a bare group StatefulSet: Parallel, with the given
// first ordinal, like the leader and worker StatefulSets of the design.
func BareStatefulSet(ns, name string, replicas, start int32) *appsv1.StatefulSet {
	podLabels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: podLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{{Name: "main", Image: "registry.local/main:v1"}},
					TerminationGracePeriodSeconds: ptr.To[int64](0),
				},
			},
		},
	}
	if start != 0 {
		s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: start}
	}
	return s
}

// PodReady tells whether a pod has condition Ready=True.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}
