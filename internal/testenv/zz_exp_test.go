package testenv_test

import (
	"os"
	"strings"
	"testing"
	"github.com/lws-crossplane/lws-crossplane/internal/testenv"
)

func TestExpRSS(t *testing.T) {
	v := os.Getenv("EXP_FLAGS")
	if v == "" { t.Skip() }
	var flags []string
	if v != "none" { flags = strings.Split(v, " ") }
	for i := 0; i < 2; i++ {
		c := testenv.Start(t, testenv.Options{APIServerFlags: flags, WithoutControllerManager: true, WithoutScheduler: true, WithoutNodeAgent: true})
		rss, _ := c.RSS()
		t.Logf("%v: start %v apiserver %d MiB", flags, c.StartupDuration, rss["kube-apiserver"]>>20)
		c.Stop()
	}
}
