package schemas

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// inspUpdate rewrites the golden files under testdata/:
//
//	go test ./schemas/ -run TestInspectGolden -update
var inspUpdate = inspUpdateFlag()

func inspUpdateFlag() func() bool {
	if f := flag.Lookup("update"); f != nil { // another test file declared it
		return func() bool { return f.Value.String() == "true" }
	}
	b := flag.Bool("update", false, "rewrite golden files under testdata/")
	return func() bool { return *b }
}

func inspPtr[T any](v T) *T { return &v }

const inspLongName = "Pro plan with a very long name that goes on and on"

func inspRPs() []RecurringPayment {
	return []RecurringPayment{
		{
			StoreRecurringPaymentID: "sub_1", Email: "zoë@example.com", NormalizedStatus: "ACTIVE",
			BillingInterval: "MONTHLY", BillingIntervalCount: 1, PaymentAmount: "20.00",
			DiscountAmount: inspPtr("0.00"), StartDate: inspPtr("2024-02-14T10:48:23Z"),
			BillingAddress: &ACAddress{FirstName: "Zoë", City: "Köln", Address1: "Hauptstraße 1"},
			CustomerData:   CustomerData{FirstName: "Zoë", AcceptsMarketing: inspPtr(true)},
			LineItemNames:  StringList{inspLongName, "Extra seat"},
			RowHash:        1<<63 + 5,
		},
		{
			StoreRecurringPaymentID: "sub_2", Email: "b@example.com", NormalizedStatus: "CANCELLED",
			LegacyConnectionID: inspPtr(int64(15)), Deleted: true, RowHash: math.MaxUint64,
		},
	}
}

