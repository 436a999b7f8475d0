// Package cli is cb2ac's command line: it builds the commands, runs them, and maps
// every error to the exit code a scheduler acts on (exitCode, the one place that
// decides). main.go only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/cb2ac/cb2ac/pipeline"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
)

// version is the build's version, set by Main from main's build-time value.
var version = "dev"

// Exit codes (README "Running it every night"), decided here and nowhere else.
const (
	exitOK       = 0
	exitFailed   = 1
	exitRejected = 2
	exitCrash    = 70 // EX_SOFTWARE: a panic, a bug of cb2ac's; never 2, which means "records rejected"
	exitLocked   = 75 // EX_TEMPFAIL: another run holds the lock; try again later
)

// PanicEnv is for tests only: when CB2AC_PANIC_AT names the command being run
// (extract, validate, transform, load, run, ...), cb2ac panics as it starts it, so
// the end-to-end tests can check that a panic exits with exitCrash. Next to
// pipeline.CrashEnv, which kills the process instead.
const PanicEnv = "CB2AC_PANIC_AT"

// guard runs fn and turns a panic on this goroutine into exitCrash, with the panic
// and its stack on w. Go's own exit for an unrecovered panic is 2, the code that
// tells a scheduler "records rejected". Deferred clean-ups (the lock) have run by
// the time the panic reaches here.
func guard(w io.Writer, fn func() int) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(w, "cb2ac: internal error (a bug of cb2ac's; please report it with what follows): panic: %v\n%s", r, debug.Stack())
			code = exitCrash
		}
	}()
	return fn()
}

// defaultMemoryLimit is the soft limit a stage's Go heap is held to unless GOMEMLIMIT
// says otherwise: near it the GC runs more often instead of letting the heap grow to
// twice what is live. The stages stream and hold about 650 MiB at 1M customers, so
// this keeps them under 1 GiB RSS; a bigger site sets GOMEMLIMIT (or "off").
const defaultMemoryLimit = 900 << 20

// Main runs the command line args (os.Args) and returns the process's exit code.
func Main(args []string, buildVersion string) int {
	if buildVersion != "" {
		version = buildVersion
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	return guard(os.Stderr, func() int {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		app := newApp(os.Stdout, os.Stderr)
		err := app.RunContext(ctx, interspersed(app, args))
		if err != nil {
			fmt.Fprintf(os.Stderr, "cb2ac: %v\n", err)
		}
		return exitCode(err)
	})
}

// exitCode maps every error to the exit code a scheduler acts on.
func exitCode(err error) int {
	var (
		rejected *pipeline.RejectedError
		locked   *pipeline.LockedError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &locked):
		return exitLocked
	case errors.As(err, &rejected):
		return exitRejected
	default:
		return exitFailed
	}
}

// The global flags: every one is accepted before the command name; after it, a
// command takes only those it uses (its help lists no others).
var (
	dataDirFlag     = &cli.StringFlag{Name: "data-dir", Usage: "data folder with state.json and runs/, or a bucket URL: s3://, gs://, azblob://, file:/// (default: config data_dir, else ./data)"}
	configFlag      = &cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "config file (cb2ac.yaml)", EnvVars: []string{"CB2AC_CONFIG"}}
	runIDFlag       = &cli.StringFlag{Name: "run-id", Usage: "run to write (default: a new run named after the UTC start time) or read"}
	csvFlag         = &cli.BoolFlag{Name: "csv", Usage: "also write a CSV twin of every Parquet file"}
	logFormatFlag   = &cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format on stderr: text or json"}
	logLevelFlag    = &cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"}
	metricsFileFlag = &cli.StringFlag{Name: "metrics-file", Usage: "after run and each stage command: write a Prometheus textfile here (node_exporter textfile collector); default: config metrics_file"}
)

var globalFlags = []cli.Flag{dataDirFlag, configFlag, runIDFlag, csvFlag, logFormatFlag, logLevelFlag, metricsFileFlag}

// withGlobals is a command's flags plus the global ones every command that reads
// the config uses (--data-dir, --config, --log-format, --log-level); a command
// that also uses --run-id, --csv or --metrics-file lists it among flags.
func withGlobals(flags ...cli.Flag) []cli.Flag {
	return append(flags, dataDirFlag, configFlag, logFormatFlag, logLevelFlag)
}

// redactFlag is accepted by the commands that write an errors.csv (validate, load,
// run); `errors --redact` redacts what it prints instead.
var redactFlag = &cli.BoolFlag{Name: "redact", Usage: "write errors.csv without emails (default: config redact_errors)"}

// global reads a global flag from wherever it was set: the command's flags win over
// the app's.
func global(c *cli.Context, name string) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	return c.String(name)
}

func globalBool(c *cli.Context, name string) bool {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.Bool(name)
		}
	}
	return false
}

