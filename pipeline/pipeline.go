// Package pipeline runs the stages over run folders: it picks inputs, refuses
// unfinished ones, keeps the manifest, and reports. The stages themselves know nothing
// of runs; each is a function of (input folder, config) → (output files, report).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/load"
	"github.com/cb2ac/cb2ac/stages/transform"
	"github.com/cb2ac/cb2ac/stages/validate"
)

// RejectedError says the job ran but records were rejected and the config asked to
// fail on that (exit 2).
type RejectedError struct {
	Stage    string
	Rejected int64
	File     string
}

func (e *RejectedError) Error() string {
	if e.Stage == StageValidate {
		return fmt.Sprintf("%s: %d records rejected, see %s (on_error is fail)", e.Stage, e.Rejected, e.File)
	}
	return fmt.Sprintf("%s: %d records rejected, see %s; they are sent again on the next run", e.Stage, e.Rejected, e.File)
}

// Pipeline runs stages with one config.
type Pipeline struct {
	Cfg *Config
	Log *slog.Logger
	Out io.Writer // human-readable summaries
	Now func() time.Time
	// Progress is a terminal for progress bars, or nil (cron, Airflow, a pipe).
	Progress io.Writer
}

// New returns a pipeline that logs to log and prints summaries to out.
func New(cfg *Config, log *slog.Logger, out io.Writer) *Pipeline {
	return &Pipeline{Cfg: cfg, Log: log, Out: out, Now: time.Now}
}

var stageOrder = []string{StageExtract, StageValidate, StageTransform, StageLoad}

type stageFunc func(ctx context.Context, out string) (schemas.Report, error)

// runStage runs one stage into run/<stage>: the manifest says "running" while it
// works, and "succeeded" with file hashes only once every file is in place. Later
// stages of the same run are dropped, since their input is being replaced.
func (p *Pipeline) runStage(ctx context.Context, run *Run, stage string, inputs []Input, fn stageFunc) (schemas.Report, error) {
	return p.runStageKeep(ctx, run, stage, inputs, false, fn)
}

// checkPinned refuses to replace stage folders that state.json points at: the synced
// snapshot (RUN/load/synced) the next load diffs against, and the extract the next
// incremental extract merges into. Replacing them would silently turn the next
// nightly run into a full resend or a partial snapshot.
func (p *Pipeline) checkPinned(run *Run, stage, from string) error {
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return fmt.Errorf("%s: %w", stage, err)
	}
	i := slices.Index(stageOrder, from)
	drops := func(s string) bool { return i >= 0 && slices.Index(stageOrder, s) >= i }
	switch {
	case st.Synced != nil && st.Synced.RunID == run.ID && drops(StageLoad):
		return fmt.Errorf("%s: run %s holds the synced snapshot state.json points at, and re-running %s there would replace it; start a new run (no --run-id), or `cb2ac unlink` first", stage, run.ID, stage)
	case st.Extract.RunID == run.ID && drops(StageExtract):
		return fmt.Errorf("%s: run %s holds the extract the next incremental extract merges into; start a new run (no --run-id), or use --full", stage, run.ID)
	}
	return nil
}

// runRecovering runs a stage; on a panic it calls failed, then panics on.
func runRecovering(ctx context.Context, out string, fn stageFunc, failed func(any)) (schemas.Report, error) {
	defer func() {
		if p := recover(); p != nil {
			failed(p)
			panic(p)
		}
	}()
	return fn(ctx, out)
}

