package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cb2ac/cb2ac/internal/promlint"
	"github.com/cb2ac/cb2ac/pipeline"
	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
)

// opsAC is an in-process AC sandbox with no rate limit, and a config that lets the
// client go fast against it.
type opsAC struct {
	srv    *acsandbox.Server
	env    []string
	config string
}

func newOpsAC(t *testing.T, opts acsandbox.Options, extraConfig string) *opsAC {
	t.Helper()
	srv, err := acsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := filepath.Join(t.TempDir(), "cb2ac.yaml")
	body := "activecampaign:\n  list: Customers\n  rate_limit: 1000\n  import_poll: 10ms\n" + extraConfig
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &opsAC{srv: srv, env: []string{"AC_API_URL=" + url, "AC_API_TOKEN=" + acsandbox.DefaultToken}, config: cfg}
}

func (a *opsAC) run(t *testing.T, args ...string) result {
	t.Helper()
	return cb2acEnv(t, a.env, append([]string{"--config", a.config}, args...)...)
}

// treeDigest describes every file under dir (path, mode, size, mtime, content hash),
// to prove that a command left the folder exactly as it was.
func treeDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		desc := info.Mode().String() + " " + info.ModTime().Format(time.RFC3339Nano)
		if !d.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " " + hex.EncodeToString(sum[:])
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed: %q → %q", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared", k)
		}
	}
}

func TestLockedDataDirExits75AndTouchesNothing(t *testing.T) {
	data := t.TempDir()
	if r := cb2ac(t, "--data-dir", data, "run", "--in", "fixtures/chargebee"); r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	// A lock held by another open file description conflicts exactly as one held by
	// another process does (flock(2)).
	unlock, err := pipeline.Lock(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := treeDigest(t, data)
	for _, args := range [][]string{
		{"run", "--in", "fixtures/chargebee"},
		{"extract", "--in", "fixtures/chargebee"},
		{"validate"}, {"transform"}, {"plan"}, {"load"},
		{"prune", "--keep", "1"}, {"unlink"},
	} {
		r := cb2ac(t, append([]string{"--data-dir", data}, args...)...)
		if r.code != 75 {
			t.Errorf("%v: exit %d, want 75 (stderr %q)", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "another cb2ac is running") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: want one line naming the lock, got %q", args, r.stderr)
		}
	}
	sameTree(t, before, treeDigest(t, data))
	// Reading commands do not need the lock.
	if r := cb2ac(t, "--data-dir", data, "status"); r.code != 0 {
		t.Errorf("status under lock: exit %d: %s", r.code, r.stderr)
	}
	unlock()
	if r := cb2ac(t, "--data-dir", data, "run", "--in", "fixtures/chargebee"); r.code != 0 {
		t.Fatalf("run after unlock: exit %d: %s", r.code, r.stderr)
	}
}

func TestTwoConcurrentRuns(t *testing.T) {
	data := t.TempDir()
	ac := newOpsAC(t, acsandbox.Options{Latency: 20 * time.Millisecond}, "")
	first, _, firstErr := cliCommand(ac.env, "--config", ac.config, "--data-dir", data, "run", "--in", "fixtures/chargebee")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the first run holds the lock (it writes its pid there).
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(pipeline.LockPath(data))
		if bytes.Contains(b, []byte("pid ")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first run never took the lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	second := ac.run(t, "--data-dir", data, "run", "--in", "fixtures/chargebee")
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v: %s", err, firstErr.String())
	}
	if second.code != 75 {
		t.Fatalf("second run: exit %d, want 75: %s", second.code, second.stderr)
	}
	runs, _ := pipeline.ListRuns(data)
	if len(runs) != 1 {
		t.Errorf("runs after two concurrent runs: %v, want only the first's", runs)
	}
}

func TestSyncDisabledDoesNothing(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "cb2ac.yaml")
	os.WriteFile(cfg, []byte("sync:\n  enabled: false\n"), 0o600)
	data := filepath.Join(t.TempDir(), "data")
	r := cb2ac(t, "--config", cfg, "--data-dir", data, "run", "--in", "fixtures/chargebee")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 || !strings.Contains(r.stdout, "sync is disabled") {
		t.Errorf("want one line saying sync is disabled, got %q", r.stdout)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data dir exists after a disabled run: %v", err)
	}
}

