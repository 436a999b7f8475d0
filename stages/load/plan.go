// Package load sends ActiveCampaign what changed: it diffs the transform snapshot
// against the last synced snapshot (plan), applies the changes in batches, journals
// every acknowledged batch so a killed load resumes, and writes the new synced
// snapshot: the last one plus the acknowledged changes only.
package load

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
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

// Change is one planned write. A plan holds none of the rows: New and Old are
// filled by Diff.load just before apply sends them.
type Change[T any] struct {
	Key     string
	Op      string
	New     *T // the transform row
	Old     *T // the synced row, nil on create
	Changed []string
	newRow  int // its row in the transform file
	oldRow  int // its row in the synced file, -1 on create
}

// Diff is the plan for one entity: a plan row per record and the changes by row
// number, no records (see diff); load reads the changed rows when they are sent.
type Diff[T any] struct {
	Changes []Change[T] // creates, updates, deletes, in the transform file's order
	entity  string
	// rows are the plan's rows, in the transform file's order (planEntries makes
	// them plan entries), their keys in keys: no pointer among the two million of a
	// million customers for the garbage collector to walk, a key one copy in an
	// arena rather than an allocation of its own.
	rows    []planRow
	keys    strmap.Arena
	changed map[string]int // key → index in Changes
	// planChanges are the updates' changed fields with their old and new values, by
	// index in Changes: a few percent of them, kept off every Change.
	planChanges map[int]schemas.PlanChanges
	// carry holds rows deleted on both sides whose payload still moved: nothing to
	// send, but the synced snapshot takes the new row. carryRows names them by row
	// of the transform file until load reads them.
	carry     map[string]*T
	carryRows map[int]string
}

// planRow is one record's row of the plan.
type planRow struct {
	key    strmap.Ref
	op     uint8 // in planOps
	change int32 // its change in Diff.Changes, -1 when unchanged
}

var planOps = [...]string{opCreate: OpCreate, opUpdate: OpUpdate, opDelete: OpDelete, opUnchanged: OpUnchanged}

const (
	opCreate uint8 = iota
	opUpdate
	opDelete
	opUnchanged
)

// planEntries appends the plan entries of rows [from, to) to buf.
func (d *Diff[T]) planEntries(from, to int, buf []schemas.PlanEntry) []schemas.PlanEntry {
	for _, r := range d.rows[from:to] {
		e := schemas.PlanEntry{Entity: d.entity, Key: d.keys.String(r.key), Op: planOps[r.op]}
		if r.change >= 0 && e.Op == OpUpdate {
			e.ChangedFields, e.Changes = schemas.StringList(d.Changes[r.change].Changed), d.planChanges[int(r.change)]
		}
		buf = append(buf, e)
	}
	return buf
}

func (d *Diff[T]) planRows() int { return len(d.rows) }

// source streams the rows of a snapshot file (a slice in tests), as often as asked:
// each reads every column, keys only key, row_hash and deleted (the rest stay zero),
// pick the named columns (nil: every one) of the rows want accepts (by row number
// from 0), each a record of its own. A zero source is an empty snapshot.
type source[T any] struct {
	each, keys func(fn func(*T) error) error
	pick       func(cols []string, want func(row int) bool, fn func(row int, rec *T) error) error
	// cursor walks the rows once, a batch at a time (schemas.Cursor).
	cursor func() (cursor[T], error)
	// detach makes a row safe to keep after fn returns (see schemas.Table.Detach).
	detach func(*T)
	rows   int // a hint to size the plan by
}

// cursor is schemas.Cursor: the rows of a file in order, a decoded batch at a time.
type cursor[T any] interface {
	Next(want func(row int) bool, fn func(row int, rec *T) error) (bool, error)
	Close() error
}

func (s source[T]) empty() bool { return s.each == nil }

func fileSource[T any](tb *schemas.Table[T], path string, keyColumns ...string) source[T] {
	rows, _ := tb.Rows(path) // a missing or bad file is reported by the pass that reads it
	return source[T]{
		each: func(fn func(*T) error) error { return tb.Each(path, fn) },
		keys: func(fn func(*T) error) error {
			return tb.EachColumns(path, keyColumns, fn)
		},
		pick: func(cols []string, want func(int) bool, fn func(int, *T) error) error {
			return tb.EachRowColumns(path, cols, want, fn)
		},
		cursor: func() (cursor[T], error) { return tb.OpenCursor(path) },
		detach: tb.Detach,
		rows:   rows,
	}
}

