package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cb2ac/cb2ac/pipeline"
	"github.com/cb2ac/cb2ac/schemas"
)

// locked runs fn holding the data dir's lock: two jobs never write one data dir.
func locked(p *pipeline.Pipeline, fn func() error) error {
	unlock, err := pipeline.Lock(p.Cfg.DataDir, p.Log)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// afterRun applies retention and writes the metrics file, whatever the run's outcome
// (a failed run is exactly what the metrics must show).
func afterRun(c *cli.Context, p *pipeline.Pipeline, run *pipeline.Run, runErr error) error {
	var errs []error
	if path := metricsFile(c, p); path != "" && run != nil {
		if err := p.WriteMetrics(path, run); err != nil {
			errs = append(errs, err)
		}
	}
	if keep := p.Cfg.Retention.KeepRuns; keep > 0 && runErr == nil {
		removed, err := p.Prune(keep)
		if err != nil {
			errs = append(errs, err)
		} else if len(removed) > 0 {
			p.Log.Info("retention: old runs removed", "removed", len(removed), "keep_runs", keep)
		}
	}
	if runErr != nil {
		return runErr
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// afterStage writes the metrics file after one stage command (extract, validate,
// transform, load), whatever its outcome, so a scheduler that runs one task per
// stage (the Airflow DAG) sees every stage, not only what `run` writes. Retention is
// left to `run` and `prune`: a stage command is often a backfill into an old run.
func afterStage(c *cli.Context, p *pipeline.Pipeline, run *pipeline.Run, stageErr error) error {
	if path := metricsFile(c, p); path != "" && run != nil {
		if err := p.WriteMetrics(path, run); err != nil {
			if stageErr != nil {
				p.Log.Error("metrics file not written", "err", err)
				return stageErr
			}
			return err
		}
	}
	return stageErr
}

func metricsFile(c *cli.Context, p *pipeline.Pipeline) string {
	if v := global(c, "metrics-file"); v != "" {
		return v
	}
	return p.Cfg.MetricsFile
}

func statusCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "the last runs: per-stage status, counts, duration, whether state advanced",
		Flags: withGlobals(
			&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: 10, Usage: "runs to show (0 = all)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON (one array) instead of a table"},
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			rows, err := p.Status(c.Int("last"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(stdout, "no runs in %s yet\n", pipeline.DisplayPath(pipeline.RunsDir(p.Cfg.DataDir)))
				return nil
			}
			return pipeline.PrintStatus(stdout, rows)
		},
	}
}

func errorsCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "errors",
		Usage: "the error rows (validation and load) of the last run, or of --run",
		Flags: withGlobals(&cli.BoolFlag{Name: "csv", Usage: "print the raw rows as CSV"},
			&cli.StringFlag{Name: "run", Usage: "run id (default: the latest run with an error file)"},
			&cli.StringFlag{Name: "code", Usage: "only this error code (e.g. invalid_email, ac_rejected)"},
			&cli.StringFlag{Name: "stage", Usage: "only validate or load"},
			&cli.BoolFlag{Name: "redact", Usage: "leave the email column empty and scrub emails from the messages"},
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			switch s := c.String("stage"); s {
			case "", pipeline.StageValidate, pipeline.StageLoad:
			default:
				return fmt.Errorf("errors: --stage %q: want validate or load", s)
			}
			runID, rows, err := p.Errors(pipeline.ErrorsFilter{RunID: c.String("run"), Code: c.String("code"), Stage: c.String("stage")})
			if err != nil {
				return err
			}
			if c.Bool("redact") {
				for i := range rows {
					rows[i].RedactEmail()
				}
			}
			if globalBool(c, "csv") {
				return schemas.WriteCSVTo(stdout, rows)
			}
			return pipeline.PrintErrors(stdout, runID, rows)
		},
	}
}

func unlinkCommand(stdout, stderr io.Writer, stdin io.Reader) *cli.Command {
	return &cli.Command{
		Name:  "unlink",
		Usage: "forget the ActiveCampaign connection ids and the synced state: the next run is a first sync",
		Flags: withGlobals(
			&cli.BoolFlag{Name: "purge", Usage: "also delete the data dir (runs, state, customer data); refused if it holds files cb2ac did not write"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask before --purge"},
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			return locked(p, func() error {
				if !c.Bool("purge") {
					if err := p.Unlink(); err != nil {
						return err
					}
					fmt.Fprintln(stdout, "unlinked: AC ids and synced state forgotten; the next run is a first sync")
					return nil
				}
				if !c.Bool("yes") {
					fmt.Fprintf(stdout, "delete %s and everything in it? type yes: ", pipeline.DisplayPath(p.Cfg.DataDir))
					line, _ := bufio.NewReader(stdin).ReadString('\n')
					if strings.TrimSpace(line) != "yes" {
						return fmt.Errorf("unlink --purge: not confirmed; nothing deleted")
					}
				}
				if err := p.Purge(); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "purged %s\n", pipeline.DisplayPath(p.Cfg.DataDir))
				return nil
			})
		},
	}
}

func pruneCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove old run folders, never the ones state.json points at",
		Flags: withGlobals(
			&cli.IntFlag{Name: "keep", Usage: "run folders to keep (default: retention.keep_runs)"},
		),
		Action: func(c *cli.Context) error {
			p, err := setup(c, stdout, stderr)
			if err != nil {
				return err
			}
			keep := p.Cfg.Retention.KeepRuns
			if c.IsSet("keep") {
				keep = c.Int("keep")
			}
			if keep < 1 {
				return fmt.Errorf("prune: give --keep N (N ≥ 1) or set retention.keep_runs")
			}
			return locked(p, func() error {
				removed, err := p.Prune(keep)
				for _, id := range removed {
					fmt.Fprintf(stdout, "removed run %s\n", id)
				}
				if err == nil {
					fmt.Fprintf(stdout, "prune: %d runs removed, newest %d kept (and any state.json points at)\n", len(removed), keep)
				}
				return err
			})
		},
	}
}