// Durations and bulk import ids vary between runs; golden files hold placeholders.
var (
	durationRE = regexp.MustCompile(`\b[0-9.]+(ms|s|µs|m[0-9.]+s)\b *`)
	uuidRE     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

func TestStatusAndErrorsGolden(t *testing.T) {
	data := t.TempDir()
	ac := newOpsAC(t, acsandbox.Options{FailEmails: []string{"oliver.smith@example.org"}}, "")
	// Run 1 loads with one email AC rejects; run 2 has no AC: load is skipped.
	r := ac.run(t, "--data-dir", data, "--run-id", "20261101T020000Z", "run", "--in", "fixtures/chargebee")
	if r.code != 2 {
		t.Fatalf("run 1: exit %d, want 2 (AC rejected records): %s", r.code, r.stderr)
	}
	if r := cb2ac(t, "--data-dir", data, "--run-id", "20261102T020000Z", "run", "--in", "fixtures/chargebee"); r.code != 0 {
		t.Fatalf("run 2: exit %d: %s", r.code, r.stderr)
	}

	st := cb2ac(t, "--data-dir", data, "status")
	if st.code != 0 {
		t.Fatalf("status: exit %d: %s", st.code, st.stderr)
	}
	// The duration column's width follows the longest duration: squeeze the padding
	// after it too, or a slow machine (12.5s where the golden run took 2.5s) fails.
	golden(t, "status.txt", []byte(durationRE.ReplaceAllString(st.stdout, "D ")))

	js := cb2ac(t, "--data-dir", data, "status", "--json")
	var rows []pipeline.RunStatus
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil {
		t.Fatalf("status --json: %v\n%s", err, js.stdout)
	}
	if len(rows) != 2 || rows[1].RunID != "20261101T020000Z" || !rows[1].Synced || rows[1].Created == 0 || rows[0].Stages["load"] != "" {
		t.Errorf("status --json: %+v", rows)
	}

	// Both stages' errors, validate first; then filters.
	all := cb2ac(t, "--data-dir", data, "errors", "--run", "20261101T020000Z")
	golden(t, "errors.txt", []byte(uuidRE.ReplaceAllString(all.stdout, "ID")))
	if !strings.Contains(all.stdout, "load      ") || !strings.Contains(all.stdout, "validate  ") {
		t.Errorf("errors: want validate and load rows:\n%s", all.stdout)
	}
	loadOnly := cb2ac(t, "--data-dir", data, "errors", "--run", "20261101T020000Z", "--stage", "load", "--csv")
	golden(t, "errors-load.csv", []byte(uuidRE.ReplaceAllString(loadOnly.stdout, "ID")))
	code := cb2ac(t, "--data-dir", data, "errors", "--code", "invalid_email", "--csv", "--redact")
	golden(t, "errors-invalid-email-redacted.csv", []byte(code.stdout))
	if strings.Contains(code.stdout, "not-an-email") {
		t.Error("--redact left an email in the output")
	}
	if r := cb2ac(t, "--data-dir", data, "errors", "--stage", "bogus"); r.code != 1 {
		t.Errorf("--stage bogus: exit %d", r.code)
	}
}

func TestUnlinkThenPlanIsFullCreate(t *testing.T) {
	data := t.TempDir()
	ac := newOpsAC(t, acsandbox.Options{}, "")
	if r := ac.run(t, "--data-dir", data, "run", "--in", "fixtures/chargebee"); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	planLine := func() string {
		r := ac.run(t, "--data-dir", data, "plan")
		if r.code != 0 {
			t.Fatalf("plan: exit %d: %s", r.code, r.stderr)
		}
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "plan:") {
				return strings.TrimSpace(l)
			}
		}
		t.Fatalf("no plan line in %q", r.stdout)
		return ""
	}
	// The synced run's load folder is the snapshot the next load diffs against: a
	// plan must not replace it.
	if r := ac.run(t, "--data-dir", data, "plan"); r.code != 1 || !strings.Contains(r.stderr, "holds the synced snapshot") {
		t.Errorf("plan into the synced run: exit %d: %s", r.code, r.stderr)
	}
	if r := ac.run(t, "--data-dir", data, "transform"); r.code != 1 || !strings.Contains(r.stderr, "holds the synced snapshot") {
		t.Errorf("transform into the synced run: exit %d: %s", r.code, r.stderr)
	}
	if r := ac.run(t, "--data-dir", data, "run", "--in", "fixtures/chargebee"); r.code != 0 || !strings.Contains(r.stdout, "contacts create=0 ") {
		t.Errorf("second run: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if r := ac.run(t, "--data-dir", data, "unlink"); r.code != 0 {
		t.Fatalf("unlink: exit %d: %s", r.code, r.stderr)
	}
	st, err := pipeline.LoadState(data)
	if err != nil {
		t.Fatal(err)
	}
	if st.AC != nil || st.Synced != nil {
		t.Errorf("state after unlink still has AC ids or a synced snapshot: %+v", st)
	}
	if got := planLine(); !strings.Contains(got, "contacts create=74 update=0 delete=0 unchanged=0; recurring payments create=80 ") {
		t.Errorf("plan after unlink is not a full create: %s", got)
	}

	// --purge asks first; without "yes" nothing is deleted.
	cmd, _, _ := cliCommand(nil, "--data-dir", data, "unlink", "--purge")
	cmd.Stdin = strings.NewReader("no\n")
	if err := cmd.Run(); err == nil {
		t.Error("unlink --purge answered no: want a failure")
	}
	if _, err := os.Stat(data); err != nil {
		t.Fatalf("data dir gone after a refused purge: %v", err)
	}
	if r := cb2ac(t, "--data-dir", data, "unlink", "--purge", "--yes"); r.code != 0 {
		t.Fatalf("unlink --purge --yes: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data dir still there after purge: %v", err)
	}
}