func newApp(stdout, stderr io.Writer) *cli.App {
	pipeline.Version = version
	return &cli.App{
		Name:    "cb2ac",
		Usage:   "sync Chargebee customers and subscriptions to ActiveCampaign contacts and Recurring Payments",
		Version: version,
		Flags:   append(append([]cli.Flag{}, globalFlags...), profileFlags...), // profiling: profile.go
		Before: func(c *cli.Context) error {
			if at := os.Getenv(PanicEnv); at != "" && at == c.Args().First() {
				panic("test panic at " + at + " (" + PanicEnv + ")")
			}
			return startProfiles(c)
		},
		After:  func(*cli.Context) error { stopProfiles(); return unmountAll() },
		Writer: stdout, ErrWriter: stderr,
		// Errors are printed and mapped to exit codes by main, not by the cli library.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{
			{
				Name:  "extract",
				Usage: "read Chargebee data into RUN/extract",
				Flags: withGlobals(runIDFlag, csvFlag, metricsFileFlag,
					&cli.StringFlag{Name: "source", Usage: "chargebee (the API), pages (a folder of API list pages) or snapshot (an older RUN/extract, for a backfill) (default: pages with --in, else chargebee when a site is configured)"},
					&cli.StringFlag{Name: "in", Usage: "pages folder, or RUN/extract for --source snapshot"},
					&cli.IntFlag{Name: "limit", Usage: "keep only the N most recently created customers (trial run)"},
					&cli.BoolFlag{Name: "full", Usage: "chargebee: read everything, with no updated_at filter (default: what changed since the last successful run)"},
					&cli.StringFlag{Name: "since", Usage: "chargebee: read what changed since TIME (RFC 3339, YYYY-MM-DD or Unix seconds) instead of the watermark"},
					&cli.IntFlag{Name: "rate-limit", Usage: "chargebee: requests per minute across all lists (default: chargebee.rate_limit_per_minute, 100)"},
				),
				Action: func(c *cli.Context) error {
					p, err := setup(c, stdout, stderr)
					if err != nil {
						return err
					}
					return locked(p, func() error {
						run, err := p.Extract(c.Context, extractRequest(c))
						return afterStage(c, p, run, err)
					})
				},
			},
			{
				Name:  "validate",
				Usage: "apply the sync rules: RUN/extract → RUN/validate + errors.csv",
				Flags: withGlobals(runIDFlag, csvFlag, metricsFileFlag,
					&cli.StringFlag{Name: "in", Usage: "extract folder to read (default: this run's, or the latest run's)"},
					&cli.StringFlag{Name: "on-error", Usage: "ignore (carry good rows on) or fail (exit 2 after writing errors.csv)"},
					&cli.BoolFlag{Name: "sync-gift-purchasers", Usage: "sync customers who bought a gift and have no subscription of their own"},
					redactFlag,
				),
				Action: func(c *cli.Context) error {
					p, err := setup(c, stdout, stderr)
					if err != nil {
						return err
					}
					return locked(p, func() error {
						run, err := p.Validate(c.Context, pipeline.StageRequest{RunID: global(c, "run-id"), In: c.String("in")})
						return afterStage(c, p, run, err)
					})
				},
			},
			{
				Name:  "transform",
				Usage: "map to AC: RUN/validate → RUN/transform (contacts, recurring_payments)",
				Flags: withGlobals(runIDFlag, csvFlag, metricsFileFlag,
					&cli.StringFlag{Name: "in", Usage: "validate folder to read (default: this run's, or the latest run's)"},
				),
				Action: func(c *cli.Context) error {
					p, err := setup(c, stdout, stderr)
					if err != nil {
						return err
					}
					return locked(p, func() error {
						run, err := p.Transform(c.Context, pipeline.StageRequest{RunID: global(c, "run-id"), In: c.String("in")})
						return afterStage(c, p, run, err)
					})
				},
			},
			{
				Name:  "run",
				Usage: "run the stages in order in one new run",
				Flags: append(withGlobals(runIDFlag, csvFlag, metricsFileFlag,
					&cli.StringFlag{Name: "source", Usage: "chargebee, pages or snapshot (see extract; default: pages with --in, else chargebee when a site is configured)"},
					&cli.StringFlag{Name: "in", Usage: "pages folder, or RUN/extract for --source snapshot"},
					&cli.IntFlag{Name: "limit", Usage: "keep only the N most recently created customers (trial run)"},
					&cli.BoolFlag{Name: "full", Usage: "chargebee: read everything (see extract)"},
					&cli.StringFlag{Name: "since", Usage: "chargebee: read what changed since TIME (see extract)"},
					&cli.IntFlag{Name: "rate-limit", Usage: "chargebee: requests per minute (see extract)"},
					&cli.StringFlag{Name: "on-error", Usage: "ignore or fail (see validate)"},
					&cli.BoolFlag{Name: "sync-gift-purchasers", Usage: "see validate"},
					&cli.BoolFlag{Name: "resume", Usage: "continue the load of the latest run (or --run-id) where it stopped, instead of a new run"},
					&cli.BoolFlag{Name: "full-load", Usage: "send every record to AC again, not only what changed"},
					&cli.BoolFlag{Name: "no-check", Usage: "skip the set-up check run does first (see check)"},
					yesFlag,
					redactFlag,
				), sandboxFlags...),
				Action: func(c *cli.Context) error {
					p, err := setup(c, stdout, stderr)
					if err != nil {
						return err
					}
					if !p.Cfg.Sync.On() {
						// Before the lock: a paused job touches nothing.
						fmt.Fprintln(stdout, "sync is disabled (sync.enabled: false in the config): nothing done")
						return nil
					}
					req := pipeline.RunRequest{ExtractRequest: extractRequest(c), Resume: c.Bool("resume"), FullLoad: c.Bool("full-load"), Yes: c.Bool("yes")}
					// The check first (not for --resume, which reads no source and whose
					// load checks the token): a wrong key, token or list fails in
					// seconds, not after the extract.
					check := func() error {
						if req.Resume || c.Bool("no-check") {
							return nil
						}
						return p.Check(c.Context, pipeline.CheckRequest{Source: req.Source, In: req.In})
					}
					return locked(p, func() error {
						if !c.Bool("sandbox") {
							if err := check(); err != nil {
								return err
							}
							run, err := p.RunAll(c.Context, req)
							return afterRun(c, p, run, err)
						}
						if p.Cfg.ActiveCampaign.List == "" {
							p.Cfg.ActiveCampaign.List = sandboxList
						}
						sbx, err := startSandboxes(c, p.Cfg.DataDir, &req.Options)
						if err != nil {
							return err
						}
						if err := check(); err != nil {
							return errors.Join(err, sbx.close(stdout))
						}
						run, err := p.RunAll(c.Context, req)
						err = errors.Join(err, sbx.close(stdout))
						// In a bucket, the AC sandbox's state goes up with the run.
						return afterRun(c, p, run, errors.Join(err, pipeline.PublishDir(filepath.Join(p.Cfg.DataDir, "sandbox"))))
					})
				},
			},
			checkCommand(stdout, stderr),
			loadCommand(stdout, stderr),
			planCommand(stdout, stderr),
			verifyCommand(stdout, stderr),
			statusCommand(stdout, stderr),
			errorsCommand(stdout, stderr),
			unlinkCommand(stdout, stderr, os.Stdin),
			pruneCommand(stdout, stderr),
			sandboxCommand(stdout, stderr),
			{
				Name:      "inspect",
				Usage:     "print the schema and first rows of a Parquet or CSV file cb2ac wrote",
				ArgsUsage: "FILE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "format", Value: "table", Usage: "table, csv or json"},
					&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Value: 10, Usage: "rows to print (0 = all)"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("inspect: want one FILE argument")
					}
					return schemas.Inspect(stdout, c.Args().First(), c.Int("limit"), c.String("format"))
				},
			},
		},
	}
}

