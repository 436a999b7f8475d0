package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
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

// sandbox starts a Chargebee sandbox (no data: tests Add, Load or Update it)
// that accepts testKey. opts.ProductCatalog makes it a site of one catalog
// version; its request log (srv.Requests) records every list request with its
// query and status, and srv.Inject aims a fault at one list.
func sandbox(t *testing.T, opts cbsandbox.Options) (*cbsandbox.Server, string) {
	t.Helper()
	opts.APIKey = testKey
	srv, err := cbsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// listParams is one row of testdata/chargebee/list-params.tsv.
type listParams struct {
	filter, deleted bool
	sorts           []string
}

func readListParams(t testing.TB) map[string]listParams {
	t.Helper()
	b, err := os.ReadFile("../../testdata/chargebee/list-params.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]listParams{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "endpoint\t") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 4 {
			t.Fatalf("list-params.tsv: bad line %q", line)
		}
		out[c[0]] = listParams{filter: c[1] == "yes", deleted: c[2] == "yes", sorts: strings.Split(c[3], ",")}
	}
	return out
}

// checkQueries holds every list request of a run (the sandbox's request log) to
// list-params.tsv, whatever the sandbox accepted: limit and offset, and besides
// them only what the endpoint takes — updated_at[after] where it has the filter,
// sort_by[asc]=updated_at only where updated_at is a sort field, include_deleted
// only where it is listed (and then always true: the extract reads deletions).
// The lists in incremental are read with the filter (and the sort where the
// endpoint has it); the others in full, with neither.
func checkQueries(t *testing.T, reqs []cbsandbox.Request, incremental map[string]bool) {
	t.Helper()
	params := readListParams(t)
	for _, r := range reqs {
		if r.Entity == "" {
			t.Errorf("request to %s: not a list endpoint", r.Path)
			continue
		}
		p, ok := params[r.Entity]
		if !ok {
			t.Errorf("%s: not in list-params.tsv", r.Entity)
			continue
		}
		for name, vals := range r.Query {
			switch {
			case len(vals) != 1:
				t.Errorf("%s: %s sent %d times", r.Entity, name, len(vals))
			case name == "limit" || name == "offset":
			case name == "updated_at[after]" && p.filter:
			case name == "sort_by[asc]" && slices.Contains(p.sorts, vals[0]):
			case name == "include_deleted" && p.deleted:
			default:
				t.Errorf("%s: sent %s=%s, which list-params.tsv does not give it", r.Entity, name, vals[0])
			}
		}
		if p.deleted && r.Query.Get("include_deleted") != "true" {
			t.Errorf("%s: asked %v without include_deleted=true", r.Entity, r.Query)
		}
		inc := incremental[r.Entity] && p.filter
		if r.Query.Has("updated_at[after]") != inc {
			t.Errorf("%s: asked %v; want updated_at[after] %v", r.Entity, r.Query, inc)
		}
		if sorted := inc && slices.Contains(p.sorts, "updated_at"); (r.Query.Get("sort_by[asc]") == "updated_at") != sorted {
			t.Errorf("%s: asked %v; want sort_by[asc]=updated_at %v", r.Entity, r.Query, sorted)
		}
	}
}

// statuses returns the statuses the sandbox answered each list with, in order.
func statuses(reqs []cbsandbox.Request) map[string][]int {
	out := map[string][]int{}
	for _, r := range reqs {
		out[r.Entity] = append(out[r.Entity], r.Status)
	}
	return out
}

