// Package nodeagent plays the kubelets of a test cluster. It registers
// Nodes with capacity and topology labels, keeps their Leases fresh, brings
// pods that the real kube-scheduler bound to them to Running and Ready,
// finishes graceful deletion, and injects faults on demand.
//
// It runs in-process next to the test (or the local environment) and talks
// to the API server through client-go informers, so it reacts to pods as
// soon as they are bound instead of polling.
package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// nodeLeaseNamespace is where kubelets keep their heartbeat Leases.
const nodeLeaseNamespace = corev1.NamespaceNodeLease

// health is what the agent's kubelet on a node is doing.
type health int

const (
	// healthy: heartbeats flow and pods are started.
	healthy health = iota
	// notReady: the kubelet is alive (Lease renewed) but reports
	// Ready=False; it still finishes pod deletions but starts nothing.
	notReady
	// lost: the kubelet is gone. No heartbeats, no pod handling.
	lost
)

type nodeState struct {
	node   *corev1.Node
	index  int
	health health
	nextIP int
}

// Agent is a fake kubelet for every node of one cluster.
type Agent struct {
	cfg    Config
	client kubernetes.Interface

	mu         sync.Mutex
	nodes      map[string]*nodeState
	order      []string
	boundAt    map[types.UID]time.Time
	deletingAt map[types.UID]time.Time
	rules      ruleSet

	queue     workqueue.TypedRateLimitingInterface[types.NamespacedName]
	podLister corelisters.PodLister

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns an agent for the cluster behind restConfig. Start runs it.
func New(restConfig *rest.Config, cfg Config) (*Agent, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rc := rest.CopyConfig(restConfig)
	rc.QPS, rc.Burst = cfg.QPS, cfg.Burst
	rc.UserAgent = "lws-crossplane-nodeagent"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("creating node agent client: %w", err)
	}
	a := &Agent{
		cfg:        cfg,
		client:     client,
		nodes:      map[string]*nodeState{},
		boundAt:    map[types.UID]time.Time{},
		deletingAt: map[types.UID]time.Time{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](5*time.Millisecond, time.Second),
			workqueue.TypedRateLimitingQueueConfig[types.NamespacedName]{Name: "nodeagent"}),
	}
	for i, n := range cfg.buildNodes(time.Now()) {
		a.nodes[n.Name] = &nodeState{node: n, index: i}
		a.order = append(a.order, n.Name)
	}
	return a, nil
}

// Start registers the nodes, waits until the pod informer is synced and
// starts the pod workers and heartbeats. ctx bounds the start-up only; the
// agent then runs until Stop.
func (a *Agent) Start(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	if err := a.registerNodes(ctx); err != nil {
		cancel()
		return err
	}

	factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			// Only bound pods concern a kubelet; the scheduler does the rest.
			o.FieldSelector = fields.OneTermNotEqualSelector("spec.nodeName", "").String()
		}))
	podInformer := factory.Core().V1().Pods()
	if err := podInformer.Informer().SetTransform(stripManagedFields); err != nil {
		cancel()
		return fmt.Errorf("setting pod informer transform: %w", err)
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.enqueuePod,
		UpdateFunc: func(_, obj any) { a.enqueuePod(obj) },
		DeleteFunc: a.forgetPod,
	}); err != nil {
		cancel()
		return fmt.Errorf("adding pod event handler: %w", err)
	}
	a.podLister = podInformer.Lister()
	factory.Start(runCtx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.Informer().HasSynced) {
		cancel()
		factory.Shutdown()
		return fmt.Errorf("waiting for the node agent's pod informer: %w", context.Cause(ctx))
	}

	for i := 0; i < a.cfg.Workers; i++ {
		a.wg.Go(func() {
			for a.processNext(runCtx) {
			}
		})
	}
	a.wg.Go(func() { a.heartbeatLoop(runCtx) })
	a.wg.Go(func() {
		<-runCtx.Done()
		a.queue.ShutDown()
		factory.Shutdown()
	})
	return nil
}

// Stop ends the agent's goroutines and waits for them. Nodes stay
// registered; their Leases expire.
func (a *Agent) Stop() {
	if a.cancel == nil {
		return
	}
	a.cancel()
	a.wg.Wait()
}

// NodeNames lists the agent's nodes in pool order.
func (a *Agent) NodeNames() []string {
	return append([]string(nil), a.order...)
}

// Nodes returns the nodes as the agent registered them.
func (a *Agent) Nodes() []*corev1.Node {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*corev1.Node, 0, len(a.order))
	for _, name := range a.order {
		out = append(out, a.nodes[name].node.DeepCopy())
	}
	return out
}

// registerNodes creates every node with a Ready status and its Lease. It
// writes concurrently: registering 100 nodes one by one would dominate a
// cluster's start-up time.
func (a *Agent) registerNodes(ctx context.Context) error {
	return a.forEachNode(ctx, a.order, func(ctx context.Context, st *nodeState) error {
		node := st.node.DeepCopy()
		if _, err := a.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("registering node %s: %w", node.Name, err)
			}
			// A restarted local environment finds its nodes; report Ready again.
			if err := a.setNodeReady(ctx, node.Name, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"); err != nil {
				return err
			}
		}
		return a.renewLease(ctx, st.node)
	})
}

