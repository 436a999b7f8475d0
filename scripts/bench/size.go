package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/pipeline"
	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/schemas"
)

// Run ids of the three runs at each size (any valid id does; these read as dates).
const (
	runA = "20260102T020000Z" // day 1, first sync
	runB = "20260103T020000Z" // day 1 again: the identical second run
	runC = "20260104T020000Z" // day 2: 1% changed
)

// stageRun is one measured CLI invocation.
type stageRun struct {
	Run    string // "A", "B", "C", "cb"
	Size   int    `json:"-"` // set by results.allStages
	Stage  string // validate, transform, plan, load, extract (full), ...
	P      proc
	RowsIn int64 // rows of the Parquet files the stage read (extract: wrote)
	Out    *stageRecord
}

// genRun is one scripts/gen invocation.
type genRun struct {
	What  string
	P     proc
	Bytes int64
}

// loadRun is what one load asked of the AC sandbox.
type loadRun struct {
	Run      string
	What     string
	Exit     int
	Counts   map[string]int64 // the load's manifest counts (plan ops, rejected, ...)
	Ops      map[string]int   // requests by the sandbox's Op name
	Records  map[string]int   // records written by op
	Requests int
	Writes   int
	Polls    int
	// ChangedContacts are creates + updates (+ deletes unless on_customer_deleted is
	// keep, which sends nothing for them); ChangedRPs creates + updates + deletes
	// (a deleted subscription is upserted as CANCELLED).
	ChangedContacts, ChangedRPs int64
	// EmailChanges: contact updates whose email changed; Clears: other contact
	// updates that clear a value, Cleared by field (from the plan: planTally).
	EmailChanges, Clears int64
	Cleared              map[string]int64
	// Minimum: ⌈(contacts − email changes)/250⌉ + email changes + ⌈payments/batch⌉
	// + import status polls (see countLoad).
	Minimum int64
	// SandboxHeap is this process's live heap after the load: mostly the AC
	// sandbox's account.
	SandboxHeap int64
}

type sizeResult struct {
	N      int
	Gen    []genRun
	Stages []stageRun
	Loads  []loadRun
	Duck   *duckResult
	// Inputs of the DuckDB comparison: run C's transform files and run B's synced ones.
	DiffFiles map[string]int64
	// WithAC: the loads ran against the AC sandbox (else see adoptSynced).
	WithAC bool
	// Plans by run: what the run's plan file says of its contact updates.
	Plans map[string]planTally
	// Profiles: where the CPU time and the peak heap of the largest size's stages go.
	Profiles []profile
}

// adoptSynced makes run's transform output the synced snapshot, exactly as a first
// sync that AC acknowledged in full leaves it (every row except those deleted in
// Chargebee before they were ever synced; no AC contact ids, which the bulk importer
// does not answer), stamped as the load stamps it, and points state.json at it.
func adoptSynced(data, run string) error {
	tr := filepath.Join(data, "runs", run, "transform")
	dir := filepath.Join(data, "runs", run, "load", "synced")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	in, err := schemas.ReadStamp(filepath.Join(tr, "contacts.parquet"))
	if err != nil {
		return err
	}
	st := schemas.Stamp{RunID: run, ExtractedAt: in.ExtractedAt}
	err = copyLive(schemas.Contacts, tr, dir, "contacts", st, func(c *schemas.Contact) bool { return c.Deleted })
	if err == nil {
		err = copyLive(schemas.RecurringPayments, tr, dir, "recurring_payments", st, func(r *schemas.RecurringPayment) bool { return r.Deleted })
	}
	if err != nil {
		return err
	}
	debug.FreeOSMemory()
	state, err := pipeline.LoadState(data)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(data, dir)
	if err != nil {
		return err
	}
	state.Synced = &pipeline.SyncedState{RunID: run, Dir: rel, SyncedAt: time.Now().UTC()}
	return state.Save(data)
}

