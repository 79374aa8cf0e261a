package podmeta

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// RequestsTPU tells whether a container asks for TPUs: a non-zero limit, or
// without a limit a non-zero request.
func RequestsTPU(c corev1.Container) bool {
	if q, ok := c.Resources.Limits[lws.TPUResourceName]; ok {
		return !q.IsZero()
	}
	q, ok := c.Resources.Requests[lws.TPUResourceName]
	return ok && !q.IsZero()
}

// PodRequestsTPUs tells whether any container or init container asks for
// TPUs.
func PodRequestsTPUs(spec corev1.PodSpec) bool {
	for _, cs := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for _, c := range cs {
			if RequestsTPU(c) {
				return true
			}
		}
	}
	return false
}

// tpuContainers are the TPU containers in upstream's order: containers, then
// init containers.
func tpuContainers(pod *corev1.Pod) []*corev1.Container {
	var out []*corev1.Container
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			if RequestsTPU(cs[i]) {
				out = append(out, &cs[i])
			}
		}
	}
	return out
}

// addTPUVariables gives every TPU container the hosts of its TPU slice and
// its place in it (the TPU variables of https://lws.sigs.k8s.io/docs/reference/labels-annotations-and-environment-variables/). Nothing is added when the first TPU container
// already names its hosts or its id.
func addTPUVariables(pod *corev1.Pod, size int) error {
	tpus := tpuContainers(pod)
	if len(tpus) == 0 {
		return nil
	}
	for _, n := range []string{lws.EnvTPUWorkerHostnames, lws.EnvTPUWorkerID} {
		if _, ok := lookup(tpus[0].Env, n); ok {
			return nil
		}
	}
	// A leader outside any subgroup (LeaderExcluded) has no subgroup index;
	// it lists its slice as it would without subgroups.
	if _, ok := pod.Annotations[lws.AnnotationSubGroupSize]; ok && pod.Labels[lws.LabelSubGroupIndex] != "" {
		return addSubGroupTPUVariables(pod, tpus[0])
	}
	leader, idx := pod.Name, 0
	if !IsLeader(pod) {
		leader, idx = ParentNameAndOrdinal(pod.Name)
		if idx < 0 {
			return fmt.Errorf("pod %s has no ordinal", pod.Name)
		}
		if pod.Annotations[lws.AnnotationLeaderRequestsTPUs] != "true" {
			idx-- // The leader is not a TPU host.
		}
	}
	ports := make([]string, len(tpus))
	for i, c := range tpus {
		ports[i] = port(c, lws.DefaultTPUProcessPort+i)
	}
	if err := checkHostList(pod, size*len(ports), leader); err != nil {
		return err
	}
	var hosts, addresses []string
	add := func(host string) {
		for _, p := range ports {
			hosts = append(hosts, host)
			addresses = append(addresses, host+":"+p)
		}
	}
	if IsLeader(pod) || pod.Annotations[lws.AnnotationLeaderRequestsTPUs] == "true" {
		add(leader + "." + pod.Spec.Subdomain)
	}
	for w := 1; w < size; w++ {
		add(leader + "-" + strconv.Itoa(w) + "." + pod.Spec.Subdomain)
	}
	for i, c := range tpus {
		setTPUEnv(c, hosts, addresses, idx*len(tpus)+i, leader, ports[i])
	}
	return nil
}

// addSubGroupTPUVariables lists only the hosts of the pod's subgroup, for
// its first TPU container.
func addSubGroupTPUVariables(pod *corev1.Pod, c *corev1.Container) error {
	sgs, err1 := strconv.Atoi(pod.Annotations[lws.AnnotationSubGroupSize])
	sgi, err2 := strconv.Atoi(pod.Labels[lws.LabelSubGroupIndex])
	w, err3 := strconv.Atoi(pod.Labels[lws.LabelWorkerIndex])
	if err1 != nil || err2 != nil || err3 != nil || sgs < 1 {
		return fmt.Errorf("pod %s has no valid subgroup size, subgroup index or worker index", pod.Name)
	}
	leaderHasTPUs := IsLeader(pod) || pod.Annotations[lws.AnnotationLeaderRequestsTPUs] == "true"
	id := w % sgs
	if !leaderHasTPUs {
		id, sgi = (w-1)%sgs, (w-1)/sgs
	}
	if err := checkHostList(pod, sgs, pod.Name); err != nil {
		return err
	}
	start, end := sgs*sgi+1, sgs*(sgi+1)
	leader := pod.Name
	var hosts []string
	switch {
	case IsLeader(pod):
		hosts = append(hosts, pod.Name+"."+pod.Spec.Subdomain)
		end--
	case leaderHasTPUs && sgi == 0:
		leader, _ = ParentNameAndOrdinal(pod.Name)
		hosts = append(hosts, leader+"."+pod.Spec.Subdomain)
		end--
	case leaderHasTPUs:
		leader, _ = ParentNameAndOrdinal(pod.Name)
		start, end = start-1, end-1
	default:
		leader, _ = ParentNameAndOrdinal(pod.Name)
	}
	for k := start; k <= end; k++ {
		hosts = append(hosts, leader+"-"+strconv.Itoa(k)+"."+pod.Spec.Subdomain)
	}
	p := port(c, lws.DefaultTPUProcessPort)
	addresses := make([]string, len(hosts))
	for i, h := range hosts {
		addresses[i] = h + ":" + p
	}
	setTPUEnv(c, hosts, addresses, id, leader, p)
	return nil
}

// maxHostListBytes bounds a TPU host list. No pod over etcd's request
// limit (1.5 MiB by default) can be stored, so a longer list could never be
// written; refusing it before building it keeps a pod with an absurd size
// annotation from costing the provider its memory (FuzzMutate found a size
// of 166,666,661).
const maxHostListBytes = 1 << 20

// checkHostList refuses a list of n hosts of leader's group, "<leader>-<i>.
// <subdomain>" each, that would be longer than maxHostListBytes.
func checkHostList(pod *corev1.Pod, n int, leader string) error {
	perHost := len(leader) + len(pod.Spec.Subdomain) + len(strconv.Itoa(n)) + 3
	if n > maxHostListBytes/perHost {
		return fmt.Errorf("pod %s: a TPU host list of %d hosts would not fit in a pod (over %d bytes)", pod.Name, n, maxHostListBytes)
	}
	return nil
}

func port(c *corev1.Container, def int) string {
	if p, ok := lookup(c.Env, lws.EnvTPUProcessPort); ok {
		return p
	}
	return strconv.Itoa(def)
}

func setTPUEnv(c *corev1.Container, hosts, addresses []string, id int, leader, port string) {
	_, hasPort := lookup(c.Env, lws.EnvTPUProcessPort)
	c.Env = append(c.Env,
		corev1.EnvVar{Name: lws.EnvTPUWorkerHostnames, Value: strings.Join(hosts, ",")},
		corev1.EnvVar{Name: lws.EnvTPUWorkerID, Value: strconv.Itoa(id)},
		corev1.EnvVar{Name: lws.EnvTPUName, Value: leader},
		corev1.EnvVar{Name: lws.EnvTPUProcessAddresses, Value: strings.Join(addresses, ",")},
	)
	if !hasPort {
		c.Env = append(c.Env, corev1.EnvVar{Name: lws.EnvTPUProcessPort, Value: port})
	}
}
