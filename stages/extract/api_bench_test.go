package extract

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// The generated site: 100k customers, 1.2 subscriptions and one invoice each.
const (
	benchCustomers = 100_000
	benchBase      = int64(1_600_000_000) // created_at of the first customer
	benchStep      = int64(60)            // seconds between two customers
	benchChanged   = 100                  // every 100th customer changes: 1%
	benchKey       = "bench_key"
)

// benchEntries generates one entity's list entries, those of the customers keep
// accepts. Templates, not json.Marshal: the site must build in a second or two,
// not dominate the benchmark run.
func benchEntries(entity string, updated func(i int) int64, keep func(i int) bool) [][]byte {
	var out [][]byte
	switch entity {
	case "customers":
		out = make([][]byte, 0, benchCustomers)
		for i := range benchCustomers {
			if !keep(i) {
				continue
			}
			created := benchBase + int64(i)*benchStep
			out = append(out, fmt.Appendf(nil, `{"customer":{"id":"cus_%06d","first_name":"First%d","last_name":"Last%d","email":"c%d@example.com","auto_collection":"on","created_at":%d,"updated_at":%d,"resource_version":%d000,"deleted":false,"object":"customer","billing_address":{"line1":"%d Main St","city":"Springfield","country":"US","zip":"12345"},"card_status":"valid","preferred_currency_code":"USD"}}`,
				i, i, i, i, created, updated(i), updated(i), i))
		}
	case "subscriptions":
		out = make([][]byte, 0, benchCustomers*6/5)
		for i := range benchCustomers {
			if !keep(i) {
				continue
			}
			n := 1
			if i%5 == 0 {
				n = 2 // 1.2 subscriptions per customer
			}
			for k := range n {
				created := benchBase + int64(i)*benchStep + int64(k)
				out = append(out, fmt.Appendf(nil, `{"subscription":{"id":"sub_%06d_%d","customer_id":"cus_%06d","status":"active","currency_code":"USD","billing_period":1,"billing_period_unit":"month","mrr":4900,"due_invoices_count":0,"auto_collection":"on","subscription_items":[{"item_price_id":"pro-USD-monthly","item_type":"plan","quantity":1,"unit_price":4900,"amount":4900}],"created_at":%d,"updated_at":%d,"started_at":%d,"activated_at":%d,"current_term_start":%d,"current_term_end":%d,"next_billing_at":%d,"resource_version":%d000,"deleted":false,"object":"subscription"},"customer":{"id":"cus_%06d","email":"c%d@example.com"},"card":{"status":"valid","card_type":"visa","last4":"4242","expiry_month":12,"expiry_year":2030,"object":"card"}}`,
					i, k, i, created, updated(i), created, created, created, created+2592000, created+2592000, updated(i), i, i))
			}
		}
	case "invoices":
		out = make([][]byte, 0, benchCustomers)
		for i := range benchCustomers {
			if !keep(i) {
				continue
			}
			date := benchBase + int64(i)*benchStep
			out = append(out, fmt.Appendf(nil, `{"invoice":{"id":"inv_%06d","customer_id":"cus_%06d","subscription_id":"sub_%06d_0","recurring":true,"status":"paid","currency_code":"USD","date":%d,"paid_at":%d,"updated_at":%d,"total":4900,"sub_total":4900,"tax":0,"amount_paid":4900,"amount_due":0,"resource_version":%d000,"deleted":false,"object":"invoice"}}`,
				i, i, i, date, date, updated(i), updated(i)))
		}
	case "item_prices":
		for i := range 10 {
			if !keep(i) {
				continue
			}
			out = append(out, fmt.Appendf(nil, `{"item_price":{"id":"price_%d","name":"Price %d","item_id":"pro","item_type":"plan","currency_code":"USD","price":4900,"period":1,"period_unit":"month","pricing_model":"per_unit","status":"active","created_at":%d,"updated_at":%d,"resource_version":%d000,"object":"item_price"}}`,
				i, i, benchBase-1000, benchBase-1000, benchBase-1000))
		}
	}
	return out
}

