// Command provider runs the lws-crossplane provider: it reconciles
// RemoteLeaderWorkerSets into LeaderWorkerSet groups in target clusters.
package main

import (
	"github.com/alecthomas/kong"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/lws-crossplane/lws-crossplane/internal/provider"
)

func main() {
	var o provider.Options
	ctx := kong.Parse(&o, kong.Description("The lws-crossplane provider: runs LeaderWorkerSet groups in target clusters."))
	cfg, err := ctrl.GetConfig()
	ctx.FatalIfErrorf(err)
	ctx.FatalIfErrorf(provider.Run(ctrl.SetupSignalHandler(), cfg, o))
}
