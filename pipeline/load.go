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

// CountMovedBack is the load count of a backfill: the records it moved (or, in a
// dry run, would move) back to older values in AC.
const CountMovedBack = "backfill_moved_back"

// LoadRequest says which transform output to load and how.
type LoadRequest struct {
	StageRequest
	DryRun bool // plan only
	Resume bool // continue a load that stopped, skipping journaled batches
	Full   bool // diff against nothing: send everything again
	// Yes confirms a backfill that moves records in AC back to older values
	// (backfillConfirm); without it such a load stops before sending anything.
	Yes bool
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
	// The connection is named after the site whichever way it is given; a load
	// with no Chargebee configured (pages, a backfill from files) keeps the cached
	// connection.
	cfg.ConfigSite = p.Cfg.Chargebee.Site
	if p.chargebeeConfigured() {
		if u, err := p.ChargebeeAPIURL(); err == nil {
			cfg.Site = SiteKey(u)
		}
	}
	opts := load.Options{In: in.Dir, RunID: run.ID, DryRun: req.DryRun, Resume: req.Resume, Fields: p.Cfg.Transform.Fields(), Redact: p.Cfg.RedactErrors,
		Backfill: isBackfill(run, in)}
	movedBack := int64(-1)
	if opts.Backfill {
		opts.Confirm = p.backfillConfirm(in, st, req.Full, req.DryRun, req.Yes, &movedBack)
	}
	inputs := []Input{in}
	if st.Synced != nil && !req.Full {
		if err := p.checkSynced(st.Synced); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		opts.Synced = filepath.Join(p.Cfg.DataDir, st.Synced.Dir)
		inputs = append(inputs, Input{RunID: st.Synced.RunID, Stage: syncedInput, Dir: opts.Synced})
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
		if movedBack >= 0 {
			res.Add(CountMovedBack, movedBack)
		}
		return res.Report, err
	})
	if bf := (*BackfillError)(nil); !errors.As(err, &bf) { // stopped before the plan was written
		p.printPlan(run, res.Report, req.DryRun)
	}
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

// planShown is how many updates a dry run prints; plan.csv holds them all.
const planShown = 20

func (p *Pipeline) printPlan(run *Run, rep schemas.Report, dryRun bool) {
	c := rep.Counts
	if c == nil {
		return
	}
	fmt.Fprintf(p.Out, "          plan: contacts create=%d update=%d delete=%d unchanged=%d; recurring payments create=%d update=%d delete=%d unchanged=%d\n",
		c["contacts_create"], c["contacts_update"], c["contacts_delete"], c["contacts_unchanged"],
		c["recurring_payments_create"], c["recurring_payments_update"], c["recurring_payments_delete"], c["recurring_payments_unchanged"])
	if dryRun {
		// What a person reviews before sending: the updates, field by field.
		if err := load.WriteChanges(p.Out, run.StageDir(StageLoad), planShown, p.Cfg.RedactErrors); err != nil {
			fmt.Fprintf(p.Out, "          %v\n", err)
		}
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
	return err == nil && m.Backfill()
}

// Backfill says whether the run's manifest shows it works on another run's data:
// its extract read only another run's extract (--source snapshot), or a later stage
// read another run's folder (--in). An incremental extract also reads another run
// (the extract it merges into) but reads the API too: that is the nightly run.
func (m *Manifest) Backfill() bool {
	other := func(i Input) bool { return i.RunID != "" && i.RunID != m.RunID }
	if rec := m.Stages[StageExtract]; rec != nil && len(rec.Inputs) > 0 {
		all := true
		for _, i := range rec.Inputs {
			all = all && other(i)
		}
		if all {
			return true
		}
	}
	for _, stage := range []string{StageValidate, StageTransform, StageLoad} {
		if rec := m.Stages[stage]; rec != nil {
			for _, i := range rec.Inputs {
				// The load's other input is the synced snapshot, always an earlier run's.
				if other(i) && i.Stage != syncedInput {
					return true
				}
			}
		}
	}
	return false
}

// syncedInput is the Stage of a load's input that is the synced snapshot it diffed
// against.
const syncedInput = "synced"

// syncedPrefix names the synced snapshot's files among the load stage's files in
// the manifest ("synced/contacts.parquet").
const syncedPrefix = load.SyncedDir + "/"

// withSyncedFiles adds the synced snapshot a load wrote (out/synced, absent after a
// dry run or a failed apply) to the stage's files, so the manifest vouches for it
// like for every other stage file.
func withSyncedFiles(out string, files []FileRecord) ([]FileRecord, error) {
	synced, err := DescribeFiles(filepath.Join(out, load.SyncedDir))
	if errors.Is(err, os.ErrNotExist) {
		return files, nil
	}
	if err != nil {
		return nil, err
	}
	for _, f := range synced {
		f.Name = syncedPrefix + f.Name
		files = append(files, f)
	}
	return files, nil
}

// checkSynced verifies the synced snapshot state.json names against its run's
// manifest before a diff reads it: a replaced or truncated file would make the diff
// send (or skip) the wrong records without a word.
func (p *Pipeline) checkSynced(s *SyncedState) error {
	run, err := OpenRun(p.Cfg.DataDir, s.RunID, false)
	if err != nil {
		return fmt.Errorf("the synced snapshot state.json names: %w", err)
	}
	m, err := run.Manifest()
	if err != nil {
		return fmt.Errorf("the synced snapshot state.json names: %w", err)
	}
	rec := m.Stages[StageLoad]
	if rec == nil || rec.Status != StatusSucceeded {
		return fmt.Errorf("the synced snapshot state.json names (%s) belongs to a load its manifest does not call succeeded; restore that run folder, or load with --full to send every record again", s.Dir)
	}
	var files []FileRecord
	for _, f := range rec.Files {
		if strings.HasPrefix(f.Name, syncedPrefix) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		// A load of a cb2ac that did not list its synced files yet: nothing to check
		// against, so it is read as before.
		p.Log.Warn("the synced snapshot is not listed in its run's manifest (written by an older cb2ac); read without a checksum check", "run_id", s.RunID, "dir", s.Dir)
		return nil
	}
	if filepath.Join(p.Cfg.DataDir, s.Dir) != filepath.Join(run.StageDir(StageLoad), load.SyncedDir) {
		return fmt.Errorf("state.json names %s as the synced snapshot of run %s, which is not that run's load/%s folder", s.Dir, s.RunID, load.SyncedDir)
	}
	if err := verifyFiles(run.StageDir(StageLoad), StageLoad, files,
		"restore it from a backup, or load with --full to send every record again (or `cb2ac unlink` to start over)"); err != nil {
		return fmt.Errorf("the last synced snapshot (state.json) cannot be diffed against: %w", err)
	}
	return nil
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
	if err := p.checkSynced(st.Synced); err != nil {
		return fmt.Errorf("verify: %w", err)
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
