package pipeline

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	"github.com/cb2ac/cb2ac/stages/extract"
)

// MetricsFileMode is the metrics file's mode: node_exporter runs as its own user
// and must read it. It holds no secret and no customer data (stage and list names,
// counts, times, the version), unlike everything else cb2ac writes.
const MetricsFileMode os.FileMode = 0o644

// Extract counts that are not record counts: each gets its own family (a watermark
// is a Unix time, incremental and limited are flags, format is a file version), so
// that cb2ac_stage_records holds record counts only and a sum() over it means
// something.
var notRecordCounts = map[string]bool{
	extract.CountWatermark:   true,
	extract.CountFormat:      true,
	extract.CountIncremental: true,
	extract.CountLimited:     true,
}

// WriteMetrics writes a Prometheus textfile (node_exporter's textfile collector
// format) describing run as its manifest stands (every stage command writes it, so
// a run driven stage by stage shows the stages done so far), plus the time of the
// last fully successful run. The file is replaced atomically, as the collector
// requires: it must never read half a file. Every family is a gauge (the file
// describes one run, nothing accumulates), has HELP and TYPE lines and follows
// Prometheus' naming rules (checked by internal/promlint in the tests).
func (p *Pipeline) WriteMetrics(path string, run *Run) error {
	m, err := run.Manifest()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var b bytes.Buffer
	family := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	stages := slices.Sorted(maps.Keys(m.Stages))

	family("cb2ac_build_info", "The cb2ac version that wrote this file (always 1).")
	fmt.Fprintf(&b, "cb2ac_build_info{version=%s} 1\n", quoteLabel(Version))

	family("cb2ac_stage_success", "1 if the stage succeeded in the last run, 0 if it failed or did not finish.")
	for _, s := range stages {
		ok := 0
		if m.Stages[s].Status == StatusSucceeded {
			ok = 1
		}
		fmt.Fprintf(&b, "cb2ac_stage_success{stage=%s} %d\n", quoteLabel(s), ok)
	}
	family("cb2ac_stage_duration_seconds", "Wall time of each stage of the last run.")
	for _, s := range stages {
		fmt.Fprintf(&b, "cb2ac_stage_duration_seconds{stage=%s} %s\n", quoteLabel(s), fnum(float64(m.Stages[s].DurationMS)/1000))
	}
	family("cb2ac_stage_records", "Records each stage of the last run counted, by count name (read, written, rejected, created, updated...).")
	for _, s := range stages {
		counts := m.Stages[s].Counts
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			if s == StageExtract && (notRecordCounts[k] || strings.HasPrefix(k, extract.CountListWatermark)) {
				continue
			}
			fmt.Fprintf(&b, "cb2ac_stage_records{stage=%s,name=%s} %d\n", quoteLabel(s), quoteLabel(k), counts[k])
		}
	}
	if ex := m.Stages[StageExtract]; ex != nil {
		if wm := extract.ListWatermarks(ex.Counts); len(wm) > 0 {
			family("cb2ac_extract_watermark_seconds", "Per Chargebee list, the updated_at watermark the last run's extract reached (Unix seconds, Chargebee's clock).")
			for _, l := range slices.Sorted(maps.Keys(wm)) {
				fmt.Fprintf(&b, "cb2ac_extract_watermark_seconds{list=%s} %d\n", quoteLabel(l), wm[l])
			}
		}
		family("cb2ac_extract_incremental", "1 if the last run's extract read only what changed and merged it into the previous extract, 0 if it read everything.")
		fmt.Fprintf(&b, "cb2ac_extract_incremental %d\n", flag(ex.Counts[extract.CountIncremental]))
		family("cb2ac_extract_limited", "1 if --limit cut the last run's extract (a trial run, never the base of the next extract).")
		fmt.Fprintf(&b, "cb2ac_extract_limited %d\n", flag(ex.Counts[extract.CountLimited]))
	}
	family("cb2ac_last_run_timestamp_seconds", "When the last run started (Unix seconds).")
	fmt.Fprintf(&b, "cb2ac_last_run_timestamp_seconds %s\n", fnum(float64(runStart(m).UnixMilli())/1000))

	// The last fully successful run may be this one or an older one still on disk.
	ids, err := ListRuns(p.Cfg.DataDir)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		r := &Run{ID: ids[i], Dir: filepath.Join(RunsDir(p.Cfg.DataDir), ids[i])}
		rm, err := r.Manifest()
		if err != nil || len(rm.Stages) == 0 {
			continue
		}
		end, ok := runEnd(rm)
		if !ok {
			continue
		}
		family("cb2ac_last_success_timestamp_seconds", "When the last run whose every stage succeeded ended (Unix seconds).")
		fmt.Fprintf(&b, "cb2ac_last_success_timestamp_seconds %s\n", fnum(float64(end)/1000))
		break
	}
	if err := atomicfile.WriteFileMode(path, b.Bytes(), MetricsFileMode); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

func flag(n int64) int {
	if n != 0 {
		return 1
	}
	return 0
}

// quoteLabel quotes a label value as the text format wants: backslash, double quote
// and newline escaped, everything else (UTF-8) as is. Go's %q would also escape
// non-ASCII runes as \uXXXX, which the format does not know.
func quoteLabel(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func runStart(m *Manifest) (t time.Time) {
	for _, s := range m.Stages {
		if t.IsZero() || s.StartedAt.Before(t) {
			t = s.StartedAt
		}
	}
	return t
}

// runEnd is the end of a run whose stages all succeeded, in Unix milliseconds.
func runEnd(m *Manifest) (int64, bool) {
	var end int64
	for _, s := range m.Stages {
		if s.Status != StatusSucceeded || s.EndedAt == nil {
			return 0, false
		}
		end = max(end, s.EndedAt.UnixMilli())
	}
	return end, true
}
