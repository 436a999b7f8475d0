package load

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

func contact(id, email string, hash uint64, deleted bool, plan string) schemas.Contact {
	return schemas.Contact{CustomerID: id, Email: email, RowHash: hash, Deleted: deleted,
		Fields: schemas.FieldValues{{Title: "Plan", Value: plan}, {Title: "Currency", Value: "USD"}}}
}

func diffContacts(t *testing.T, old, cur []schemas.Contact) *Diff[schemas.Contact] {
	t.Helper()
	d, err := diff(contactEntity, sliceSource(old), sliceSource(cur))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.load(contactEntity, sliceSource(old), sliceSource(cur), nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// hashed gives rows their field hashes as transform does, keeping their row hash
// (the tests pick row hashes by hand).
func hashed(rows []schemas.Contact) []schemas.Contact {
	out := slices.Clone(rows)
	for i := range out {
		h := out[i].RowHash
		out[i].RowHash = 0
		_, out[i].FieldHashes = schemas.HashContact(&out[i])
		out[i].RowHash = h
	}
	return out
}

// The plan names an update's fields from the field hashes, or, for a synced
// snapshot written before them, from both rows whole: the same fields and values
// either way.
func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name           string
		oldHashes, cur bool
	}{{"field hashes", true, true}, {"synced without field hashes", false, true}, {"neither", false, false}} {
		t.Run(tc.name, func(t *testing.T) { testDiff(t, tc.oldHashes, tc.cur) })
	}
}