// fixtureEntries returns the entries of one list of a fixtures folder
// (DIR/<entity>/*.json, one list page a file), in page order.
func fixtureEntries(t testing.TB, dir, entity string) []json.RawMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, entity, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var out []json.RawMessage
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			List []json.RawMessage `json:"list"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, page.List...)
	}
	return out
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
	srv, url := sandbox(t, cbsandbox.Options{})
	srv.Add("customers", customer("a", 100, 1000, 1, "a1@x"), customer("b", 200, 1000, 1, "b1@x"), customer("c", 300, 1000, 1, "c1@x"))
	ctx := context.Background()
	base := t.TempDir()
	rep, err := Run(ctx, apiOptions(url), base)
	if err != nil {
		t.Fatal(err)
	}
	if wm := rep.Counts[CountWatermark]; wm != 1000 || rep.Counts[CountListWatermark+"customers"] != 1000 {
		t.Fatalf("watermark %d, want 1000", wm)
	}

	// b changes; c comes back stale (an older resource_version than base has,
	// e.g. a lagging replica); d is new and is served twice, the newer copy last.
	srv.Update("customers", customer("b", 200, 2000, 2, "b2@x"))
	srv.Update("customers", customer("c", 300, 2000, 0, "stale@x"))
	srv.Add("customers", customer("d", 50, 2100, 5, "d-old@x"), customer("d", 50, 2200, 6, "d-new@x"))
	srv.ResetRequests()

	opts := apiOptions(url)
	opts.Prev, opts.Watermarks = base, ListWatermarks(rep.Counts)
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
	if rep.Counts[CountIncremental] != 1 || rep.Counts[CountWatermark] != 2200 || rep.Counts[CountListWatermark+"customers"] != 2200 {
		t.Errorf("counts %v", rep.Counts)
	}
	for _, r := range srv.Requests() {
		if r.Entity == "customers" && r.Query.Get("updated_at[after]") != fmt.Sprint(1000-int64(Overlap/time.Second)) {
			t.Errorf("customers asked %v", r.Query)
		}
	}
	// a comes back too: it changed within the overlap before the watermark.
	want := "chargebee customers       requests=1 pages=1 records=5 retries=0  changed since 1970-01-01T00:11:40Z"
	if !strings.Contains(summary.String(), want) || !strings.Contains(summary.String(), "chargebee gifts           requests=1 pages=1 records=0 retries=0  full") {
		t.Errorf("summary:\n%s", summary.String())
	}
}

// A site without gifts or item prices (404 for the list, 400 for a catalog
// version it does not run) is read without them; an incremental read keeps the
// previous extract's copies. A required list missing fails the read.
func TestOptionalListsMissing(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{Pages: testFixtures})
	// What the fixtures hold, the copies an incremental read must keep.
	gifts, prices := len(fixtureEntries(t, testFixtures, "gifts")), len(fixtureEntries(t, testFixtures, "item_prices"))
	if gifts == 0 || prices == 0 {
		t.Fatalf("the fixtures hold %d gifts and %d item prices: nothing to keep", gifts, prices)
	}
	ctx := context.Background()
	base := t.TempDir()
	rep, err := Run(ctx, apiOptions(url), base)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts["gifts"] != int64(gifts) || rep.Counts["item_prices"] != int64(prices) {
		t.Fatalf("base counts %v: want %d gifts and %d item prices", rep.Counts, gifts, prices)
	}

	// The two lists answer "not on this site" (one request each: neither is
	// retried); every other list is served.
	missing := func() {
		srv.Inject(cbsandbox.Fault{Entity: "gifts", Status: http.StatusNotFound, Code: "resource_not_found"}, 1)
		srv.Inject(cbsandbox.Fault{Entity: "item_prices", Status: http.StatusBadRequest, Code: "configuration_incompatible"}, 1)
	}
	checkMissing := func(run string) {
		t.Helper()
		st := statuses(srv.Requests())
		if !slices.Equal(st["gifts"], []int{404}) || !slices.Equal(st["item_prices"], []int{400}) {
			t.Errorf("%s: gifts answered %v, item prices %v; want one 404 and one 400", run, st["gifts"], st["item_prices"])
		}
	}
	missing()
	srv.ResetRequests()
	opts := apiOptions(url)
	now := time.Now().Unix()
	opts.Prev, opts.Watermarks = base, map[string]int64{"customers": now, "subscriptions": now, "invoices": now, "item_prices": now}
	out := t.TempDir()
	if rep, err = Run(ctx, opts, out); err != nil {
		t.Fatal(err)
	}
	checkMissing("incremental")
	if rep.Counts["api.gifts.skipped"] != 1 || rep.Counts["api.item_prices.skipped"] != 1 || rep.Counts["gifts"] != int64(gifts) || rep.Counts["item_prices"] != int64(prices) {
		t.Errorf("counts %v: want both lists skipped and the previous copies kept (%d gifts, %d item prices)", rep.Counts, gifts, prices)
	}
	// A full read of such a site writes them empty.
	missing()
	srv.ResetRequests()
	if rep, err = Run(ctx, apiOptions(url), t.TempDir()); err != nil || rep.Counts["gifts"] != 0 || rep.Counts["item_prices"] != 0 {
		t.Errorf("full read: %v, %v", err, rep.Counts)
	}
	checkMissing("full read")
	// A required list missing fails the read.
	srv.Inject(cbsandbox.Fault{Entity: "invoices", Status: http.StatusNotFound, Code: "resource_not_found"}, 1)
	if _, err := Run(ctx, apiOptions(url), t.TempDir()); err == nil || !chargebee.IsNotFound(err) || !strings.Contains(err.Error(), "invoices") {
		t.Errorf("invoices 404: %v", err)
	}
}

// clockedSandbox serves a sandbox behind a Date header set by clock: Chargebee's
// clock, which need not be this host's.
func clockedSandbox(t *testing.T, opts cbsandbox.Options, clock func() time.Time) (*cbsandbox.Server, string) {
	t.Helper()
	opts.APIKey = testKey
	srv, err := cbsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", clock().UTC().Format(http.TimeFormat))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return srv, hs.URL + "/api/v2"
}

// A list's watermark comes from Chargebee's clock only: the largest updated_at
// read, never later than the Date of Chargebee's first answer to that list.
// Neither a host ahead of Chargebee (whose clock capped nothing: a change made
// early in a long read, served before it changed, was never read again) nor one
// behind it (whose clock pulled the watermark back) moves it.
func TestWatermarkOnChargebeesClock(t *testing.T) {
	cbNow := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name string
		host time.Duration // this host's clock minus Chargebee's
	}{{"host 30 minutes ahead", 30 * time.Minute}, {"host an hour behind", -time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := clockedSandbox(t, cbsandbox.Options{}, func() time.Time { return cbNow })
			// A 20-minute read: the newest record read changed 20 minutes after the
			// read started, by Chargebee's clock.
			srv.Add("credit_notes", []byte(fmt.Sprintf(`{"credit_note":{"id":"cn1","customer_id":"a","date":%d,"updated_at":%d,"resource_version":1}}`, cbNow.Unix()-100, cbNow.Unix()+1200)))
			srv.Add("customers", customer("a", 100, cbNow.Unix()-10, 1, "a@x"))
			opts := apiOptions(url)
			opts.Now = func() time.Time { return cbNow.Add(tc.host) }
			rep, err := Run(context.Background(), opts, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if wm := rep.Counts[CountListWatermark+"credit_notes"]; wm != cbNow.Unix() {
				t.Errorf("credit_notes watermark %d, want Chargebee's Date at the read's start %d", wm, cbNow.Unix())
			}
			if wm := rep.Counts[CountListWatermark+"customers"]; wm != cbNow.Unix()-10 {
				t.Errorf("customers watermark %d, want the newest updated_at read %d", wm, cbNow.Unix()-10)
			}
		})
	}
}

func TestSinceAndFullOptions(t *testing.T) {
	_, url := sandbox(t, cbsandbox.Options{})
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
	_, url := sandbox(t, cbsandbox.Options{Pages: testFixtures})
	var buf bytes.Buffer
	opts := apiOptions(url)
	opts.Progress = &buf
	if _, err := Run(context.Background(), opts, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	// The last line drawn: every list, with the records of the fixtures (deleted
	// ones included: the lists that take include_deleted are asked for them) and
	// the pages of chargebee.MaxPageSize they fill (an empty list is one page).
	var last strings.Builder
	last.WriteString("\rextract ")
	for _, ep := range chargebee.Endpoints {
		n := len(fixtureEntries(t, testFixtures, ep.Entity))
		fmt.Fprintf(&last, " %s %d/%dp", ep.Entity, n, max(1, (n+chargebee.MaxPageSize-1)/chargebee.MaxPageSize))
	}
	last.WriteString("\x1b[K\r\n")
	out := buf.String()
	if !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, last.String()) {
		t.Errorf("progress %q\nwant it to end %q", out, last.String())
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

func itemPrice(id string, created, updated, version int64, price int) []byte {
	return fmt.Appendf(nil, `{"item_price":{"id":%q,"item_id":"pro","price":%d,"currency_code":"USD","period":1,"period_unit":"month","created_at":%d,"updated_at":%d,"resource_version":%d}}`, id, price, created, updated, version)
}

func queriesOf(reqs []cbsandbox.Request, entity string) []url.Values {
	var out []url.Values
	for _, r := range reqs {
		if r.Entity == entity {
			out = append(out, r.Query)
		}
	}
	return out
}

// Each list has its own watermark, moved only by a successful read of that list.
// A list skipped on one run (item prices answering 400) keeps its previous copy and
// its old watermark, so the next run that can read it asks for what changed since
// that watermark — not since the other lists' newer one, which would lose the
// changes made while it was skipped.
func TestSkippedListKeepsItsWatermark(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{})
	srv.Add("customers", customer("a", 100, 1000, 1, "a1@x"))
	srv.Add("item_prices", itemPrice("p1", 100, 1000, 1, 100), itemPrice("p2", 100, 1000, 1, 200))
	ctx := context.Background()
	base := t.TempDir()
	rep, err := Run(ctx, apiOptions(url), base)
	if err != nil {
		t.Fatal(err)
	}
	if wm := ListWatermarks(rep.Counts); wm["customers"] != 1000 || wm["item_prices"] != 1000 || rep.Counts[CountFormat] != Format {
		t.Fatalf("base watermarks %v", wm)
	}

	// Night 2: item prices are not readable; p1 changes meanwhile, a customer too.
	srv.Inject(cbsandbox.Fault{Entity: "item_prices", Status: http.StatusBadRequest, Code: "configuration_incompatible"}, 1)
	srv.Update("item_prices", itemPrice("p1", 100, 3000, 2, 150))
	srv.Update("customers", customer("a", 100, 5000, 2, "a2@x"))
	srv.ResetRequests()
	opts := apiOptions(url)
	opts.Prev, opts.Watermarks = base, ListWatermarks(rep.Counts)
	night2 := t.TempDir()
	rep, err = Run(ctx, opts, night2)
	if err != nil {
		t.Fatal(err)
	}
	if st := statuses(srv.Requests())["item_prices"]; !slices.Equal(st, []int{400}) {
		t.Fatalf("night 2: item prices answered %v, want one 400", st)
	}
	wm := ListWatermarks(rep.Counts)
	if wm["customers"] != 5000 || wm["item_prices"] != 1000 || rep.Counts["api.item_prices.skipped"] != 1 || rep.Counts["item_prices"] != 2 {
		t.Fatalf("night 2: watermarks %v counts %v; want customers moved to 5000, item_prices kept at 1000 with its 2 records", wm, rep.Counts)
	}

	// Night 3: item prices are back and are asked for what changed since their own
	// watermark: p1's change is read.
	srv.ResetRequests()
	opts.Prev, opts.Watermarks = night2, wm
	night3 := t.TempDir()
	if rep, err = Run(ctx, opts, night3); err != nil {
		t.Fatal(err)
	}
	qs := queriesOf(srv.Requests(), "item_prices")
	if len(qs) != 1 || qs[0].Get("updated_at[after]") != fmt.Sprint(1000-int64(Overlap/time.Second)) {
		t.Errorf("item prices asked %v, want updated_at[after]=%d", qs, 1000-int64(Overlap/time.Second))
	}
	prices, err := schemas.ItemPrices.ReadFile(filepath.Join(night3, "item_prices.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(prices) != 2 || prices[0].ID != "p1" || *prices[0].Price != 150 || ListWatermarks(rep.Counts)["item_prices"] != 3000 {
		t.Errorf("night 3 item prices %+v, watermarks %v; want p1's change read", prices, ListWatermarks(rep.Counts))
	}
}

// An empty first run leaves no watermark, and a list without one is read in full:
// no negative updated_at[after] (watermark 0 minus the overlap) is ever sent.
func TestEmptyFirstRunNeverNegative(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{})
	ctx := context.Background()
	base := t.TempDir()
	rep, err := Run(ctx, apiOptions(url), base)
	if err != nil {
		t.Fatal(err)
	}
	if wm := ListWatermarks(rep.Counts); len(wm) != 0 || rep.Counts[CountWatermark] != 0 {
		t.Fatalf("empty run watermarks %v (%d)", wm, rep.Counts[CountWatermark])
	}
	srv.Add("customers", customer("a", 100, 200, 1, "a@x"))
	srv.ResetRequests()
	opts := apiOptions(url)
	// A watermark of 0, and one younger than the overlap, count as none.
	opts.Prev, opts.Watermarks = base, map[string]int64{"customers": 0, "subscriptions": 100}
	for k, v := range ListWatermarks(rep.Counts) {
		opts.Watermarks[k] = v
	}
	rep, err = Run(ctx, opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Every list read in full, and answered: no updated_at[after] at all.
	reqs := srv.Requests()
	checkQueries(t, reqs, nil)
	st := statuses(reqs)
	for _, ep := range chargebee.Endpoints {
		if !slices.Equal(st[ep.Entity], []int{200}) {
			t.Errorf("%s answered %v, want one 200", ep.Entity, st[ep.Entity])
		}
	}
	if rep.Counts["customers"] != 1 || ListWatermarks(rep.Counts)["customers"] != 200 {
		t.Errorf("counts %v", rep.Counts)
	}
}

// A Product Catalog 1.0 site: item_prices and items answer 400
// configuration_incompatible, plans and addons are read instead. Credit notes,
// payment sources, plans and addons are read with the parameters list-params.tsv
// gives them (the sandbox refuses any other, and checkQueries holds every request
// to the file): an updated_at filter on an incremental read, sorted by updated_at
// only where the endpoint can be (payment sources; not credit notes, plans or
// addons).
func TestProductCatalog1SiteAndNewLists(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{ProductCatalog: "1.0"})
	srv.Add("customers", customer("a", 100, 1000, 1, "a@x"))
	add := func(entity, raw string) {
		t.Helper()
		if err := srv.Add(entity, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	add("plans", `{"plan":{"id":"basic","name":"Basic","invoice_name":"Basic plan","price":900,"price_in_decimal":"9.00","currency_code":"USD","period":1,"period_unit":"month","billing_cycles":12,"status":"active","updated_at":900,"resource_version":1,"object":"plan"}}`)
	add("plans", `{"plan":{"id":"old","name":"Old","price":100,"currency_code":"USD","period":1,"period_unit":"month","status":"deleted","updated_at":950,"resource_version":1,"object":"plan"}}`)
	add("addons", `{"addon":{"id":"seat","name":"Seat","invoice_name":"Extra seat","price":100,"currency_code":"USD","period":1,"period_unit":"month","status":"active","updated_at":900,"resource_version":1,"object":"addon"}}`)
	add("credit_notes", `{"credit_note":{"id":"CN-1","customer_id":"a","reference_invoice_id":"1","type":"refundable","status":"refunded","currency_code":"USD","date":980,"total":500,"amount_refunded":500,"updated_at":990,"resource_version":1,"deleted":false,"object":"credit_note"}}`)
	add("payment_sources", `{"payment_source":{"id":"pm_1","customer_id":"a","type":"card","status":"valid","gateway":"stripe","created_at":50,"updated_at":995,"resource_version":1,"deleted":false,"card":{"brand":"visa","funding_type":"credit","last4":"4242","expiry_month":12,"expiry_year":2030,"object":"card"},"object":"payment_source"}}`)
	// Each list is one request: the other catalog's lists refused, every other
	// list answered.
	checkStatuses := func(run string) {
		t.Helper()
		st := statuses(srv.Requests())
		for _, ep := range chargebee.Endpoints {
			want := []int{200}
			if ep.Entity == "item_prices" || ep.Entity == "items" {
				want = []int{400}
			}
			if !slices.Equal(st[ep.Entity], want) {
				t.Errorf("%s: %s answered %v, want %v", run, ep.Entity, st[ep.Entity], want)
			}
		}
	}
	ctx := context.Background()
	base := t.TempDir()
	rep, err := Run(ctx, apiOptions(url), base)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int64{"plans": 2, "addons": 1, "credit_notes": 1, "payment_sources": 1, "item_prices": 0, "items": 0,
		"api.item_prices.skipped": 1, "api.items.skipped": 1} {
		if rep.Counts[k] != want {
			t.Errorf("%s = %d, want %d (counts %v)", k, rep.Counts[k], want, rep.Counts)
		}
	}
	snap, err := ReadSnapshot(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Plans) != 2 || len(snap.Addons) != 1 || len(snap.PaymentSources) != 1 || len(snap.CreditNotes) != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
	if snap.Plans[0].ID != "basic" || !snap.Plans[1].Deleted || *snap.Plans[0].BillingCycles != 12 ||
		snap.Addons[0].InvoiceName != "Extra seat" || snap.PaymentSources[0].CardLast4 != "4242" || *snap.CreditNotes[0].AmountRefunded != 500 {
		t.Errorf("snapshot %+v", snap)
	}
	// A full read: include_deleted where the endpoint takes it (the sandbox keeps
	// the plan with status deleted either way, so the query is what shows it), no
	// filter, no sort.
	checkStatuses("full read")
	checkQueries(t, srv.Requests(), nil)

	// Incremental: a changed plan is read with the filter and no sort.
	if err := srv.Update("plans", []byte(`{"plan":{"id":"basic","name":"Basic 2","price":1000,"currency_code":"USD","period":1,"period_unit":"month","status":"active","updated_at":2000,"resource_version":2,"object":"plan"}}`)); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	opts := apiOptions(url)
	opts.Prev, opts.Watermarks = base, ListWatermarks(rep.Counts)
	out := t.TempDir()
	if rep, err = Run(ctx, opts, out); err != nil {
		t.Fatal(err)
	}
	checkStatuses("incremental")
	// Every list with a watermark is read with the filter: customers, credit notes,
	// payment sources, plans and addons (item prices and items were skipped, gifts
	// have no filter).
	inc := map[string]bool{"customers": true, "credit_notes": true, "payment_sources": true, "plans": true, "addons": true}
	reqs := srv.Requests()
	checkQueries(t, reqs, inc)
	for e, sorted := range map[string]bool{"plans": false, "addons": false, "credit_notes": false, "payment_sources": true} {
		qs := queriesOf(reqs, e)
		if len(qs) != 1 || !qs[0].Has("updated_at[after]") || qs[0].Has("sort_by[asc]") != sorted {
			t.Errorf("%s incremental: %v", e, qs)
		}
	}
	merged, err := ReadSnapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts["plans"] != 2 || ListWatermarks(rep.Counts)["plans"] != 2000 || len(merged.Plans) != 2 || merged.Plans[0].Name != "Basic 2" || len(merged.Addons) != 1 {
		t.Errorf("incremental counts %v, plans %+v", rep.Counts, merged.Plans)
	}
}

// Credit notes and payment sources are on every site: a key that may not read
// them (403), or a site that answers 404 for them, fails the run rather than
// silently losing refunds or card changes.
func TestRequiredNewListsFail(t *testing.T) {
	for entity, status := range map[string]int{"credit_notes": 403, "payment_sources": 404} {
		srv, url := sandbox(t, cbsandbox.Options{})
		srv.Inject(cbsandbox.Fault{Entity: entity, Status: status}, 1)
		_, err := Run(context.Background(), apiOptions(url), t.TempDir())
		if !chargebee.IsStatus(err, status) || !strings.Contains(err.Error(), entity) {
			t.Errorf("%s %d: %v", entity, status, err)
		}
		if st := statuses(srv.Requests())[entity]; !slices.Equal(st, []int{status}) {
			t.Errorf("%s answered %v, want one %d", entity, st, status)
		}
	}
}

// A 429 lock_timeout on one list (another request holds the resource) is retried,
// and the run reads the list in full.
func TestLockTimeoutOnOneListRetried(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{Pages: testFixtures})
	srv.Inject(cbsandbox.Fault{Entity: "credit_notes", Status: http.StatusTooManyRequests, Code: "lock_timeout"}, 2)
	rep, err := Run(context.Background(), apiOptions(url), t.TempDir())
	if err != nil {
		t.Fatalf("lock_timeout failed the run: %v", err)
	}
	want := int64(len(fixtureEntries(t, testFixtures, "credit_notes")))
	if want == 0 || rep.Counts["credit_notes"] != want || rep.Counts["api.credit_notes.retries"] != 2 || rep.Counts["api.credit_notes.requests"] != 3 {
		t.Errorf("counts %v: want %d credit notes after 2 retries", rep.Counts, want)
	}
	if st := statuses(srv.Requests())["credit_notes"]; !slices.Equal(st, []int{429, 429, 200}) {
		t.Errorf("credit notes answered %v, want two 429s then a 200", st)
	}
}

// The extract's lists are chargebee.Endpoints, in order.
func TestListsAreEndpoints(t *testing.T) {
	if len(lists) != len(chargebee.Endpoints) {
		t.Fatalf("%d lists, %d endpoints", len(lists), len(chargebee.Endpoints))
	}
	for i, ep := range chargebee.Endpoints {
		if lists[i].entity != ep.Entity {
			t.Errorf("list %d is %s, endpoint %s", i, lists[i].entity, ep.Entity)
		}
	}
}

// A watermark later than Chargebee's clock (a restored or edited state.json) would
// skip every change until Chargebee reaches it: the list is read in full instead,
// with a warning, and its watermark comes back to what was read.
func TestFutureWatermarkReadsListInFull(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{})
	now := time.Now().Unix()
	srv.Add("customers", customer("a", 100, now-500, 1, "a@x"))
	ctx := context.Background()
	base := t.TempDir()
	if _, err := Run(ctx, apiOptions(url), base); err != nil {
		t.Fatal(err)
	}
	srv.Update("customers", customer("a", 100, now-100, 2, "a2@x"))
	srv.ResetRequests()

	var logs bytes.Buffer
	opts := apiOptions(url)
	opts.Log = slog.New(slog.NewTextHandler(&logs, nil))
	future := now + 24*3600
	opts.Prev, opts.Watermarks = base, map[string]int64{"customers": future, "subscriptions": now - 500}
	out := t.TempDir()
	rep, err := Run(ctx, opts, out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := schemas.Customers.ReadFile(filepath.Join(out, "customers.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Email != "a2@x" {
		t.Errorf("customers %+v: want the change read", got)
	}
	if wm := rep.Counts[CountListWatermark+"customers"]; wm != now-100 {
		t.Errorf("customers watermark %d, want %d (the newest read), not the future %d", wm, now-100, future)
	}
	if !strings.Contains(logs.String(), "later than Chargebee's clock") || !strings.Contains(logs.String(), "entity=customers") {
		t.Errorf("no warning naming the list:\n%s", logs.String())
	}
	var full, filteredSubs bool
	for _, q := range queriesOf(srv.Requests(), "customers") {
		full = full || !q.Has("updated_at[after]")
	}
	for _, q := range queriesOf(srv.Requests(), "subscriptions") {
		filteredSubs = filteredSubs || q.Has("updated_at[after]")
	}
	if !full || !filteredSubs {
		t.Errorf("customers read in full %v, subscriptions still incremental %v", full, filteredSubs)
	}
}

// An incremental read whose next_offset never ends stops at a page limit scaled
// to the previous copy (twice its pages plus IncrementalExtraPages), naming the
// list, instead of paging forever.
func TestIncrementalReadWithoutEndStops(t *testing.T) {
	var pages atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/customers") {
			fmt.Fprint(w, `{"list":[]}`)
			return
		}
		if !r.URL.Query().Has("updated_at[after]") {
			fmt.Fprintf(w, `{"list":[%s]}`, customer("a", 100, 1000, 1, "a@x"))
			return
		}
		i := pages.Add(1)
		fmt.Fprintf(w, `{"list":[%s],"next_offset":"o%d"}`, customer(fmt.Sprint("n", i), 100, 2000, 1, "n@x"), i)
	}))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := t.TempDir()
	rep, err := Run(ctx, apiOptions(ts.URL), base)
	if err != nil {
		t.Fatal(err)
	}
	opts := apiOptions(ts.URL)
	opts.Prev, opts.Watermarks = base, ListWatermarks(rep.Counts)
	_, err = Run(ctx, opts, t.TempDir())
	want := int64(2*1 + IncrementalExtraPages)
	if err == nil || !strings.Contains(err.Error(), "customers") || !strings.Contains(err.Error(), fmt.Sprintf("still more after %d pages", want)) || pages.Load() != want {
		t.Fatalf("endless incremental read: %v after %d pages; want a stop after %d naming customers", err, pages.Load(), want)
	}
}
