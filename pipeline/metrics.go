package pipeline

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
)

// WriteMetrics writes a Prometheus textfile (node_exporter's textfile collector
// format) describing run, plus the time of the last fully successful run. The file
// is replaced atomically, as the collector requires: it must never read half a file.
func (p *Pipeline) WriteMetrics(path string, run *Run) error {
	m, err := run.Manifest()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var b bytes.Buffer
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	stages := slices.Sorted(maps.Keys(m.Stages))

	family("cb2ac_stage_success", "gauge", "1 if the stage succeeded in the last run, 0 if it failed or did not finish.")
	for _, s := range stages {
		ok := 0
		if m.Stages[s].Status == StatusSucceeded {
			ok = 1
		}
		fmt.Fprintf(&b, "cb2ac_stage_success{stage=%q} %d\n", s, ok)
	}
	family("cb2ac_stage_duration_seconds", "gauge", "Wall time of each stage of the last run.")
	for _, s := range stages {
		fmt.Fprintf(&b, "cb2ac_stage_duration_seconds{stage=%q} %s\n", s, fnum(float64(m.Stages[s].DurationMS)/1000))
	}
	family("cb2ac_stage_count", "gauge", "Counts each stage of the last run reported (records read, written, rejected, requests...).")
	for _, s := range stages {
		counts := m.Stages[s].Counts
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			fmt.Fprintf(&b, "cb2ac_stage_count{stage=%q,name=%q} %d\n", s, k, counts[k])
		}
	}
	family("cb2ac_last_run_timestamp_seconds", "gauge", "When the last run started (Unix seconds).")
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
		family("cb2ac_last_success_timestamp_seconds", "gauge", "When the last run whose every stage succeeded ended (Unix seconds).")
		fmt.Fprintf(&b, "cb2ac_last_success_timestamp_seconds %s\n", fnum(float64(end)/1000))
		break
	}
	if err := atomicfile.WriteFile(path, b.Bytes()); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
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