// copyLive streams from/name.parquet to to/name.parquet without the deleted rows.
func copyLive[T any](tb *schemas.Table[T], from, to, name string, st schemas.Stamp, deleted func(*T) bool) error {
	sink, err := tb.CreateSink(to, name, false, st)
	if err != nil {
		return err
	}
	err = tb.Each(filepath.Join(from, name+".parquet"), func(rec *T) error {
		if deleted(rec) {
			return nil
		}
		return sink.Write(*rec) // encoded at once: the reader may reuse rec
	})
	if err != nil {
		sink.Abort()
		return fmt.Errorf("%s: %w", name, err)
	}
	return sink.Commit()
}

func (s *sizeResult) stage(run, stage string) *stageRun {
	for i := range s.Stages {
		if s.Stages[i].Run == run && s.Stages[i].Stage == stage {
			return &s.Stages[i]
		}
	}
	return nil
}

// size measures one size: three runs (each generating its extract into its own
// run folder first) against the AC sandbox, DuckDB, then CPU and heap profiles.
func (b *bench) size(ctx context.Context, n int) (*sizeResult, error) {
	sr := &sizeResult{N: n}
	dir := filepath.Join(b.work, strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sr, err
	}
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return sr, err
	}
	cfg, err := b.writeConfig(dir)
	if err != nil {
		return sr, err
	}
	// The AC sandbox keeps the whole account in this process (about 850 MiB per
	// 100k customers), next to a load process of about as much: above --ac-max the
	// loads are not run, and the synced snapshot the plans diff against is made here
	// (see adoptSynced).
	sr.WithAC = n <= b.o.acMax
	env := b.env
	var srv *acsandbox.Server
	if sr.WithAC {
		token := randomSecret()
		srv, err = acsandbox.New(acsandbox.Options{
			Token: token, RateLimit: 0, ApplyDelay: b.o.applyDelay,
			BulkImportPerMinute: -1, BulkSinglePerMinute: -1, Lists: []string{"Customers"},
		})
		if err != nil {
			return sr, err
		}
		url, err := srv.Start()
		if err != nil {
			return sr, err
		}
		defer srv.Close()
		env = withEnv(b.env, "AC_API_URL="+url, "AC_API_TOKEN="+token)
	}

	// Each run's extract is generated into its own run folder, as the extract stage
	// of a nightly run leaves it, and the stages read their own run's folder: a
	// validate given another folder (--in) would make the run a backfill (automations
	// suppressed, the backfill check before the load), not the nightly case measured.
	runs := []struct {
		id, label, what, gen string
		day2                 bool
	}{
		{runA, "A", "first sync (day 1)", "snapshot day 1 (run A)", false},
		{runB, "B", "identical second run (day 1 again)", "snapshot day 1 again (run B)", false},
		{runC, "C", "day 2 (1% changed)", "snapshot day 2, 1% changed (run C)", true},
	}
	for _, rn := range runs {
		fmt.Printf("  run %s: %s\n", rn.label, rn.what)
		runDir := filepath.Join(data, "runs", rn.id)
		man := filepath.Join(runDir, "manifest.json")
		args := []string{"--customers", strconv.Itoa(n), "--format", "snapshot", "--out", runDir}
		if rn.day2 {
			args = append(args, "--day2")
		}
		gp, err := b.r.run(fmt.Sprintf("gen-%d-%s", n, rn.label), b.env, nil, b.gen, args...)
		if err != nil {
			return sr, err
		}
		extractDir := filepath.Join(runDir, "extract")
		sr.Gen = append(sr.Gen, genRun{What: rn.gen, P: gp, Bytes: dirSize(extractDir)})
		fmt.Printf("    gen       %7.2fs wall  %s\n", gp.Wall.Seconds(), mib(dirSize(extractDir)))
		common := []string{"--data-dir", data, "--config", cfg, "--run-id", rn.id}
		steps := []struct {
			stage string
			args  []string
			ok    []int
			in    func() int64
		}{
			{"validate", []string{"validate"}, nil, func() int64 { return stageOf(man, "extract").parquetRows() }},
			{"transform", []string{"transform"}, nil, func() int64 { return stageOf(man, "validate").parquetRows() }},
			{"plan", []string{"plan"}, nil, func() int64 { return stageOf(man, "transform").parquetRows() }},
			{"load", []string{"load"}, []int{2}, func() int64 { return stageOf(man, "transform").parquetRows() }},
		}
		for _, st := range steps {
			if st.stage == "load" && !sr.WithAC {
				if rn.label == "A" {
					fmt.Printf("    (no load above --ac-max %d: the synced snapshot is run A's transform output, as a first sync AC acknowledged in full leaves it)\n", b.o.acMax)
					if err := adoptSynced(data, rn.id); err != nil {
						return sr, fmt.Errorf("synced snapshot: %w", err)
					}
				}
				continue
			}
			if st.stage == "load" {
				srv.ResetLog()
			}
			p, err := b.r.run(fmt.Sprintf("%d-%s-%s", n, rn.label, st.stage), env, st.ok, b.cb2ac, append(common, st.args...)...)
			if err != nil {
				return sr, err
			}
			sr.Stages = append(sr.Stages, stageRun{Run: rn.label, Stage: st.stage, P: p, RowsIn: st.in(), Out: stageOf(man, stageDir(st.stage))})
			fmt.Printf("    %-9s %7.2fs wall %7.2fs cpu %8s peak RSS  (others used %.1fs cpu meanwhile)\n", st.stage, p.Wall.Seconds(), p.CPU().Seconds(), mib(p.MaxRSS), p.Others.Seconds())
			if st.stage == "plan" {
				pt, err := readPlan(filepath.Join(runDir, "load", "plan.parquet"))
				if err != nil {
					return sr, fmt.Errorf("run %s: %w", rn.label, err)
				}
				if sr.Plans == nil {
					sr.Plans = map[string]planTally{}
				}
				sr.Plans[rn.label] = pt
			}
			if st.stage == "load" {
				lr := countLoad(srv.Requests(), stageOf(man, "load").Counts, sr.Plans[rn.label], b.o)
				lr.Run, lr.What, lr.Exit = rn.label, rn.what, p.Exit
				srv.Flush()
				srv.ResetLog()
				lr.SandboxHeap = liveHeap()
				sr.Loads = append(sr.Loads, lr)
				fmt.Printf("    requests=%d writes=%d polls=%d (minimum %d) %v; sandbox heap %s\n", lr.Requests, lr.Writes, lr.Polls, lr.Minimum, lr.Ops, mib(lr.SandboxHeap))
			}
		}
	}

	// DuckDB: the same key + row_hash diff, run C's transform output against the
	// synced snapshot run C's plan read (run B's).
	oldDir := filepath.Join(data, "runs", runB, "load", "synced")
	if !sr.WithAC {
		oldDir = filepath.Join(data, "runs", runA, "load", "synced")
	}
	newDir := filepath.Join(data, "runs", runC, "transform")
	sr.DiffFiles = map[string]int64{}
	for _, f := range []string{"contacts.parquet", "recurring_payments.parquet"} {
		for _, d := range []string{oldDir, newDir} {
			if fi, err := os.Stat(filepath.Join(d, f)); err == nil {
				sr.DiffFiles[filepath.Base(filepath.Dir(d))+"/"+f] = fi.Size()
			}
		}
	}
	if b.duckOK == "" {
		fmt.Printf("  duckdb diff\n")
		dr, err := b.duckDiff(n, oldDir, newDir, filepath.Join(dir, "duckdb"))
		sr.Duck = dr
		if err != nil {
			return sr, err
		}
		if pl := sr.stage("C", "plan"); pl != nil && dr.QueryMS > 0 {
			fmt.Printf("    duckdb %.2fs (query) %.2fs (process); our plan %.2fs = %.2f× duckdb's query time\n",
				dr.QueryMS/1000, dr.P.Wall.Seconds(), pl.P.Wall.Seconds(), pl.P.Wall.Seconds()*1000/dr.QueryMS)
		}
	}
	if !b.o.noProfiles && n == slices.Max(b.o.sizes) {
		fmt.Printf("  profiles\n")
		var err error
		if sr.Profiles, err = b.profiles(n, data, cfg, env, sr.WithAC); err != nil {
			return sr, fmt.Errorf("profiles: %w", err)
		}
	}
	if !b.o.keep && b.o.work == "" {
		// Free the disk for the next size; generated data is cheap to make again.
		os.RemoveAll(data)
	}
	return sr, nil
}

