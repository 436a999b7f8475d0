package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

// dirtySnapshot is a few thousand good records (more than a writer chunk) with a
// record for every rule spread through them.
func dirtySnapshot() ([]schemas.Customer, []schemas.Subscription, []schemas.Invoice, []schemas.ItemPrice, []schemas.Gift) {
	var (
		cs  []schemas.Customer
		ss  []schemas.Subscription
		inv []schemas.Invoice
	)
	for i := range 5000 {
		id := fmt.Sprintf("cus_%05d", i)
		c := goodCustomer(id, fmt.Sprintf("u%d@example.com", i))
		c.FirstName, c.BillingAddress.City, c.CustomFields = "Ann", "Oslo", `{"cf_x":"1"}`
		cs = append(cs, c)
		s := goodSub(fmt.Sprintf("sub_%05d", i), id)
		ss = append(ss, s)
		inv = append(inv, schemas.Invoice{ID: fmt.Sprintf("inv_%05d", i), CustomerID: id, SubscriptionID: s.ID,
			CurrencyCode: "USD", Date: i64(t0), Total: i64(100), Status: "paid"})
	}
	// duplicate_email: 4000 wins by the latest update, 141 by the greater version,
	// 20 a full tie by the smaller id.
	cs[10].Email = "Shared@Example.com"
	cs[2500].Email, cs[2500].UpdatedAt, cs[2500].ResourceVersion = "shared@example.com", i64(t0+5), t0*1000+1
	cs[4000].Email, cs[4000].UpdatedAt = " shared@example.com", i64(t0+9)
	cs[140].Email, cs[140].UpdatedAt = "ver@example.com", i64(t0+5)
	cs[141].Email, cs[141].UpdatedAt, cs[141].ResourceVersion = "ver@example.com", i64(t0+5), t0*1000+1
	cs[20].Email, cs[30].Email = "tie@example.com", "tie@example.com"
	cs[40].ID = "cus_00041" // duplicate id; sub_00040 names a customer that is gone
	cs[50].ID = ""          // missing id; sub_00050 names ""
	ss[50].CustomerID = ""
	cs[60].Deleted, cs[60].Email = true, ""
	cs[70].Email = "bad@"
	ss[80].CustomerID = "ghost"
	ss[90].Deleted, ss[91].Deleted = true, true // gift purchasers, by a gift and by an invoice
	inv[91].IsGifted = true
	ss[101].ID = ss[100].ID
	ss[110].Status = "weird"
	ss[111].Deleted, ss[111].Status = true, "gone"
	ss[112].ID = ""
	ss[113].CurrencyCode = "EUR" // its invoice is in USD
	inv[114].CurrencyCode = "usd"
	inv[121].ID = inv[120].ID
	inv[122].ID = ""
	inv[123].Deleted, inv[123].Total = true, i64(-1)
	inv[124].Total = i64(-5)
	inv[125].SubscriptionID = "nosuch"
	cs[130].Email = ""
	cs[150].PIICleared, cs[150].Email = "cleared", "" // erased: carried on, no email rule
	cs[151].PIICleared, cs[151].Email = "cleared", ""
	cs[131].CreatedAt = i64(0)
	cs[133].UpdatedAt = i64(1)
	ss[132].CurrencyCode = "XYZ"
	prices := []schemas.ItemPrice{{ID: "p1", Price: i64(100)}, {ID: "p2"}, {ID: ""}, {ID: "p2"}, {ID: "p3", Price: i64(-1)}}
	gifts := []schemas.Gift{{ID: "g1", GifterCustomerID: "cus_00090"}}
	return cs, ss, inv, prices, gifts
}

func readBack[T any](t *testing.T, tb *schemas.Table[T], path string) []T {
	t.Helper()
	recs, err := tb.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func derefAll[T any](ps []*T) []T {
	out := make([]T, 0, len(ps))
	for _, p := range ps {
		out = append(out, *p)
	}
	return out
}

func sameRecords[T any](t *testing.T, name string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s[%d]:\n got %+v\nwant %+v", name, i, got[i], want[i])
		}
	}
}

