package load

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

func contact(id, email string, hash uint64, deleted bool, plan string) schemas.Contact {
	return schemas.Contact{CustomerID: id, Email: email, RowHash: hash, Deleted: deleted,
		Fields: schemas.FieldValues{{Title: "Plan", Value: plan}, {Title: "Currency", Value: "USD"}}}
}

func diffContacts(t *testing.T, old, cur []schemas.Contact) *Diff[schemas.Contact] {
	t.Helper()
	d, err := diff(EntityContact, sliceSource(old), sliceSource(cur), contactKey,
		func(c *schemas.Contact) uint64 { return c.RowHash }, contactGone)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDiff(t *testing.T) {
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
	d := diffContacts(t, old, cur)
	want := []schemas.PlanEntry{
		{Entity: "contact", Key: "same", Op: OpUnchanged},
		{Entity: "contact", Key: "changed", Op: OpUpdate, ChangedFields: schemas.StringList{"fields.Plan"}},
		{Entity: "contact", Key: "email", Op: OpUpdate, ChangedFields: schemas.StringList{"email"}},
		{Entity: "contact", Key: "deleted", Op: OpDelete},
		{Entity: "contact", Key: "new", Op: OpCreate},
		{Entity: "contact", Key: "gone-before", Op: OpUnchanged},
	}
	if !reflect.DeepEqual(d.Entries, want) {
		t.Fatalf("plan:\n got %+v\nwant %+v", d.Entries, want)
	}
	// Synced snapshot: acknowledged keys take the new row, the others keep the old
	// one, and a key missing from this snapshot (rejected by validate) stays.
	acked := map[string]bool{"contact/changed": true, "contact/new": true}
	got := map[string]uint64{}
	dir := t.TempDir()
	if err := writeSynced(schemas.Contacts, dir, ContactsFile, EntityContact, schemas.Stamp{}, sliceSource(old), d, acked, contactKey, keepContactID); err != nil {
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
