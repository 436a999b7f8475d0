package schemas

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

var xxhashString = xxhash.Sum64String

func TestChangedFields(t *testing.T) {
	h := func(kv ...any) FieldHashes {
		var out FieldHashes
		for i := 0; i < len(kv); i += 2 {
			out = append(out, FieldHash{Field: kv[i].(string), Hash: uint64(kv[i+1].(int))})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		old, cur FieldHashes
		want     []string
	}{
		{"same", h("a", 1, "b", 2), h("a", 1, "b", 2), nil},
		{"one moved", h("a", 1, "b", 2), h("a", 1, "b", 3), []string{"b"}},
		{"added", h("a", 1), h("a", 1, "c", 3), []string{"c"}},
		{"removed", h("a", 1, "b", 2), h("b", 2), []string{"a"}},
		{"interleaved", h("a", 1, "c", 3, "e", 5), h("b", 2, "c", 4, "e", 5), []string{"a", "b", "c"}},
		{"empty old", nil, h("a", 1), []string{"a"}},
	} {
		if got := ChangedFields(tc.old, tc.cur); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The field hashes are of the payload only: the AC ids and row_hash are left out,
// custom fields count one each, and the row hash is the hash of the JSON as before.
func TestHashContact(t *testing.T) {
	id := int64(7)
	c := Contact{CustomerID: "c1", Email: "a@x.io", ACContactID: &id,
		Fields: FieldValues{{Title: "Plan", Value: "pro"}}}
	row, fields := HashContact(&c)
	var names []string
	for _, f := range fields {
		names = append(names, f.Field)
	}
	want := []string{"customerId", "deleted", "email", "fields.Plan", "firstName", "lastName", "listStatus", "orgname", "phone"}
	if !slices.Equal(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
	c.FieldHashes = fields
	if row2, _ := HashContact(&c); row2 != row {
		t.Errorf("row hash moved with the field hashes set: %x, want %x", row2, row)
	}
	c.Fields[0].Value = "basic"
	if _, f3 := HashContact(&c); !slices.Equal(ChangedFields(fields, f3), []string{"fields.Plan"}) {
		t.Errorf("changed %v, want [fields.Plan]", ChangedFields(fields, f3))
	}
}

// The scan HashPayload (the reference HashContact and HashRecurringPayment are held
// to) makes hashes the same texts Payload decodes, whatever the
// values hold: escapes, quotes, non-ASCII, nested addresses, lists, nulls.
func TestHashPayloadMatchesPayload(t *testing.T) {
	id := int64(3)
	rows := []any{
		Contact{CustomerID: "c\"1", Email: "a<b>@x.io", FirstName: "Zoë \\ \u2028", ACContactID: &id,
			Fields: FieldValues{{Title: `Plan "x" & <y>`, Value: "pro,\n[1]{}"}, {Title: "Empty", Value: ""}, {Title: "Ünï", Value: `\"`}}},
		Contact{},
	}
	for _, rp := range sampleRPs() {
		rows = append(rows, rp)
	}
	for i, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		_, got := HashPayload(b)
		var want FieldHashes
		for k, v := range payloadOf(b) {
			want = append(want, FieldHash{Field: k, Hash: xxhashString(v)})
		}
		slices.SortFunc(want, func(a, b FieldHash) int { return strings.Compare(a.Field, b.Field) })
		if !slices.Equal(got, want) {
			t.Errorf("row %d: scanned %v\nwant %v", i, got, want)
		}
	}
}

// Every payload field of both record types maps to a column that, read alone,
// gives the value a full-row read gives: a plan reads the changed fields' columns
// only, and a record field added without a column, or one whose value lives
// elsewhere, must fail here rather than show a wrong old → new in a plan. The
// records are filled by reflection, every field set, so a new field is covered.
func TestPayloadColumns(t *testing.T) {
	t.Run("contact", func(t *testing.T) { checkPayloadColumns(t, Contacts) })
	t.Run("recurring_payment", func(t *testing.T) { checkPayloadColumns(t, RecurringPayments) })
}

func checkPayloadColumns[T any](t *testing.T, tb *Table[T]) {
	var rows []T
	for i := range 3 {
		var rec T
		fillAll(reflect.ValueOf(&rec).Elem(), "", i)
		rows = append(rows, rec)
	}
	var zero T
	rows = append(rows, zero) // every column NULL or empty
	path := filepath.Join(t.TempDir(), tb.Name+".parquet")
	if err := tb.WriteFile(path, rows); err != nil {
		t.Fatal(err)
	}
	var full []map[string]string
	if err := tb.Each(path, func(r *T) error { full = append(full, Payload(r)); return nil }); err != nil {
		t.Fatal(err)
	}
	cols := tb.PayloadColumns()
	seen := map[string]bool{}
	for _, f := range slices.Sorted(maps.Keys(full[0])) {
		col, ok := cols.Column(f)
		if !ok {
			t.Errorf("payload field %s has no column", f)
			continue
		}
		if !slices.Contains(tb.Columns(), col) {
			t.Errorf("payload field %s maps to %s, not a column of %s", f, col, tb.Name)
			continue
		}
		seen[col] = true
		row := 0
		err := tb.EachRowColumns(path, []string{col}, func(int) bool { return true }, func(r int, rec *T) error {
			if got, want := Payload(rec)[f], full[r][f]; got != want {
				t.Errorf("row %d: %s read from column %s alone is %s, the full row's %s", r, f, col, got, want)
			}
			row++
			return nil
		})
		if err != nil || row != len(rows) {
			t.Errorf("%s: read %d rows of %d: %v", col, row, len(rows), err)
		}
	}
	// The filled row holds every field, so every column of the map was checked.
	for f, col := range cols {
		if !seen[col] {
			t.Errorf("column %s (field %s) not in a filled row's payload: the filler misses a field", col, f)
		}
	}
	for _, f := range []string{"row_hash", "field_hashes", "acContactId", "legacyConnectionId", "fields", "nope"} {
		if col, ok := cols.Column(f); ok {
			t.Errorf("%s is no payload field, maps to %s", f, col)
		}
	}
}

// fillAll sets every field of v to a value that differs by i, texts of typed
// twin columns (parquet tag decimal or time) in their form.
func fillAll(v reflect.Value, tag string, i int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), tag, i)
	case reflect.Struct:
		for k := range v.NumField() {
			if f := v.Type().Field(k); f.IsExported() {
				fillAll(v.Field(k), f.Tag.Get("parquet"), i)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for k := range 2 {
			fillAll(v.Index(k), tag, i*2+k)
		}
	case reflect.String:
		switch {
		case strings.HasSuffix(tag, ",decimal"):
			v.SetString(fmt.Sprintf("%d.25", i+1))
		case strings.HasSuffix(tag, ",time"):
			v.SetString(fmt.Sprintf("2026-01-%02dT10:48:23Z", i+1))
		default:
			v.SetString(fmt.Sprintf("v%d \"%s\"", i, tag))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int64, reflect.Int:
		v.SetInt(int64(i + 7))
	case reflect.Uint64:
		v.SetUint(uint64(i + 11))
	default:
		panic("fillAll: no value for " + v.Type().String())
	}
}