func TestPruneKeepsTheSyncedRun(t *testing.T) {
	data := t.TempDir()
	ac := newOpsAC(t, acsandbox.Options{}, "")
	if r := ac.run(t, "--data-dir", data, "--run-id", "20261101T000000Z", "run", "--in", "fixtures/chargebee"); r.code != 0 {
		t.Fatalf("synced run: exit %d: %s", r.code, r.stderr)
	}
	for _, id := range []string{"20261102T000000Z", "20261103T000000Z", "20261104T000000Z"} {
		if r := cb2ac(t, "--data-dir", data, "--run-id", id, "run", "--in", "fixtures/chargebee"); r.code != 0 {
			t.Fatalf("run %s: exit %d: %s", id, r.code, r.stderr)
		}
	}
	r := cb2ac(t, "--data-dir", data, "prune", "--keep", "1")
	if r.code != 0 {
		t.Fatalf("prune: exit %d: %s", r.code, r.stderr)
	}
	runs, _ := pipeline.ListRuns(data)
	if want := []string{"20261101T000000Z", "20261104T000000Z"}; strings.Join(runs, ",") != strings.Join(want, ",") {
		t.Errorf("runs after prune --keep 1: %v, want %v (the synced one and the newest)", runs, want)
	}
	if r := ac.run(t, "--data-dir", data, "--run-id", "20261104T000000Z", "plan"); r.code != 0 || !strings.Contains(r.stdout, "contacts create=0 ") {
		t.Errorf("plan after prune (needs the synced snapshot): exit %d: %s %s", r.code, r.stdout, r.stderr)
	}

	// retention.keep_runs prunes after each run.
	cfg := filepath.Join(t.TempDir(), "cb2ac.yaml")
	os.WriteFile(cfg, []byte("retention:\n  keep_runs: 2\n"), 0o600)
	for _, id := range []string{"20261105T000000Z", "20261106T000000Z"} {
		if r := cb2ac(t, "--config", cfg, "--data-dir", data, "--run-id", id, "run", "--in", "fixtures/chargebee"); r.code != 0 {
			t.Fatalf("run %s: exit %d: %s", id, r.code, r.stderr)
		}
	}
	runs, _ = pipeline.ListRuns(data)
	if want := []string{"20261101T000000Z", "20261105T000000Z", "20261106T000000Z"}; strings.Join(runs, ",") != strings.Join(want, ",") {
		t.Errorf("runs with keep_runs 2: %v, want %v", runs, want)
	}
}

