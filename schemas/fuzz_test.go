package schemas

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadFile writes arbitrary bytes where a stage expects one of our files and
// reads them back every way cb2ac does (each Parquet kind, each CSV kind, inspect in
// every format): each must return rows or an error, never panic or kill the process.
func FuzzReadFile(f *testing.F) {
	f.Add([]byte("PAR1"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "f.parquet")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		Customers.ReadFile(path)
		Subscriptions.ReadFile(path)
		Invoices.ReadFile(path)
		ItemPrices.ReadFile(path)
		Gifts.ReadFile(path)
		Contacts.ReadFile(path)
		RecurringPayments.ReadFile(path)
		Plans.ReadFile(path)
		ReadCSV[ValidationError](path)
		ReadCSV[Contact](path)
		ReadCSV[RecurringPayment](path)
		ReadCSV[PlanEntry](path)
		// inspect picks Parquet or CSV by content; the name only matters for a
		// .parquet file without the magic.
		csv := filepath.Join(dir, "f.csv")
		if err := os.Rename(path, csv); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{csv, path} {
			for _, format := range []string{"table", "csv", "json"} {
				Inspect(io.Discard, p, 3, format)
			}
			if p == csv {
				os.Rename(csv, path)
			}
		}
	})
}
