package cli

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/cb2ac/cb2ac/pipeline"
)

// checkCommand is `cb2ac check`: the set-up, in seconds, before any long work.
func checkCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "check the Chargebee key and site, the AC token, the list and the custom fields, in seconds (also run's first step); one line per problem, exit 1",
		Flags: withGlobals(
			&cli.StringFlag{Name: "source", Usage: "the source the run reads: only chargebee (the default when a site is configured) is checked"},
			&cli.StringFlag{Name: "in", Usage: "pages folder, or RUN/extract for --source snapshot (Chargebee is then not checked)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "do not check ActiveCampaign (a plan-only run sends nothing)"},
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			return p.Check(c.Context, pipeline.CheckRequest{Source: c.String("source"), In: c.String("in"), DryRun: c.Bool("dry-run")})
		},
	}
}