// Every stage command writes the metrics file (the DAG runs one task per stage),
// and run does; the file passes promtool's rules (internal/promlint), parses as the
// Prometheus text format, is readable by node_exporter (0644) and holds no secret.
func TestMetricsFileParses(t *testing.T) {
	ac := newOpsAC(t, acsandbox.Options{}, "")
	const cbKey = "test_cbKEYnotInMetrics"
	ac.env = append(ac.env, "CHARGEBEE_API_KEY="+cbKey)
	dir := t.TempDir()
	type valueFunc func(family string, labels map[string]string) (float64, bool)
	read := func(prom string) (string, valueFunc) {
		t.Helper()
		data, err := os.ReadFile(prom)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(prom); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v; want 0644 (node_exporter reads it)", prom, fi.Mode(), err)
		}
		problems, err := promlint.Lint(data)
		if err != nil {
			t.Fatalf("metrics file is not Prometheus text format: %v\n%s", err, data)
		}
		for _, p := range problems {
			t.Errorf("promtool rule broken: %s", p)
		}
		for _, secret := range []string{cbKey, acsandbox.DefaultToken} {
			if strings.Contains(string(data), secret) {
				t.Errorf("metrics file holds a secret")
			}
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return string(data), func(family string, labels map[string]string) (float64, bool) {
			mf := families[family]
			if mf == nil {
				return 0, false
			}
		next:
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
						continue next
					}
				}
				return m.GetGauge().GetValue(), true
			}
			return 0, false
		}
	}

	// One command per stage into one run, as the DAG does: each leaves the file
	// describing the stages done so far.
	data, prom := filepath.Join(dir, "data"), filepath.Join(dir, "stages.prom")
	const runID = "20261201T020000Z"
	steps := [][]string{
		{"extract", "--in", "fixtures/chargebee"},
		{"validate"},
		{"transform"},
		{"load"},
	}
	for i, step := range steps {
		args := append([]string{"--data-dir", data, "--metrics-file", prom, "--run-id", runID}, step...)
		if r := ac.run(t, args...); r.code != 0 {
			t.Fatalf("%s: exit %d: %s", step[0], r.code, r.stderr)
		}
		text, value := read(prom)
		for j, done := range steps {
			v, ok := value("cb2ac_stage_success", map[string]string{"stage": done[0]})
			if j <= i && (!ok || v != 1) {
				t.Errorf("after %s: cb2ac_stage_success{stage=%q} = %v, %v; want 1\n%s", step[0], done[0], v, ok, text)
			}
			if j > i && ok {
				t.Errorf("after %s: %s already has a success metric", step[0], done[0])
			}
		}
		if v, ok := value("cb2ac_build_info", nil); !ok || v != 1 {
			t.Errorf("after %s: no cb2ac_build_info", step[0])
		}
	}

	// run writes it too, with every stage.
	prom = filepath.Join(dir, "run.prom")
	if r := ac.run(t, "--data-dir", filepath.Join(dir, "data2"), "--metrics-file", prom, "run", "--in", "fixtures/chargebee"); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	text, value := read(prom)
	for _, stage := range []string{"extract", "validate", "transform", "load"} {
		if v, ok := value("cb2ac_stage_success", map[string]string{"stage": stage}); !ok || v != 1 {
			t.Errorf("cb2ac_stage_success{stage=%q} = %v, %v; want 1", stage, v, ok)
		}
		if _, ok := value("cb2ac_stage_duration_seconds", map[string]string{"stage": stage}); !ok {
			t.Errorf("no duration for %s", stage)
		}
	}
	if v, ok := value("cb2ac_stage_records", map[string]string{"stage": "validate", "name": "rejected"}); !ok || v != 21 {
		t.Errorf("validate rejected = %v, %v; want 21", v, ok)
	}
	if v, ok := value("cb2ac_extract_incremental", nil); !ok || v != 0 {
		t.Errorf("cb2ac_extract_incremental = %v, %v; want 0 (a pages extract reads everything)", v, ok)
	}
	if strings.Contains(text, "cb2ac_stage_count") {
		t.Errorf("the old cb2ac_stage_count family is still written")
	}
	last, ok := value("cb2ac_last_success_timestamp_seconds", nil)
	if !ok || time.Since(time.Unix(int64(last), 0)) > time.Hour {
		t.Errorf("last success = %v, %v", last, ok)
	}
}

