package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// sandbox is the Chargebee sandbox behind fakeLists, which serves the lists the
// sandbox does not (see fakeLists) and can fail any list.
func sandbox(t *testing.T, wrap func(http.Handler) http.Handler) (*cbsandbox.Server, string) {
	srv, _, url := sandboxLists(t, wrap)
	return srv, url
}

func sandboxLists(t *testing.T, wrap func(http.Handler) http.Handler) (*cbsandbox.Server, *fakeLists, string) {
	t.Helper()
	srv, err := cbsandbox.New(cbsandbox.Options{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	fake := newFakeLists(t, h)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return srv, fake, ts.URL + "/api/v2"
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
	opts.Prev, opts.Watermarks = base, map[string]int64{"customers": time.Now().Unix(), "subscriptions": time.Now().Unix(), "invoices": time.Now().Unix(), "item_prices": time.Now().Unix()}
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
	srv, fake, url := sandboxLists(t, nil)
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
	fake.failWith("item_prices", 400)
	srv.Update("item_prices", itemPrice("p1", 100, 3000, 2, 150))
	srv.Update("customers", customer("a", 100, 5000, 2, "a2@x"))
	opts := apiOptions(url)
	opts.Prev, opts.Watermarks = base, ListWatermarks(rep.Counts)
	night2 := t.TempDir()
	rep, err = Run(ctx, opts, night2)
	if err != nil {
		t.Fatal(err)
	}
	wm := ListWatermarks(rep.Counts)
	if wm["customers"] != 5000 || wm["item_prices"] != 1000 || rep.Counts["api.item_prices.skipped"] != 1 || rep.Counts["item_prices"] != 2 {
		t.Fatalf("night 2: watermarks %v counts %v; want customers moved to 5000, item_prices kept at 1000 with its 2 records", wm, rep.Counts)
	}

	// Night 3: item prices are back and are asked for what changed since their own
	// watermark: p1's change is read.
	fake.failWith("item_prices", 0)
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
	srv, fake, url := sandboxLists(t, nil)
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
	fake.reset()
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
	for _, r := range srv.Requests() {
		if r.Query.Has("updated_at[after]") {
			t.Errorf("%s asked %v after an empty first run", r.Entity, r.Query)
		}
	}
	for _, ep := range chargebee.Endpoints {
		for _, r := range fake.requests(ep.Entity) {
			if r.Query.Has("updated_at[after]") || r.Status != 200 {
				t.Errorf("%s asked %v (%d)", ep.Entity, r.Query, r.Status)
			}
		}
	}
	if rep.Counts["customers"] != 1 || ListWatermarks(rep.Counts)["customers"] != 200 {
		t.Errorf("counts %v", rep.Counts)
	}
}

// A Product Catalog 1.0 site: item_prices and items answer 400, plans and addons
// are read instead. Credit notes, payment sources, plans and addons are read with
// the parameters list-params.tsv gives them (fakeLists refuses any other): an
// updated_at filter on an incremental read, sorted by updated_at only where the
// endpoint can be (payment sources; not credit notes, plans or addons).
func TestProductCatalog1SiteAndNewLists(t *testing.T) {
	srv, fake, url := sandboxLists(t, nil)
	srv.Add("customers", customer("a", 100, 1000, 1, "a@x"))
	fake.failWith("item_prices", 400)
	fake.failWith("items", 400)
	fake.add("plans", 900, false, `{"plan":{"id":"basic","name":"Basic","invoice_name":"Basic plan","price":900,"price_in_decimal":"9.00","currency_code":"USD","period":1,"period_unit":"month","billing_cycles":12,"status":"active","updated_at":900,"resource_version":1,"object":"plan"}}`)
	fake.add("plans", 950, true, `{"plan":{"id":"old","name":"Old","price":100,"currency_code":"USD","period":1,"period_unit":"month","status":"deleted","updated_at":950,"resource_version":1,"object":"plan"}}`)
	fake.add("addons", 900, false, `{"addon":{"id":"seat","name":"Seat","invoice_name":"Extra seat","price":100,"currency_code":"USD","period":1,"period_unit":"month","status":"active","updated_at":900,"resource_version":1,"object":"addon"}}`)
	fake.add("credit_notes", 990, false, `{"credit_note":{"id":"CN-1","customer_id":"a","reference_invoice_id":"1","type":"refundable","status":"refunded","currency_code":"USD","date":980,"total":500,"amount_refunded":500,"updated_at":990,"resource_version":1,"deleted":false,"object":"credit_note"}}`)
	fake.add("payment_sources", 995, false, `{"payment_source":{"id":"pm_1","customer_id":"a","type":"card","status":"valid","gateway":"stripe","created_at":50,"updated_at":995,"resource_version":1,"deleted":false,"card":{"brand":"visa","funding_type":"credit","last4":"4242","expiry_month":12,"expiry_year":2030,"object":"card"},"object":"payment_source"}}`)
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
	if len(snap.Plans) != 2 || snap.Plans[0].ID != "basic" || !snap.Plans[1].Deleted || *snap.Plans[0].BillingCycles != 12 ||
		snap.Addons[0].InvoiceName != "Extra seat" || snap.PaymentSources[0].CardLast4 != "4242" || *snap.CreditNotes[0].AmountRefunded != 500 {
		t.Errorf("snapshot %+v", snap)
	}
	for _, e := range []string{"plans", "addons", "credit_notes", "payment_sources"} {
		if q := fake.requests(e)[0].Query; q.Get("include_deleted") != "true" || q.Has("updated_at[after]") {
			t.Errorf("%s full read asked %v", e, q)
		}
	}

	// Incremental: a changed plan is read with the filter and no sort.
	fake.update("plans", 0, 2000, `{"plan":{"id":"basic","name":"Basic 2","price":1000,"currency_code":"USD","period":1,"period_unit":"month","status":"active","updated_at":2000,"resource_version":2,"object":"plan"}}`)
	fake.reset()
	opts := apiOptions(url)
	opts.Prev, opts.Watermarks = base, ListWatermarks(rep.Counts)
	out := t.TempDir()
	if rep, err = Run(ctx, opts, out); err != nil {
		t.Fatal(err)
	}
	for e, sorted := range map[string]bool{"plans": false, "addons": false, "credit_notes": false, "payment_sources": true} {
		rs := fake.requests(e)
		if len(rs) != 1 || rs[0].Status != 200 || !rs[0].Query.Has("updated_at[after]") || rs[0].Query.Has("sort_by[asc]") != sorted {
			t.Errorf("%s incremental: %+v", e, rs)
		}
	}
	merged, err := ReadSnapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts["plans"] != 2 || ListWatermarks(rep.Counts)["plans"] != 2000 || merged.Plans[0].Name != "Basic 2" || len(merged.Addons) != 1 {
		t.Errorf("incremental counts %v, plans %+v", rep.Counts, merged.Plans)
	}
}

// Credit notes and payment sources are on every site: a key that may not read
// them (403), or a site that answers 404 for them, fails the run rather than
// silently losing refunds or card changes.
func TestRequiredNewListsFail(t *testing.T) {
	for entity, status := range map[string]int{"credit_notes": 403, "payment_sources": 404} {
		_, fake, url := sandboxLists(t, nil)
		fake.failWith(entity, status)
		_, err := Run(context.Background(), apiOptions(url), t.TempDir())
		if !chargebee.IsStatus(err, status) || !strings.Contains(err.Error(), entity) {
			t.Errorf("%s %d: %v", entity, status, err)
		}
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