func testDiff(t *testing.T, oldHashes, curHashes bool) {
	old := []schemas.Contact{
		contact("same", "s@x.io", 1, false, "p"),
		contact("changed", "c@x.io", 2, false, "basic"),
		contact("email", "old@x.io", 3, false, "p"),
		contact("deleted", "d@x.io", 4, false, "p"),
		contact("rejected-now", "r@x.io", 5, false, "p"),
		contact("gone-before", "g@x.io", 6, true, "p"),
	}
	cur := []schemas.Contact{
		contact("same", "s@x.io", 1, false, "p"),
		contact("changed", "c@x.io", 22, false, "pro"),
		contact("email", "new@x.io", 33, false, "p"),
		contact("deleted", "d@x.io", 44, true, "p"),
		contact("new", "n@x.io", 7, false, "p"),
		contact("new-but-deleted", "nd@x.io", 8, true, "p"),
		contact("gone-before", "g@x.io", 66, true, "q"),
	}
	if oldHashes {
		old = hashed(old)
	}
	if curHashes {
		cur = hashed(cur)
	}
	d := diffContacts(t, old, cur)
	want := []schemas.PlanEntry{
		{Entity: "contact", Key: "same", Op: OpUnchanged},
		{Entity: "contact", Key: "changed", Op: OpUpdate, ChangedFields: schemas.StringList{"fields.Plan"},
			Changes: schemas.PlanChanges{{Field: "fields.Plan", Old: "basic", New: "pro"}}},
		{Entity: "contact", Key: "email", Op: OpUpdate, ChangedFields: schemas.StringList{"email"},
			Changes: schemas.PlanChanges{{Field: "email", Old: "old@x.io", New: "new@x.io"}}},
		{Entity: "contact", Key: "deleted", Op: OpDelete},
		{Entity: "contact", Key: "new", Op: OpCreate},
		{Entity: "contact", Key: "gone-before", Op: OpUnchanged},
	}
	if got := d.planEntries(0, d.planRows(), nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n got %+v\nwant %+v", got, want)
	}
	// Synced snapshot: acknowledged keys take the new row, the others keep the old
	// one, and a key missing from this snapshot (rejected by validate) stays.
	acked := map[string]bool{"contact/changed": true, "contact/new": true}
	got := map[string]uint64{}
	dir := t.TempDir()
	if err := writeSynced(schemas.Contacts, dir, ContactsFile, EntityContact, schemas.Stamp{}, sliceSource(old), sliceSource(cur), d, acked, contactKey, keepContactID, func(*Change[schemas.Contact], *schemas.Contact) {}); err != nil {
		t.Fatal(err)
	}
	synced, err := schemas.Contacts.ReadFile(filepath.Join(dir, ContactsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range synced {
		if _, dup := got[c.CustomerID]; dup {
			t.Errorf("synced snapshot holds %s twice", c.CustomerID)
		}
		got[c.CustomerID] = c.RowHash
	}
	wantSynced := map[string]uint64{"same": 1, "changed": 22, "email": 3, "deleted": 4, "new": 7, "gone-before": 66, "rejected-now": 5}
	if len(got) != len(wantSynced) {
		t.Errorf("synced keys %v, want %v", got, wantSynced)
	}
	for k, h := range wantSynced {
		if got[k] != h {
			t.Errorf("synced %s hash %d, want %d", k, got[k], h)
		}
	}
}

func TestDiffFullIsAllCreates(t *testing.T) {
	cur := []schemas.Contact{contact("a", "a@x.io", 1, false, "p"), contact("b", "b@x.io", 2, false, "p")}
	d := diffContacts(t, nil, cur)
	if len(d.Changes) != 2 || d.Changes[0].Op != OpCreate || d.Changes[1].Op != OpCreate {
		t.Fatalf("changes %+v", d.Changes)
	}
}

// The fields of an update come from the field hashes alone when both rows have
// them: rows whose payloads agree but whose hashes say email moved name email
// (the full-row diff would name nothing).
func TestDiffNamesFromFieldHashes(t *testing.T) {
	old := []schemas.Contact{contact("a", "a@x.io", 1, false, "p")}
	cur := []schemas.Contact{contact("a", "a@x.io", 2, false, "p")}
	old[0].FieldHashes = schemas.FieldHashes{{Field: "email", Hash: 1}, {Field: "fields.Plan", Hash: 5}}
	cur[0].FieldHashes = schemas.FieldHashes{{Field: "email", Hash: 2}, {Field: "fields.Plan", Hash: 5}}
	d := diffContacts(t, old, cur)
	want := schemas.PlanEntry{Entity: "contact", Key: "a", Op: OpUpdate, ChangedFields: schemas.StringList{"email"},
		Changes: schemas.PlanChanges{{Field: "email", Old: "a@x.io", New: "a@x.io"}}}
	if got := d.planEntries(0, d.planRows(), nil); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("plan %+v, want %+v", got, want)
	}
}

// A dry run prints each update field by field, at most max records; redacted, the
// field names only.
func TestWriteChanges(t *testing.T) {
	dir := t.TempDir()
	entries := []schemas.PlanEntry{
		{Entity: "contact", Key: "a", Op: OpUpdate, ChangedFields: schemas.StringList{"email", "fields.Plan"},
			Changes: schemas.PlanChanges{{Field: "email", Old: "a@x.io", New: "b@x.io"}, {Field: "fields.Plan", Old: "basic", New: ""}}},
		{Entity: "contact", Key: "b", Op: OpCreate},
		{Entity: "recurring_payment", Key: "s1", Op: OpUpdate, ChangedFields: schemas.StringList{"paymentAmount"},
			Changes: schemas.PlanChanges{{Field: "paymentAmount", Old: "10.00", New: "12.00"}}},
		{Entity: "recurring_payment", Key: "s2", Op: OpUpdate, ChangedFields: schemas.StringList{"storeStatus"},
			Changes: schemas.PlanChanges{{Field: "storeStatus", Old: "active", New: "paused"}}},
	}
	if err := schemas.Plans.WriteFiles(dir, PlanFile, entries, true, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		max    int
		redact bool
		want   string
	}{
		{"all", 10, false, `          contact a update
            email: a@x.io → b@x.io
            fields.Plan: basic → ""
          recurring_payment s1 update
            paymentAmount: 10.00 → 12.00
          recurring_payment s2 update
            storeStatus: active → paused
`},
		{"cut", 1, false, `          contact a update
            email: a@x.io → b@x.io
            fields.Plan: basic → ""
          … and 2 more updates
`},
		{"redacted", 2, true, `          contact a update
            email, fields.Plan
          recurring_payment s1 update
            paymentAmount
          … and 1 more updates
`},
	} {
		var b strings.Builder
		if err := WriteChanges(&b, dir, tc.max, tc.redact); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, b.String(), tc.want)
		}
	}
}
