// Package load sends ActiveCampaign what changed: it diffs the transform snapshot
// against the last synced snapshot (plan), applies the changes in batches, journals
// every acknowledged batch so a killed load resumes, and writes the new synced
// snapshot: the last one plus the acknowledged changes only.
package load

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cb2ac/cb2ac/internal/strmap"
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
	entry   int // its row in Diff.Entries
}

// Diff is the plan for one entity. It holds the changed rows only: unchanged rows
// stay in their files, which are streamed again when the synced snapshot is written.
type Diff[T any] struct {
	Changes []Change[T] // creates, updates, deletes, in the transform file's order
	Entries []schemas.PlanEntry
	changed map[string]int // key → index in Changes
	// carry holds rows deleted on both sides whose payload still moved: nothing to
	// send, but the synced snapshot takes the new row.
	carry map[string]*T
}

// source streams the rows of a snapshot file (a slice in tests), as often as asked:
// each reads every column, keys only key, row_hash and deleted (the rest stay zero),
// pick every column of the rows want accepts (by row number from 0), each a record
// of its own. A zero source is an empty snapshot.
type source[T any] struct {
	each, keys func(fn func(*T) error) error
	pick       func(want func(row int) bool, fn func(row int, rec *T) error) error
	// detach makes a row safe to keep after fn returns (see schemas.Table.Detach).
	detach func(*T)
	rows   int // a hint to size the plan by
}

func (s source[T]) empty() bool { return s.each == nil }

func fileSource[T any](tb *schemas.Table[T], path string, keyColumns ...string) source[T] {
	rows, _ := tb.Rows(path) // a missing or bad file is reported by the pass that reads it
	return source[T]{
		each: func(fn func(*T) error) error { return tb.Each(path, fn) },
		keys: func(fn func(*T) error) error {
			return tb.EachColumns(path, keyColumns, fn)
		},
		pick:   func(want func(int) bool, fn func(int, *T) error) error { return tb.EachRow(path, want, fn) },
		detach: tb.Detach,
		rows:   rows,
	}
}

func sliceSource[T any](rows []T) source[T] {
	each := func(fn func(*T) error) error {
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		return nil
	}
	pick := func(want func(int) bool, fn func(int, *T) error) error {
		for i := range rows {
			if want(i) {
				rec := rows[i]
				if err := fn(i, &rec); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return source[T]{each: each, keys: each, pick: pick, detach: func(*T) {}, rows: len(rows)}
}

// prior is what the diff keeps of a synced row: enough to classify, nothing more.
type prior struct {
	hash uint64
	row  int   // its row in the synced file
	gone uint8 // see diff
}

// diff compares rows by key and row_hash, streaming both snapshots: it holds a
// key → (hash, row, deleted) table of the synced one, the plan entries and the
// changed rows, never either snapshot whole. Both files are classified from their key,
// hash and deleted columns only; then only the changed rows are turned into records
// (schemas.Table.EachRow): at 1% changed, building every row was most of the stage.
//
//   - key only in the new snapshot → create (unless it is already gone there);
//   - both, same hash → unchanged; different → update, or delete when the new row is
//     further gone than the synced one. gone ranks a row: 0 live, 1 deleted in
//     Chargebee, 2 erased (its personal data cleared): a customer deleted, synced
//     as deleted under on_customer_deleted: keep, and erased later is a delete
//     again, this time under on_customer_erased;
//   - key only in the synced snapshot → nothing: the record was rejected by validate
//     this time, and AC keeps what it had until the record is fixed.
func diff[T any](entity string, old, cur source[T], key func(*T) string, hash func(*T) uint64, gone func(*T) uint8) (*Diff[T], error) {
	// The synced side is a strmap: a million keys in a Go map would be a million
	// pointers for every GC cycle to walk.
	prev := strmap.New[prior](old.rows)
	if !old.empty() {
		row := 0
		if err := old.keys(func(o *T) error {
			p, _ := prev.Put(key(o))
			*p = prior{hash: hash(o), row: row, gone: gone(o)}
			row++
			return nil
		}); err != nil {
			return nil, err
		}
	}
	// Sized from the footer: growing a slice of two million entries by append copied
	// it over and over and held two copies at each step.
	d := &Diff[T]{changed: map[string]int{}, carry: map[string]*T{}, Entries: make([]schemas.PlanEntry, 0, cur.rows)}
	newRows := map[int]int{}      // row of the new file → its change
	carryRows := map[int]string{} // row of the new file → key, for carry
	oldRows := map[int]int{}      // row of the synced file → the change it is the old side of
	row := -1
	err := cur.keys(func(n *T) error {
		row++
		k := strings.Clone(key(n)) // kept in Entries past the batch
		o, synced := prev.Get(k)
		if !synced {
			o = &prior{}
		}
		var op string
		switch {
		case !synced && gone(n) > 0:
			return nil // never synced, and gone: nothing to do
		case !synced:
			op = OpCreate
		case o.hash == hash(n):
			op = OpUnchanged
		case gone(n) > o.gone:
			op = OpDelete
		case gone(n) > 0:
			op = OpUnchanged // as gone on both sides; nothing AC needs to hear
			carryRows[row] = k
		default:
			op = OpUpdate
		}
		d.Entries = append(d.Entries, schemas.PlanEntry{Entity: entity, Key: k, Op: op})
		if op == OpUnchanged {
			return nil
		}
		d.Changes = append(d.Changes, Change[T]{Key: k, Op: op, entry: len(d.Entries) - 1})
		d.changed[k] = len(d.Changes) - 1
		newRows[row] = len(d.Changes) - 1
		if synced {
			oldRows[o.row] = len(d.Changes) - 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(newRows)+len(carryRows) > 0 {
		err := cur.pick(func(r int) bool {
			_, ch := newRows[r]
			_, ca := carryRows[r]
			return ch || ca
		}, func(r int, n *T) error {
			cur.detach(n)
			if i, ok := newRows[r]; ok {
				d.Changes[i].New = n
			} else {
				d.carry[carryRows[r]] = n
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(oldRows) > 0 {
		err := old.pick(func(r int) bool { _, ok := oldRows[r]; return ok }, func(r int, o *T) error {
			old.detach(o)
			ch := &d.Changes[oldRows[r]]
			ch.Old = o
			if ch.Op == OpUpdate {
				ch.Changed = changedFields(ch.Old, ch.New)
				d.Entries[ch.entry].ChangedFields = schemas.StringList(ch.Changed)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range d.Changes {
		if d.Changes[i].New == nil {
			// The file changed between the passes: nothing may be planned from it.
			return nil, fmt.Errorf("%s %s: row vanished between two reads of the snapshot", entity, d.Changes[i].Key)
		}
	}
	return d, nil
}

// changedFields names the columns that differ, custom fields as fields.<title>.
func changedFields[T any](o, n *T) []string {
	om, nm := flatten(o), flatten(n)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(union(om, nm))) {
		if k == "row_hash" || k == "legacyConnectionId" || k == "acContactId" {
			continue // not payload: the hash, and the AC ids only the synced side has
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

func writePlan(dir string, st schemas.Stamp, parts ...[]schemas.PlanEntry) error {
	// One sink for all parts: concatenating them first copied every entry again.
	s, err := schemas.Plans.CreateSink(dir, PlanFile, true, st)
	if err != nil {
		return err
	}
	for _, entries := range parts {
		for len(entries) > 0 {
			n := min(len(entries), schemas.BatchRows)
			if err := s.Write(entries[:n]...); err != nil {
				s.Abort()
				return err
			}
			entries = entries[n:]
		}
	}
	return s.Commit()
}
