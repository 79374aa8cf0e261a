package clusters

import (
	"errors"
	"testing"

	"github.com/lws-crossplane/lws-crossplane/internal/lws"
)

func TestResolveGang(t *testing.T) {
	cases := map[string]struct {
		reason            string
		want              lws.GangScheduler
		workload, volcano bool
		got               lws.GangScheduler
		err               bool
	}{
		"AutoPrefersTheWorkloadAPI": {reason: "Kubernetes' own API comes first where both are served.", want: lws.GangAuto, workload: true, volcano: true, got: lws.GangWorkload},
		"AutoFallsBackToVolcano":    {reason: "A cluster with Volcano and no Workload API gets PodGroups.", want: lws.GangAuto, volcano: true, got: lws.GangVolcano},
		"AutoWithNeitherRefuses":    {reason: "Never schedule pod by pod what asked for gangs.", want: lws.GangAuto, err: true},
		"WorkloadWhereServed":       {reason: "An explicit choice is taken where served.", want: lws.GangWorkload, workload: true, volcano: true, got: lws.GangWorkload},
		"WorkloadMissingRefuses":    {reason: "An explicit choice does not fall back.", want: lws.GangWorkload, volcano: true, err: true},
		"VolcanoWhereServed":        {reason: "Volcano is taken even where the Workload API is served.", want: lws.GangVolcano, workload: true, volcano: true, got: lws.GangVolcano},
		"VolcanoMissingRefuses":     {reason: "An explicit choice does not fall back.", want: lws.GangVolcano, workload: true, err: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := resolveGang(tc.want, tc.workload, tc.volcano)
			if (err != nil) != tc.err || (err != nil && !errors.Is(err, ErrNoGangScheduler)) {
				t.Fatalf("%s\nerror %v, want error: %t wrapping ErrNoGangScheduler", tc.reason, err, tc.err)
			}
			if got != tc.got {
				t.Errorf("%s\ngot %q, want %q", tc.reason, got, tc.got)
			}
		})
	}
}