// inspFiles writes the files the tests inspect and returns their paths by name.
func inspFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	p := map[string]string{
		"rp":     filepath.Join(dir, "recurring_payments.parquet"),
		"subs":   filepath.Join(dir, "subscriptions.parquet"),
		"rpcsv":  filepath.Join(dir, "recurring_payments.csv"),
		"errcsv": filepath.Join(dir, "errors.csv"),
	}
	if err := RecurringPayments.WriteFile(p["rp"], inspRPs()); err != nil {
		t.Fatal(err)
	}
	subs := []Subscription{
		{ID: "s1", CustomerID: "c1", Status: "active", Items: Items{
			{ItemPriceID: "p", ItemType: "plan", Quantity: 2, UnitPrice: inspPtr(int64(500)), Amount: inspPtr(int64(1000))},
			{ItemPriceID: "a", ItemType: "addon", Quantity: 1},
		}, CreatedAt: inspPtr(int64(1700000000))},
		{ID: "s2", CustomerID: "c2", Status: "cancelled"},
	}
	if err := Subscriptions.WriteFile(p["subs"], subs); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(p["rpcsv"], inspRPs()); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV[ValidationError](p["errcsv"], nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func inspRun(t *testing.T, path string, limit int, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Inspect(&b, path, limit, format); err != nil {
		t.Fatalf("Inspect(%s, %d, %q): %v", path, limit, format, err)
	}
	return b.String()
}

// inspRuneCol is the rune offset of sub in line, or -1.
func inspRuneCol(line, sub string) int {
	i := strings.Index(line, sub)
	if i < 0 {
		return -1
	}
	return utf8.RuneCountInString(line[:i])
}

func TestInspectTable(t *testing.T) {
	f := inspFiles(t)
	cases := []struct {
		name, path string
		limit      int
		want       []string
		notWant    []string
	}{
		{
			name: "recurring payments", path: f["rp"],
			want: []string{
				"file:        " + f["rp"], "format:      parquet", "schema:      recurring_payment version 1",
				"rows:        2", "row groups:  1", "columns:     " + strconv.Itoa(len(RecurringPayments.Columns())+2),
				"legacyConnectionId           nullable  int64",
				"storeRecurringPaymentId      nullable  utf8",            // "" is written NULL
				"paymentAmountDecimal         nullable  decimal(38, 20)", // the typed twin
				"extracted_at                 nullable  timestamp[ms, tz=UTC]",
				"billingAddress               nullable  struct<firstName: utf8",
				"lineItemNames                nullable  list<", // list<element: utf8, nullable> as read back
				`  ["Pro plan with a very long name that g…  `, // cut to 40 runes
				`  {"firstName":"Zoë","lastName":null,"com…  `,
				"NULL", "9223372036854775813", "18446744073709551615", "(2 rows)",
			},
			notWant: []string{inspLongName},
		},
		{
			name: "list of structs", path: f["subs"],
			want: []string{
				"schema:      subscription version 2", "list<", "struct<item_price_id: utf8 nullable, item_type: utf8 nullable, quantity: int64",
				`[{"item_price_id":"p","item_type":"plan…`, "[]", "2023-11-14T22:13:20Z",
			},
		},
		{
			name: "limit 1", path: f["rp"], limit: 1,
			want:    []string{"sub_1", "(showing 1 of 2 rows)"},
			notWant: []string{"sub_2"},
		},
		{
			name: "csv file", path: f["rpcsv"],
			want: []string{
				"format:      csv", "rows:        2", "\n  storeRecurringPaymentId\n", "\n  billingAddress.city\n",
				"Köln", "(2 rows)",
			},
			notWant: []string{"schema:", "NULL"},
		},
		{
			name: "csv header only", path: f["errcsv"],
			want: []string{"rows:        0", "columns:     9", "run_id  stage  entity", "(0 rows)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := inspRun(t, tc.path, tc.limit, "")
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if tc.path == f["rp"] {
				for _, c := range RecurringPayments.Columns() {
					if !strings.Contains(out, "\n  "+c+" ") {
						t.Errorf("schema block lacks column %s", c)
					}
				}
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasSuffix(line, " ") {
					t.Errorf("trailing blanks in %q", line)
				}
			}
		})
	}
}

// The table pads by runes: a cell with "ë" does not shift the columns after it.
func TestInspectTableAlignment(t *testing.T) {
	f := inspFiles(t)
	out := inspRun(t, f["rp"], 0, "table")
	var header string
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "legacyConnectionId"):
			header = line
		case strings.Contains(line, "sub_1") || strings.Contains(line, "sub_2"):
			rows = append(rows, line)
		}
	}
	if header == "" || len(rows) != 2 {
		t.Fatalf("no table found:\n%s", out)
	}
	checks := []struct{ col, row0, row1 string }{
		{"storeRecurringPaymentId", "sub_1", "sub_2"},
		{"email", "zoë@example.com", "b@example.com"},
		{"normalizedStatus", "ACTIVE", "CANCELLED"},
		{"row_hash", "9223372036854775813", "18446744073709551615"},
	}
	for _, c := range checks {
		h := inspRuneCol(header, " "+c.col) + 1
		if r0, r1 := inspRuneCol(rows[0], c.row0), inspRuneCol(rows[1], c.row1); h <= 0 || r0 != h || r1 != h {
			t.Errorf("column %s at rune %d, values at %d and %d:\n%s\n%s\n%s", c.col, h, r0, r1, header, rows[0], rows[1])
		}
	}
}