func extractRequest(c *cli.Context) pipeline.ExtractRequest {
	opts := extract.Options{Source: c.String("source"), In: c.String("in"), Limit: c.Int("limit")}
	opts.Full, opts.Since, opts.RateLimit = c.Bool("full"), c.String("since"), float64(c.Int("rate-limit"))
	return pipeline.ExtractRequest{RunID: global(c, "run-id"), Options: opts}
}

var (
	unmountsMu sync.Mutex
	unmounts   []func() error
)

// unmountAll ends the data dir mounts setup made (the App's After).
func unmountAll() error {
	unmountsMu.Lock()
	defer unmountsMu.Unlock()
	var errs []error
	for _, u := range unmounts {
		errs = append(errs, u())
	}
	unmounts = nil
	return errors.Join(errs...)
}

// setup loads the config, applies flag overrides and builds the pipeline.
func setup(c *cli.Context, stdout, stderr io.Writer) (*pipeline.Pipeline, error) {
	// On a terminal the progress line and the log lines (and the summaries, when
	// stdout is the terminal too) go through one console, so they never share a
	// line. Live progress is drawn on a terminal only: in a log file it is noise.
	var con *console
	if t := extract.ProgressTo(stderr); t != nil {
		con = newConsole(t)
		stderr = con.lines(stderr)
		if extract.ProgressTo(stdout) != nil {
			stdout = con.lines(stdout)
		}
	}
	log, err := newLogger(stderr, global(c, "log-format"), global(c, "log-level"))
	if err != nil {
		return nil, err
	}
	cfg, err := pipeline.LoadConfig(global(c, "config"))
	if err != nil {
		return nil, err
	}
	if d := global(c, "data-dir"); d != "" {
		cfg.DataDir = d
	}
	if globalBool(c, "csv") {
		cfg.CSV = true
	}
	if c.IsSet("on-error") {
		cfg.OnError = c.String("on-error")
	}
	if c.IsSet("sync-gift-purchasers") {
		cfg.Validate.SyncGiftPurchasers = c.Bool("sync-gift-purchasers")
	}
	if c.IsSet("redact") {
		cfg.RedactErrors = c.Bool("redact")
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	p := pipeline.New(cfg, log, stdout)
	// A bucket URL is worked on through a local mirror until the command ends.
	unmount, err := p.MountDataDir(c.Context)
	if err != nil {
		return nil, err
	}
	unmountsMu.Lock()
	unmounts = append(unmounts, unmount)
	unmountsMu.Unlock()
	if con != nil {
		p.Progress = con.progress()
	}
	return p, nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