// stageDir is the manifest stage a CLI command writes.
func stageDir(cmd string) string {
	if cmd == "plan" {
		return "load"
	}
	return cmd
}

// countLoad counts a load's requests. The minimum is what batching allows (the
// issue's definition): changed contacts at 250 an import, except that an email
// change is one request (AC's importer matches contacts by email, so a new address
// goes by PUT to the contact's id), recurring payments at the configured batch, and
// the import status polls.
func countLoad(reqs []acsandbox.Request, counts map[string]int64, pt planTally, o options) loadRun {
	emailChanges := pt.EmailChanges
	lr := loadRun{Counts: counts, Ops: map[string]int{}, Records: map[string]int{}, EmailChanges: emailChanges, Clears: pt.Clears, Cleared: pt.Cleared}
	for _, r := range reqs {
		lr.Requests++
		lr.Ops[r.Op]++
		lr.Records[r.Op] += r.Count
		if r.Write {
			lr.Writes++
		}
		if r.Op == "import_info" {
			lr.Polls++
		}
	}
	lr.ChangedContacts = counts["contacts_create"] + counts["contacts_update"]
	if o.onDeleted != "keep" {
		lr.ChangedContacts += counts["contacts_delete"]
	}
	lr.ChangedRPs = counts["recurring_payments_create"] + counts["recurring_payments_update"] + counts["recurring_payments_delete"]
	lr.Minimum = ceilDiv(lr.ChangedContacts-emailChanges, 250) + emailChanges + ceilDiv(lr.ChangedRPs, int64(o.rpBatch)) + int64(lr.Polls)
	return lr
}

