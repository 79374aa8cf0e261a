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
		var wg sync.WaitGroup
		errs := make(chan error, len(objs))
		for _, o := range objs {
			wg.Go(func() {
				if err := c.Client.Create(ctx, o); err != nil {
					errs <- fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		return nil
	})
}

// TimeToReady starts a clock, calls start, and waits, through watches
// rather than polling, until the namespace of c holds `pods` ready pods and
// `statefulSets` ready StatefulSets matching selector, at most 5 minutes.
func TimeToReady(ctx context.Context, c *Cluster, namespace string, selector labels.Selector, pods, statefulSets int, start func(context.Context) error) (ReadyTimes, error) {
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
	factory := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector.String() }))
	onPod := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		readyPods[p.Name] = p.DeletionTimestamp == nil && PodReady(p)
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
			s.Status.ObservedGeneration == s.Generation
		if res.StatefulSets == 0 && countTrue(readySts) == statefulSets {
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

// floorStatefulSet is a bare group StatefulSet: Parallel, with the given
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