// runStageKeep is runStage that, with keep set, leaves the stage's own folder in
// place: a resumed load needs its journal.
func (p *Pipeline) runStageKeep(ctx context.Context, run *Run, stage string, inputs []Input, keep bool, fn stageFunc) (schemas.Report, error) {
	start := p.Now().UTC()
	rec := &StageRecord{Status: StatusRunning, StartedAt: start, ToolVersion: Version, ConfigHash: p.Cfg.Hash(), Inputs: displayInputs(inputs)}
	from := stage
	if keep {
		if i := slices.Index(stageOrder, stage); i+1 < len(stageOrder) {
			from = stageOrder[i+1]
		} else {
			from = ""
		}
	}
	if from != "" {
		if err := p.checkPinned(run, stage, from); err != nil {
			return schemas.Report{}, err
		}
		if err := p.dropFrom(run, from); err != nil {
			return schemas.Report{}, err
		}
	}
	if err := run.setStage(stage, rec); err != nil {
		return schemas.Report{}, fmt.Errorf("%s: %w", stage, err)
	}
	out := run.StageDir(stage)
	if err := os.MkdirAll(out, atomicfile.DirMode); err != nil {
		return schemas.Report{}, fmt.Errorf("%s: %w", stage, err)
	}
	log := p.Log.With("run_id", run.ID, "stage", stage)
	log.Info("stage started", "out", out)
	crashAt(stage + ":started")

	stopSync := syncWhileRunning(filepath.Join(out, load.JournalFile), log)
	rep, err := runRecovering(ctx, out, fn, func(p any) {
		// A panic is a bug, and the process ends on it (exit 70, internal/cli); the
		// manifest must not go on saying "running", so the stage is recorded failed
		// first.
		end := time.Now().UTC()
		rec.EndedAt, rec.DurationMS = &end, end.Sub(start).Milliseconds()
		rec.Status, rec.Error = StatusFailed, fmt.Sprintf("panic: %v", p)
		_ = run.setStage(stage, rec)
	})
	stopSync()
	if err == nil {
		crashAt(stage + ":written")
	}
	end := p.Now().UTC()
	rec.EndedAt, rec.DurationMS, rec.Counts, rec.Drift = &end, end.Sub(start).Milliseconds(), rep.Counts, rep.Drift
	if err == nil {
		rec.Files, err = DescribeFiles(out)
	}
	if err == nil && stage == StageLoad {
		rec.Files, err = withSyncedFiles(out, rec.Files)
	}
	if err == nil {
		// In a bucket, every file is uploaded whole before the manifest says
		// succeeded: a reader never finds a succeeded stage with a file missing.
		err = PublishDir(out)
	} else if perr := PublishDir(out); perr != nil {
		// A failed stage is never input, but a failed load's journal is what
		// `load --resume` continues from.
		log.Warn("failed stage's files not uploaded", "err", perr)
	}
	if err != nil {
		rec.Status, rec.Error = StatusFailed, err.Error()
		if merr := run.setStage(stage, rec); merr != nil {
			err = errors.Join(err, merr)
		}
		log.Error("stage failed", "err", err)
		return rep, err
	}
	rec.Status = StatusSucceeded
	if err := run.setStage(stage, rec); err != nil {
		return rep, fmt.Errorf("%s: %w", stage, err)
	}
	crashAt(stage + ":succeeded")
	args := []any{"duration_ms", rec.DurationMS}
	for _, k := range slices.Sorted(maps.Keys(rep.Counts)) {
		args = append(args, k, rep.Counts[k])
	}
	log.Info("stage succeeded", args...)
	fmt.Fprintf(p.Out, "%-9s ok   %s  (%s)\n", stage, summary(stage, rep), end.Sub(start).Round(time.Millisecond))
	return rep, nil
}

// inPath is an --in folder: a URL inside the mounted data dir
// (s3://bucket/prefix/runs/ID/extract) is its mirror folder.
func (p *Pipeline) inPath(in string) string {
	if rest, ok := strings.CutPrefix(in, strings.TrimSuffix(p.Cfg.dataURL, "/")+"/"); ok && p.Cfg.dataURL != "" {
		return filepath.Join(p.Cfg.DataDir, filepath.FromSlash(rest))
	}
	return in
}

// displayInputs names input folders inside a mounted data dir by their URL, the
// same for every worker, rather than by this process's mirror path.
func displayInputs(in []Input) []Input {
	out := slices.Clone(in)
	for i := range out {
		if out[i].RunID != "" {
			out[i].Dir = DisplayPath(out[i].Dir)
		}
	}
	return out
}

// dropFrom removes the records and folders of the stages from stage on: rerunning a
// stage invalidates what was built from its old output.
func (p *Pipeline) dropFrom(run *Run, stage string) error {
	m, err := run.Manifest()
	if err != nil {
		return err
	}
	// The manifest forgets the stages first, then their folders go: killed in
	// between, a run has folders no manifest vouches for (never read), never a
	// manifest that vouches for deleted files.
	i := slices.Index(stageOrder, stage)
	changed := false
	for _, s := range stageOrder[i:] {
		if _, ok := m.Stages[s]; ok {
			delete(m.Stages, s)
			changed = true
		}
	}
	if changed {
		if err := run.writeManifest(m); err != nil {
			return err
		}
	}
	for _, s := range stageOrder[i:] {
		if err := removeAll(run.StageDir(s)); err != nil {
			return fmt.Errorf("%s: clear %s: %w", stage, run.StageDir(s), err)
		}
	}
	return nil
}

