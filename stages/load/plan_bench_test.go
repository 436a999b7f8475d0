package load

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

// BenchmarkPlanFirstSync plans a first sync of 100k contacts (every row a create)
// and reports what the plan keeps per row once made (retained-B/row, the live heap
// after a GC with the plan in hand) beside what it allocated on the way. The plan
// holds entries and row numbers, not rows: before, the diff kept every changed row
// as a record, about 3 kB a contact here (the "with rows" case: every create read
// up front, which apply no longer does: it reads them as it sends them).
func BenchmarkPlanFirstSync(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	rows := make([]schemas.Contact, n)
	for i := range rows {
		c := schemas.Contact{CustomerID: fmt.Sprintf("cus_%07d", i), Email: fmt.Sprintf("user%07d@example.com", i),
			FirstName: "Ada", LastName: "Lovelace", Phone: "+44 20 7946 0000", Company: "Analytical Engines", ListStatus: "active"}
		for _, f := range schemas.DefaultFields {
			c.Fields = append(c.Fields, schemas.FieldValue{Title: f.Title, Value: "value of " + f.Perstag})
		}
		c.RowHash, c.FieldHashes = schemas.HashContact(&c)
		rows[i] = c
	}
	path := filepath.Join(dir, ContactsFile+".parquet")
	if err := schemas.Contacts.WriteFile(path, rows); err != nil {
		b.Fatal(err)
	}
	rows = nil
	cur := fileSource(schemas.Contacts, path, "customerId", "row_hash", "deleted", "erased")
	for _, tc := range []struct {
		name string
		load bool
	}{{"plan", false}, {"with rows", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var before, after runtime.MemStats
			for b.Loop() {
				runtime.GC()
				runtime.ReadMemStats(&before)
				d, err := diff(contactEntity, source[schemas.Contact]{}, cur)
				if err != nil {
					b.Fatal(err)
				}
				if tc.load {
					all := func(string) bool { return true }
					if err := d.load(contactEntity, source[schemas.Contact]{}, cur, all); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if len(d.Changes) != n {
					b.Fatalf("%d changes, want %d", len(d.Changes), n)
				}
				runtime.KeepAlive(d)
			}
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "retained-B/row")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "alloc-B/row")
		})
	}
}
