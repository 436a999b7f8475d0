package schemas

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// rawColumn reads one top-level column of a Parquet file as a query engine sees it.
func rawColumn(t *testing.T, path, name string) arrow.Array {
	t.Helper()
	tbl := rawTable(t, path)
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) == 0 {
		t.Fatalf("%s: no column %q", path, name)
	}
	return tbl.Column(idx[0]).Data().Chunk(0)
}

func TestEmptyStringIsNull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.parquet")
	in := []Customer{
		{ID: "c1", Email: "a@x.io", Phone: "", CustomFields: `{"cf_industry":"retail"}`, BillingAddress: Address{City: "Köln"}},
		{ID: "c2", Email: "b@x.io", Phone: "+49 1", CustomFields: ""},
	}
	if err := Customers.WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		col  string
		null []bool
	}{
		{"phone", []bool{true, false}},
		{"custom_fields", []bool{false, true}},
		{"company", []bool{true, true}},
		{"id", []bool{false, false}},
	} {
		a := rawColumn(t, path, tc.col)
		for i, want := range tc.null {
			if a.IsNull(i) != want {
				t.Errorf("%s row %d: null %v, want %v", tc.col, i, a.IsNull(i), want)
			}
		}
	}
	city := rawColumn(t, path, "billing_address").(*array.Struct).Field(8) // city
	if city.IsNull(0) || !city.IsNull(1) {
		t.Errorf("billing_address.city nulls %v %v, want a value then NULL", city.IsNull(0), city.IsNull(1))
	}
	// cb2ac reads NULL back as "": the Go types did not change.
	got, err := Customers.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, in)
	}
}

func TestTimesAreTimestamps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subscriptions.parquet")
	in := []Subscription{
		{ID: "s1", CreatedAt: i64(1700000000), NextBillingAt: i64(-1), Items: Items{{ItemPriceID: "p"}}},
		{ID: "s2"},
		{ID: "s3", CreatedAt: i64(1 << 62)}, // beyond a millisecond column: NULL, not wrapped
	}
	if err := Subscriptions.WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	a := rawColumn(t, path, "created_at")
	tt, ok := a.DataType().(*arrow.TimestampType)
	if !ok || tt.TimeZone != "UTC" {
		t.Fatalf("created_at is %s, want a UTC timestamp", a.DataType())
	}
	conv, _ := tt.GetToTimeFunc()
	if got := conv(a.(*array.Timestamp).Value(0)); !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created_at %v, want %v", got, time.Unix(1700000000, 0).UTC())
	}
	if !a.IsNull(1) || !a.IsNull(2) {
		t.Error("absent and out-of-range times are not NULL")
	}
	got, err := Subscriptions.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *got[0].CreatedAt != 1700000000 || *got[0].NextBillingAt != -1 || got[1].CreatedAt != nil || got[2].CreatedAt != nil {
		t.Errorf("read back %v %v %v %v", *got[0].CreatedAt, *got[0].NextBillingAt, got[1].CreatedAt, got[2].CreatedAt)
	}
}

// The forms version 1 wrote, as their own Go types under the same schema names.
type v1Customer struct {
	ID        string `parquet:"id"`
	CreatedAt *int64 `parquet:"created_at"`
	Phone     string `parquet:"phone"`
}

type v1PlanEntry struct {
	Key           string `parquet:"key"`
	ChangedFields string `parquet:"changed_fields"`
}

