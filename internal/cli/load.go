package cli

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/cb2ac/cb2ac/pipeline"
)

func loadCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "send what changed to ActiveCampaign: RUN/transform → RUN/load (plan, journal, synced snapshot)",
		Flags: withGlobals(runIDFlag, metricsFileFlag,
			&cli.StringFlag{Name: "in", Usage: "transform folder to load (default: this run's, or the latest run's)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "write the plan and stop: no request to AC"},
			&cli.BoolFlag{Name: "resume", Usage: "continue a load that stopped, skipping the batches its journal acknowledges"},
			&cli.BoolFlag{Name: "full", Usage: "diff against nothing: send every record again"},
			yesFlag,
			redactFlag,
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			return locked(p, func() error {
				run, err := p.Load(c.Context, pipeline.LoadRequest{
					StageRequest: pipeline.StageRequest{RunID: global(c, "run-id"), In: c.String("in")},
					DryRun:       c.Bool("dry-run"), Resume: c.Bool("resume"), Full: c.Bool("full"), Yes: c.Bool("yes"),
				})
				return afterStage(c, p, run, err)
			})
		},
	}
}

// yesFlag confirms a backfill load that moves records in AC back to older values:
// such a load prints how many and stops before sending anything unless it is given.
// A flag, not a prompt: cron and Airflow have no terminal to answer on, and a
// backfill is a decision to write down in the command (the DAG passes it on its
// backfill path).
var yesFlag = &cli.BoolFlag{Name: "yes", Usage: "backfill: send even though records move back to older values in ActiveCampaign (the load prints how many; without --yes it stops before sending anything)"}

// plan is load --dry-run under the name people look for.
func planCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what load would send (writes RUN/load/plan.parquet and plan.csv; no request to AC)",
		Flags: withGlobals(runIDFlag,
			&cli.StringFlag{Name: "in", Usage: "transform folder (default: this run's, or the latest run's)"},
			&cli.BoolFlag{Name: "full", Usage: "diff against nothing"},
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			return locked(p, func() error {
				_, err := p.Load(c.Context, pipeline.LoadRequest{
					StageRequest: pipeline.StageRequest{RunID: global(c, "run-id"), In: c.String("in")},
					DryRun:       true, Full: c.Bool("full"),
				})
				return err
			})
		},
	}
}

func verifyCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "read a sample of synced recurring payments back from AC and report fields that differ",
		Flags: withGlobals(
			&cli.IntFlag{Name: "sample", Value: 20, Usage: "recurring payments to check (0 = all)"},
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			return p.Verify(c.Context, c.Int("sample"))
		},
	}
}
