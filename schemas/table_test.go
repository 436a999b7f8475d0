package schemas

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/parquet/file"
)

func i64(v int64) *int64   { return &v }
func str(v string) *string { return &v }
func bl(v bool) *bool      { return &v }

func sampleRPs() []RecurringPayment {
	return []RecurringPayment{
		{
			StoreRecurringPaymentID: "sub_1", Email: "a@example.com", NormalizedStatus: "ACTIVE",
			BillingInterval: "MONTHLY", BillingIntervalCount: 1, PaymentAmount: "20.00",
			DiscountAmount: str("0.00"), StartDate: str("2024-02-14T10:48:23Z"),
			BillingAddress: &ACAddress{FirstName: "Zoë", City: "Köln"},
			CustomerData:   CustomerData{FirstName: "Zoë", AcceptsMarketing: bl(true)},
			LineItemNames:  StringList{"Pro", "Extra seat"},
			RowHash:        1<<63 + 5,
		},
		{
			StoreRecurringPaymentID: "sub_2", Email: "b@example.com", NormalizedStatus: "CANCELLED",
			LegacyConnectionID: i64(15), Deleted: true,
		},
	}
}

func TestParquetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rp.parquet")
	want := sampleRPs()
	if err := RecurringPayments.WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := RecurringPayments.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestParquetNestedListOfStructs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.parquet")
	want := []Subscription{{ID: "s1", Items: Items{{ItemPriceID: "p", ItemType: "plan", Quantity: 2, UnitPrice: i64(500), Amount: i64(1000)}, {ItemPriceID: "a", ItemType: "addon", Quantity: 1}}, CreatedAt: i64(1)}, {ID: "s2"}}
	if err := Subscriptions.WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Subscriptions.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
}

func TestParquetManyBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.parquet")
	n := BatchRows*2 + 17
	w, err := Customers.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := w.Write(Customer{ID: "c", ResourceVersion: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	var seen int64
	err = Customers.Each(path, func(c *Customer) error {
		if c.ResourceVersion != seen {
			t.Fatalf("row %d has %d", seen, c.ResourceVersion)
		}
		seen++
		return nil
	})
	if err != nil || seen != int64(n) {
		t.Fatalf("read %d rows, err %v; want %d", seen, err, n)
	}
}

// A batch ends at BatchRows rows or once its columns hold BatchBytes, whichever
// comes first: wide rows make smaller row groups, narrow ones stay at BatchRows, and
// every row reads back in order.
func TestParquetRowGroupsBoundedByBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		note  int // bytes of the wide column per row
		rows  int
		check func(t *testing.T, groups []int64)
	}{
		{"narrow", 0, BatchRows + 5, func(t *testing.T, groups []int64) {
			if !slices.Equal(groups, []int64{BatchRows, 5}) {
				t.Errorf("row groups %v, want [%d 5]", groups, BatchRows)
			}
		}},
		{"wide", 4096, 3 * BatchBytes / 4096, func(t *testing.T, groups []int64) {
			if len(groups) < 3 {
				t.Fatalf("row groups %v: ~%d MiB of rows in fewer than 3 groups", groups, 3*BatchBytes>>20)
			}
			for i, n := range groups {
				// A row takes 4096 bytes and a little: a full group ends within a
				// check's worth of rows of the bound.
				if n > BatchBytes/4096+batchCheckRows || i < len(groups)-1 && n < BatchBytes/4200-batchCheckRows {
					t.Errorf("row group %d of %v holds %d rows of ~4 kB, bound %d bytes", i, groups, n, BatchBytes)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.parquet")
			w, err := Customers.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			note := strings.Repeat("x", tc.note)
			for i := range tc.rows {
				if err := w.Write(Customer{ID: "c", ResourceVersion: int64(i), Company: note}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pf, err := file.NewParquetReader(f)
			if err != nil {
				t.Fatal(err)
			}
			var groups []int64
			for i := range pf.NumRowGroups() {
				groups = append(groups, pf.MetaData().RowGroup(i).NumRows())
			}
			tc.check(t, groups)
			var seen int64
			err = Customers.Each(path, func(c *Customer) error {
				if c.ResourceVersion != seen || c.Company != note {
					t.Fatalf("row %d has %d", seen, c.ResourceVersion)
				}
				seen++
				return nil
			})
			if err != nil || seen != int64(tc.rows) {
				t.Fatalf("read %d rows, err %v; want %d", seen, err, tc.rows)
			}
		})
	}
}

func TestSchemaChecks(t *testing.T) {
	dir := t.TempDir()
	cust := filepath.Join(dir, "customers.parquet")
	if err := Customers.WriteFile(cust, []Customer{{ID: "c1"}}); err != nil {
		t.Fatal(err)
	}
	newer := NewTable[Customer]("customer", Customers.Version+1)
	future := filepath.Join(dir, "future.parquet")
	if err := newer.WriteFile(future, []Customer{{ID: "c1"}}); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.parquet")
	os.WriteFile(garbage, []byte("PAR1 this is not parquet"), 0o600)
	truncated := filepath.Join(dir, "truncated.parquet")
	b, _ := os.ReadFile(cust)
	os.WriteFile(truncated, b[:len(b)/2], 0o600)

	cases := []struct {
		name, path, want string
		read             func(string) error
	}{
		{"wrong kind", cust, `holds schema "customer", want "subscription"`, func(p string) error { _, err := Subscriptions.ReadFile(p); return err }},
		{"newer version", future, "newer than this cb2ac understands", func(p string) error { _, err := Customers.ReadFile(p); return err }},
		{"garbage", garbage, "not a readable Parquet file", func(p string) error { _, err := Customers.ReadFile(p); return err }},
		{"truncated", truncated, "not a readable Parquet file", func(p string) error { _, err := Customers.ReadFile(p); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read(tc.path)
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a SchemaError", err)
			}
			if se.Path != tc.path || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to name %s and say %q", err, tc.path, tc.want)
			}
		})
	}
}

func TestCSVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rp.csv")
	want := sampleRPs()
	if err := WriteCSV(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV[RecurringPayment](path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].BillingAddress == nil || got[0].BillingAddress.City != "Köln" || got[0].LineItemNames[1] != "Extra seat" || *got[0].DiscountAmount != "0.00" || got[0].RowHash != want[0].RowHash {
		t.Fatalf("csv round trip: %+v", got)
	}
	// CSV has no null: a null and an empty string are the same empty cell.
	if got[1].StartDate != nil && *got[1].StartDate != "" {
		t.Errorf("null date came back as %q", *got[1].StartDate)
	}
}

func TestEmptyCSVHasHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "errors.csv")
	if err := WriteCSV[ValidationError](path, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "run_id,stage,entity,record_id,customer_id,email,code,field,message\n" {
		t.Fatalf("header = %q", b)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0))
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestEachColumnsReadsOnlyThoseColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.parquet")
	in := []Contact{
		{CustomerID: "a", Email: "a@x.io", RowHash: 1, Fields: FieldValues{{Title: "Plan", Value: "p"}}},
		{CustomerID: "b", Email: "b@x.io", RowHash: 2, Deleted: true},
	}
	if err := Contacts.WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	var got []Contact
	err := Contacts.EachColumns(path, []string{"customerId", "row_hash", "deleted"}, func(c *Contact) error {
		got = append(got, *c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Contact{{CustomerID: "a", RowHash: 1}, {CustomerID: "b", RowHash: 2, Deleted: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if err := Contacts.EachColumns(path, []string{"nope"}, func(*Contact) error { return nil }); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("unknown column: %v", err)
	}
}

// A nested column named in a projection is read whole (every leaf under it); a
// column of the table that an older file lacks reads as its zero value.
func TestEachColumnsNestedAndAddedColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.parquet")
	in := []Contact{
		{CustomerID: "a", Email: "a@x.io", Fields: FieldValues{{Title: "Plan", Value: "p"}, {Title: "MRR", Value: "9.00"}}},
		{CustomerID: "b", Email: "b@x.io"},
	}
	if err := Contacts.WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	var got []Contact
	err := Contacts.EachColumns(path, []string{"customerId", "fields"}, func(c *Contact) error {
		got = append(got, *c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Contact{{CustomerID: "a", Fields: in[0].Fields}, {CustomerID: "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	type older struct {
		CustomerID string `parquet:"customerId"`
	}
	oldPath := filepath.Join(t.TempDir(), "old.parquet")
	if err := NewTable[older]("contact", 1).WriteFile(oldPath, []older{{CustomerID: "c"}}); err != nil {
		t.Fatal(err)
	}
	got = nil
	err = Contacts.EachColumns(oldPath, []string{"customerId", "erased"}, func(c *Contact) error {
		got = append(got, *c)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, []Contact{{CustomerID: "c"}}) {
		t.Errorf("older file without the erased column: %+v, %v", got, err)
	}
}

func TestDetachCopiesEveryString(t *testing.T) {
	rp := RecurringPayment{StoreRecurringPaymentID: "sub", Email: "a@b.c", LastPaymentStatus: ptrTo("COMPLETED"),
		BillingAddress: &ACAddress{City: "Köln"}, LineItemNames: []string{"Pro"}, CustomerData: CustomerData{FirstName: "Zoë"}}
	c := Contact{CustomerID: "c1", Fields: []FieldValue{{Title: "Plan", Value: "pro"}}}
	orig, origC := rp, c
	RecurringPayments.Detach(&rp)
	Contacts.Detach(&c)
	if !reflect.DeepEqual(rp, orig) || !reflect.DeepEqual(c, origC) {
		t.Fatalf("detach changed the values: %+v / %+v", rp, c)
	}
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	for _, p := range [][2]string{
		{rp.Email, orig.Email}, {*rp.LastPaymentStatus, *orig.LastPaymentStatus}, {rp.BillingAddress.City, orig.BillingAddress.City},
		{rp.LineItemNames[0], orig.LineItemNames[0]}, {rp.CustomerData.FirstName, orig.CustomerData.FirstName},
		{c.Fields[0].Value, origC.Fields[0].Value}, {c.CustomerID, origC.CustomerID},
	} {
		if same(p[0], p[1]) {
			t.Errorf("%q still shares the original's memory", p[0])
		}
	}
	if rp.BillingAddress == orig.BillingAddress || &c.Fields[0] == &origC.Fields[0] {
		t.Error("nested pointer or slice shared with the original")
	}
}

func ptrTo[T any](v T) *T { return &v }