func TestVersion1FilesRead(t *testing.T) {
	dir := t.TempDir()
	cust := filepath.Join(dir, "customers.parquet")
	if err := NewTable[v1Customer]("customer", 1).WriteFile(cust, []v1Customer{{ID: "c1", CreatedAt: i64(1700000000)}, {ID: "c2"}}); err != nil {
		t.Fatal(err)
	}
	got, err := Customers.ReadFile(cust)
	if err != nil {
		t.Fatalf("a version 1 customers file: %v", err)
	}
	if got[0].ID != "c1" || got[0].CreatedAt == nil || *got[0].CreatedAt != 1700000000 || got[1].CreatedAt != nil {
		t.Errorf("read %+v", got)
	}
	plan := filepath.Join(dir, "plan.parquet")
	if err := NewTable[v1PlanEntry]("plan", 1).WriteFile(plan, []v1PlanEntry{{Key: "a", ChangedFields: "email|fields.Plan"}, {Key: "b"}}); err != nil {
		t.Fatal(err)
	}
	entries, err := Plans.ReadFile(plan)
	if err != nil {
		t.Fatalf("a version 1 plan: %v", err)
	}
	if !reflect.DeepEqual(entries[0].ChangedFields, StringList{"email", "fields.Plan"}) || entries[1].ChangedFields != nil {
		t.Errorf("changed_fields %q %q", entries[0].ChangedFields, entries[1].ChangedFields)
	}
}

func TestTypedTwins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rp.parquet")
	in := []RecurringPayment{
		{StoreRecurringPaymentID: "a", PaymentAmount: "950.00", TaxAmount: str("0.125"), StartDate: str("2024-02-14T10:48:23Z")},
		{StoreRecurringPaymentID: "b", PaymentAmount: "1.000000000000000000001", StartDate: str("not a date")}, // 21 places: beyond the twin
		{StoreRecurringPaymentID: "c"},
	}
	if err := RecurringPayments.WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	dec := rawColumn(t, path, "paymentAmountDecimal").(*array.Decimal128)
	if dt := dec.DataType().(*arrow.Decimal128Type); dt.Scale != twinScale {
		t.Fatalf("paymentAmountDecimal is %s", dt)
	}
	if got := dec.Value(0).ToString(twinScale); got != "950.00000000000000000000" {
		t.Errorf("paymentAmountDecimal %s, want 950", got)
	}
	if !dec.IsNull(1) || !dec.IsNull(2) {
		t.Error("an amount beyond the twin's scale or absent is not NULL")
	}
	tax := rawColumn(t, path, "taxAmountDecimal").(*array.Decimal128)
	if got := tax.Value(0).ToString(twinScale); got != "0.12500000000000000000" || !tax.IsNull(1) {
		t.Errorf("taxAmountDecimal %s", got)
	}
	ts := rawColumn(t, path, "startDateTime").(*array.Timestamp)
	conv, _ := ts.DataType().(*arrow.TimestampType).GetToTimeFunc()
	if got := conv(ts.Value(0)); !got.Equal(time.Date(2024, 2, 14, 10, 48, 23, 0, time.UTC)) || !ts.IsNull(1) || !ts.IsNull(2) {
		t.Errorf("startDateTime %v (nulls %v %v)", got, ts.IsNull(1), ts.IsNull(2))
	}
	// Twins are written only: reading gives back exactly the text columns.
	got, err := RecurringPayments.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, in)
	}
}

func TestStampColumnsAndFooter(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 23, 2, 0, 7, 0, time.UTC)
	st := Stamp{RunID: "20261123T020000Z", ExtractedAt: at}
	if err := RecurringPayments.WriteFiles(dir, "rp", sampleRPs(), true, st); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rp.parquet")
	run := rawColumn(t, path, "run_id").(*array.String)
	ext := rawColumn(t, path, "extracted_at").(*array.Timestamp)
	conv, _ := ext.DataType().(*arrow.TimestampType).GetToTimeFunc()
	for i := range run.Len() {
		if run.Value(i) != st.RunID || !conv(ext.Value(i)).Equal(at) {
			t.Errorf("row %d stamped %q %v", i, run.Value(i), conv(ext.Value(i)))
		}
	}
	got, err := ReadStamp(path)
	if err != nil || got != st {
		t.Errorf("ReadStamp = %+v, %v; want %+v", got, err, st)
	}
	b, err := os.ReadFile(filepath.Join(dir, "rp.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if !strings.HasSuffix(lines[0], ",row_hash,field_hashes,run_id,extracted_at") || !strings.HasSuffix(lines[1], `,"20261123T020000Z","2026-11-23T02:00:07Z"`) {
		t.Errorf("CSV twin stamp:\n%s\n%s", lines[0], lines[1])
	}
	// An unstamped file (Create) reads as a zero stamp.
	plain := filepath.Join(dir, "plain.parquet")
	if err := RecurringPayments.WriteFile(plain, sampleRPs()); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadStamp(plain); err != nil || got != (Stamp{}) {
		t.Errorf("ReadStamp of an unstamped file = %+v, %v", got, err)
	}
	// The stamp is no part of the record: the row hash input is unchanged.
	if _, ok := reflect.TypeOf(RecurringPayment{}).FieldByName("RunID"); ok {
		t.Error("RecurringPayment has a RunID field: the stamp would reach the row hash")
	}
}