// Run streams the files through projections; Check reads whole records from slices.
// Both must give the same rows in the same order, so no projection misses a column a
// rule reads.
func TestRunMatchesCheck(t *testing.T) {
	in := t.TempDir()
	cs, ss, inv, prices, gifts := dirtySnapshot()
	for _, err := range []error{
		schemas.Customers.WriteFile(filepath.Join(in, "customers.parquet"), cs),
		schemas.Subscriptions.WriteFile(filepath.Join(in, "subscriptions.parquet"), ss),
		schemas.Invoices.WriteFile(filepath.Join(in, "invoices.parquet"), inv),
		schemas.ItemPrices.WriteFile(filepath.Join(in, "item_prices.parquet"), prices),
		schemas.Gifts.WriteFile(filepath.Join(in, "gifts.parquet"), gifts),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Carried through unchanged; items and addons are absent (an empty file).
	creditNotes := []schemas.CreditNote{{ID: "cn1", CustomerID: "cus_00001", ReferenceInvoiceID: "inv_00001", Type: "refundable", Status: "refunded", Total: i64(100), AmountRefunded: i64(100)}}
	paymentSources := []schemas.PaymentSource{{ID: "pm_1", CustomerID: "cus_00001", Type: "card", CardBrand: "visa", CardLast4: "4242", CardExpiryYear: i64(2030)}}
	plans := []schemas.CatalogPlan{{ID: "basic", Name: "Basic", Price: i64(900), BillingCycles: i64(12)}, {ID: "old", Status: "deleted", Deleted: true}}
	for _, err := range []error{
		schemas.CreditNotes.WriteFile(filepath.Join(in, "credit_notes.parquet"), creditNotes),
		schemas.PaymentSources.WriteFile(filepath.Join(in, "payment_sources.parquet"), paymentSources),
		schemas.CatalogPlans.WriteFile(filepath.Join(in, "plans.parquet"), plans),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// What Run sees is the records as read back from Parquet.
	cs, ss, inv = readBack(t, schemas.Customers, filepath.Join(in, "customers.parquet")),
		readBack(t, schemas.Subscriptions, filepath.Join(in, "subscriptions.parquet")),
		readBack(t, schemas.Invoices, filepath.Join(in, "invoices.parquet"))
	prices, gifts = readBack(t, schemas.ItemPrices, filepath.Join(in, "item_prices.parquet")),
		readBack(t, schemas.Gifts, filepath.Join(in, "gifts.parquet"))

	for _, cfg := range []Config{{}, {SyncGiftPurchasers: true}} {
		t.Run(fmt.Sprintf("sync_gift_purchasers=%v", cfg.SyncGiftPurchasers), func(t *testing.T) {
			want := Check(cs, ss, inv, prices, gifts, cfg)
			out := t.TempDir()
			rep, err := Run(context.Background(), Options{In: in, RunID: "r1", CSV: true}, cfg, out)
			if err != nil {
				t.Fatal(err)
			}
			sameRecords(t, "customers", readBack(t, schemas.Customers, filepath.Join(out, "customers.parquet")), derefAll(want.Customers))
			sameRecords(t, "subscriptions", readBack(t, schemas.Subscriptions, filepath.Join(out, "subscriptions.parquet")), derefAll(want.Subscriptions))
			sameRecords(t, "invoices", readBack(t, schemas.Invoices, filepath.Join(out, "invoices.parquet")), derefAll(want.Invoices))
			sameRecords(t, "item prices", readBack(t, schemas.ItemPrices, filepath.Join(out, "item_prices.parquet")), derefAll(want.ItemPrices))
			sameRecords(t, "credit notes", readBack(t, schemas.CreditNotes, filepath.Join(out, "credit_notes.parquet")), creditNotes)
			sameRecords(t, "payment sources", readBack(t, schemas.PaymentSources, filepath.Join(out, "payment_sources.parquet")), paymentSources)
			sameRecords(t, "plans", readBack(t, schemas.CatalogPlans, filepath.Join(out, "plans.parquet")), plans)
			if n := len(readBack(t, schemas.CatalogItems, filepath.Join(out, "items.parquet"))) + len(readBack(t, schemas.CatalogAddons, filepath.Join(out, "addons.parquet"))); n != 0 {
				t.Errorf("%d items and addons from absent files", n)
			}
			gotErrs, err := schemas.ReadCSV[schemas.ValidationError](filepath.Join(out, ErrorsFile))
			if err != nil {
				t.Fatal(err)
			}
			wantErrs := slices.Clone(want.Errors)
			for i := range wantErrs {
				wantErrs[i].RunID, wantErrs[i].Stage = "r1", "validate"
			}
			sameRecords(t, "errors", gotErrs, wantErrs)

			counts := map[string]int64{
				"customers_in": int64(len(cs)), "customers": int64(len(want.Customers)),
				"subscriptions_in": int64(len(ss)), "subscriptions": int64(len(want.Subscriptions)),
				"invoices": int64(len(want.Invoices)), "item_prices": int64(len(want.ItemPrices)),
				"rejected": want.Rejected, "errors": int64(len(want.Errors)),
				"credit_notes": 1, "payment_sources": 1, "plans": 2, "items": 0, "addons": 0,
			}
			for _, e := range want.Errors {
				counts["code."+e.Code]++
			}
			if !reflect.DeepEqual(rep.Counts, counts) {
				t.Errorf("report %v, want %v", rep.Counts, counts)
			}
			var files []string
			ents, _ := os.ReadDir(out)
			for _, e := range ents {
				files = append(files, e.Name())
			}
			wantFiles := []string{"addons.csv", "addons.parquet", "credit_notes.csv", "credit_notes.parquet", "customers.csv", "customers.parquet",
				"errors.csv", "invoices.csv", "invoices.parquet", "item_prices.csv", "item_prices.parquet", "items.csv", "items.parquet",
				"payment_sources.csv", "payment_sources.parquet", "plans.csv", "plans.parquet", "subscriptions.csv", "subscriptions.parquet"}
			if !slices.Equal(files, wantFiles) {
				t.Errorf("files %v, want %v", files, wantFiles)
			}
		})
	}

	// Every rule fired, and duplicate_email rows follow input order.
	res := Check(cs, ss, inv, prices, gifts, Config{})
	codes := map[string]bool{}
	var dupEmail []string
	for _, e := range res.Errors {
		codes[e.Code] = true
		if e.Code == DuplicateEmail {
			dupEmail = append(dupEmail, e.RecordID+" loses to "+strings.Fields(e.Message)[6])
			// The row carries the loser's own email as it is written (pass 5 fills it).
			if i := slices.IndexFunc(cs, func(c schemas.Customer) bool { return c.ID == e.RecordID }); i < 0 || e.Email != cs[i].Email || e.Email == "" {
				t.Errorf("duplicate_email row of %s has email %q", e.RecordID, e.Email)
			}
		}
	}
	for _, code := range []string{MissingEmail, InvalidEmail, NoSubscription, DuplicateEmail, DuplicateID, UnknownStatus,
		BadAmount, BadDate, UnknownCurrency, UnknownCustomer, MissingID, CustomerRejected, CurrencyMismatch} {
		if !codes[code] {
			t.Errorf("no %s row", code)
		}
	}
	if want := []string{"cus_00010 loses to cus_04000,", "cus_00030 loses to cus_00020,", "cus_00140 loses to cus_00141,",
		"cus_02500 loses to cus_04000,"}; !slices.Equal(dupEmail, want) {
		t.Errorf("duplicate_email rows %q, want %q", dupEmail, want)
	}
}

// A file that turns out unreadable in the last pass, after the projections read
// it fine, leaves no output file behind.
func TestRunFailureLeavesNoFiles(t *testing.T) {
	in := t.TempDir()
	cs, ss, inv, prices, gifts := dirtySnapshot()
	// Subscriptions whose mrr column is text: only decoding whole records fails.
	type badSub struct {
		ID         string `parquet:"id"`
		CustomerID string `parquet:"customer_id"`
		Deleted    bool   `parquet:"deleted"`
		MRR        string `parquet:"mrr"`
	}
	var bad []badSub
	for _, s := range ss {
		bad = append(bad, badSub{ID: s.ID, CustomerID: s.CustomerID, Deleted: s.Deleted, MRR: "lots"})
	}
	badSubs := schemas.NewTable[badSub](schemas.Subscriptions.Name, schemas.Subscriptions.Version)
	for _, err := range []error{
		schemas.Customers.WriteFile(filepath.Join(in, "customers.parquet"), cs),
		badSubs.WriteFile(filepath.Join(in, "subscriptions.parquet"), bad),
		schemas.Invoices.WriteFile(filepath.Join(in, "invoices.parquet"), inv),
		schemas.ItemPrices.WriteFile(filepath.Join(in, "item_prices.parquet"), prices),
		schemas.Gifts.WriteFile(filepath.Join(in, "gifts.parquet"), gifts),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	_, err := Run(context.Background(), Options{In: in, RunID: "r1", CSV: true}, Config{}, out)
	if err == nil || !strings.Contains(err.Error(), "subscriptions.parquet") || !strings.Contains(err.Error(), "mrr") {
		t.Fatalf("Run: %v, want an error about the mrr column of subscriptions.parquet", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("left %v behind", ents)
	}
}
