package schemas

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// nastyTexts are the strings encoding/json treats specially: HTML characters,
// quotes and backslashes, control characters with and without a short escape,
// U+2028/U+2029, invalid UTF-8 (a lone byte, a cut rune, a surrogate), non-ASCII.
var nastyTexts = []string{
	"", "", "a", "zoë", "<b>&amp;</b>", `"quoted" \ back\slash`, "\b\f\n\r\t\x00\x01\x1f\x7f",
	"line\u2028para\u2029", "bad \xff byte", "cut \xe2\x82", "\xed\xa0\x80 surrogate", "日本語 🎉",
	"fields.x", "12.50", "2024-02-14T10:48:23Z", "=HYPERLINK(\"x\")",
}

// sameHashes compares field hashes, rows with two custom fields of one title in
// either order (the reference's sort is not stable; ChangedFields cannot tell them
// apart either).
func sameHashes(a, b FieldHashes) bool {
	by := func(x, y FieldHash) int { return cmp.Or(cmp.Compare(x.Field, y.Field), cmp.Compare(x.Hash, y.Hash)) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, by)
	slices.SortFunc(b, by)
	return slices.Equal(a, b)
}

// checkHash holds one row's hashes to json.Marshal and the reference scan: the
// same bytes, the same row hash, the same field hashes in the same order.
func checkHash(t *testing.T, what string, rec any) {
	t.Helper()
	want, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	h := &rowHasher{}
	var row uint64
	var fields FieldHashes
	var order *fieldOrder
	switch r := rec.(type) {
	case *Contact:
		h.contact(r)
		row, fields = HashContact(r)
		order = contactOrder
	case *RecurringPayment:
		h.recurringPayment(r)
		row, fields = HashRecurringPayment(r)
		order = rpOrder
	}
	if string(h.buf) != string(want) {
		t.Fatalf("%s: JSON\n got %s\nwant %s", what, h.buf, want)
	}
	if int(h.next) != len(order.names) {
		t.Fatalf("%s: %d slots, the field order has %d", what, h.next, len(order.names))
	}
	for i, slot := range h.slots {
		if order.names[slot] != h.fields[i].Field {
			t.Fatalf("%s: slot %d is %s, the field order says %s", what, slot, h.fields[i].Field, order.names[slot])
		}
	}
	wantRow, wantFields := HashPayload(want)
	if row != wantRow {
		t.Errorf("%s: row hash %x, want %x", what, row, wantRow)
	}
	if !sameHashes(fields, wantFields) || !slices.IsSortedFunc(fields, func(a, b FieldHash) int { return cmp.Compare(a.Field, b.Field) }) {
		t.Errorf("%s: field hashes\n got %v\nwant %v", what, fields, wantFields)
	}
}

// Every field of both types filled at random (so a field added to a type and not
// to its hasher fails here), with the strings encoding/json escapes, NULLs, nil and
// empty lists, pointers nil or not; and the sample rows.
func TestHashAgreement(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	for i := range 3000 {
		var c Contact
		randomValueOf(rng, reflect.ValueOf(&c).Elem(), nastyTexts)
		checkHash(t, "random contact", &c)
		var r RecurringPayment
		randomValueOf(rng, reflect.ValueOf(&r).Elem(), nastyTexts)
		checkHash(t, "random recurring payment", &r)
		if t.Failed() {
			t.Fatalf("row %d", i)
		}
	}
	id := int64(3)
	checkHash(t, "contact with every escape", &Contact{CustomerID: "c\"1", Email: "a<b>@x.io", FirstName: "Zoë \\ \u2028", ACContactID: &id,
		Fields: FieldValues{{Title: `Plan "x" & <y>`, Value: "pro,\n[1]{}"}, {Title: "Empty"}, {Title: "bad \xff", Value: `\"`}}})
	checkHash(t, "empty contact", &Contact{})
	checkHash(t, "empty custom fields", &Contact{Fields: FieldValues{}})
	checkHash(t, "empty recurring payment", &RecurringPayment{})
	checkHash(t, "empty address", &RecurringPayment{BillingAddress: &ACAddress{}, Notes: StringList{}, LineItemNames: StringList{}})
	for _, r := range sampleRPs() {
		checkHash(t, "sample "+r.StoreRecurringPaymentID, &r)
	}
}

// A custom field's name is built once per title, not per row.
func TestHashContactAllocs(t *testing.T) {
	c := &Contact{CustomerID: "c1", Email: "a@x.io"}
	for _, f := range DefaultFields {
		c.Fields = append(c.Fields, FieldValue{Title: f.Title, Value: "v"})
	}
	HashContact(c)
	if n := testing.AllocsPerRun(100, func() { HashContact(c) }); n > 1 {
		t.Errorf("%v allocations a row, want 1 (the row's field hashes)", n)
	}
}

