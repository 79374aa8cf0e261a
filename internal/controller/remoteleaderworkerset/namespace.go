package remoteleaderworkerset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// A namespace the provider created in a target cluster carries
// LabelCreatedBy, so that it deletes only namespaces of its own.
const (
	LabelCreatedBy    = "lws.crossplane.io/created-by"
	createdByProvider = "provider-lws"
)

// ensureNamespace makes sure a LeaderWorkerSet's namespace exists before
// its first objects are created: the provider creates a missing one, or,
// where the provider config says namespaces are made elsewhere, fails with
// the cluster and the namespace named. It reads the cluster itself, once
// per LeaderWorkerSet creation: namespaces are not cached.
func ensureNamespace(ctx context.Context, remote client.Client, live client.Reader, name, cluster string, policy v1alpha1.NamespacePolicy) error {
	ns := &corev1.Namespace{}
	err := live.Get(ctx, client.ObjectKey{Name: name}, ns)
	switch {
	case err == nil && ns.DeletionTimestamp != nil:
		return fmt.Errorf("namespace %q in cluster %s is being deleted", name, cluster)
	case err == nil:
		return nil
	case !kerrors.IsNotFound(err):
		return fmt.Errorf("cannot get namespace %q in cluster %s: %w", name, cluster, err)
	case policy == v1alpha1.NamespacesExisting:
		return fmt.Errorf("namespace %q does not exist in cluster %s, whose provider config says namespaces are made elsewhere (namespaces: Existing)", name, cluster)
	}
	ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelCreatedBy: createdByProvider}}}
	if err := remote.Create(ctx, ns); err != nil && !kerrors.IsAlreadyExists(err) {
		return fmt.Errorf("cannot create namespace %q in cluster %s: %w", name, cluster, err)
	}
	return nil
}

// leftKinds are what releaseNamespace looks for before it deletes a
// namespace: workloads, their pods, and what users keep beside them. The
// ConfigMap every namespace gets (kube-root-ca.crt) does not count.
var leftKinds = []schema.GroupVersionKind{
	corev1.SchemeGroupVersion.WithKind("PodList"),
	corev1.SchemeGroupVersion.WithKind("ServiceList"),
	corev1.SchemeGroupVersion.WithKind("ConfigMapList"),
	corev1.SchemeGroupVersion.WithKind("SecretList"),
	corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaimList"),
	appsv1.SchemeGroupVersion.WithKind("StatefulSetList"),
	appsv1.SchemeGroupVersion.WithKind("DeploymentList"),
	batchv1.SchemeGroupVersion.WithKind("JobList"),
}

const rootCAConfigMap = "kube-root-ca.crt"

// releaseNamespace deletes a LeaderWorkerSet's namespace once the
// LeaderWorkerSet is gone from it, if the provider created it and nothing
// else is left there.
func releaseNamespace(ctx context.Context, remote client.Client, live client.Reader, name, cluster string) error {
	ns := &corev1.Namespace{}
	if err := live.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return client.IgnoreNotFound(err)
	}
	if ns.Labels[LabelCreatedBy] != createdByProvider || ns.DeletionTimestamp != nil {
		return nil
	}
	for _, gvk := range leftKinds {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(gvk)
		if err := live.List(ctx, l, client.InNamespace(name), client.Limit(2)); err != nil {
			return fmt.Errorf("cannot tell whether namespace %q in cluster %s is empty: %w", name, cluster, err)
		}
		for _, o := range l.Items {
			if gvk.Kind != "ConfigMapList" || o.Name != rootCAConfigMap {
				return nil
			}
		}
	}
	if err := remote.Delete(ctx, ns, client.Preconditions{UID: &ns.UID}); client.IgnoreNotFound(err) != nil && !kerrors.IsConflict(err) {
		return fmt.Errorf("cannot delete namespace %q in cluster %s: %w", name, cluster, err)
	}
	return nil
}