func TestInspectCSV(t *testing.T) {
	f := inspFiles(t)
	cases := []struct {
		name, path string
		limit      int
		header     []string
		rows       int
		check      func(t *testing.T, recs [][]string)
	}{
		{
			name: "parquet", path: f["rp"], header: append(RecurringPayments.Columns(), "run_id", "extracted_at"), rows: 2,
			check: func(t *testing.T, recs [][]string) {
				col := inspIndex(recs[0])
				var addr map[string]string
				if err := json.Unmarshal([]byte(recs[1][col["billingAddress"]]), &addr); err != nil || addr["city"] != "Köln" || addr["address1"] != "Hauptstraße 1" {
					t.Errorf("billingAddress cell %q: %v", recs[1][col["billingAddress"]], err)
				}
				var names []string
				if err := json.Unmarshal([]byte(recs[1][col["lineItemNames"]]), &names); err != nil || len(names) != 2 || names[0] != inspLongName {
					t.Errorf("lineItemNames cell %q: %v", recs[1][col["lineItemNames"]], err)
				}
				for _, c := range []string{"billingAddress", "startDate", "discountAmount"} {
					if v := recs[2][col[c]]; v != "" {
						t.Errorf("null %s is %q, want empty", c, v)
					}
				}
				if v := recs[1][col["legacyConnectionId"]]; v != "" {
					t.Errorf("null legacyConnectionId is %q, want empty", v)
				}
				if v := recs[1][col["row_hash"]]; v != "9223372036854775813" {
					t.Errorf("row_hash %q", v)
				}
				if v := recs[2][col["deleted"]]; v != "true" {
					t.Errorf("deleted %q", v)
				}
			},
		},
		{name: "limit 1", path: f["rp"], limit: 1, header: append(RecurringPayments.Columns(), "run_id", "extracted_at"), rows: 1},
		{
			name: "csv file", path: f["rpcsv"], rows: 2,
			check: func(t *testing.T, recs [][]string) {
				orig, err := os.ReadFile(f["rpcsv"])
				if err != nil {
					t.Fatal(err)
				}
				want, _ := csv.NewReader(bytes.NewReader(orig)).ReadAll()
				if !equalRecords(recs, want) {
					t.Errorf("csv copy differs:\n got %q\nwant %q", recs, want)
				}
			},
		},
		{name: "csv header only", path: f["errcsv"], header: []string{"run_id", "stage", "entity", "record_id", "customer_id", "email", "code", "field", "message"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := inspRun(t, tc.path, tc.limit, "csv")
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatalf("output is not CSV: %v\n%s", err, out)
			}
			if len(recs) != tc.rows+1 {
				t.Fatalf("%d records, want header + %d", len(recs), tc.rows)
			}
			if tc.header != nil && strings.Join(recs[0], ",") != strings.Join(tc.header, ",") {
				t.Errorf("header %v, want %v", recs[0], tc.header)
			}
			if tc.check != nil {
				tc.check(t, recs)
			}
		})
	}
}

func equalRecords(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

func inspIndex(header []string) map[string]int {
	m := map[string]int{}
	for i, h := range header {
		m[h] = i
	}
	return m
}

type inspDoc struct {
	Path   string `json:"path"`
	Schema struct {
		Name    *string       `json:"name"`
		Version *json.Number  `json:"version"`
		Columns []inspColJSON `json:"columns"`
	} `json:"schema"`
	NumRows int64            `json:"num_rows"`
	Rows    []map[string]any `json:"rows"`
}

type inspColJSON struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

func inspDecode(t *testing.T, out string) inspDoc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var d inspDoc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out)
	}
	return d
}

