package extract

import (
	"context"
	"github.com/cb2ac/cb2ac/schemas"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writePage(t *testing.T, dir, entity, body string) {
	t.Helper()
	sub := filepath.Join(dir, entity)
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "page-001.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The pages source reads the new folders (all optional); Limit keeps the credit
// notes and payment sources of the kept customers and the catalogs whole; Write and
// ReadSnapshot carry every list; an extract folder from before the new lists reads
// them as empty.
func TestPagesNewListsLimitAndSnapshot(t *testing.T) {
	dir := t.TempDir()
	writePage(t, dir, "customers", `{"list":[
		{"customer":{"id":"old","email":"o@x","created_at":100,"pii_cleared":"active"},"card":{"payment_source_id":"pm_o","card_type":"visa","last4":"1111","expiry_month":1,"expiry_year":2030}},
		{"customer":{"id":"new","email":"n@x","created_at":200,"pii_cleared":"cleared"}}]}`)
	writePage(t, dir, "subscriptions", `{"list":[{"subscription":{"id":"s1","customer_id":"new","created_at":200}}]}`)
	writePage(t, dir, "credit_notes", `{"list":[{"credit_note":{"id":"cn_o","customer_id":"old","date":150}},{"credit_note":{"id":"cn_n","customer_id":"new","date":250}}]}`)
	writePage(t, dir, "payment_sources", `{"list":[{"payment_source":{"id":"pm_o","customer_id":"old","created_at":100}},{"payment_source":{"id":"pm_n","customer_id":"new","created_at":200,"card":{"brand":"visa","last4":"4242"}}}]}`)
	writePage(t, dir, "items", `{"list":[{"item":{"id":"pro","type":"plan"}}]}`)
	writePage(t, dir, "plans", `{"list":[{"plan":{"id":"basic","billing_cycles":3}}]}`)
	writePage(t, dir, "addons", `{"list":[{"addon":{"id":"seat"}}]}`)

	ctx := context.Background()
	snap, err := ReadPages(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.CreditNotes) != 2 || len(snap.PaymentSources) != 2 || len(snap.Items) != 1 || len(snap.Plans) != 1 || len(snap.Addons) != 1 {
		t.Fatalf("pages read %+v", snap)
	}
	if c := snap.Customers[0]; c.CardPaymentSourceID != "pm_o" || c.CardLast4 != "1111" || !snap.Customers[1].Erased() {
		t.Errorf("customers %+v", snap.Customers)
	}

	snap.Limit(1)
	if len(snap.Customers) != 1 || snap.Customers[0].ID != "new" || len(snap.CreditNotes) != 1 || snap.CreditNotes[0].ID != "cn_n" ||
		len(snap.PaymentSources) != 1 || snap.PaymentSources[0].ID != "pm_n" || len(snap.Items) != 1 || len(snap.Plans) != 1 || len(snap.Addons) != 1 {
		t.Errorf("limited %+v", snap)
	}

	out := t.TempDir()
	if err := snap.Write(ctx, out, false, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CreditNotesFile, PaymentSourcesFile, ItemsFile, PlansFile, AddonsFile} {
		if _, err := os.Stat(filepath.Join(out, f+".parquet")); err != nil {
			t.Error(err)
		}
	}
	back, err := ReadSnapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.PaymentSources, snap.PaymentSources) || !reflect.DeepEqual(back.Plans, snap.Plans) ||
		!reflect.DeepEqual(back.CreditNotes, snap.CreditNotes) || back.Customers[0].PIICleared != "cleared" {
		t.Errorf("read back %+v\nwrote %+v", back, snap)
	}

	// An extract folder written before the new lists: they read as empty.
	for _, f := range []string{CreditNotesFile, PaymentSourcesFile, ItemsFile, PlansFile, AddonsFile} {
		os.Remove(filepath.Join(out, f+".parquet"))
	}
	if back, err = ReadSnapshot(out); err != nil || len(back.PaymentSources)+len(back.Plans)+len(back.CreditNotes) != 0 || len(back.Customers) != 1 {
		t.Errorf("older folder: %v, %+v", err, back)
	}
	// The files that were always there are still required.
	os.Remove(filepath.Join(out, InvoicesFile+".parquet"))
	if _, err := ReadSnapshot(out); err == nil {
		t.Error("an extract folder without invoices read")
	}
}
