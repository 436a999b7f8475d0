package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// LoadRequest says which transform output to load and how.
type LoadRequest struct {
	StageRequest
	DryRun bool // plan only
	Resume bool // continue a load that stopped, skipping journaled batches
	Full   bool // diff against nothing: send everything again
}

// ACURL is the AC API URL: AC_API_URL wins over activecampaign.api_url. Both were
// checked when the config was read (CheckACURL); surrounding white space is dropped.
func (p *Pipeline) ACURL() string {
	if v := strings.TrimSpace(os.Getenv(EnvACAPIURL)); v != "" {
		return v
	}
	return p.Cfg.ActiveCampaign.APIURL
}

// Load runs the load stage: plan, then (unless DryRun) apply, then move state.json to
// the new synced snapshot. State moves only when the load finished; records AC
// rejected keep their old synced row, so the next run sends them again.
func (p *Pipeline) Load(ctx context.Context, req LoadRequest) (*Run, error) {
	run, in, err := p.resolve(req.StageRequest, StageTransform)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// A resumed load ends by pointing state.json at its synced snapshot: resuming a run
	// older than the one state.json names would move that pointer back, and the next
	// run would send again (or delete) what the newer load already settled. Run ids
	// sort by time (CheckRunID).
	if req.Resume && st.Synced != nil && st.Synced.RunID > run.ID {
		return nil, fmt.Errorf("load --resume: run %s is older than run %s, whose load state.json names as the last synced snapshot; "+
			"resuming it would move the synced snapshot back. Leave run %s as it is: the next run sends whatever it did not", run.ID, st.Synced.RunID, run.ID)
	}
	cfg := p.Cfg.ActiveCampaign
	cfg.APIURL = p.ACURL()
	cfg.Site = p.Cfg.Chargebee.Site
	opts := load.Options{In: in.Dir, RunID: run.ID, DryRun: req.DryRun, Resume: req.Resume, Fields: p.Cfg.Transform.Fields(), Redact: p.Cfg.RedactErrors,
		Backfill: isBackfill(run, in)}
	inputs := []Input{in}
	if st.Synced != nil && !req.Full {
		opts.Synced = filepath.Join(p.Cfg.DataDir, st.Synced.Dir)
		inputs = append(inputs, Input{RunID: st.Synced.RunID, Stage: "synced", Dir: opts.Synced})
	}
	if st.AC != nil && st.AC.APIURL == cfg.APIURL {
		opts.Setup = st.AC
	}
	if !req.DryRun {
		token, err := Secret("AC_API_TOKEN")
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		if opts.Client, err = ac.New(ac.Config{APIURL: cfg.APIURL, Token: token, RateLimit: cfg.RateLimit, Timeout: cfg.Timeout, MaxAttempts: cfg.MaxAttempts, ImportRateWait: cfg.ImportRateWait}); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
	}
	if p.Progress != nil && !req.DryRun {
		bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(p.Progress),
			progressbar.OptionSetDescription("load      records"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		defer bar.Exit()
		opts.Progress = func(done, total int64) {
			bar.ChangeMax64(total)
			bar.Set64(done)
		}
	}
	var res load.Result
	_, err = p.runStageKeep(ctx, run, StageLoad, inputs, req.Resume, func(ctx context.Context, out string) (schemas.Report, error) {
		var err error
		res, err = load.Run(ctx, opts, cfg, out)
		if req.DryRun {
			res.Add("dry_run", 1)
		}
		return res.Report, err
	})
	p.printPlan(run, res.Report, req.DryRun)
	if err != nil {
		return run, err
	}
	if req.DryRun {
		return run, nil
	}
	if res.Setup != nil {
		st.AC = res.Setup
	}
	rel, _ := filepath.Rel(p.Cfg.DataDir, filepath.Join(run.StageDir(StageLoad), load.SyncedDir))
	st.Synced = &SyncedState{RunID: run.ID, Dir: rel, SyncedAt: p.Now().UTC()}
	if err := st.Save(p.Cfg.DataDir); err != nil {
		return run, fmt.Errorf("load: %w", err)
	}
	crashAt("load:state")
	if n := res.Counts["rejected"]; n > 0 {
		return run, &RejectedError{Stage: StageLoad, Rejected: n, File: DisplayPath(filepath.Join(run.StageDir(StageLoad), load.ErrorsFile))}
	}
	// Stage by stage (Airflow), the load is the run's last step: once it is done the
	// run's extract is the next incremental base.
	return run, p.AdvanceExtractState(run)
}

func (p *Pipeline) printPlan(run *Run, rep schemas.Report, dryRun bool) {
	c := rep.Counts
	if c == nil {
		return
	}
	fmt.Fprintf(p.Out, "          plan: contacts create=%d update=%d delete=%d unchanged=%d; recurring payments create=%d update=%d delete=%d unchanged=%d\n",
		c["contacts_create"], c["contacts_update"], c["contacts_delete"], c["contacts_unchanged"],
		c["recurring_payments_create"], c["recurring_payments_update"], c["recurring_payments_delete"], c["recurring_payments_unchanged"])
	if dryRun {
		fmt.Fprintf(p.Out, "          dry run: nothing sent; see %s\n", DisplayPath(filepath.Join(run.StageDir(StageLoad), load.PlanFile+".csv")))
		return
	}
	fmt.Fprintf(p.Out, "          requests=%d writes=%d retries=%d rejected=%d\n", c["requests"], c["write_requests"], c["retries"], c["rejected"])
	if c["rejected"] > 0 {
		fmt.Fprintf(p.Out, "          see %s\n", DisplayPath(filepath.Join(run.StageDir(StageLoad), load.ErrorsFile)))
	}
}

// isBackfill: the data loaded comes from another run: a transform of another run
// (load --in), or a run whose extract, validate or transform read another run's
// folder (extract --source snapshot, validate --in, the Airflow DAG's
// backfill_from). Historical data, sent with automations suppressed by default.
func isBackfill(run *Run, in Input) bool {
	if in.RunID != "" && in.RunID != run.ID {
		return true
	}
	m, err := run.Manifest()
	if err != nil || m == nil {
		return false
	}
	other := func(i Input) bool { return i.RunID != "" && i.RunID != run.ID }
	// An incremental extract reads the API (an input without a run) and merges into
	// the last extract (another run's): that is the nightly run. A snapshot extract
	// reads another run's extract only.
	if rec := m.Stages[StageExtract]; rec != nil && len(rec.Inputs) > 0 {
		all := true
		for _, i := range rec.Inputs {
			all = all && other(i)
		}
		if all {
			return true
		}
	}
	for _, stage := range []string{StageValidate, StageTransform} {
		if rec := m.Stages[stage]; rec != nil {
			for _, i := range rec.Inputs {
				if other(i) {
					return true
				}
			}
		}
	}
	return false
}

// errNoAC says load was skipped because no AC account is configured.
var errNoAC = errors.New("no ActiveCampaign API URL (activecampaign.api_url or AC_API_URL)")

// Verify reads a sample of the last synced recurring payments back from AC and
// prints every field that differs. A difference is an error (exit 1).
func (p *Pipeline) Verify(ctx context.Context, sample int) error {
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return err
	}
	if st.Synced == nil || st.AC == nil {
		return errors.New("verify: nothing synced yet; run a load first")
	}
	token, err := Secret("AC_API_TOKEN")
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	acc := p.Cfg.ActiveCampaign
	c, err := ac.New(ac.Config{APIURL: p.ACURL(), Token: token, RateLimit: acc.RateLimit, Timeout: acc.Timeout, MaxAttempts: acc.MaxAttempts})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	connID, err := ac.ID(st.AC.ConnectionID).Int()
	if err != nil {
		return fmt.Errorf("verify: connection id %q: %w", st.AC.ConnectionID, err)
	}
	checked, diffs, err := load.Verify(ctx, c, filepath.Join(p.Cfg.DataDir, st.Synced.Dir), connID, sample, uint64(p.Now().UnixNano()))
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintf(p.Out, "%s  %-24s synced=%q  ac=%q\n", d.Key, d.Field, d.Synced, d.AC)
	}
	fmt.Fprintf(p.Out, "verify: %d recurring payments checked, %d differences\n", checked, len(diffs))
	if len(diffs) > 0 {
		return fmt.Errorf("verify: %d fields differ between the synced snapshot and ActiveCampaign", len(diffs))
	}
	return nil
}
