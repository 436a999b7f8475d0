package pipeline

import (
	"strings"
	"testing"
	"time"
)

// Status tells a dry run and a backfill from a nightly run by the manifest alone
// (before: a plan-only load read as a load that sent its counts, and backfills were
// not marked).
func TestStatusMarksDryRunsAndBackfills(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	ok := func(inputs ...Input) *StageRecord {
		end := t0.Add(time.Second)
		return &StageRecord{Status: StatusSucceeded, StartedAt: t0, EndedAt: &end, Inputs: inputs}
	}
	loaded := func(counts map[string]int64, inputs ...Input) *StageRecord {
		r := ok(inputs...)
		r.Counts = counts
		return r
	}
	const id = "20261120T020000Z"
	api := Input{Dir: "https://site.chargebee.com/api/v2"}
	prevExtract := Input{RunID: "20261119T020000Z", Stage: StageExtract, Dir: "runs/20261119T020000Z/extract"}
	own := func(stage string) Input { return Input{RunID: id, Stage: stage, Dir: "runs/" + id + "/" + stage} }
	other := func(stage string) Input {
		return Input{RunID: "20261101T020000Z", Stage: stage, Dir: "runs/20261101T020000Z/" + stage}
	}
	synced := Input{RunID: "20261119T020000Z", Stage: syncedInput, Dir: "runs/20261119T020000Z/load/synced"}
	plan := map[string]int64{"contacts_update": 12, "dry_run": 1}
	sent := map[string]int64{"contacts_update": 12, "acknowledged": 12}
	cases := []struct {
		name             string
		stages           map[string]*StageRecord
		dryRun, backfill bool
		load, state      string // the LOAD and STATE columns
	}{
		{"nightly incremental", map[string]*StageRecord{
			StageExtract: ok(api, prevExtract), StageValidate: ok(own(StageExtract)), StageTransform: ok(own(StageValidate)),
			StageLoad: loaded(sent, own(StageTransform), synced)}, false, false, "ok", "synced"},
		{"pages", map[string]*StageRecord{StageExtract: ok(Input{Dir: "fixtures/chargebee"})}, false, false, "-", "-"},
		{"dry run", map[string]*StageRecord{
			StageExtract: ok(api), StageValidate: ok(own(StageExtract)), StageTransform: ok(own(StageValidate)),
			StageLoad: loaded(plan, own(StageTransform), synced)}, true, false, "dry-run", "-"},
		{"snapshot extract", map[string]*StageRecord{
			StageExtract: ok(other(StageExtract)), StageValidate: ok(own(StageExtract)), StageTransform: ok(own(StageValidate)),
			StageLoad: loaded(sent, own(StageTransform), synced)}, false, true, "ok", "synced,backfill"},
		{"validate --in", map[string]*StageRecord{StageValidate: ok(other(StageExtract))}, false, true, "-", "backfill"},
		{"transform --in", map[string]*StageRecord{StageTransform: ok(other(StageValidate))}, false, true, "-", "backfill"},
		{"load --in, dry run", map[string]*StageRecord{StageLoad: loaded(plan, other(StageTransform), synced)}, true, true, "dry-run", "backfill"},
		{"failed dry run", map[string]*StageRecord{StageLoad: {Status: StatusFailed, StartedAt: t0, Counts: plan, Inputs: []Input{own(StageTransform)}}},
			true, false, "failed", "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testPipeline(t)
			run, err := OpenRun(p.Cfg.DataDir, id, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := run.writeManifest(&Manifest{RunID: id, Stages: tc.stages}); err != nil {
				t.Fatal(err)
			}
			rows, err := p.Status(0)
			if err != nil || len(rows) != 1 {
				t.Fatalf("status: %v %+v", err, rows)
			}
			if r := rows[0]; r.DryRun != tc.dryRun || r.Backfill != tc.backfill || (tc.dryRun && r.Synced) {
				t.Errorf("dry_run=%v backfill=%v synced=%v, want dry_run=%v backfill=%v", r.DryRun, r.Backfill, r.Synced, tc.dryRun, tc.backfill)
			}
			var b strings.Builder
			if err := PrintStatus(&b, rows); err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(strings.Split(b.String(), "\n")[1])
			if load, state := f[4], f[len(f)-1]; load != tc.load || state != tc.state {
				t.Errorf("LOAD=%q STATE=%q, want %q %q\n%s", load, state, tc.load, tc.state, b.String())
			}
		})
	}
}
