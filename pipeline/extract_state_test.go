package pipeline

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/stages/extract"
)

const sbxURL = "http://127.0.0.1:7431/api/v2"

// cbEnv sets every Chargebee variable, so the developer's own never leak in.
func cbEnv(t *testing.T, kv map[string]string) {
	for _, name := range []string{EnvChargebeeSite, EnvChargebeeAPIURL, EnvChargebeeAPIKey, EnvChargebeeAPIKey + "_FILE"} {
		t.Setenv(name, kv[name])
	}
}

func testPipeline(t *testing.T) *Pipeline {
	t.Helper()
	cfg, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	return New(cfg, slog.New(slog.DiscardHandler), io.Discard)
}

func TestChargebeeAPIURL(t *testing.T) {
	p := testPipeline(t)
	cases := []struct {
		env             map[string]string
		cfgSite, cfgURL string
		want, err       string
	}{
		{env: map[string]string{EnvChargebeeAPIURL: sbxURL + "/"}, cfgSite: "acme", cfgURL: "https://x/api/v2", want: sbxURL},
		{cfgSite: "acme", cfgURL: "https://proxy.example/api/v2", want: "https://proxy.example/api/v2"},
		{env: map[string]string{EnvChargebeeSite: "acme-test"}, cfgSite: "acme", want: "https://acme-test.chargebee.com/api/v2"},
		{cfgSite: "acme", want: "https://acme.chargebee.com/api/v2"},
		{cfgSite: "acme.chargebee.com", err: "site name only"},
		{err: "no Chargebee site"},
	}
	for i, c := range cases {
		cbEnv(t, c.env)
		p.Cfg.Chargebee.Site, p.Cfg.Chargebee.APIURL = c.cfgSite, c.cfgURL
		got, err := p.ChargebeeAPIURL()
		if (err != nil) != (c.err != "") || (err != nil && !strings.Contains(err.Error(), c.err)) || got != c.want {
			t.Errorf("case %d: %q, %v; want %q, %q", i, got, err, c.want, c.err)
		}
	}
	if SiteKey("https://acme.chargebee.com/api/v2") != "acme" || SiteKey(sbxURL) != sbxURL {
		t.Error("SiteKey")
	}
}