func TestCSVTwinCells(t *testing.T) {
	dir := t.TempDir()
	rps := sampleRPs()
	rps[0].RowHash = 0x00ab
	rps[0].PaymentAmount = "950.00"
	rps[0].LineItemNames = StringList{"Pro | Max", `say "hi"`}
	if err := RecurringPayments.WriteFiles(dir, "rp", rps, true, Stamp{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rp.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	row := strings.Split(string(b), "\n")[1]
	for _, want := range []string{`"00000000000000ab"`, `"950.00"`, `"[""Pro | Max"",""say \""hi\""""]"`, `"sub_1"`} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %s:\n%s", want, row)
		}
	}
	if !strings.HasPrefix(row, `,"sub_1"`) { // legacyConnectionId absent: an empty, unquoted cell
		t.Errorf("an absent value is not an empty cell: %s", row)
	}
	got, err := ReadCSV[RecurringPayment](path)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].RowHash != 0xab || got[1].RowHash != rps[1].RowHash || !reflect.DeepEqual(got[0].LineItemNames, rps[0].LineItemNames) {
		t.Errorf("read back hash %x %x, names %q", got[0].RowHash, got[1].RowHash, got[0].LineItemNames)
	}
}

func TestCSVVersion1CellsRead(t *testing.T) {
	// A twin written before hex hashes and JSON lists.
	path := filepath.Join(t.TempDir(), "plan.csv")
	if err := os.WriteFile(path, []byte("entity,key,op,changed_fields\ncontact,c1,update,email|fields.Plan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV[PlanEntry](path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[0].ChangedFields, StringList{"email", "fields.Plan"}) {
		t.Errorf("changed_fields %q", got[0].ChangedFields)
	}
	rp := filepath.Join(t.TempDir(), "rp.csv")
	if err := os.WriteFile(rp, []byte("storeRecurringPaymentId,row_hash\nsub_1,18446744073709551615\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rps, err := ReadCSV[RecurringPayment](rp)
	if err != nil {
		t.Fatal(err)
	}
	if rps[0].RowHash != 1<<64-1 {
		t.Errorf("decimal row_hash read as %d", rps[0].RowHash)
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // at the twin's scale; "" = not a twin value
	}{
		{"950.00", "950.00000000000000000000"},
		{"-0.125", "-0.12500000000000000000"},
		{"0", "0.00000000000000000000"},
		{"15", "15.00000000000000000000"},
		{"123456789012345678.5", "123456789012345678.50000000000000000000"}, // 18 integer digits: the most
		{"1234567890123456789", ""},
		{"1.00000000000000000001", "1.00000000000000000001"}, // 20 places, 21 digits: FromString
		{"-0.00000000000000000001", "-0.00000000000000000001"},
		{"1.000000000000000000001", ""}, // 21 places: never rounded
		{"abc", ""}, {"1.2.3", ""}, {"-", ""}, {"1,5", ""},
	} {
		n, ok := parseDecimal(tc.in)
		got := ""
		if ok {
			got = n.ToString(twinScale)
		}
		if got != tc.want {
			t.Errorf("parseDecimal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