func TestInspectJSON(t *testing.T) {
	f := inspFiles(t)
	cases := []struct {
		name, path string
		limit      int
		schema     string // "" for none
		numRows    int64
		rows       int
		check      func(t *testing.T, d inspDoc, out string)
	}{
		{
			name: "recurring payments", path: f["rp"], schema: "recurring_payment", numRows: 2, rows: 2,
			check: func(t *testing.T, d inspDoc, out string) {
				if len(d.Schema.Columns) != len(RecurringPayments.Columns())+2 {
					t.Errorf("%d columns, want %d", len(d.Schema.Columns), len(RecurringPayments.Columns())+2)
				}
				if c := d.Schema.Columns[0]; c != (inspColJSON{"legacyConnectionId", "int64", true}) {
					t.Errorf("first column %+v", c)
				}
				r0, r1 := d.Rows[0], d.Rows[1]
				addr, _ := r0["billingAddress"].(map[string]any)
				if addr["city"] != "Köln" || addr["firstName"] != "Zoë" {
					t.Errorf("billingAddress %v", r0["billingAddress"])
				}
				if r1["billingAddress"] != nil || r1["startDate"] != nil || r0["legacyConnectionId"] != nil {
					t.Errorf("nulls: billingAddress %v startDate %v legacyConnectionId %v", r1["billingAddress"], r1["startDate"], r0["legacyConnectionId"])
				}
				if r0["row_hash"] != json.Number("9223372036854775813") || r1["row_hash"] != json.Number("18446744073709551615") {
					t.Errorf("row_hash %v %v", r0["row_hash"], r1["row_hash"])
				}
				if r1["legacyConnectionId"] != json.Number("15") || r0["billingIntervalCount"] != json.Number("1") {
					t.Errorf("numbers %v %v", r1["legacyConnectionId"], r0["billingIntervalCount"])
				}
				if r1["deleted"] != true || r0["isTrial"] != false {
					t.Errorf("bools %v %v", r1["deleted"], r0["isTrial"])
				}
				if cd, _ := r0["customerData"].(map[string]any); cd["acceptsMarketing"] != true {
					t.Errorf("customerData %v", r0["customerData"])
				}
				if names, _ := r0["lineItemNames"].([]any); len(names) != 2 || names[0] != inspLongName {
					t.Errorf("lineItemNames %v", r0["lineItemNames"])
				}
				if skus, ok := r0["lineItemSkus"].([]any); !ok || len(skus) != 0 {
					t.Errorf("lineItemSkus %#v, want []", r0["lineItemSkus"])
				}
				// Keys keep the file's column order.
				if strings.Index(out, `"legacyConnectionId"`) > strings.Index(out, `"storeRecurringPaymentId":"sub_1"`) {
					t.Errorf("row keys are not in column order:\n%s", out)
				}
			},
		},
		{
			name: "list of structs", path: f["subs"], schema: "subscription", numRows: 2, rows: 2,
			check: func(t *testing.T, d inspDoc, out string) {
				items, _ := d.Rows[0]["items"].([]any)
				if len(items) != 2 {
					t.Fatalf("items %v", d.Rows[0]["items"])
				}
				i0, _ := items[0].(map[string]any)
				i1, _ := items[1].(map[string]any)
				if i0["quantity"] != json.Number("2") || i0["unit_price"] != json.Number("500") || i1["unit_price"] != nil || i1["item_type"] != "addon" {
					t.Errorf("items %v", items)
				}
				if d.Rows[1]["created_at"] != nil {
					t.Errorf("created_at %v, want null", d.Rows[1]["created_at"])
				}
			},
		},
		{name: "limit 1", path: f["rp"], limit: 1, schema: "recurring_payment", numRows: 2, rows: 1},
		{
			name: "csv file", path: f["rpcsv"], numRows: 2, rows: 2,
			check: func(t *testing.T, d inspDoc, out string) {
				for _, c := range d.Schema.Columns {
					if c.Type != "string" {
						t.Errorf("column %+v, want type string", c)
					}
				}
				if d.Rows[0]["billingAddress.city"] != "Köln" || d.Rows[1]["row_hash"] != "ffffffffffffffff" || d.Rows[1]["startDate"] != "" {
					t.Errorf("rows %v", d.Rows)
				}
			},
		},
		{name: "csv limit 1", path: f["rpcsv"], limit: 1, numRows: 2, rows: 1},
		{name: "csv header only", path: f["errcsv"], numRows: 0, rows: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := inspRun(t, tc.path, tc.limit, "json")
			d := inspDecode(t, out)
			if d.Path != tc.path {
				t.Errorf("path %q", d.Path)
			}
			switch {
			case tc.schema == "" && (d.Schema.Name != nil || d.Schema.Version != nil):
				t.Errorf("schema %v version %v, want null", d.Schema.Name, d.Schema.Version)
			case tc.schema != "" && (d.Schema.Name == nil || *d.Schema.Name != tc.schema || d.Schema.Version == nil || d.Schema.Version.String() != strconv.Itoa(inspVersions[tc.schema])):
				t.Errorf("schema %v version %v, want %s %d", d.Schema.Name, d.Schema.Version, tc.schema, inspVersions[tc.schema])
			}
			if d.NumRows != tc.numRows || len(d.Rows) != tc.rows {
				t.Fatalf("num_rows %d, %d rows; want %d, %d", d.NumRows, len(d.Rows), tc.numRows, tc.rows)
			}
			if tc.check != nil {
				tc.check(t, d, out)
			}
		})
	}
}