// summary is the one-line count summary of a stage.
func summary(stage string, rep schemas.Report) string {
	c := rep.Counts
	switch stage {
	case StageExtract:
		line := fmt.Sprintf("customers=%d subscriptions=%d invoices=%d credit_notes=%d payment_sources=%d",
			c["customers"], c["subscriptions"], c["invoices"], c["credit_notes"], c["payment_sources"])
		// The catalog lists of the site's product catalog (2.0 or 1.0), and gifts.
		for _, k := range []string{"item_prices", "items", "plans", "addons", "gifts"} {
			if c[k] > 0 {
				line += fmt.Sprintf(" %s=%d", k, c[k])
			}
		}
		return line
	case StageValidate:
		return fmt.Sprintf("customers=%d/%d subscriptions=%d/%d invoices=%d rejected=%d errors=%d",
			c["customers"], c["customers_in"], c["subscriptions"], c["subscriptions_in"], c["invoices"], c["rejected"], c["errors"])
	case StageTransform:
		var st []string
		for _, k := range slices.Sorted(maps.Keys(c)) {
			if s, ok := strings.CutPrefix(k, "status."); ok {
				st = append(st, fmt.Sprintf("%s=%d", s, c[k]))
			}
		}
		return fmt.Sprintf("contacts=%d recurring_payments=%d [%s]", c["contacts"], c["recurring_payments"], strings.Join(st, " "))
	case StageLoad:
		// The plan and request lines follow (printPlan); this line says the outcome.
		if c["dry_run"] > 0 {
			return "dry run: nothing sent"
		}
		return fmt.Sprintf("acknowledged=%d rejected=%d", c["acknowledged"], c["rejected"])
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
	}
	return strings.Join(parts, " ")
}

// newRunID names a new run after the current second; a second run started in the
// same second (a quick retry) gets -1, -2, ... rather than writing into the first.
func (p *Pipeline) newRunID() string {
	base := NewRunID(p.Now())
	id := base
	for i := 1; ; i++ {
		if _, err := os.Stat(filepath.Join(RunsDir(p.Cfg.DataDir), id)); os.IsNotExist(err) {
			return id
		}
		id = fmt.Sprintf("%s-%d", base, i)
	}
}

// ExtractRequest says what to extract and into which run.
type ExtractRequest struct {
	RunID string // empty: a new run named after the start time
	extract.Options
}

// Extract runs the extract stage and returns its run.
func (p *Pipeline) Extract(ctx context.Context, req ExtractRequest) (*Run, error) {
	id := req.RunID
	if id == "" {
		id = p.newRunID()
	}
	if err := p.ResolveSource(&req.Options); err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	var inputs []Input
	switch req.Source {
	case extract.SourceSnapshot:
		if req.In == "" {
			return nil, fmt.Errorf("extract: --source snapshot needs --in RUN/extract")
		}
		req.In = p.inPath(req.In)
		in, err := CheckInput(req.In, StageExtract)
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		if in.RunID == id {
			return nil, fmt.Errorf("extract: --in is this run's own extract folder; pick another --run-id")
		}
		inputs = append(inputs, in)
	case extract.SourcePages:
		if req.In == "" {
			return nil, fmt.Errorf("extract: --source pages needs --in DIR")
		}
		inputs = append(inputs, Input{Dir: filepath.Clean(req.In)})
	case extract.SourceChargebee:
		if req.RunID != "" {
			if err := p.checkNotPast(id); err != nil {
				return nil, fmt.Errorf("extract: %w", err)
			}
		}
		in, err := p.prepareChargebee(&req, id)
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		inputs = append(inputs, in...)
	}
	run, err := OpenRun(p.Cfg.DataDir, id, true)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	opts := req.Options
	opts.CSV = opts.CSV || p.Cfg.CSV
	if opts.Progress == nil {
		opts.Progress = p.Progress
	}
	opts.Stamp = schemas.Stamp{RunID: run.ID, ExtractedAt: p.Now().UTC()}
	rep, err := p.runStage(ctx, run, StageExtract, inputs, func(ctx context.Context, out string) (schemas.Report, error) {
		return extract.Run(ctx, opts, out)
	})
	p.printDrift(run, rep.Drift)
	return run, err
}

// printDrift says which fields Chargebee sent that cb2ac does not know: one line
// per list under the extract's, and a warning in the log. Not an error: the
// records still map; a new field may be worth mapping, and is said so here rather
// than dropped in silence.
func (p *Pipeline) printDrift(run *Run, drift []schemas.Drift) {
	for _, d := range drift {
		var parts []string
		for _, f := range slices.Sorted(maps.Keys(d.UnknownFields)) {
			parts = append(parts, fmt.Sprintf("%s=%d", f, d.UnknownFields[f]))
		}
		fmt.Fprintf(p.Out, "          schema drift: %s has fields Chargebee's SDK does not declare: %s\n", d.List, strings.Join(parts, " "))
		p.Log.Warn("chargebee schema drift: unknown fields", "run_id", run.ID, "stage", StageExtract, "list", d.List, "unknown_fields", strings.Join(parts, " "))
	}
}

// StageRequest picks a stage's input and output run. With In set, the input is that
// folder (a backfill from any run) and the output goes to RunID or a new run; without
// it, the stage reads the previous stage of RunID, or of the latest run that has one.
type StageRequest struct {
	RunID string
	In    string
}