// sliceBatch is how many rows a slice source's cursor yields at a time: small, so
// tests cross batch boundaries with a handful of rows.
const sliceBatch = 2

type sliceCursor[T any] struct {
	rows []T
	base int
}

func (c *sliceCursor[T]) Next(want func(int) bool, fn func(int, *T) error) (bool, error) {
	if c.base >= len(c.rows) {
		return false, nil
	}
	end := min(c.base+sliceBatch, len(c.rows))
	for i := c.base; i < end; i++ {
		if want(i) {
			rec := c.rows[i]
			if err := fn(i, &rec); err != nil {
				return true, err
			}
		}
	}
	c.base = end
	return true, nil
}

func (c *sliceCursor[T]) Close() error { return nil }

func sliceSource[T any](rows []T) source[T] {
	each := func(fn func(*T) error) error {
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		return nil
	}
	pick := func(_ []string, want func(int) bool, fn func(int, *T) error) error {
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
	return source[T]{each: each, keys: each, pick: pick, detach: func(*T) {}, rows: len(rows),
		cursor: func() (cursor[T], error) { return &sliceCursor[T]{rows: rows}, nil }}
}

// prior is what the diff keeps of a synced row: enough to classify, nothing more.
type prior struct {
	hash uint64
	row  int   // its row in the synced file
	gone uint8 // see diff
}

// fieldHashesColumn is the column the plan names an update's fields from.
const fieldHashesColumn = "field_hashes"

// entity is what diff needs to know of a record type.
type entity[T any] struct {
	name string
	// keyColumn holds key; columns the payload fields (schemas.PayloadColumns).
	keyColumn string
	columns   schemas.PayloadColumns
	key       func(*T) string
	hash      func(*T) uint64
	gone      func(*T) uint8
	fields    func(*T) schemas.FieldHashes
}

// diff compares rows by key and row_hash, streaming both snapshots: it holds a
// key → (hash, row, deleted) table of the synced one and the plan entries, never a
// row: both files are classified from their key, hash and deleted columns only,
// an update's fields are named from the field_hashes of its two rows, and its
// values (the plan's changes) are read from just those rows, keeping only the
// changed fields' values. A synced snapshot written before field hashes names the
// fields of its updates from both rows whole (changedFields).
//
//   - key only in the new snapshot → create (unless it is already gone there);
//   - both, same hash → unchanged; different → update, or delete when the new row is
//     further gone than the synced one. gone ranks a row: 0 live, 1 deleted in
//     Chargebee, 2 erased (its personal data cleared): a customer deleted, synced
//     as deleted under on_customer_deleted: keep, and erased later is a delete
//     again, this time under on_customer_erased;
//   - key only in the synced snapshot → nothing: the record was rejected by validate
//     this time, and AC keeps what it had until the record is fixed.
func diff[T any](e entity[T], old, cur source[T]) (*Diff[T], error) {
	// The synced side is a strmap: a million keys in a Go map would be a million
	// pointers for every GC cycle to walk.
	prev := strmap.New[prior](old.rows)
	if !old.empty() {
		row := 0
		if err := old.keys(func(o *T) error {
			p, _ := prev.Put(e.key(o))
			*p = prior{hash: e.hash(o), row: row, gone: e.gone(o)}
			row++
			return nil
		}); err != nil {
			return nil, err
		}
	}
	// Sized from the footer: growing a slice of two million entries by append copied
	// it over and over and held two copies at each step.
	d := &Diff[T]{entity: e.name, changed: map[string]int{}, planChanges: map[int]schemas.PlanChanges{}, carry: map[string]*T{}, carryRows: map[int]string{},
		rows: make([]planRow, 0, cur.rows)}
	updNew := map[int]int{} // row of the new file → its update
	updOld := map[int]int{} // row of the synced file → its update
	row := -1
	err := cur.keys(func(n *T) error {
		row++
		k := e.key(n)
		o, synced := prev.Get(k)
		if !synced {
			o = &prior{row: -1}
		}
		var op uint8
		carry := false
		switch {
		case !synced && e.gone(n) > 0:
			return nil // never synced, and gone: nothing to do
		case !synced:
			op = opCreate
		case o.hash == e.hash(n):
			op = opUnchanged
		case e.gone(n) > o.gone:
			op = opDelete
		case e.gone(n) > 0:
			op, carry = opUnchanged, true // as gone on both sides; nothing AC needs to hear
		default:
			op = opUpdate
		}
		// The key is kept past the batch: copied into the arena, which the plan
		// row, its change and the maps share.
		ref := d.keys.Add(k)
		k = d.keys.String(ref)
		pr := planRow{key: ref, op: op, change: -1}
		if op == opUnchanged {
			if carry {
				d.carryRows[row] = k
			}
			d.rows = append(d.rows, pr)
			return nil
		}
		pr.change = int32(len(d.Changes))
		d.rows = append(d.rows, pr)
		d.Changes = append(d.Changes, Change[T]{Key: k, Op: planOps[op], newRow: row, oldRow: o.row})
		d.changed[k] = len(d.Changes) - 1
		if op == opUpdate {
			updNew[row] = len(d.Changes) - 1
			updOld[o.row] = len(d.Changes) - 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(updNew) > 0 {
		if err := d.name(e, old, cur, updOld, updNew); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// name fills the changed fields of the updates and their old and new values.
func (d *Diff[T]) name(e entity[T], old, cur source[T], updOld, updNew map[int]int) error {
	// The field hashes of both sides: a list per update, 1–2% of the rows.
	oldHashes := make(map[int]schemas.FieldHashes, len(updOld))
	err := old.pick([]string{fieldHashesColumn}, func(r int) bool { _, ok := updOld[r]; return ok }, func(r int, o *T) error {
		old.detach(o)
		oldHashes[updOld[r]] = e.fields(o)
		return nil
	})
	if err != nil {
		return err
	}
	whole := map[int]bool{} // updates whose synced row has no field hashes (an older file)
	seen := 0
	err = cur.pick([]string{fieldHashesColumn}, func(r int) bool { _, ok := updNew[r]; return ok }, func(r int, n *T) error {
		i := updNew[r]
		seen++
		oh, nh := oldHashes[i], e.fields(n)
		if len(oh) == 0 || len(nh) == 0 {
			whole[i] = true
			return nil
		}
		d.Changes[i].Changed = schemas.ChangedFields(oh, nh)
		return nil
	})
	if err != nil {
		return err
	}
	if seen != len(updNew) || len(oldHashes) != len(updOld) {
		// The file changed between the passes: nothing may be planned from it.
		return fmt.Errorf("%s: rows vanished between two reads of the snapshots", e.name)
	}
	clear(oldHashes)
	return d.values(e, old, cur, updOld, updNew, whole)
}

// values records each update's changed fields with their old and new values
// (every field, and which differ, where the synced row had no field hashes:
// whole). It reads, of the update rows only, the key and the columns that hold
// the changed fields (schemas.PayloadColumns): a night changes a few fields of
// 1–2% of the rows, spread over every row group, and decoding every column of
// both files to take them was most of a nightly plan's time. A whole update reads
// its rows whole (older synced files only).
func (d *Diff[T]) values(e entity[T], old, cur source[T], updOld, updNew map[int]int, whole map[int]bool) error {
	cols := []string{e.keyColumn}
	if len(whole) > 0 {
		cols = nil
	}
	byField := e.columns
	for i := 0; cols != nil && i < len(d.Changes); i++ {
		for _, f := range d.Changes[i].Changed {
			c, ok := byField.Column(f)
			if !ok {
				cols = nil // not a field of the record type: read the rows whole
				break
			}
			if !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
		}
	}
	// The old values of the named fields (of every field where the synced row had
	// no hashes), then the new ones beside them.
	oldValues := make(map[int]map[string]string, len(updOld))
	err := old.pick(cols, func(r int) bool { _, ok := updOld[r]; return ok }, func(r int, o *T) error {
		i := updOld[r]
		if e.key(o) != d.Changes[i].Key {
			return vanished(e.name, d.Changes[i].Key)
		}
		p := schemas.Payload(o)
		if !whole[i] {
			keep := make(map[string]string, len(d.Changes[i].Changed))
			for _, f := range d.Changes[i].Changed {
				keep[f] = p[f]
			}
			p = keep
		}
		oldValues[i] = p
		return nil
	})
	if err != nil {
		return err
	}
	seen := 0
	err = cur.pick(cols, func(r int) bool { _, ok := updNew[r]; return ok }, func(r int, n *T) error {
		i := updNew[r]
		ch := &d.Changes[i]
		op, ok := oldValues[i]
		if !ok || e.key(n) != ch.Key {
			return vanished(e.name, ch.Key)
		}
		seen++
		np := schemas.Payload(n)
		if whole[i] {
			ch.Changed = changedFields(op, np)
		}
		vals := make(schemas.PlanChanges, len(ch.Changed))
		for k, f := range ch.Changed {
			vals[k] = schemas.PlanChange{Field: f, Old: schemas.DisplayValue(op[f]), New: schemas.DisplayValue(np[f])}
		}
		d.planChanges[i] = vals
		delete(oldValues, i)
		return nil
	})
	if err != nil {
		return err
	}
	if seen != len(updNew) {
		return fmt.Errorf("%s: rows vanished between two reads of the snapshots", e.name)
	}
	return nil
}

// load reads the rows the changes send, and the carried rows, from the two
// snapshots by row number, once the plan is written and the load is about to send:
// every update and delete (they are few, and apply weighs them against each other:
// email swaps, addresses freed before taken) and the creates eager names (those a
// resumed load must finish first). The other creates, a first sync's every row,
// are read only as they are sent (eachCreateWindow) and dropped once sent.
func (d *Diff[T]) load(e entity[T], old, cur source[T], eager func(key string) bool) error {
	newRows := make(map[int]int, len(d.Changes))
	oldRows := map[int]int{}
	for i, ch := range d.Changes {
		if ch.Op != OpCreate || (eager != nil && eager(ch.Key)) {
			newRows[ch.newRow] = i
		}
		if ch.oldRow >= 0 {
			oldRows[ch.oldRow] = i
		}
	}
	if len(newRows)+len(d.carryRows) > 0 {
		err := cur.pick(nil, func(r int) bool {
			_, ch := newRows[r]
			_, ca := d.carryRows[r]
			return ch || ca
		}, func(r int, n *T) error {
			cur.detach(n)
			if i, ok := newRows[r]; ok {
				d.Changes[i].New = n
				delete(newRows, r)
			} else {
				d.carry[d.carryRows[r]] = n
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(oldRows) > 0 {
		err := old.pick(nil, func(r int) bool { _, ok := oldRows[r]; return ok }, func(r int, o *T) error {
			old.detach(o)
			d.Changes[oldRows[r]].Old = o
			delete(oldRows, r)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, i := range newRows {
		return vanished(e.name, d.Changes[i].Key)
	}
	for _, i := range oldRows {
		return vanished(e.name, d.Changes[i].Key)
	}
	return nil
}

// vanished: the file changed between two reads of it; nothing may be sent from it.
func vanished(entity, key string) error {
	return fmt.Errorf("%s %s: row vanished between two reads of the snapshot", entity, key)
}

// eachCreateWindow reads the creates load left unread, in the transform file's
// order, one decoded batch of the file at a time, and hands fn each batch's creates
// (indexes into d.Changes, rows read). fn sends them, or keeps some for the next
// window (a batch not yet full) and drops the others' rows with release: the load
// holds a batch of the file and a request's rows, not the snapshot.
func (d *Diff[T]) eachCreateWindow(e entity[T], cur source[T], fn func(win []int) error) error {
	rows := map[int]int{} // row of the transform file → its create
	for i := range d.Changes {
		if ch := &d.Changes[i]; ch.Op == OpCreate && ch.New == nil {
			rows[ch.newRow] = i
		}
	}
	if len(rows) == 0 {
		return nil
	}
	c, err := cur.cursor()
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		var win []int
		more, err := c.Next(func(r int) bool { _, ok := rows[r]; return ok }, func(r int, n *T) error {
			cur.detach(n)
			i := rows[r]
			d.Changes[i].New = n
			win = append(win, i)
			delete(rows, r)
			return nil
		})
		if err != nil {
			return err
		}
		if len(win) > 0 {
			if err := fn(win); err != nil {
				return err
			}
		}
		if !more {
			break
		}
	}
	for _, i := range rows {
		return vanished(e.name, d.Changes[i].Key)
	}
	return nil
}

// release drops the rows of sent creates: they are read again from the transform
// file when the synced snapshot is written.
func (d *Diff[T]) release(keys ...string) {
	for _, k := range keys {
		if i, ok := d.changed[k]; ok && d.Changes[i].Op == OpCreate {
			d.Changes[i].New = nil
		}
	}
}

// changedFields names the fields whose values differ between two payloads
// (schemas.Payload), the full-row way: for synced rows written without field hashes.
func changedFields(om, nm map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(union(om, nm))) {
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

// Counts summarises a plan.
func counts[T any](d *Diff[T]) map[string]int64 {
	c := map[string]int64{}
	for _, r := range d.rows {
		c[planOps[r.op]]++
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

// planPart is one entity's plan (a Diff) as writePlan reads it.
type planPart interface {
	planRows() int
	planEntries(from, to int, buf []schemas.PlanEntry) []schemas.PlanEntry
}

// writePlan writes plan.parquet and plan.csv side by side, one a core, each
// making the entries a batch at a time from the plan rows: a plan lists every
// record, two million at a million customers, and the CSV alone took as long as
// the Parquet file.
func writePlan(dir string, st schemas.Stamp, parts ...planPart) error {
	pq, err := schemas.Plans.CreateStamped(filepath.Join(dir, PlanFile+".parquet"), st)
	if err != nil {
		return err
	}
	csv, err := schemas.CreateCSV[schemas.PlanEntry](filepath.Join(dir, PlanFile+".csv"), st)
	if err != nil {
		pq.Abort()
		return err
	}
	each := func(write func(...schemas.PlanEntry) error) error {
		buf := make([]schemas.PlanEntry, 0, schemas.BatchRows)
		for _, p := range parts {
			for i := 0; i < p.planRows(); i += schemas.BatchRows {
				buf = p.planEntries(i, min(i+schemas.BatchRows, p.planRows()), buf[:0])
				if err := write(buf...); err != nil {
					return err
				}
			}
		}
		return nil
	}
	csvErr := make(chan error, 1)
	go func() { csvErr <- each(csv.Write) }()
	err = errors.Join(each(pq.Write), <-csvErr)
	if err == nil {
		err = pq.Commit()
	}
	if err == nil {
		return csv.Commit()
	}
	pq.Abort()
	csv.Abort()
	return err
}

// WriteChanges prints the changes of the plan in dir for a person (a dry run's
// summary): each update with a changed field a line (schemas.FormatChange), at most
// max records, then how many more the plan holds. redact leaves the values out
// (redact_errors: a terminal's output may end up in a log), naming the fields only.
func WriteChanges(w io.Writer, dir string, max int, redact bool) error {
	shown, more := 0, 0
	err := schemas.Plans.EachColumns(filepath.Join(dir, PlanFile+".parquet"), []string{"entity", "key", "op", "changed_fields", "changes"}, func(e *schemas.PlanEntry) error {
		if len(e.ChangedFields) == 0 {
			return nil
		}
		if shown == max {
			more++
			return nil
		}
		shown++
		fmt.Fprintf(w, "          %s %s %s\n", e.Entity, e.Key, e.Op)
		if redact || len(e.Changes) == 0 {
			fmt.Fprintf(w, "            %s\n", strings.Join(e.ChangedFields, ", "))
			return nil
		}
		for _, c := range e.Changes {
			fmt.Fprintf(w, "            %s\n", schemas.FormatChange(c.Field, c.Old, c.New))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if more > 0 {
		fmt.Fprintf(w, "          … and %d more updates\n", more)
	}
	return nil
}
