package pipeline

import (
	"fmt"
	"path/filepath"
)

// dataRun is the run whose extract read the source (the Chargebee API or a pages
// folder) that a stage folder's data comes from, following the manifests back
// through each stage's input: a snapshot extract leads to the run it copied, a
// stage run with --in to the run it read. Run ids are the UTC start times, so this
// is when the data was read. "" when a manifest on the way cannot say.
func dataRun(dataDir string, in Input) string {
	runID, stage := in.RunID, in.Stage
	for range 32 { // a chain longer than this is a loop of hand-edited manifests
		if runID == "" || CheckRunID(runID) != nil {
			return ""
		}
		m, err := (&Run{ID: runID, Dir: filepath.Join(RunsDir(dataDir), runID)}).Manifest()
		if err != nil {
			return ""
		}
		rec := m.Stages[stage]
		if rec == nil {
			return ""
		}
		if stage == StageExtract {
			// A snapshot extract reads another run's extract only; any other extract
			// read the source (an incremental one also merged into an older extract).
			if len(rec.Inputs) == 1 && rec.Inputs[0].Stage == StageExtract && rec.Inputs[0].RunID != runID {
				runID = rec.Inputs[0].RunID
				continue
			}
			return runID
		}
		prev := ""
		for i, s := range stageOrder {
			if s == stage && i > 0 {
				prev = stageOrder[i-1]
			}
		}
		next := ""
		for _, i := range rec.Inputs {
			if i.Stage == prev {
				next = i.RunID
			}
		}
		runID, stage = next, prev
	}
	return ""
}

// BackfillError says a backfill load would move records in AC back to older values
// and was not confirmed with --yes: nothing was sent.
type BackfillError struct{ MovedBack int64 }

func (e *BackfillError) Error() string {
	return fmt.Sprintf("backfill: %d records would move back to older values in ActiveCampaign; nothing was sent. "+
		"Re-run with --yes to send them (`cb2ac plan --in` the same folder lists them)", e.MovedBack)
}

// backfillConfirm returns the load's Confirm for a backfill: it prints (and logs)
// how many records the load moves back to older values in AC, and refuses without
// yes when there are any. A record moves back when the synced snapshot holds a
// newer version of it than the backfill: the backfill's data was read before the
// synced snapshot's (dataRun), and the plan updates or deletes it. With loads every
// night this is exact: a record the two disagree on changed after the backfill's
// data was read, or the snapshots would agree. With full set the plan diffs against
// nothing, so every record it sends is counted. moved receives the count.
func (p *Pipeline) backfillConfirm(in Input, st *State, full, dryRun, yes bool, moved *int64) func(map[string]int64) error {
	return func(plan map[string]int64) error {
		from := dataRun(p.Cfg.DataDir, in)
		if st.Synced == nil {
			fmt.Fprintf(p.Out, "          backfill: data read by run %s; nothing synced yet, so nothing moves back\n", orUnknown(from))
			return nil
		}
		synced := dataRun(p.Cfg.DataDir, Input{RunID: st.Synced.RunID, Stage: StageLoad})
		older := from == "" || synced == "" || compareRunIDs(from, synced) < 0
		var n int64
		if older {
			ops := []string{"update", "delete"}
			if full {
				ops = append(ops, "create")
			}
			for _, e := range []string{"contacts_", "recurring_payments_"} {
				for _, op := range ops {
					n += plan[e+op]
				}
			}
		}
		*moved = n
		rel := "newer than or as new as"
		if older {
			rel = "older than"
		}
		fmt.Fprintf(p.Out, "          backfill: data read by run %s, %s the synced snapshot's (run %s): %d records move back to older values in ActiveCampaign\n",
			orUnknown(from), rel, orUnknown(synced), n)
		if n > 0 {
			p.Log.Warn("backfill moves records back to older values in ActiveCampaign", "moved_back", n, "data_run", from, "synced_data_run", synced, "confirmed", yes, "dry_run", dryRun)
		}
		if n > 0 && !dryRun && !yes {
			return &BackfillError{MovedBack: n}
		}
		return nil
	}
}

func orUnknown(runID string) string {
	if runID == "" {
		return "(unknown)"
	}
	return runID
}

// checkNotPast refuses a Chargebee extract into a run named before a run that has
// already read Chargebee: the extract reads Chargebee as it is now, and filed under
// a past date it would pass for that date's data (a DAG backfill of a past date, a
// scheduler catching up) and sort before newer data. The host's clock is not
// consulted: a retried task hours later keeps its run id and is not refused; only
// the order of the runs that read the source counts.
func (p *Pipeline) checkNotPast(id string) error {
	ids, err := ListRuns(p.Cfg.DataDir)
	if err != nil {
		return err
	}
	for i := len(ids) - 1; i >= 0 && compareRunIDs(ids[i], id) > 0; i-- {
		r := &Run{ID: ids[i], Dir: filepath.Join(RunsDir(p.Cfg.DataDir), ids[i])}
		m, err := r.Manifest()
		if err != nil {
			continue
		}
		if rec := m.Stages[StageExtract]; rec != nil && rec.Status == StatusSucceeded && !m.Backfill() {
			return fmt.Errorf("run id %s is older than run %s, which has already read Chargebee: this extract would read Chargebee as it is now and file it under a past date. "+
				"To backfill a past date, load that date's extract again: cb2ac run --source snapshot --in %s --yes (Airflow: trigger the DAG with backfill_from); "+
				"to read Chargebee now, leave out --run-id", id, r.ID, filepath.Join(RunsDir(p.Cfg.DataDir), "<run id of that date>", StageExtract))
		}
	}
	return nil
}
