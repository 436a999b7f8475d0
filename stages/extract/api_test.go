package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

const (
	testKey      = "extract_test_key"
	testFixtures = "../../fixtures/chargebee"
)

func sandbox(t *testing.T, wrap func(http.Handler) http.Handler) (*cbsandbox.Server, string) {
	t.Helper()
	srv, err := cbsandbox.New(cbsandbox.Options{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return srv, ts.URL + "/api/v2"
}

func apiOptions(url string) Options {
	return Options{
		Source: SourceChargebee,
		API:    chargebee.Config{BaseURL: url, APIKey: testKey, RatePerMinute: -1, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond},
	}
}

func customer(id string, created, updated, version int64, email string) []byte {
	return fmt.Appendf(nil, `{"customer":{"id":%q,"email":%q,"created_at":%d,"updated_at":%d,"resource_version":%d}}`, id, email, created, updated, version)
}

// An incremental read is merged by id into the previous extract; a delta copy
// older (by resource_version) than the previous one never undoes a change, and
// the same id read twice (the overlap, a moving page boundary) collapses.
func TestIncrementalMergeAndDedupe(t *testing.T) {
	srv, url := sandbox(t, nil)
	srv.Add("customers", customer("a", 100, 1000, 1, "a1@x"), customer("b", 200, 1000, 1, "b1@x"), customer("c", 300, 1000, 1, "c1@x"))
	ctx := context.Background()
	base := t.TempDir()
	rep, err := Run(ctx, apiOptions(url), base)
	if err != nil {
		t.Fatal(err)
	}
	if wm := rep.Counts[CountWatermark]; wm != 1000 {
		t.Fatalf("watermark %d, want 1000", wm)
	}

	// b changes; c comes back stale (an older resource_version than base has,
	// e.g. a lagging replica); d is new and is served twice, the newer copy last.
	srv.Update("customers", customer("b", 200, 2000, 2, "b2@x"))
	srv.Update("customers", customer("c", 300, 2000, 0, "stale@x"))
	srv.Add("customers", customer("d", 50, 2100, 5, "d-old@x"), customer("d", 50, 2200, 6, "d-new@x"))
	srv.ResetRequests()

	opts := apiOptions(url)
	opts.Prev, opts.Watermark = base, 1000
	var summary bytes.Buffer
	opts.Summary = &summary
	out := t.TempDir()
	rep, err = Run(ctx, opts, out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := schemas.Customers.ReadFile(filepath.Join(out, "customers.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var line []string
	for _, c := range got {
		line = append(line, c.ID+"="+c.Email)
	}
	// Canonical order: created_at, then id.
	if want := "d=d-new@x a=a1@x b=b2@x c=c1@x"; strings.Join(line, " ") != want {
		t.Errorf("merged customers %q, want %q", strings.Join(line, " "), want)
	}
	if rep.Counts[CountIncremental] != 1 || rep.Counts[CountWatermark] != 2200 {
		t.Errorf("counts %v", rep.Counts)
	}
	for _, r := range srv.Requests() {
		if r.Entity == "customers" && r.Query.Get("updated_at[after]") != fmt.Sprint(1000-int64(Overlap/time.Second)) {
			t.Errorf("customers asked %v", r.Query)
		}
	}
	// a comes back too: it changed within the overlap before the watermark.
	want := "chargebee customers      requests=1 pages=1 records=5 retries=0  changed since 1970-01-01T00:11:40Z"
	if !strings.Contains(summary.String(), want) || !strings.Contains(summary.String(), "chargebee gifts          requests=1 pages=1 records=0 retries=0  full") {
		t.Errorf("summary:\n%s", summary.String())
	}
}

// A site without gifts or item prices (404 for the list, 400 for a catalog
// version it does not run) is read without them; an incremental read keeps the
// previous extract's copies. A wrong site is never taken for a missing list.
func TestOptionalListsMissing(t *testing.T) {
	missing := map[string]int{}
	srv, url := sandbox(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entity := strings.TrimPrefix(r.URL.Path, "/api/v2/")
			if st := missing[entity]; st != 0 {
				w.WriteHeader(st)
				fmt.Fprintf(w, `{"message":"not here","api_error_code":"%s","http_status_code":%d}`, map[int]string{400: "configuration_incompatible", 404: "resource_not_found"}[st], st)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	if err := srv.Load(testFixtures); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := t.TempDir()
	if _, err := Run(ctx, apiOptions(url), base); err != nil {
		t.Fatal(err)
	}

	missing["gifts"], missing["item_prices"] = 404, 400
	opts := apiOptions(url)
	opts.Prev, opts.Watermark = base, time.Now().Unix()
	out := t.TempDir()
	rep, err := Run(ctx, opts, out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts["api.gifts.skipped"] != 1 || rep.Counts["api.item_prices.skipped"] != 1 || rep.Counts["gifts"] != 3 || rep.Counts["item_prices"] != 29 {
		t.Errorf("counts %v: want both lists skipped and the previous copies kept", rep.Counts)
	}
	// A full read of such a site writes them empty.
	if rep, err = Run(ctx, apiOptions(url), t.TempDir()); err != nil || rep.Counts["gifts"] != 0 {
		t.Errorf("full read: %v, %v", err, rep.Counts)
	}
	// A required list missing fails the read.
	missing["invoices"] = 404
	if _, err := Run(ctx, apiOptions(url), t.TempDir()); err == nil || !chargebee.IsNotFound(err) {
		t.Errorf("invoices 404: %v", err)
	}
}

func TestWatermarkNeverAfterStart(t *testing.T) {
	srv, url := sandbox(t, nil)
	future := time.Now().Add(time.Hour).Unix()
	srv.Add("customers", customer("a", 100, future, 1, "a@x")) // a clock ahead of ours
	start := time.Now()
	opts := apiOptions(url)
	opts.Now = func() time.Time { return start }
	rep, err := Run(context.Background(), opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if wm := rep.Counts[CountWatermark]; wm != start.Unix() {
		t.Errorf("watermark %d, want the start %d, not the future %d", wm, start.Unix(), future)
	}
}

func TestSinceAndFullOptions(t *testing.T) {
	_, url := sandbox(t, nil)
	ctx := context.Background()
	for name, mod := range map[string]func(*Options){
		"since and full":  func(o *Options) { o.Since, o.Full, o.Prev = "2026-11-20", true, "x" },
		"since, no base":  func(o *Options) { o.Since = "2026-11-20" },
		"since, bad time": func(o *Options) { o.Since, o.Prev = "yesterday", t.TempDir() },
	} {
		opts := apiOptions(url)
		mod(&opts)
		if _, err := Run(ctx, opts, t.TempDir()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for in, want := range map[string]int64{
		"2026-11-20T02:00:00Z": 1795140000,
		"2026-11-20":           1795132800,
		"1795140000":           1795140000,
		"2026-11-20T02:00:00":  1795140000,
	} {
		got, err := ParseSince(in)
		if err != nil || got.Unix() != want {
			t.Errorf("ParseSince(%q) = %v, %v; want %d", in, got.Unix(), err, want)
		}
	}
}

func TestProgress(t *testing.T) {
	srv, url := sandbox(t, nil)
	if err := srv.Load(testFixtures); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	opts := apiOptions(url)
	opts.Progress = &buf
	if _, err := Run(context.Background(), opts, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, "\n") ||
		!strings.Contains(out, "customers 81/1p") || !strings.Contains(out, "invoices 142/2p") {
		t.Errorf("progress %q", out)
	}

	// Live progress only on a terminal: never into a pipe or a file.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, wr := range map[string]io.Writer{"pipe": w, "file": f, "buffer": &buf} {
		if p := ProgressTo(wr); p != nil {
			t.Errorf("%s: progress enabled", name)
		}
	}
}
