package revision

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

// decode reads a spec as a client would send it, then defaults it.
func decode(t *testing.T, js string) *v1alpha1.LeaderWorkerSetSpec {
	t.Helper()
	s := &v1alpha1.LeaderWorkerSetSpec{}
	if err := json.Unmarshal([]byte(js), s); err != nil {
		t.Fatal(err)
	}
	return lws.Default(s)
}

func key(t *testing.T, js string) string {
	t.Helper()
	_, k, err := Compute(decode(t, js))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const base = `{"replicas":2,"leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}`

func TestKey(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   string
		same   bool
	}{
		"NullCreationTimestampLws798": {
			reason: "An old client's creationTimestamp: null in template metadata must not start a rollout (lws#798).",
			spec:   `{"replicas":2,"leaderWorkerTemplate":{"size":2,"workerTemplate":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
			same:   true,
		},
		"KeyOrder": {
			reason: "The order of keys in the request does not matter.",
			spec:   `{"leaderWorkerTemplate":{"workerTemplate":{"spec":{"containers":[{"image":"i","name":"c"}]}},"size":2},"replicas":2}`,
			same:   true,
		},
		"ExplicitDefaults": {
			reason: "Spelling out defaults (Shared subdomain, restart policy) is the same revision.",
			spec:   `{"replicas":2,"networkConfig":{"subdomainPolicy":"Shared"},"leaderWorkerTemplate":{"size":2,"restartPolicy":"RecreateGroupOnPodRestart","workerTemplate":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
			same:   true,
		},
		"ReplicasNotInRevision": {
			reason: "replicas, rolloutStrategy and startupPolicy scale or tune without a rollout.",
			spec:   `{"replicas":7,"startupPolicy":"LeaderReady","rolloutStrategy":{"rollingUpdateConfiguration":{"maxSurge":1}},"leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
			same:   true,
		},
		"ContainerChanged": {
			reason: "A changed container name is a new revision.",
			spec:   `{"replicas":2,"leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"containers":[{"name":"d","image":"i"}]}}}}`,
		},
		"SizeChanged": {
			reason: "size is part of the revision: resizing rolls the groups.",
			spec:   `{"replicas":2,"leaderWorkerTemplate":{"size":3,"workerTemplate":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
		},
		"SubdomainPolicyChanged": {
			reason: "networkConfig is part of the revision.",
			spec:   `{"replicas":2,"networkConfig":{"subdomainPolicy":"UniquePerReplica"},"leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
		},
		"EmptyDirKept": {
			reason: "An emptyDir volume is a change, though its value is an empty object.",
			spec:   `{"replicas":2,"leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"volumes":[{"name":"v","emptyDir":{}}],"containers":[{"name":"c","image":"i"}]}}}}`,
		},
	}
	want := key(t, base)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := key(t, tc.spec)
			if (got == want) != tc.same {
				t.Errorf("%s\nKey(%s) = %q, base %q, want same: %t", tc.reason, tc.spec, got, want, tc.same)
			}
		})
	}
}

func TestKeyIsALabelValue(t *testing.T) {
	k := key(t, base)
	if len(k) == 0 || len(k) > 10 {
		t.Errorf("Key() = %q: want 1 to 10 characters, so that it fits a label value", k)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	s := decode(t, `{"replicas":2,"networkConfig":{"subdomainPolicy":"UniquePerReplica"},"leaderWorkerTemplate":{"size":3,"subGroupPolicy":{"subGroupSize":1},"workerTemplate":{"spec":{"volumes":[{"name":"v","emptyDir":{}}],"containers":[{"name":"c","image":"i"}]}}}}`)
	payload, _, err := Compute(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Of(s), got); diff != "" {
		t.Errorf("Decode(Payload(t)): -want, +got:\n%s", diff)
	}
}

func TestApply(t *testing.T) {
	old := decode(t, `{"replicas":2,"leaderWorkerTemplate":{"size":4,"workerTemplate":{"spec":{"containers":[{"name":"old","image":"i"}]}}}}`)
	live := decode(t, `{"replicas":5,"leaderWorkerTemplate":{"size":2,"workerTemplate":{"spec":{"containers":[{"name":"new","image":"i"}]}}}}`)
	got := Apply(live, Of(old))
	want := live.DeepCopy()
	want.LeaderWorkerTemplate = old.LeaderWorkerTemplate
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Apply keeps the live replicas and takes the revision's template (old size 4): -want, +got:\n%s", diff)
	}
}
