// Command function serves the lws-crossplane composition function over gRPC.
package main

import (
	"github.com/alecthomas/kong"
	function "github.com/crossplane/function-sdk-go"

	fn "github.com/lws-crossplane/lws-crossplane/internal/function"
)

// CLI of the function, with the flags of Crossplane's function template.
type CLI struct {
	Debug              bool   `short:"d" help:"Emit debug logs in addition to info logs."`
	Network            string `default:"tcp" help:"Network on which to listen for gRPC connections."`
	Address            string `default:":9443" help:"Address at which to listen for gRPC connections."`
	TLSCertsDir        string `help:"Directory containing server certs (tls.key, tls.crt) and the CA used to verify client certificates (ca.crt)" env:"TLS_SERVER_CERTS_DIR"`
	Insecure           bool   `help:"Run without mTLS credentials. If you supply this flag --tls-certs-dir will be ignored."`
	MaxRecvMessageSize int    `default:"4" help:"Maximum size of received messages in MB."`
	MetricsAddress     string `default:":8080" help:"Address at which to serve Prometheus metrics."`
}

// Run serves the function until it is stopped.
func (c *CLI) Run() error {
	log, err := function.NewLogger(c.Debug)
	if err != nil {
		return err
	}
	return function.Serve(fn.New(log),
		function.Listen(c.Network, c.Address),
		function.MTLSCertificates(c.TLSCertsDir),
		function.Insecure(c.Insecure),
		function.MaxRecvMessageSize(c.MaxRecvMessageSize*1024*1024),
		function.WithMetricsServer(c.MetricsAddress),
	)
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("The lws-crossplane composition function: renders LeaderWorkerSets into RemoteLeaderWorkerSets."))
	ctx.FatalIfErrorf(ctx.Run())
}
