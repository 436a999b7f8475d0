package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/load"
	"github.com/cb2ac/cb2ac/stages/validate"
)

// --- prune ---------------------------------------------------------------

// Prune removes the oldest run folders so that keep remain, never a run state.json
// points at (the synced snapshot and the extract base: the next run reads them).
// Each folder is first renamed out of runs/, so a prune that dies half way leaves no
// half-deleted run that looks like a run.
func (p *Pipeline) Prune(keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("prune: keep %d: want at least 1", keep)
	}
	ids, err := ListRuns(p.Cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	pinned := map[string]bool{st.Extract.RunID: true}
	if st.Synced != nil {
		pinned[st.Synced.RunID] = true
	}
	var removed []string
	for i, id := range ids {
		if len(ids)-i <= keep || pinned[id] {
			continue
		}
		dir := filepath.Join(RunsDir(p.Cfg.DataDir), id)
		trash := filepath.Join(RunsDir(p.Cfg.DataDir), ".pruned-"+id)
		if err := os.Rename(dir, trash); err != nil {
			return removed, fmt.Errorf("prune %s: %w", id, err)
		}
		if err := os.RemoveAll(trash); err != nil {
			return removed, fmt.Errorf("prune %s: %w", id, err)
		}
		if err := removeAll(dir); err != nil { // its objects, in a bucket
			return removed, fmt.Errorf("prune %s: %w", id, err)
		}
		removed = append(removed, id)
	}
	// Leftovers of a prune that was killed between rename and delete.
	if ents, err := os.ReadDir(RunsDir(p.Cfg.DataDir)); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".pruned-") {
				os.RemoveAll(filepath.Join(RunsDir(p.Cfg.DataDir), e.Name()))
			}
		}
	}
	return removed, nil
}

// --- unlink --------------------------------------------------------------

// Unlink forgets the ActiveCampaign side: the cached AC ids and the synced
// snapshot. The next run is a first sync (everything is created or matched again by
// AC's own keys: email, and the recurring payment's composite key). The Chargebee
// watermark stays: the extract still merges into its last snapshot.
func (p *Pipeline) Unlink() error {
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return fmt.Errorf("unlink: %w", err)
	}
	st.AC, st.Synced = nil, nil
	if err := st.Save(p.Cfg.DataDir); err != nil {
		return fmt.Errorf("unlink: %w", err)
	}
	return nil
}

// dataDirEntries are the names cb2ac writes at the top of a data dir (the
// metrics file is wherever metrics_file says, and is not among them).
var dataDirEntries = map[string]bool{"state.json": true, "lock": true, "runs": true, "sandbox": true}

// ownEntry says whether a data dir entry is one cb2ac writes, or a temp file
// atomicfile left of one (".state.json.tmp-123").
func ownEntry(name string) bool {
	if dataDirEntries[name] {
		return true
	}
	base, _, ok := strings.Cut(strings.TrimPrefix(name, "."), ".tmp-")
	return ok && strings.HasPrefix(name, ".") && dataDirEntries[base]
}

// Purge deletes what cb2ac wrote in the data dir (state.json, runs/, sandbox/,
// the lock) and then the folder, once empty. A folder that holds anything else is
// not cb2ac's alone (data_dir naming a shared folder, another service's files):
// it is refused with the names and nothing is deleted. The caller holds the lock.
func (p *Pipeline) Purge() error {
	dir := p.Cfg.DataDir
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("unlink --purge: %w", err)
	}
	var foreign []string
	if m, _ := mountOf(dir); m != nil {
		foreign = append(foreign, m.foreign...)
	}
	for _, e := range ents {
		if !ownEntry(e.Name()) {
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) > 0 {
		shown := foreign
		if len(shown) > 5 {
			shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(foreign)-5))
		}
		return fmt.Errorf("unlink --purge: %s holds files cb2ac did not write (%s); nothing deleted: it is not a cb2ac data dir alone", dir, strings.Join(shown, ", "))
	}
	for _, e := range ents {
		if e.Name() == "lock" {
			continue // last: the lock is held until the folder is gone
		}
		if err := removeAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("unlink --purge: %w", err)
		}
	}
	if err := os.Remove(LockPath(dir)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("unlink --purge: %w", err)
	}
	if err := os.Remove(dir); err != nil {
		return fmt.Errorf("unlink --purge: %w", err)
	}
	return nil
}

