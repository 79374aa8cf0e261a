// Command lws is the lws-crossplane command line: `lws render` previews what
// a LeaderWorkerSet claim or composite resource becomes.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"
	"sigs.k8s.io/yaml"

	"github.com/lws-crossplane/lws-crossplane/internal/preview"
)

// CLI is the lws command line.
type CLI struct {
	Render RenderCmd `cmd:"" help:"Render a LeaderWorkerSet claim or composite resource, as the composition function does."`
}

// RenderCmd renders a LeaderWorkerSet.
type RenderCmd struct {
	Objects bool   `help:"Print the Kubernetes objects each target cluster will hold, instead of the composed managed resources."`
	Output  string `short:"o" default:"yaml" enum:"yaml,json" help:"Output format: yaml or json."`
	File    string `arg:"" help:"The claim or composite resource, or - for standard input."`
}

// Run renders the file to standard output.
func (c *RenderCmd) Run(stdout io.Writer) error {
	in, err := read(c.File)
	if err != nil {
		return err
	}
	render := preview.Composed
	if c.Objects {
		render = preview.Objects
	}
	objs, err := render(in)
	if err != nil {
		return err
	}
	return write(stdout, objs, c.Output)
}

func read(file string) (map[string]any, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", file, err)
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", file, err)
	}
	return obj, nil
}

// write prints objects as YAML documents, each preceded by a comment naming
// its target cluster, or as a JSON list of {cluster, object}.
func write(w io.Writer, objs []preview.ClusterObject, format string) error {
	if format == "json" {
		b, err := json.MarshalIndent(objs, "", "  ")
		if err != nil {
			return fmt.Errorf("cannot print JSON: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("cannot print YAML: %w", err)
		}
		if _, err := fmt.Fprintf(w, "---\n# Cluster: %s\n%s", o.Cluster, b); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("lws-crossplane: LeaderWorkerSets across Kubernetes clusters."), kong.BindTo(os.Stdout, (*io.Writer)(nil)))
	ctx.FatalIfErrorf(ctx.Run())
}