// unlink --purge deletes only what cb2ac wrote: a data_dir that holds anything
// else (a shared folder, another service's database) is refused whole, with the
// names, and nothing is deleted.
func TestPurgeRefusesFolderNotCb2acs(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if r := cb2ac(t, "--data-dir", data, "run", "--in", "fixtures/chargebee"); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	sibling := filepath.Join(data, "sibling.db")
	if err := os.WriteFile(sibling, []byte("another service's data"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cb2ac(t, "--data-dir", data, "unlink", "--purge", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "sibling.db") || !strings.Contains(r.stderr, "nothing deleted") {
		t.Errorf("purge of a folder with a foreign file: exit %d, stderr %q; want 1 naming it", r.code, r.stderr)
	}
	for _, p := range []string{sibling, pipeline.RunsDir(data), pipeline.LockPath(data)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s after a refused purge: %v", p, err)
		}
	}
	// A folder that is not a cb2ac data dir at all keeps everything too.
	other := t.TempDir()
	os.MkdirAll(filepath.Join(other, "postgres", "base"), 0o700)
	if r := cb2ac(t, "--data-dir", other, "unlink", "--purge", "--yes"); r.code != 1 || !strings.Contains(r.stderr, "postgres") {
		t.Errorf("purge of a foreign folder: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(other, "postgres", "base")); err != nil {
		t.Errorf("foreign folder's content after a refused purge: %v", err)
	}
	// cb2ac's own folder (a temp file atomicfile left included) is purged.
	os.Remove(sibling)
	os.WriteFile(filepath.Join(data, ".state.json.tmp-123"), nil, 0o600)
	if r := cb2ac(t, "--data-dir", data, "unlink", "--purge", "--yes"); r.code != 0 {
		t.Fatalf("purge: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data dir after purge: %v", err)
	}
}

// cronLineRE is a crontab entry, active or commented out: five time fields, then the
// command.
var cronLineRE = regexp.MustCompile(`^#? ?((?:\S+\s+){4}\S+)\s+(cd .*)$`)

// The cron example: every job under `timeout`, human lines (stdout) and JSON logs
// (stderr) in separate files, both rotated by scripts/cb2ac.logrotate; and the
// 6-hourly line, run by bash against the fixtures with the paths moved into a temp
// folder, leaves only JSON in the JSON log and no JSON in the summary.
func TestCronExample(t *testing.T) {
	src, err := os.ReadFile("scripts/cron.example")
	if err != nil {
		t.Fatal(err)
	}
	rotate, err := os.ReadFile("scripts/cb2ac.logrotate")
	if err != nil {
		t.Fatal(err)
	}
	const summary, jsonLog = "/var/log/cb2ac/summary.log", "/var/log/cb2ac/cb2ac.json.log"
	for _, f := range []string{summary, jsonLog} {
		if !strings.Contains(string(rotate), f) {
			t.Errorf("cb2ac.logrotate does not rotate %s", f)
		}
	}
	var active []string
	jobs := 0
	for _, line := range strings.Split(string(src), "\n") {
		m := cronLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		jobs++
		cmd := m[2]
		if !regexp.MustCompile(`\btimeout (--kill-after=\S+ )?\d+[smhd]? cb2ac `).MatchString(cmd) {
			t.Errorf("cron job without timeout: %s", line)
		}
		if strings.Contains(cmd, "2>&1") || !strings.Contains(cmd, ">> "+summary) || !strings.Contains(cmd, "2>> "+jsonLog) {
			t.Errorf("cron job does not keep stdout (%s) and stderr (%s) apart: %s", summary, jsonLog, line)
		}
		if !strings.Contains(cmd, "--log-format json") {
			t.Errorf("cron job without --log-format json: %s", line)
		}
		if !strings.HasPrefix(line, "#") {
			active = append(active, cmd)
		}
	}
	if jobs < 3 || len(active) != 1 {
		t.Fatalf("found %d cron jobs, %d active; want the 6-hourly one active and the nightly and weekly ones commented", jobs, len(active))
	}

	// Run the active job as cron would, moved into a temp folder, on the fixtures.
	tmp := t.TempDir()
	fixtures, err := filepath.Abs("fixtures/chargebee")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"lib", "log", "etc", "textfile"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "etc", "cb2ac.yaml"), []byte("data_dir: ./data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := strings.NewReplacer(
		"/var/lib/cb2ac", filepath.Join(tmp, "lib"),
		"/var/log/cb2ac", filepath.Join(tmp, "log"),
		"/etc/cb2ac", filepath.Join(tmp, "etc"),
		"/var/lib/node_exporter/textfile", filepath.Join(tmp, "textfile"),
		"run --source chargebee", "run --in "+fixtures,
	).Replace(active[0])
	sh, bin := exec.Command("bash", "-c", cmd), filepath.Dir(binary)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AC_") && !strings.HasPrefix(kv, "CHARGEBEE_") && !strings.HasPrefix(kv, "CB2AC_") && !strings.HasPrefix(kv, "PATH=") {
			sh.Env = append(sh.Env, kv)
		}
	}
	sh.Env = append(sh.Env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := sh.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("%s: %v; cron would mail:\n%s", cmd, err, out)
	}
	human, err := os.ReadFile(filepath.Join(tmp, "log", "summary.log"))
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.ReadFile(filepath.Join(tmp, "log", "cb2ac.json.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(bytes.TrimSpace(human)) == 0 || len(bytes.TrimSpace(logs)) == 0 {
		t.Fatalf("summary.log %d bytes, cb2ac.json.log %d bytes; want both written", len(human), len(logs))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(human)), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "{") || strings.Contains(line, `"level":`) {
			t.Errorf("a JSON log line in summary.log: %s", line)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(logs)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("not a JSON log line in cb2ac.json.log: %s", line)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "textfile", "cb2ac.prom")); err != nil {
		t.Errorf("the cron job wrote no metrics file: %v", err)
	}
}