// --- status --------------------------------------------------------------

// RunStatus is one row of `cb2ac status`.
type RunStatus struct {
	RunID     string            `json:"run_id"`
	Stages    map[string]string `json:"stages"` // stage → running | succeeded | failed
	Created   int64             `json:"created"`
	Updated   int64             `json:"updated"`
	Deleted   int64             `json:"deleted"`
	Unchanged int64             `json:"unchanged"`
	Rejected  int64             `json:"rejected"` // validate + load
	Duration  float64           `json:"duration_seconds"`
	// Synced: the load finished, so state.json moved to this run's synced snapshot.
	// Watermark: the extract became the next incremental base. Current: state.json
	// points at this run now.
	Synced    bool `json:"synced"`
	Watermark bool `json:"watermark_advanced"`
	Current   bool `json:"current"`
	// DryRun: the load only planned (load --dry-run, plan): its counts are what it
	// would have sent, and nothing was. Backfill: the run works on another run's
	// data (Manifest.Backfill).
	DryRun   bool   `json:"dry_run"`
	Backfill bool   `json:"backfill"`
	Error    string `json:"error,omitempty"`
}

// Status describes the last n runs, newest first.
func (p *Pipeline) Status(n int) ([]RunStatus, error) {
	ids, err := ListRuns(p.Cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if n > 0 && len(ids) > n {
		ids = ids[len(ids)-n:]
	}
	rows := make([]RunStatus, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		run := &Run{ID: ids[i], Dir: filepath.Join(RunsDir(p.Cfg.DataDir), ids[i])}
		row := RunStatus{RunID: run.ID, Stages: map[string]string{}}
		m, err := run.Manifest()
		if err != nil {
			row.Error = err.Error()
			rows = append(rows, row)
			continue
		}
		var first, last time.Time
		allOK := len(m.Stages) > 0
		for name, rec := range m.Stages {
			row.Stages[name] = rec.Status
			if rec.Status != StatusSucceeded {
				allOK = false
				if rec.Error != "" && row.Error == "" {
					row.Error = name + ": " + rec.Error
				}
			}
			if first.IsZero() || rec.StartedAt.Before(first) {
				first = rec.StartedAt
			}
			if rec.EndedAt != nil && rec.EndedAt.After(last) {
				last = *rec.EndedAt
			}
		}
		if !last.IsZero() {
			row.Duration = last.Sub(first).Round(time.Millisecond).Seconds()
		}
		if v := m.Stages[StageValidate]; v != nil {
			row.Rejected += v.Counts["rejected"]
		}
		if l := m.Stages[StageLoad]; l != nil {
			c := l.Counts
			row.Created = c["contacts_create"] + c["recurring_payments_create"]
			row.Updated = c["contacts_update"] + c["recurring_payments_update"]
			row.Deleted = c["contacts_delete"] + c["recurring_payments_delete"]
			row.Unchanged = c["contacts_unchanged"] + c["recurring_payments_unchanged"]
			row.Rejected += c["rejected"]
			row.Synced = l.Status == StatusSucceeded && c["dry_run"] == 0
			row.DryRun = c["dry_run"] > 0
		}
		row.Backfill = m.Backfill()
		if e := m.Stages[StageExtract]; e != nil {
			_, hasWM := e.Counts[extract.CountWatermark]
			row.Watermark = allOK && hasWM && e.Counts[extract.CountLimited] == 0
		}
		row.Current = (st.Synced != nil && st.Synced.RunID == run.ID) || st.Extract.RunID == run.ID
		rows = append(rows, row)
	}
	return rows, nil
}

// PrintStatus writes rows as an aligned table.
func PrintStatus(w io.Writer, rows []RunStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tEXTRACT\tVALIDATE\tTRANSFORM\tLOAD\tCREATED\tUPDATED\tDELETED\tUNCHANGED\tREJECTED\tDURATION\tSTATE")
	for _, r := range rows {
		var state []string
		if r.Synced {
			state = append(state, "synced")
		}
		if r.Watermark {
			state = append(state, "watermark")
		}
		if r.Current {
			state = append(state, "current")
		}
		if r.Backfill {
			state = append(state, "backfill")
		}
		if len(state) == 0 {
			state = append(state, "-")
		}
		load := short(r.Stages[StageLoad])
		if r.DryRun && r.Stages[StageLoad] == StatusSucceeded {
			// Its counts are a plan: nothing was sent.
			load = "dry-run"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", r.RunID,
			short(r.Stages[StageExtract]), short(r.Stages[StageValidate]), short(r.Stages[StageTransform]), load,
			r.Created, r.Updated, r.Deleted, r.Unchanged, r.Rejected,
			time.Duration(r.Duration*float64(time.Second)).Round(10*time.Millisecond), strings.Join(state, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.RunID, r.Error)
		}
	}
	return nil
}

func short(status string) string {
	switch status {
	case StatusSucceeded:
		return "ok"
	case "":
		return "-"
	}
	return status
}

// --- errors --------------------------------------------------------------

// ErrorsFilter picks error rows for `cb2ac errors`.
type ErrorsFilter struct {
	RunID string // default: the latest run that has an error file
	Code  string
	Stage string // validate or load
}

// Errors returns the validation and load error rows of one run, in that order.
func (p *Pipeline) Errors(f ErrorsFilter) (string, []schemas.ValidationError, error) {
	runID := f.RunID
	if runID == "" {
		ids, err := ListRuns(p.Cfg.DataDir)
		if err != nil {
			return "", nil, fmt.Errorf("errors: %w", err)
		}
		for i := len(ids) - 1; i >= 0 && runID == ""; i-- {
			for _, stage := range []string{StageLoad, StageValidate} {
				if _, err := os.Stat(errorsPath(p.Cfg.DataDir, ids[i], stage)); err == nil {
					runID = ids[i]
					break
				}
			}
		}
		if runID == "" {
			return "", nil, errors.New("errors: no run has an error file yet")
		}
	} else if err := CheckRunID(runID); err != nil {
		return "", nil, fmt.Errorf("errors: %w", err)
	} else if _, err := os.Stat(filepath.Join(RunsDir(p.Cfg.DataDir), runID)); err != nil {
		return "", nil, fmt.Errorf("errors: run %s: %w", runID, err)
	}
	var out []schemas.ValidationError
	for _, stage := range []string{StageValidate, StageLoad} {
		if f.Stage != "" && f.Stage != stage {
			continue
		}
		rows, err := schemas.ReadCSV[schemas.ValidationError](errorsPath(p.Cfg.DataDir, runID, stage))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return runID, nil, fmt.Errorf("errors: %w", err)
		}
		for _, r := range rows {
			if f.Code == "" || r.Code == f.Code {
				if r.Stage == "" {
					r.Stage = stage
				}
				out = append(out, r)
			}
		}
	}
	return runID, out, nil
}

func errorsPath(dataDir, runID, stage string) string {
	name := validate.ErrorsFile
	if stage == StageLoad {
		name = load.ErrorsFile
	}
	return filepath.Join(RunsDir(dataDir), runID, stage, name)
}

// PrintErrors writes error rows as an aligned table with a count per code.
func PrintErrors(w io.Writer, runID string, rows []schemas.ValidationError) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tENTITY\tRECORD\tCUSTOMER\tCODE\tFIELD\tMESSAGE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Stage, r.Entity, r.RecordID, r.CustomerID, r.Code, r.Field, oneLine(r.Message))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	byCode := map[string]int{}
	for _, r := range rows {
		byCode[r.Code]++
	}
	codes := slices.SortedFunc(maps.Keys(byCode), func(a, b string) int {
		return cmp.Or(cmp.Compare(byCode[b], byCode[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s=%d", c, byCode[c])
	}
	fmt.Fprintf(w, "run %s: %d errors %s\n", runID, len(rows), strings.Join(parts, " "))
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
