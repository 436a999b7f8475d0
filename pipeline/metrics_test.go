package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/internal/promlint"
	"github.com/cb2ac/cb2ac/stages/extract"
)

// The metrics file passes promtool's rules, keeps record counts apart from the
// watermarks and flags, and is readable by node_exporter (0644 whatever the umask).
func TestWriteMetrics(t *testing.T) {
	p := testPipeline(t)
	defer func(v string) { Version = v }(Version)
	Version = `1.2.3-"dev"é`
	counts := map[string]int64{
		"customers": 82, "subscriptions": 77,
		extract.CountWatermark: 1795137700, extract.CountListWatermark + "customers": 1795137700,
		extract.CountListWatermark + "item_prices": 1795130000, extract.CountFormat: 2,
		extract.CountIncremental: 1,
	}
	run := extractRun(t, p, "20261201T000000Z", sbxURL, counts, nil)
	now := time.Now().UTC()
	if err := run.setStage(StageValidate, &StageRecord{Status: StatusFailed, StartedAt: now, DurationMS: 1500, Counts: map[string]int64{"rejected": 21, "read": 82}}); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(t.TempDir(), "cb2ac.prom")
	old := umask(0o077)
	err := p.WriteMetrics(prom, run)
	umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(prom); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("metrics file mode %v, %v; want 0644 (node_exporter reads it)", fi.Mode(), err)
	}
	data, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.Lint(data)
	if err != nil {
		t.Fatalf("not Prometheus text format: %v\n%s", err, data)
	}
	for _, pr := range problems {
		t.Errorf("promlint: %s", pr)
	}
	text := string(data)
	for _, want := range []string{
		`cb2ac_build_info{version="1.2.3-\"dev\"é"} 1`,
		`cb2ac_stage_records{stage="extract",name="customers"} 82`,
		`cb2ac_stage_records{stage="validate",name="rejected"} 21`,
		`cb2ac_stage_success{stage="validate"} 0`,
		`cb2ac_stage_duration_seconds{stage="validate"} 1.5`,
		`cb2ac_extract_watermark_seconds{list="customers"} 1795137700`,
		`cb2ac_extract_watermark_seconds{list="item_prices"} 1795130000`,
		"cb2ac_extract_incremental 1\n",
		"cb2ac_extract_limited 0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics file lacks %s\n%s", want, text)
		}
	}
	for _, not := range []string{`name="watermark`, `name="format"`, `name="incremental"`, `name="limited"`, "cb2ac_last_success_timestamp_seconds"} {
		if strings.Contains(text, not) {
			t.Errorf("metrics file holds %s: a watermark or flag among the record counts, or a last success with none\n%s", not, text)
		}
	}
}

// The linter refuses what the old metrics file had, and the other rules promtool
// applies.
func TestPromlintRules(t *testing.T) {
	bad := `# HELP cb2ac_stage_count Counts.
# TYPE cb2ac_stage_count gauge
cb2ac_stage_count{stage="extract",name="customers"} 3
# TYPE requests counter
requests 3
# HELP latency_milliseconds x
# TYPE latency_milliseconds gauge
latency_milliseconds 3
# HELP size_kb x
# TYPE size_kb gauge
size_kb{le="1"} 3
# HELP queue_gauge x
# TYPE queue_gauge gauge
queue_gauge{fooBar="x"} 1
# HELP jobs_total x
# TYPE jobs_total gauge
jobs_total 1
# HELP last_run_timestamp x
# TYPE last_run_timestamp gauge
last_run_timestamp 1
# HELP x_info x
# TYPE x_info gauge
x_info{version="1"} 2
untyped_thing 1
`
	problems, err := promlint.Lint([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`cb2ac_stage_count: non-histogram and non-summary metrics should not have "_count" suffix`,
		`requests: no help text`,
		`requests: counter metrics should have "_total" suffix`,
		`latency_milliseconds: use base unit "seconds" instead of "milliseconds"`,
		`size_kb: metric names should not contain abbreviated units ("kb")`,
		`size_kb: non-histogram metrics should not have "le" label`,
		`queue_gauge: metric name should not include type 'gauge'`,
		`queue_gauge: label names should be written in 'snake_case' not 'camelCase' (fooBar)`,
		`jobs_total: non-counter metrics should not have "_total" suffix`,
		`last_run_timestamp: a timestamp should say its unit: end in _seconds`,
		`x_info: an _info metric's value is 1`,
		`untyped_thing: no TYPE line`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("promlint missed %q; found:\n%s", want, all)
		}
	}
	if _, err := promlint.Lint([]byte("# TYPE a gauge\na{b=\"c} 1\n")); err == nil {
		t.Error("a malformed file parsed")
	}
}