// inspGeneric writes a Parquet file cb2ac did not write: other Arrow types, no cb2ac
// metadata, 12 rows in 3 row groups.
func inspGeneric(t *testing.T, path string) {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int32},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "tags", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "label", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "blob", Type: arrow.BinaryTypes.Binary, Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	notes := []string{"plain", "two\nlines\tand a tab", "日本語のとても長いメモです。これは四十文字を超えるので切られるはずです。まだ続きます。", `<b>&"quoted"</b>`}
	for i := 0; i < 12; i++ {
		rb.Field(0).(*array.Int32Builder).Append(int32(i))
		if i%3 == 2 {
			for k := 1; k < 7; k++ {
				rb.Field(k).AppendNull()
			}
			continue
		}
		rb.Field(1).(*array.Float64Builder).Append(float64(i) / 4)
		rb.Field(2).(*array.Date32Builder).Append(arrow.Date32(19767 + i))
		mb := rb.Field(3).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.StringBuilder).Append("a")
		mb.ItemBuilder().(*array.Int64Builder).Append(int64(i))
		mb.KeyBuilder().(*array.StringBuilder).Append("b")
		mb.ItemBuilder().(*array.Int64Builder).AppendNull()
		if err := rb.Field(4).(*array.BinaryDictionaryBuilder).AppendString([]string{"red", "green"}[i%2]); err != nil {
			t.Fatal(err)
		}
		rb.Field(5).(*array.StringBuilder).Append(notes[i%4])
		rb.Field(6).(*array.BinaryBuilder).Append([]byte{0, 1, byte(i)})
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pw, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(4)), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Golden files pin the exact output of each format for a file whose schema the test
// owns (the cb2ac tables may grow columns).
func TestInspectGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "generic.parquet")
	inspGeneric(t, path)
	csvPath := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csvPath, []byte("\uFEFFname,city,note\nZoë,Köln,\"multi\nline\"\nBob,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		golden, path string
		limit        int
		format       string
	}{
		{"inspect_generic_limit5.table", path, 5, "table"},
		{"inspect_generic_all.table", path, 0, "table"},
		{"inspect_generic_limit5.csv", path, 5, "csv"},
		{"inspect_generic_limit5.json", path, 5, "json"},
		{"inspect_people.table", csvPath, 0, "table"},
		{"inspect_people.json", csvPath, 0, "json"},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			out := strings.ReplaceAll(inspRun(t, tc.path, tc.limit, tc.format), dir, "$DIR")
			golden := filepath.Join("testdata", tc.golden+".golden")
			if inspUpdate() {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./schemas/ -run TestInspectGolden -update)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (run with -update to accept):\n got:\n%s\nwant:\n%s", golden, out, want)
			}
		})
	}
}

// Rows spanning row groups come out in order, and only as many as asked for.
func TestInspectGenericLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "generic.parquet")
	inspGeneric(t, path)
	for _, limit := range []int{1, 4, 5, 9, 12, 13, 0, -1} {
		d := inspDecode(t, inspRun(t, path, limit, "json"))
		want := limit
		if limit <= 0 || limit > 12 {
			want = 12
		}
		if d.NumRows != 12 || len(d.Rows) != want {
			t.Fatalf("limit %d: num_rows %d, %d rows", limit, d.NumRows, len(d.Rows))
		}
		for i, r := range d.Rows {
			if r["n"] != json.Number(strconv.Itoa(i)) {
				t.Fatalf("limit %d: row %d has n=%v", limit, i, r["n"])
			}
		}
	}
}

