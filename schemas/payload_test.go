package schemas

import (
	"encoding/json"
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