// planTally is what a plan file says of its contact updates, by the rules the
// apply step sorts them with (stages/load apply.go contacts and cleared): an email
// change (the address differs, case aside) goes by PUT to the contact's id; any
// other update that clears a value (firstName, lastName, phone, orgname or a
// custom field had one and has none) goes one contact at a time by contact/sync.
type planTally struct {
	EmailChanges int64
	Clears       int64
	Cleared      map[string]int64 // updates clearing each field
}

func readPlan(path string) (planTally, error) {
	pt := planTally{Cleared: map[string]int64{}}
	err := schemas.Plans.Each(path, func(e *schemas.PlanEntry) error {
		if e.Entity != "contact" || e.Op != "update" {
			return nil
		}
		var clears []string
		for _, c := range e.Changes {
			if c.Field == "email" && !strings.EqualFold(c.Old, c.New) {
				pt.EmailChanges++
				return nil
			}
			switch {
			case c.Old == "" || c.New != "":
			case c.Field == "firstName", c.Field == "lastName", c.Field == "phone", c.Field == "orgname", strings.HasPrefix(c.Field, "fields."):
				clears = append(clears, c.Field)
			}
		}
		if len(clears) > 0 {
			pt.Clears++
			for _, f := range clears {
				pt.Cleared[f]++
			}
		}
		return nil
	})
	if err != nil {
		return pt, fmt.Errorf("plan file: %w", err)
	}
	return pt, nil
}

// liveHeap collects garbage and returns this process's live heap.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