func TestInspectErrors(t *testing.T) {
	f := inspFiles(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile(f["rp"])
	if err != nil {
		t.Fatal(err)
	}
	binary := []byte{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 'a', ',', 'b'}
	cases := []struct {
		name, path, format, want string
	}{
		{"missing", filepath.Join(dir, "nope.parquet"), "table", "no such file or directory"},
		{"truncated", write("truncated.parquet", good[:len(good)/2]), "table", "not a readable Parquet file"},
		{"truncated csv name", write("truncated.csv", good[:len(good)/2]), "csv", "not a readable Parquet file"},
		{"footer only", write("short.parquet", []byte("PAR1")), "json", "not a readable Parquet file"},
		{"garbage", write("garbage.parquet", []byte("PAR1 this is not parquet PAR1")), "table", "not a readable Parquet file"},
		{"binary", write("x.bin", binary), "table", "not a Parquet or CSV file"},
		{"binary csv name", write("x.csv", binary), "csv", "not a Parquet or CSV file"},
		{"not utf8", write("latin1.csv", []byte("name\nK\xf6ln\n")), "table", "not a Parquet or CSV file"},
		{"parquet name, no magic", write("text.parquet", []byte("a,b\n1,2\n")), "table", "not a Parquet file (no PAR1 magic)"},
		{"empty", write("empty.csv", nil), "table", "empty file"},
		{"ragged csv", write("ragged.csv", []byte("a,b\n1,2,3\n")), "table", "not a readable CSV file"},
		{"ragged csv streamed", write("ragged2.csv", []byte("a,b\n1,2\n1,2,3\n")), "csv", "not a readable CSV file"},
		{"directory", dir, "table", "is a directory"},
		{"unknown format", f["rp"], "xml", `unknown format "xml"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Inspect(&b, tc.path, 0, tc.format)
			if err == nil {
				t.Fatalf("no error; output:\n%s", b.String())
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "inspect "+tc.path+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line naming %s and saying %q", msg, tc.path, tc.want)
			}
			if tc.format == "table" && b.Len() > 0 {
				t.Errorf("table output on error:\n%s", b.String())
			}
		})
	}
}

// Damaged pages behind an intact footer give an error naming the file or some output,
// never a panic.
func TestInspectCorruptPages(t *testing.T) {
	f := inspFiles(t)
	good, err := os.ReadFile(f["subs"])
	if err != nil {
		t.Fatal(err)
	}
	footer := int(uint32(good[len(good)-8]) | uint32(good[len(good)-7])<<8 | uint32(good[len(good)-6])<<16 | uint32(good[len(good)-5])<<24)
	end := len(good) - 8 - footer
	for _, fill := range []byte{0x00, 0xff, 0x5a} {
		bad := bytes.Clone(good)
		for i := 4; i < end; i++ {
			bad[i] = fill ^ byte(i)
		}
		path := filepath.Join(t.TempDir(), "bad.parquet")
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"table", "csv", "json"} {
			err := Inspect(new(bytes.Buffer), path, 0, format)
			if err != nil && (!strings.HasPrefix(err.Error(), "inspect "+path+": ") || strings.Contains(err.Error(), "\n")) {
				t.Errorf("fill %#x, %s: error %q does not name the path on one line", fill, format, err)
			}
		}
	}
}

// inspVersions are the schema versions the files of these tests are written in.
var inspVersions = map[string]int{"recurring_payment": RecurringPayments.Version, "subscription": Subscriptions.Version}

// A plan's changes, cut to a cell in the table, follow it whole: the record, then
// field: old → new a line, a cleared value as "".
func TestInspectPlanChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.parquet")
	entries := []PlanEntry{
		{Entity: "contact", Key: "cus_1", Op: "update", ChangedFields: StringList{"email", "fields.Cancel Reason"},
			Changes: PlanChanges{{Field: "email", Old: "hannah.weber@example.com", New: "h.weber@example.net"}, {Field: "fields.Cancel Reason", Old: "not_paid", New: ""}}},
		{Entity: "contact", Key: "cus_2", Op: "create"},
	}
	if err := Plans.WriteFile(path, entries); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Inspect(&b, path, 0, "table"); err != nil {
		t.Fatal(err)
	}
	want := "(2 rows)\n\nchanges:\n  contact cus_1 update\n    email: hannah.weber@example.com → h.weber@example.net\n    fields.Cancel Reason: not_paid → \"\"\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("inspect of a plan ends\n%s\nwant\n%s", b.String(), want)
	}
}
