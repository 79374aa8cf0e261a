package function

import (
	"encoding/json"
	"fmt"
	"strings"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/compose"
	"github.com/lws-crossplane/lws-crossplane/internal/kube"
	"github.com/lws-crossplane/lws-crossplane/internal/revision"
)

// observedSet is the managed resources Crossplane observed, by cluster.
type observedSet map[string]*v1alpha1.RemoteLeaderWorkerSet

func observedClusters(observed map[resource.Name]resource.ObservedComposed) (observedSet, error) {
	out := observedSet{}
	for name, oc := range observed {
		cluster, ok := strings.CutPrefix(string(name), ResourcePrefix)
		if !ok || oc.Resource.GetKind() != v1alpha1.RemoteLeaderWorkerSetKind {
			continue
		}
		mr := &v1alpha1.RemoteLeaderWorkerSet{}
		b, err := json.Marshal(oc.Resource.Object)
		if err == nil {
			err = json.Unmarshal(b, mr)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read observed %s: %w", name, err)
		}
		out[cluster] = mr
	}
	return out, nil
}

// template is the revision template already running, read from any cluster's
// managed resource; the update rules are checked against it.
func (o observedSet) template() *revision.Template {
	for _, mr := range o {
		t, err := revision.Decode(mr.Spec.ForProvider.Revision.Payload.Raw)
		if err == nil {
			return &t
		}
	}
	return nil
}

// desiredComposed is a cluster's managed resource as desired state. It is
// ready when its provider says so.
func desiredComposed(t compose.Target, observed observedSet) (*resource.DesiredComposed, error) {
	m, err := kube.ToMap(t.Resource)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", t.Cluster, err)
	}
	dcd := &resource.DesiredComposed{Resource: &composed.Unstructured{}, Ready: resource.ReadyFalse}
	dcd.Resource.SetUnstructuredContent(m)
	if mr, ok := observed[t.Cluster]; ok && mr.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue {
		dcd.Ready = resource.ReadyTrue
	}
	return dcd, nil
}

// kept is a managed resource desired as it was observed.
func kept(mr *v1alpha1.RemoteLeaderWorkerSet) *v1alpha1.RemoteLeaderWorkerSet {
	return &v1alpha1.RemoteLeaderWorkerSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.RemoteLeaderWorkerSetKind},
		ObjectMeta: metav1.ObjectMeta{Name: mr.Name, Namespace: mr.Namespace},
		Spec:       *mr.Spec.DeepCopy(),
	}
}
