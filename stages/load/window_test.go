package load

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Apply reads the creates from the transform file as it sends them, a batch of the
// file at a time (here 2 rows, sliceBatch), and drops each row once sent: seven
// creates go in full batches across the windows (3 + 3 + 1 records a request, as
// many requests as without windows), none is left in memory after apply, and the
// synced snapshot reads them again from the file, with their AC ids.
func TestApplyReadsCreatesAsItSends(t *testing.T) {
	srv, c, url := sandboxClient(t)
	ctx := context.Background()
	cfg := Config{APIURL: url, BulkImportBatch: 3, BulkImportMin: 1, RecurringPaymentBatch: 3, Confirm: "off"}
	cfg.defaults()
	setup, err := EnsureSetup(ctx, c, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	connID, err := ac.ID(setup.ConnectionID).Int()
	if err != nil {
		t.Fatal(err)
	}
	var cs []schemas.Contact
	var rps []schemas.RecurringPayment
	for i := 1; i <= 7; i++ {
		id, email := fmt.Sprintf("cus_%d", i), fmt.Sprintf("c%d@example.com", i)
		cs = append(cs, schemas.Contact{CustomerID: id, Email: email, FirstName: "F", ListStatus: "active", RowHash: uint64(i),
			Fields: schemas.FieldValues{{Title: customerIDField, Value: id}}})
		rps = append(rps, schemas.RecurringPayment{StoreRecurringPaymentID: fmt.Sprintf("sub_%d", i), Email: email, StoreCustomerID: id,
			NormalizedStatus: "ACTIVE", BillingInterval: "MONTHLY", BillingIntervalCount: 1, PaymentAmount: "10.00", Currency: "USD", RowHash: uint64(100 + i)})
	}
	curC, curR := sliceSource(cs), sliceSource(rps)
	cd, err := diff(contactEntity, source[schemas.Contact]{}, curC)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := diff(rpEntity, source[schemas.RecurringPayment]{}, curR)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	j, err := openJournal(filepath.Join(out, JournalFile), false)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := cd.load(contactEntity, source[schemas.Contact]{}, curC, nil); err != nil {
		t.Fatal(err)
	}
	if err := rd.load(rpEntity, source[schemas.RecurringPayment]{}, curR, nil); err != nil {
		t.Fatal(err)
	}
	for _, ch := range cd.Changes {
		if ch.New != nil {
			t.Fatalf("%s read before apply sends it", ch.Key)
		}
	}
	a := &applier{c: c, cfg: cfg, setup: setup, connID: connID, j: j, runID: "r1", curContacts: curC, curRPs: curR}
	if err := a.contacts(ctx, cd); err != nil {
		t.Fatal(err)
	}
	if err := a.recurringPayments(ctx, rd, cd); err != nil {
		t.Fatal(err)
	}
	if len(a.errors) > 0 {
		t.Fatalf("errors %+v", a.errors)
	}
	for _, ch := range cd.Changes {
		if ch.New != nil {
			t.Errorf("contact %s still held after apply", ch.Key)
		}
	}
	for _, ch := range rd.Changes {
		if ch.New != nil {
			t.Errorf("recurring payment %s still held after apply", ch.Key)
		}
	}
	srv.Flush()
	var sizes []int
	for _, r := range srv.Requests() {
		if r.Op == "bulk_import" || r.Op == "bulkUpsertRecurringPayments" {
			sizes = append(sizes, r.Count)
		}
	}
	if fmt.Sprint(sizes) != "[3 3 1 3 3 1]" {
		t.Errorf("records a request %v, want [3 3 1 3 3 1] (imports, then recurring payments)", sizes)
	}
	dir := t.TempDir()
	if err := writeSynced(schemas.RecurringPayments, dir, RecurringPaymentsFile, EntityRecurringPayment, schemas.Stamp{}, source[schemas.RecurringPayment]{}, curR, rd, j.acked, rpKey, nil,
		func(_ *Change[schemas.RecurringPayment], r *schemas.RecurringPayment) { r.LegacyConnectionID = &connID }); err != nil {
		t.Fatal(err)
	}
	synced, err := schemas.RecurringPayments.ReadFile(filepath.Join(dir, RecurringPaymentsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(synced) != 7 {
		t.Fatalf("%d synced rows, want 7", len(synced))
	}
	for i, r := range synced {
		if r.StoreRecurringPaymentID != rps[i].StoreRecurringPaymentID || r.LegacyConnectionID == nil || *r.LegacyConnectionID != connID {
			t.Errorf("synced row %d: %s connection %v", i, r.StoreRecurringPaymentID, r.LegacyConnectionID)
		}
	}
}
