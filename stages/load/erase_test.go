package load

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
)

// rewrite replaces the contacts of a transform folder with fn's edit of them.
func rewrite(t *testing.T, dir string, fn func(cs []schemas.Contact)) {
	t.Helper()
	cs, err := schemas.Contacts.ReadFile(filepath.Join(dir, ContactsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	fn(cs)
	if err := schemas.Contacts.WriteFiles(dir, ContactsFile, cs, false, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
}

// erase makes a contact row what transform writes for a customer whose personal
// data Chargebee cleared: a delete with no personal data.
func erase(c *schemas.Contact) {
	*c = schemas.Contact{CustomerID: c.CustomerID, Deleted: true, Erased: true, RowHash: c.RowHash + 1000}
}

// An erasure in Chargebee removes the AC contact under on_customer_erased (default
// delete), whatever on_customer_deleted says, found by the email of the synced
// snapshot (the new row has none); a customer deleted and kept in AC, then erased,
// is deleted then; on_customer_erased: keep leaves AC alone.
func TestErasedCustomers(t *testing.T) {
	for _, rule := range []string{"", "delete", "keep"} {
		t.Run("on_customer_erased="+rule, func(t *testing.T) {
			srv, c, url := sandboxClient(t)
			ctx := context.Background()
			cfg := Config{APIURL: url, OnCustomerErased: rule, BulkImportMin: 100, ImportPoll: 5 * time.Millisecond}
			in := transformDir(t, 3)
			night := func(name, synced string) string {
				out := filepath.Join(t.TempDir(), name)
				// The Chargebee Customer ID field proves a contact is the customer's before
				// it is deleted.
				opts := Options{In: in, Synced: synced, RunID: name, Client: c, Fields: schemas.DefaultFields[:1]}
				if _, err := Run(ctx, opts, cfg, out); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				return filepath.Join(out, SyncedDir)
			}
			inAC := func(email string) bool { _, ok := srv.Snapshot().ContactByEmail(email); return ok }

			synced := night("n1", "")
			// Night 2: cus_1 erased; cus_2 deleted (on_customer_deleted keeps it).
			rewrite(t, in, func(cs []schemas.Contact) {
				erase(&cs[0])
				cs[1].Deleted, cs[1].RowHash = true, cs[1].RowHash+500
			})
			synced = night("n2", synced)
			wantGone := rule != "keep"
			if inAC("c1@example.com") == wantGone {
				t.Errorf("night 2: erased cus_1 in AC = %v, want %v", inAC("c1@example.com"), !wantGone)
			}
			if !inAC("c2@example.com") {
				t.Error("night 2: deleted cus_2 left AC although on_customer_deleted is keep")
			}
			// Night 3: the deleted cus_2 is erased too: further gone, so a delete again.
			rewrite(t, in, func(cs []schemas.Contact) { erase(&cs[1]) })
			night("n3", synced)
			if inAC("c2@example.com") == wantGone {
				t.Errorf("night 3: cus_2 (deleted, then erased) in AC = %v, want %v", inAC("c2@example.com"), !wantGone)
			}
			if !inAC("c3@example.com") {
				t.Error("cus_3 was never deleted nor erased, yet it left AC")
			}
		})
	}
}