// extractRun writes a run whose extract read the API at url (or, with url "",
// a pages folder) and whose other stages have the given statuses.
func extractRun(t *testing.T, p *Pipeline, id, url string, counts map[string]int64, stages map[string]string) *Run {
	t.Helper()
	run, err := OpenRun(p.Cfg.DataDir, id, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(run.StageDir(StageExtract), 0o700); err != nil {
		t.Fatal(err)
	}
	in := []Input{{Dir: "fixtures/chargebee"}}
	if url != "" {
		in = []Input{{Dir: url}}
	}
	if err := run.setStage(StageExtract, &StageRecord{Status: StatusSucceeded, Inputs: in, Counts: counts}); err != nil {
		t.Fatal(err)
	}
	for stage, status := range stages {
		if err := run.setStage(stage, &StageRecord{Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	return run
}

func TestAdvanceExtractState(t *testing.T) {
	p := testPipeline(t)
	wm := map[string]int64{extract.CountWatermark: 1795137688, extract.CountFormat: extract.Format,
		extract.CountListWatermark + "customers": 1795137688, extract.CountListWatermark + "invoices": 1795100000}
	ok := map[string]string{StageValidate: StatusSucceeded, StageTransform: StatusSucceeded}
	state := func() ExtractState {
		st, err := LoadState(p.Cfg.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		return st.Extract
	}

	if err := p.AdvanceExtractState(extractRun(t, p, "20261120T020000Z", sbxURL, wm, ok)); err != nil {
		t.Fatal(err)
	}
	want := ExtractState{RunID: "20261120T020000Z", Watermark: 1795137688, Site: sbxURL, Format: extract.Format,
		Lists: map[string]int64{"customers": 1795137688, "invoices": 1795100000}}
	if got := state(); !reflect.DeepEqual(got, want) {
		t.Fatalf("state %+v, want %+v", got, want)
	}

	// A run any stage of which failed keeps the watermark where it was.
	failed := extractRun(t, p, "20261121T020000Z", sbxURL, map[string]int64{extract.CountWatermark: 1795190402}, map[string]string{StageValidate: StatusSucceeded, StageTransform: StatusFailed})
	if err := p.AdvanceExtractState(failed); err == nil || !strings.Contains(err.Error(), "transform is failed") {
		t.Errorf("failed run: %v", err)
	}
	// --limit, a pages extract, a run with no extract of its own (load --in), an
	// older run than the base: no change, no error.
	for name, run := range map[string]*Run{
		"limited": extractRun(t, p, "20261121T030000Z", sbxURL, map[string]int64{extract.CountWatermark: 1795190402, extract.CountLimited: 1}, ok),
		"pages":   extractRun(t, p, "20261121T040000Z", "", nil, ok),
		"older":   extractRun(t, p, "20261119T020000Z", sbxURL, map[string]int64{extract.CountWatermark: 1}, ok),
		"no extract": func() *Run {
			r, _ := OpenRun(p.Cfg.DataDir, "20261121T050000Z", true)
			r.setStage(StageLoad, &StageRecord{Status: StatusSucceeded})
			return r
		}(),
	} {
		if err := p.AdvanceExtractState(run); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if got := state(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s moved the state to %+v", name, got)
		}
	}

	// Same-second runs: -10 came after -9.
	if err := p.AdvanceExtractState(extractRun(t, p, "20261122T020000Z-9", sbxURL, wm, ok)); err != nil {
		t.Fatal(err)
	}
	if err := p.AdvanceExtractState(extractRun(t, p, "20261122T020000Z-10", sbxURL, wm, ok)); err != nil {
		t.Fatal(err)
	}
	if got := state().RunID; got != "20261122T020000Z-10" {
		t.Errorf("base %s, want the later run -10", got)
	}
	// Another site starts over whatever the run ids.
	if err := p.AdvanceExtractState(extractRun(t, p, "20261101T020000Z", "https://acme.chargebee.com/api/v2", wm, ok)); err != nil {
		t.Fatal(err)
	}
	if got := state(); got.Site != "acme" || got.RunID != "20261101T020000Z" {
		t.Errorf("other site: %+v", got)
	}
}

func TestPrepareChargebee(t *testing.T) {
	p := testPipeline(t)
	var out bytes.Buffer
	p.Out = &out
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("secret_from_file\n"), 0o600)
	cbEnv(t, map[string]string{EnvChargebeeAPIURL: sbxURL, EnvChargebeeAPIKey + "_FILE": keyFile})

	prepare := func(req ExtractRequest, runID string) ([]Input, ExtractRequest, error) {
		req.Source = extract.SourceChargebee
		in, err := p.prepareChargebee(&req, runID)
		return in, req, err
	}

	// No state: a full read, with the key from the file and the summary on Out.
	in, req, err := prepare(ExtractRequest{}, "20261120T020000Z")
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 1 || in[0].Dir != sbxURL || req.Prev != "" || req.API.APIKey.Reveal() != "secret_from_file" || req.API.BaseURL != sbxURL || req.Summary != p.Out {
		t.Errorf("first read: inputs %+v, request %+v", in, req)
	}

	ok := map[string]string{StageValidate: StatusSucceeded, StageTransform: StatusSucceeded}
	base := extractRun(t, p, "20261120T020000Z", sbxURL, map[string]int64{extract.CountWatermark: 1795137688, extract.CountFormat: extract.Format,
		extract.CountListWatermark + "customers": 1795137688, extract.CountListWatermark + "item_prices": 1795000000}, ok)
	if err := p.AdvanceExtractState(base); err != nil {
		t.Fatal(err)
	}
	in, req, err = prepare(ExtractRequest{}, "20261121T020000Z")
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[string]int64{"customers": 1795137688, "item_prices": 1795000000}); len(in) != 2 || in[1].RunID != base.ID || req.Prev != base.StageDir(StageExtract) || !reflect.DeepEqual(req.Watermarks, want) {
		t.Errorf("incremental: inputs %+v, prev %q watermarks %v, want %v", in, req.Prev, req.Watermarks, want)
	}
	if _, req, _ = prepare(ExtractRequest{Options: extract.Options{Full: true}}, "20261121T020000Z"); req.Prev != "" {
		t.Error("--full merged into the base")
	}
	if _, req, err = prepare(ExtractRequest{Options: extract.Options{Since: "2026-11-20"}}, "20261121T020000Z"); err != nil || req.Prev == "" {
		t.Errorf("--since with a base: %v", err)
	}
	for name, c := range map[string]struct {
		req   ExtractRequest
		runID string
		want  string
	}{
		"in":          {ExtractRequest{Options: extract.Options{In: "fixtures/chargebee"}}, "20261121T020000Z", "--in is not used"},
		"since+full":  {ExtractRequest{Options: extract.Options{Since: "2026-11-20", Full: true}}, "20261121T020000Z", "exclude each other"},
		"bad since":   {ExtractRequest{Options: extract.Options{Since: "last tuesday"}}, "20261121T020000Z", "--since"},
		"base run id": {ExtractRequest{}, base.ID, "pick another --run-id"},
	} {
		if _, _, err := prepare(c.req, c.runID); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}

	// The base belongs to another site: full, and --since has nothing to merge into.
	cbEnv(t, map[string]string{EnvChargebeeSite: "acme", EnvChargebeeAPIKey: "k"})
	if _, req, err = prepare(ExtractRequest{}, "20261121T020000Z"); err != nil || req.Prev != "" || req.API.APIKey.Reveal() != "k" {
		t.Errorf("other site: prev %q, %v", req.Prev, err)
	}
	if _, _, err = prepare(ExtractRequest{Options: extract.Options{Since: "2026-11-20"}}, "20261121T020000Z"); err == nil || !strings.Contains(err.Error(), "run a full extract first") {
		t.Errorf("--since, no base of this site: %v", err)
	}

	// A pruned base costs a full read, never a partial snapshot.
	cbEnv(t, map[string]string{EnvChargebeeAPIURL: sbxURL, EnvChargebeeAPIKey: "k"})
	if err := os.RemoveAll(base.Dir); err != nil {
		t.Fatal(err)
	}
	if _, req, err = prepare(ExtractRequest{}, "20261122T020000Z"); err != nil || req.Prev != "" {
		t.Errorf("pruned base: prev %q, %v", req.Prev, err)
	}

	// No key: a clear error naming both ways to give one.
	cbEnv(t, map[string]string{EnvChargebeeAPIURL: sbxURL})
	if _, _, err = prepare(ExtractRequest{}, "20261122T020000Z"); err == nil || !strings.Contains(err.Error(), "CHARGEBEE_API_KEY_FILE") {
		t.Errorf("no key: %v", err)
	}
}

// A version-1 state.json (one watermark for every list) is read and upgraded:
// its base is not merged into, because the old watermark moved even past skipped
// lists and the old extract lacks the lists and columns added since; every list is
// read in full, and the next save writes version 2 with the rest unchanged.
func TestStateV1Upgrade(t *testing.T) {
	p := testPipeline(t)
	cbEnv(t, map[string]string{EnvChargebeeAPIURL: sbxURL, EnvChargebeeAPIKey: "k"})
	ok := map[string]string{StageValidate: StatusSucceeded, StageTransform: StatusSucceeded}
	// The v1 base: its manifest has the single watermark and no format.
	base := extractRun(t, p, "20261120T020000Z", sbxURL, map[string]int64{extract.CountWatermark: 1795137688}, ok)
	v1 := `{"version":1,"extract":{"run_id":"` + base.ID + `","watermark":1795137688,"site":"` + sbxURL + `"},` +
		`"synced":{"run_id":"` + base.ID + `","dir":"runs/` + base.ID + `/load/synced","synced_at":"2026-11-20T02:10:00Z"}}`
	if err := os.WriteFile(StatePath(p.Cfg.DataDir), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 2 || st.Extract.RunID != base.ID || st.Extract.Watermark != 1795137688 || st.Extract.Format != 0 || st.Extract.Lists != nil || st.Synced == nil || st.Synced.RunID != base.ID {
		t.Fatalf("upgraded state %+v extract %+v", st, st.Extract)
	}
	req := ExtractRequest{}
	req.Source = extract.SourceChargebee
	in, err := p.prepareChargebee(&req, "20261121T020000Z")
	if err != nil {
		t.Fatal(err)
	}
	if req.Prev != "" || req.Watermarks != nil || len(in) != 1 {
		t.Errorf("v1 base: prev %q watermarks %v inputs %+v; want a full read", req.Prev, req.Watermarks, in)
	}
	if err := st.Save(p.Cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(StatePath(p.Cfg.DataDir)); !strings.Contains(string(b), `"version": 2`) {
		t.Errorf("saved %s", b)
	}

	// An extract written before formats (no format count), advanced by this
	// version, is no incremental base either.
	if err := p.AdvanceExtractState(extractRun(t, p, "20261121T020000Z", sbxURL, map[string]int64{extract.CountWatermark: 1795190402}, ok)); err != nil {
		t.Fatal(err)
	}
	req = ExtractRequest{}
	req.Source = extract.SourceChargebee
	if _, err := p.prepareChargebee(&req, "20261122T020000Z"); err != nil || req.Prev != "" {
		t.Errorf("formatless base: prev %q, %v", req.Prev, err)
	}
	// One of this format is, with its lists' watermarks.
	if err := p.AdvanceExtractState(extractRun(t, p, "20261122T020000Z", sbxURL, map[string]int64{extract.CountWatermark: 1795190402,
		extract.CountFormat: extract.Format, extract.CountListWatermark + "customers": 1795190402}, ok)); err != nil {
		t.Fatal(err)
	}
	req = ExtractRequest{}
	req.Source = extract.SourceChargebee
	if _, err := p.prepareChargebee(&req, "20261123T020000Z"); err != nil || req.Prev == "" || req.Watermarks["customers"] != 1795190402 || len(req.Watermarks) != 1 {
		t.Errorf("format-%d base: prev %q watermarks %v, %v", extract.Format, req.Prev, req.Watermarks, err)
	}
}
