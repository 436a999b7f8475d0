package cbsandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// entityKinds maps a list endpoint to the resource each of its entries is keyed by.
var entityKinds = map[string]string{
	"customers":       "customer",
	"subscriptions":   "subscription",
	"invoices":        "invoice",
	"credit_notes":    "credit_note",
	"payment_sources": "payment_source",
	"item_prices":     "item_price",
	"items":           "item",
	"plans":           "plan",
	"addons":          "addon",
	"gifts":           "gift",
}

// Entities are the list endpoints the sandbox serves.
var Entities = []string{"customers", "subscriptions", "invoices", "credit_notes", "payment_sources", "item_prices", "items", "plans", "addons", "gifts"}

// object is one list entry as served, with the fields the filters and sorts read.
type object struct {
	seq       int64 // Chargebee's internal id: the tie-breaker of every order
	id        string
	name      string // item prices, items, plans, addons: sortable by name
	createdAt int64  // created_at, else date (invoices and credit notes have no created_at); 0 for items, plans, addons, which have neither
	updatedAt int64
	deleted   bool
	raw       []byte // the whole entry, compact JSON
}

// store holds one entity's objects in insertion order, with sorted views rebuilt
// after each change. pos indexes the first copy of each id, so an upsert of a
// large site (the 100k-customer benchmark) is not quadratic; copies counts ids held
// more than once, the rare case that needs a scan.
type store struct {
	objs   []*object
	pos    map[string]int
	copies map[string]int
	// sorted holds one view per sort key (see sortKeys), built on first use after
	// a change: most reads use one or two orders, and a large site has many objects.
	sorted map[string][]*object
}

// meta is the part of a resource the filters and sorts read.
type meta struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt *int64 `json:"created_at"`
	Date      *int64 `json:"date"`
	UpdatedAt int64  `json:"updated_at"`
	Deleted   bool   `json:"deleted"`
}

// entryMeta decodes every resource kind in one pass over the entry; the entry
// names its resource by type ({"customer":{...},"card":{...}}).
type entryMeta struct {
	Customer      *meta `json:"customer"`
	Subscription  *meta `json:"subscription"`
	Invoice       *meta `json:"invoice"`
	CreditNote    *meta `json:"credit_note"`
	PaymentSource *meta `json:"payment_source"`
	ItemPrice     *meta `json:"item_price"`
	Item          *meta `json:"item"`
	Plan          *meta `json:"plan"`
	Addon         *meta `json:"addon"`
	Gift          *meta `json:"gift"`
}

func (e *entryMeta) of(kind string) *meta {
	switch kind {
	case "customer":
		return e.Customer
	case "subscription":
		return e.Subscription
	case "invoice":
		return e.Invoice
	case "credit_note":
		return e.CreditNote
	case "payment_source":
		return e.PaymentSource
	case "item_price":
		return e.ItemPrice
	case "item":
		return e.Item
	case "plan":
		return e.Plan
	case "addon":
		return e.Addon
	case "gift":
		return e.Gift
	}
	return nil
}

