// Package load sends ActiveCampaign what changed: it diffs the transform snapshot
// against the last synced snapshot (plan), applies the changes in batches, journals
// every acknowledged batch so a killed load resumes, and writes the new synced
// snapshot: the last one plus the acknowledged changes only.
package load

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cb2ac/cb2ac/schemas"
)

// Plan ops and entities.
const (
	OpCreate    = "create"
	OpUpdate    = "update"
	OpDelete    = "delete"
	OpUnchanged = "unchanged"

	EntityContact          = "contact"
	EntityRecurringPayment = "recurring_payment"
)

// Change is one planned write.
type Change[T any] struct {
	Key     string
	Op      string
	New     *T // the transform row
	Old     *T // the synced row, nil on create
	Changed []string
}

// Diff is the plan for one entity.
type Diff[T any] struct {
	Changes []Change[T] // creates, updates, deletes, in the transform file's order
	Rows    []*T        // every transform row, for the synced snapshot
	Old     map[string]*T
	Entries []schemas.PlanEntry
}

// diff compares rows by key and row_hash.
//
//   - key only in the new snapshot → create (unless it is already deleted there);
//   - both, same hash → unchanged; different → update, or delete when the new row is
//     marked deleted (a customer or subscription deleted in Chargebee);
//   - key only in the synced snapshot → nothing: the record was rejected by validate
//     this time, and AC keeps what it had until the record is fixed.
func diff[T any](entity string, old, cur []T, key func(*T) string, hash func(*T) uint64, deleted func(*T) bool) *Diff[T] {
	d := &Diff[T]{Old: make(map[string]*T, len(old)), Rows: make([]*T, 0, len(cur)), Entries: make([]schemas.PlanEntry, 0, len(cur))}
	for i := range old {
		d.Old[key(&old[i])] = &old[i]
	}
	for i := range cur {
		n := &cur[i]
		k := key(n)
		d.Rows = append(d.Rows, n)
		o := d.Old[k]
		ch := Change[T]{Key: k, New: n, Old: o}
		switch {
		case o == nil && deleted(n):
			continue // never synced, and gone: nothing to do
		case o == nil:
			ch.Op = OpCreate
		case hash(o) == hash(n):
			ch.Op = OpUnchanged
		case deleted(n) && !deleted(o):
			ch.Op = OpDelete
		case deleted(n):
			ch.Op = OpUnchanged // deleted on both sides; nothing AC needs to hear
		default:
			ch.Op = OpUpdate
			ch.Changed = changedFields(o, n)
		}
		d.Entries = append(d.Entries, schemas.PlanEntry{Entity: entity, Key: k, Op: ch.Op, ChangedFields: strings.Join(ch.Changed, "|")})
		if ch.Op != OpUnchanged {
			d.Changes = append(d.Changes, ch)
		}
	}
	return d
}

// changedFields names the columns that differ, custom fields as fields.<title>.
func changedFields[T any](o, n *T) []string {
	om, nm := flatten(o), flatten(n)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(union(om, nm))) {
		if k == "row_hash" {
			continue
		}
		if om[k] != nm[k] {
			out = append(out, k)
		}
	}
	return out
}

func union(a, b map[string]string) map[string]string {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}

// flatten renders a row as column → JSON text, with contact fields one per title.
func flatten(v any) map[string]string {
	b, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	out := make(map[string]string, len(m))
	for k, raw := range m {
		if k == "fields" {
			var fs []schemas.FieldValue
			if json.Unmarshal(raw, &fs) == nil {
				for _, f := range fs {
					out["fields."+f.Title] = f.Value
				}
				continue
			}
		}
		out[k] = string(raw)
	}
	return out
}

// Counts summarises a plan.
func counts[T any](d *Diff[T]) map[string]int64 {
	c := map[string]int64{}
	for _, e := range d.Entries {
		c[e.Op]++
	}
	return c
}

// File names in the load folder.
const (
	PlanFile    = "plan"
	ErrorsFile  = "errors.csv"
	JournalFile = "journal.jsonl"
	SyncedDir   = "synced"
	// Contacts and recurring payments keep the transform file names in synced/.
	ContactsFile          = "contacts"
	RecurringPaymentsFile = "recurring_payments"
)

func writePlan(dir string, entries []schemas.PlanEntry) error {
	if err := schemas.Plans.WriteFiles(dir, PlanFile, entries, false); err != nil {
		return err
	}
	return schemas.WriteCSV(filepath.Join(dir, PlanFile+".csv"), entries)
}
