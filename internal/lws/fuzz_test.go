package lws

import (
	"encoding/json"
	"testing"

	"github.com/lws-crossplane/lws-crossplane/apis/v1alpha1"
)

// FuzzDefaultAndValidate feeds arbitrary specs through defaulting and
// validation: neither may panic, defaulting is idempotent, and a spec that
// validates has every field defaulting promises.
func FuzzDefaultAndValidate(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"replicas":3,"leaderWorkerTemplate":{"size":4,"workerTemplate":{"spec":{"containers":[{"name":"c"}]}}}}`,
		`{"replicas":-1,"leaderWorkerTemplate":{"size":0,"subGroupPolicy":{"subGroupSize":0}}}`,
		`{"rolloutStrategy":{"rollingUpdateConfiguration":{"maxUnavailable":"50%","maxSurge":"x%","partition":-3}}}`,
		`{"leaderWorkerTemplate":{"size":5,"subGroupPolicy":{"subGroupPolicyType":"LeaderExcluded","subGroupSize":2}}}`,
		`{"placement":{"clusters":[{"name":"a","groups":2},{"name":"a","weight":-1}]}}`,
		`{"groupRestart":{"backoff":{"initialSeconds":0,"maxSeconds":-5},"maxRestarts":-1}}`,
	} {
		f.Add("test-sample", seed)
	}
	f.Fuzz(func(t *testing.T, name, js string) {
		s := &v1alpha1.LeaderWorkerSetSpec{}
		if err := json.Unmarshal([]byte(js), s); err != nil {
			return
		}
		d := Default(s)
		if d.Replicas == nil || d.LeaderWorkerTemplate.Size == nil || d.RolloutStrategy.RollingUpdateConfiguration == nil || d.NetworkConfig.SubdomainPolicy == nil {
			t.Fatalf("Default left a field unset: %+v", d)
		}
		err := Validate(name, map[string]string{AnnotationSubGroupExclusiveTopology: name}, d)
		if err == nil && len(name) > MaxNameLength {
			t.Fatalf("Validate accepted a %d-character name", len(name))
		}
		_ = ValidateUpdate(d, Default(d))
	})
}