func parseEntry(entity string, raw []byte) (*object, error) {
	var entry entryMeta
	if err := json.Unmarshal(raw, &entry); err != nil {
		return nil, fmt.Errorf("%s entry: %w", entity, err)
	}
	o := entry.of(entityKinds[entity])
	if o == nil {
		return nil, fmt.Errorf("%s entry has no %q object", entity, entityKinds[entity])
	}
	if o.ID == "" {
		return nil, fmt.Errorf("%s entry has no id", entity)
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	obj := &object{id: o.ID, name: o.Name, updatedAt: o.UpdatedAt, deleted: o.Deleted, raw: buf.Bytes()}
	switch {
	case o.CreatedAt != nil:
		obj.createdAt = *o.CreatedAt
	case o.Date != nil:
		obj.createdAt = *o.Date
	}
	return obj, nil
}

// add appends objects as they come, duplicates included: a fixture page that holds
// one id twice is served that way.
func (s *store) add(seq *int64, objs []*object) {
	s.index()
	for _, o := range objs {
		*seq++
		o.seq = *seq
		s.push(o)
	}
	s.sorted = nil
}

func (s *store) index() {
	if s.pos == nil {
		s.pos, s.copies = map[string]int{}, map[string]int{}
	}
}

func (s *store) push(o *object) {
	if _, ok := s.pos[o.id]; ok {
		s.copies[o.id]++
	} else {
		s.pos[o.id] = len(s.objs)
	}
	s.objs = append(s.objs, o)
}

// upsert replaces every copy of an id by the new object (which keeps the first
// copy's internal id, as an update does), or appends it when the id is new.
func (s *store) upsert(seq *int64, objs []*object) {
	s.index()
	for _, o := range objs {
		i, ok := s.pos[o.id]
		if !ok {
			*seq++
			o.seq = *seq
			s.push(o)
			continue
		}
		o.seq = s.objs[i].seq
		s.objs[i] = o
		if s.copies[o.id] == 0 {
			continue
		}
		// The other copies go, and every later object moves up: reindex, from the
		// end so an id held twice ends on its first position.
		delete(s.copies, o.id)
		tail := slices.DeleteFunc(s.objs[i+1:], func(x *object) bool { return x.id == o.id })
		s.objs = s.objs[:i+1+len(tail)]
		for j := len(s.objs) - 1; j > i; j-- {
			if p := s.pos[s.objs[j].id]; p >= i+1 {
				s.pos[s.objs[j].id] = j
			}
		}
	}
	s.sorted = nil
}

// view returns the objects in ascending order of a sort key, ties broken by the
// internal id. Views are rebuilt, never changed in place: a caller may keep one
// after the lock is released.
func (s *store) view(k sortKey) []*object {
	if v, ok := s.sorted[k.name]; ok {
		return v
	}
	v := slices.Clone(s.objs)
	sort.SliceStable(v, func(i, j int) bool { return k.less(k.of(v[i]), v[i].seq, k.of(v[j]), v[j].seq) })
	if s.sorted == nil {
		s.sorted = map[string][]*object{}
	}
	s.sorted[k.name] = v
	return v
}

// cursor is a position in one order: the sort key of the last entry returned and
// its internal id.
type cursor struct {
	num int64
	str string
	seq int64
}

// sortKey is one order a list can be read in. Timestamps sort as numbers, ids and
// names as strings (byte order, as a database collation would not promise more).
type sortKey struct {
	name  string
	str   bool
	numOf func(*object) int64
	strOf func(*object) string
}

func (k sortKey) of(o *object) cursor {
	if k.str {
		return cursor{str: k.strOf(o), seq: o.seq}
	}
	return cursor{num: k.numOf(o), seq: o.seq}
}

func (k sortKey) less(a cursor, aseq int64, b cursor, bseq int64) bool {
	if k.str {
		if a.str != b.str {
			return a.str < b.str
		}
	} else if a.num != b.num {
		return a.num < b.num
	}
	return aseq < bseq
}

// sortKeys are the orders the sandbox can serve. "date" is the invoices' and
// credit notes' created_at (the object field falls back to date), so it shares
// the created_at view.
var sortKeys = map[string]sortKey{
	"created_at": {name: "created_at", numOf: func(o *object) int64 { return o.createdAt }},
	"date":       {name: "created_at", numOf: func(o *object) int64 { return o.createdAt }},
	"updated_at": {name: "updated_at", numOf: func(o *object) int64 { return o.updatedAt }},
	"id":         {name: "id", str: true, strOf: func(o *object) string { return o.id }},
	"name":       {name: "name", str: true, strOf: func(o *object) string { return o.name }},
}

// readPages reads DIR/<entity>/*.json in file-name order, each file one list page.
// A missing entity folder is an empty list.
func readPages(dir string) (map[string][]*object, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("pages folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("pages folder %s is not a folder", dir)
	}
	out := map[string][]*object{}
	for _, entity := range Entities {
		files, err := filepath.Glob(filepath.Join(dir, entity, "*.json"))
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			objs, err := parsePage(entity, b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out[entity] = append(out[entity], objs...)
		}
	}
	return out, nil
}

// parsePage reads a {"list":[...]} page body into objects.
func parsePage(entity string, b []byte) ([]*object, error) {
	var page struct {
		List *[]json.RawMessage `json:"list"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, err
	}
	if page.List == nil {
		return nil, fmt.Errorf("not a list page: no \"list\" array")
	}
	objs := make([]*object, 0, len(*page.List))
	for i, raw := range *page.List {
		o, err := parseEntry(entity, raw)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}