func benchSite(b *testing.B) (*cbsandbox.Server, string) {
	b.Helper()
	t0 := time.Now()
	srv, err := cbsandbox.New(cbsandbox.Options{APIKey: benchKey}) // no rate limit
	if err != nil {
		b.Fatal(err)
	}
	day1 := func(i int) int64 { return benchBase + int64(i)*benchStep + 30 }
	for _, entity := range []string{"customers", "subscriptions", "invoices", "item_prices"} {
		if err := srv.Add(entity, benchEntries(entity, day1, func(int) bool { return true })...); err != nil {
			b.Fatal(err)
		}
	}
	// The lists the site has no data for (credit notes, payment sources, items,
	// plans, addons, gifts) are served empty.
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	url := ts.URL + "/api/v2"
	n := srv.Counts()
	b.Logf("generated site: %d customers, %d subscriptions, %d invoices in %s", n["customers"], n["subscriptions"], n["invoices"], time.Since(t0).Round(time.Millisecond))
	return srv, url
}

// changeOnePercent updates every 100th customer, its subscriptions and its invoice,
// after the watermark.
func changeOnePercent(b *testing.B, srv *cbsandbox.Server, watermark int64) {
	b.Helper()
	upd := func(i int) int64 { return watermark + 600 + int64(i) }
	for _, entity := range []string{"customers", "subscriptions", "invoices"} {
		changed := benchEntries(entity, upd, func(i int) bool { return i%benchChanged == 0 })
		if err := srv.Update(entity, changed...); err != nil {
			b.Fatal(err)
		}
	}
}

func benchOptions(url string) Options {
	return Options{
		Source: SourceChargebee,
		API:    chargebee.Config{BaseURL: url, APIKey: benchKey, RatePerMinute: -1, BackoffBase: 10 * time.Millisecond},
	}
}

// BenchmarkExtractAPI reads a generated 100k-customer site from the sandbox, rate
// limits off: a full extract, and an incremental one after 1% of the customers
// changed together with their subscriptions and invoice (about 4k objects).
// requests/op is what a real site would be charged against its rate limit.
// Run with: go test -run x -bench ExtractAPI -benchtime 1x ./stages/extract/
func BenchmarkExtractAPI(b *testing.B) {
	srv, url := benchSite(b)
	ctx := context.Background()
	dir := b.TempDir()

	var base string
	var watermark int64
	var watermarks map[string]int64
	b.Run("full", func(b *testing.B) {
		var rep map[string]int64
		i := 0
		for b.Loop() {
			out := filepath.Join(dir, fmt.Sprintf("full-%d", i))
			r, err := Run(ctx, benchOptions(url), out)
			if err != nil {
				b.Fatal(err)
			}
			rep, base = r.Counts, out
			i++
		}
		watermark, watermarks = rep[CountWatermark], ListWatermarks(rep)
		b.ReportMetric(float64(rep["api.requests"]), "requests/op")
		b.ReportMetric(float64(rep["customers"]+rep["subscriptions"]+rep["invoices"]+rep["item_prices"]+rep["gifts"]), "records/op")
	})
	if base == "" {
		// -bench ExtractAPI/incremental alone: the base is built untimed.
		base = filepath.Join(dir, "base")
		rep, err := Run(ctx, benchOptions(url), base)
		if err != nil {
			b.Fatal(err)
		}
		watermark, watermarks = rep.Counts[CountWatermark], ListWatermarks(rep.Counts)
	}

	changeOnePercent(b, srv, watermark)
	b.Run("incremental_1pct", func(b *testing.B) {
		var rep map[string]int64
		i := 0
		for b.Loop() {
			opts := benchOptions(url)
			opts.Prev, opts.Watermarks = base, watermarks
			r, err := Run(ctx, opts, filepath.Join(dir, fmt.Sprintf("incr-%d", i)))
			if err != nil {
				b.Fatal(err)
			}
			rep = r.Counts
			i++
		}
		if rep[CountIncremental] != 1 {
			b.Fatal("the read was not incremental")
		}
		var read int64
		for _, ep := range chargebee.Endpoints {
			read += rep["api."+ep.Entity+".records"]
		}
		b.ReportMetric(float64(rep["api.requests"]), "requests/op")
		b.ReportMetric(float64(read), "records/op")
	})
}