// HashesAgreeOnFile checks every row of a transform file: its row_hash and
// field_hashes are json.Marshal's and the reference scan's (the fixture test calls
// it on the files the fixture sites become).
func HashesAgreeOnFile(t *testing.T, path string) {
	t.Helper()
	check := func(row uint64, fields FieldHashes, rec any) {
		t.Helper()
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		wantRow, wantFields := HashPayload(b)
		if row != wantRow || !sameHashes(fields, wantFields) {
			t.Fatalf("%s: row %s: hashes %x %v, want %x %v", path, b, row, fields, wantRow, wantFields)
		}
	}
	switch {
	case strings.HasSuffix(path, "contacts.parquet"):
		rows, err := Contacts.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rows {
			row, fields := c.RowHash, c.FieldHashes
			c.RowHash, c.FieldHashes = 0, nil
			check(row, fields, &c)
		}
	case strings.HasSuffix(path, "recurring_payments.parquet"):
		rows, err := RecurringPayments.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			row, fields := r.RowHash, r.FieldHashes
			r.RowHash, r.FieldHashes = 0, nil
			check(row, fields, &r)
		}
	default:
		t.Fatalf("%s: not a transform file", path)
	}
}

// The field names of field_hashes are dictionary encoded, in both transform kinds
// (the same few dozen names in every row), the hashes not (each one differs).
func TestFieldHashNamesDictionaryEncoded(t *testing.T) {
	dir := t.TempDir()
	c := Contact{CustomerID: "c1", Fields: FieldValues{{Title: "Plan", Value: "pro"}}}
	_, c.FieldHashes = HashContact(&c)
	r := sampleRPs()[0]
	_, r.FieldHashes = HashRecurringPayment(&r)
	if err := Contacts.WriteFile(filepath.Join(dir, "c.parquet"), []Contact{c, c}); err != nil {
		t.Fatal(err)
	}
	if err := RecurringPayments.WriteFile(filepath.Join(dir, "r.parquet"), []RecurringPayment{r, r}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"c.parquet", "r.parquet"} {
		pf, err := file.OpenParquetFile(filepath.Join(dir, name), false)
		if err != nil {
			t.Fatal(err)
		}
		enc := map[string][]parquet.Encoding{}
		s := pf.MetaData().Schema
		for i := range s.NumColumns() {
			cc, err := pf.MetaData().RowGroup(0).ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			enc[s.Column(i).Path()] = cc.Encodings()
		}
		pf.Close()
		if e := enc["field_hashes.list.element.field"]; !slices.Contains(e, parquet.Encodings.RLEDict) {
			t.Errorf("%s: field names encoded %v, want a dictionary", name, e)
		}
		if e := enc["field_hashes.list.element.hash"]; slices.Contains(e, parquet.Encodings.RLEDict) {
			t.Errorf("%s: hashes encoded %v, want no dictionary", name, e)
		}
	}
}

// plainFieldHash and plainContact write field_hashes as files before the names were
// dictionary encoded did (PLAIN), for TestFieldHashesPlainFilesRead.
type plainFieldHash struct {
	Field string `parquet:"field"`
	Hash  uint64 `parquet:"hash"`
}

type plainContact struct {
	CustomerID  string           `parquet:"customerId"`
	FieldHashes []plainFieldHash `parquet:"field_hashes"`
}

// A file whose field names are PLAIN (every synced snapshot written before) reads
// the same field hashes, whole or projected to field_hashes as plan reads it, with
// both codecs.
func TestFieldHashesPlainFilesRead(t *testing.T) {
	c := Contact{CustomerID: "c1", Fields: FieldValues{{Title: "Plan", Value: "pro"}, {Title: "bad \xff", Value: "x"}}}
	_, c.FieldHashes = HashContact(&c)
	var plain []plainFieldHash
	for _, f := range c.FieldHashes {
		plain = append(plain, plainFieldHash(f))
	}
	path := filepath.Join(t.TempDir(), "contacts.parquet")
	rows := []plainContact{{CustomerID: "c1", FieldHashes: plain}, {CustomerID: "c2"}, {CustomerID: "c3", FieldHashes: []plainFieldHash{}}}
	if err := NewTable[plainContact]("contact", 1).WriteFile(path, rows); err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(pf.MetaData().Schema.ColumnIndexByName("field_hashes.list.element.field"))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(cc.Encodings(), parquet.Encodings.RLEDict) {
		t.Fatalf("the old form's names are dictionary encoded: %v", cc.Encodings())
	}
	pf.Close()
	got, err := Contacts.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !slices.Equal(got[0].FieldHashes, c.FieldHashes) || len(got[1].FieldHashes)+len(got[2].FieldHashes) != 0 {
		t.Fatalf("read %+v, want the field hashes %v in the first row only", got, c.FieldHashes)
	}
	n := 0
	err = Contacts.EachRowColumns(path, []string{"field_hashes"}, func(row int) bool { return row == 0 }, func(_ int, r *Contact) error {
		Contacts.Detach(r)
		if n++; !slices.Equal(r.FieldHashes, c.FieldHashes) {
			t.Errorf("projected: %v, want %v", r.FieldHashes, c.FieldHashes)
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("projected read: %v, %d rows", err, n)
	}
	Contacts.agreeFile(t, path)
}