func (p *Pipeline) resolve(req StageRequest, prev string) (*Run, Input, error) {
	var in Input
	var err error
	switch {
	case req.In != "":
		if in, err = CheckInput(p.inPath(req.In), prev); err != nil {
			return nil, in, err
		}
		id := req.RunID
		if id == "" {
			id = p.newRunID()
		}
		run, err := OpenRun(p.Cfg.DataDir, id, true)
		return run, in, err
	case req.RunID != "":
		run, err := OpenRun(p.Cfg.DataDir, req.RunID, false)
		if err != nil {
			return nil, in, err
		}
		in, err = CheckInput(run.StageDir(prev), prev)
		return run, in, err
	default:
		run, err := LatestRunWith(p.Cfg.DataDir, prev)
		if err != nil {
			return nil, in, err
		}
		in, err = CheckInput(run.StageDir(prev), prev)
		return run, in, err
	}
}

// Validate runs the validate stage.
func (p *Pipeline) Validate(ctx context.Context, req StageRequest) (*Run, error) {
	run, in, err := p.resolve(req, StageExtract)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	rep, err := p.runStage(ctx, run, StageValidate, []Input{in}, func(ctx context.Context, out string) (schemas.Report, error) {
		rep, err := validate.Run(ctx, validate.Options{In: in.Dir, RunID: run.ID, CSV: p.Cfg.CSV, Redact: p.Cfg.RedactErrors}, p.Cfg.Validate, out)
		if err == nil && rep.Counts["rejected"] > 0 && p.Cfg.OnError == OnErrorFail {
			err = &RejectedError{Stage: StageValidate, Rejected: rep.Counts["rejected"], File: DisplayPath(filepath.Join(out, validate.ErrorsFile))}
		}
		return rep, err
	})
	if rep.Counts["errors"] > 0 {
		p.printErrorSummary(run, rep)
	}
	return run, err
}

func (p *Pipeline) printErrorSummary(run *Run, rep schemas.Report) {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(rep.Counts)) {
		if code, ok := strings.CutPrefix(k, "code."); ok {
			parts = append(parts, fmt.Sprintf("%s=%d", code, rep.Counts[k]))
		}
	}
	fmt.Fprintf(p.Out, "          errors: %s\n          see %s\n", strings.Join(parts, " "), DisplayPath(filepath.Join(run.StageDir(StageValidate), validate.ErrorsFile)))
}

// Transform runs the transform stage.
func (p *Pipeline) Transform(ctx context.Context, req StageRequest) (*Run, error) {
	run, in, err := p.resolve(req, StageValidate)
	if err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	_, err = p.runStage(ctx, run, StageTransform, []Input{in}, func(ctx context.Context, out string) (schemas.Report, error) {
		return transform.Run(ctx, transform.Options{In: in.Dir, RunID: run.ID, CSV: p.Cfg.CSV}, p.Cfg.Transform, out)
	})
	return run, err
}

// RunRequest says what a whole run does.
type RunRequest struct {
	ExtractRequest
	// Resume continues the load of RunID (or of the latest run) instead of starting
	// a new run.
	Resume bool
	// FullLoad diffs against nothing: every record is sent again.
	FullLoad bool
	// Yes confirms a backfill load that moves records back (LoadRequest.Yes).
	Yes bool
}

// RunAll chains the stages in one run. The load runs when an AC account is
// configured; without one the run stops after transform and says so.
func (p *Pipeline) RunAll(ctx context.Context, req RunRequest) (*Run, error) {
	if req.Resume {
		run, err := p.Load(ctx, LoadRequest{StageRequest: StageRequest{RunID: req.RunID}, Resume: true, Yes: req.Yes})
		if err != nil {
			return run, err
		}
		// The resumed run is now whole: its extract is the next incremental base.
		return run, p.AdvanceExtractState(run)
	}
	run, err := p.Extract(ctx, req.ExtractRequest)
	if err != nil {
		return run, err
	}
	if _, err := p.Validate(ctx, StageRequest{RunID: run.ID}); err != nil {
		return run, err
	}
	if _, err := p.Transform(ctx, StageRequest{RunID: run.ID}); err != nil {
		return run, err
	}
	if p.ACURL() == "" {
		fmt.Fprintf(p.Out, "%-9s skip %v\n", StageLoad, errNoAC)
	} else if _, err := p.Load(ctx, LoadRequest{StageRequest: StageRequest{RunID: run.ID}, Full: req.FullLoad, Yes: req.Yes}); err != nil {
		return run, err
	}
	if err := p.AdvanceExtractState(run); err != nil {
		return run, err
	}
	fmt.Fprintf(p.Out, "run %s done: %s\n", run.ID, DisplayPath(run.Dir))
	return run, nil
}