// forEachNode runs fn for the named nodes with bounded concurrency and
// returns the errors joined.
func (a *Agent) forEachNode(ctx context.Context, names []string, fn func(context.Context, *nodeState) error) error {
	const parallel = 8
	sem := make(chan struct{}, parallel)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, name := range names {
		a.mu.Lock()
		st := a.nodes[name]
		a.mu.Unlock()
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, st); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// heartbeatLoop renews the Leases of all nodes whose kubelet is not lost,
// which is what keeps the node-lifecycle controller from marking them
// NotReady and evicting their pods.
func (a *Agent) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var alive []string
		a.mu.Lock()
		for _, name := range a.order {
			if a.nodes[name].health != lost {
				alive = append(alive, name)
			}
		}
		a.mu.Unlock()
		// Errors are transient (API server busy, conflicts); the next
		// tick retries well within the lease duration.
		_ = a.forEachNode(ctx, alive, func(ctx context.Context, st *nodeState) error {
			a.mu.Lock()
			gone := st.health == lost // lost since the list was taken
			a.mu.Unlock()
			if gone {
				return nil
			}
			return a.renewLease(ctx, st.node)
		})
	}
}

func (a *Agent) renewLease(ctx context.Context, node *corev1.Node) error {
	leases := a.client.CoordinationV1().Leases(nodeLeaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node.Name, Namespace: nodeLeaseNamespace},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptrTo(node.Name),
				LeaseDurationSeconds: ptrTo(int32(a.cfg.LeaseDuration / time.Second)),
				RenewTime:            &now,
			},
		}
		if _, err := leases.Create(ctx, lease, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating lease of node %s: %w", node.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting lease of node %s: %w", node.Name, err)
	}
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		// Renewed meanwhile by the other of the lease loop and
		// RecoverNode: it is fresh either way.
		return nil
	}
	if err != nil {
		return fmt.Errorf("renewing lease of node %s: %w", node.Name, err)
	}
	return nil
}

// stripManagedFields drops managed fields from cached pods: the agent never
// reads them and they are a large share of a pod's memory.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

func (a *Agent) enqueuePod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	a.mu.Lock()
	_, mine := a.nodes[pod.Spec.NodeName]
	a.mu.Unlock()
	if mine {
		a.queue.Add(types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name})
	}
}

func (a *Agent) forgetPod(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	a.mu.Lock()
	delete(a.boundAt, pod.UID)
	delete(a.deletingAt, pod.UID)
	a.mu.Unlock()
}

// resyncPods enqueues the matching pods after a node's health or a fault
// rule changed what they should look like.
func (a *Agent) resyncPods(match func(*corev1.Pod) bool) {
	if a.podLister == nil {
		return
	}
	pods, err := a.podLister.List(everything)
	if err != nil {
		return
	}
	for _, p := range pods {
		if match(p) {
			a.enqueuePod(p)
		}
	}
}

func (a *Agent) processNext(ctx context.Context) bool {
	key, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(key)
	requeueAfter, err := a.syncPod(ctx, key)
	switch {
	case err != nil:
		a.queue.AddRateLimited(key)
	case requeueAfter > 0:
		a.queue.Forget(key)
		a.queue.AddAfter(key, requeueAfter)
	default:
		a.queue.Forget(key)
	}
	return true
}

// syncPod moves one bound pod towards what its kubelet would report. It
// returns a delay after which to look again when the pod is still
// starting or stopping.
func (a *Agent) syncPod(ctx context.Context, key types.NamespacedName) (time.Duration, error) {
	pod, err := a.podLister.Pods(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := time.Now()

	a.mu.Lock()
	st := a.nodes[pod.Spec.NodeName]
	if st == nil || st.health == lost {
		a.mu.Unlock()
		return 0, nil
	}
	nodeHealth := st.health
	hostIP := st.node.Status.Addresses[0].Address
	if pod.DeletionTimestamp != nil {
		if _, ok := a.deletingAt[pod.UID]; !ok {
			a.deletingAt[pod.UID] = now
		}
		stopAt := a.deletingAt[pod.UID].Add(a.cfg.StopDelay)
		a.mu.Unlock()
		if wait := stopAt.Sub(now); wait > 0 {
			return wait, nil
		}
		return 0, a.finishDeletion(ctx, pod)
	}
	if nodeHealth != healthy || isTerminal(pod) {
		a.mu.Unlock()
		return 0, nil
	}
	if _, ok := a.boundAt[pod.UID]; !ok {
		a.boundAt[pod.UID] = now
	}
	startAt := a.boundAt[pod.UID].Add(a.cfg.StartDelay + a.rules.startDelay(pod))
	ready := !a.rules.neverReady(pod)
	podIP := pod.Status.PodIP
	if podIP == "" && !startAt.After(now) {
		podIP = a.allocateIP(st)
	}
	a.mu.Unlock()

	if wait := startAt.Sub(now); wait > 0 {
		return wait, nil
	}
	desired := runningStatus(pod, hostIP, podIP, ready, now)
	if !statusDiffers(pod.Status, desired) {
		return 0, nil
	}
	update := pod.DeepCopy()
	update.Status = desired
	if _, err := a.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, update, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		// Conflicts are expected when another writer got there first;
		// the informer delivers the newer pod and the retry uses it.
		return 0, fmt.Errorf("updating status of pod %s: %w", key, err)
	}
	return 0, nil
}

// finishDeletion removes a pod whose containers have stopped, as the
// kubelet does once a graceful deletion is complete.
func (a *Agent) finishDeletion(ctx context.Context, pod *corev1.Pod) error {
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptrTo(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("finishing deletion of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// allocateIP hands out the next address of the node's pod CIDR. Callers
// hold a.mu. Addresses wrap after 250 pods per node, which no test reaches
// with live pods.
func (a *Agent) allocateIP(st *nodeState) string {
	n := st.nextIP % 250
	st.nextIP++
	return fmt.Sprintf("10.%d.%d.%d", (st.index>>8)&0xff, st.index&0xff, n+2)
}
