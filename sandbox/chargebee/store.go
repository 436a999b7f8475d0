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
	"customers":     "customer",
	"subscriptions": "subscription",
	"invoices":      "invoice",
	"item_prices":   "item_price",
	"gifts":         "gift",
}

// Entities are the list endpoints the sandbox serves.
var Entities = []string{"customers", "subscriptions", "invoices", "item_prices", "gifts"}

// object is one list entry as served, with the fields the filters and sorts read.
type object struct {
	seq       int64 // Chargebee's internal id: the tie-breaker of every order
	id        string
	createdAt int64 // created_at, else date (invoices have no created_at)
	updatedAt int64
	deleted   bool
	raw       []byte // the whole entry, compact JSON
}

// store holds one entity's objects in insertion order, with sorted views rebuilt
// after each change. pos indexes the first copy of each id, so an upsert of a
// large site (the 100k-customer benchmark) is not quadratic; copies counts ids held
// more than once, the rare case that needs a scan.
type store struct {
	objs      []*object
	pos       map[string]int
	copies    map[string]int
	byCreated []*object
	byUpdated []*object
	dirty     bool
}

// meta is the part of a resource the filters and sorts read.
type meta struct {
	ID        string `json:"id"`
	CreatedAt *int64 `json:"created_at"`
	Date      *int64 `json:"date"`
	UpdatedAt int64  `json:"updated_at"`
	Deleted   bool   `json:"deleted"`
}

// entryMeta decodes every resource kind in one pass over the entry; the entry
// names its resource by type ({"customer":{...},"card":{...}}).
type entryMeta struct {
	Customer     *meta `json:"customer"`
	Subscription *meta `json:"subscription"`
	Invoice      *meta `json:"invoice"`
	ItemPrice    *meta `json:"item_price"`
	Gift         *meta `json:"gift"`
}

func (e *entryMeta) of(kind string) *meta {
	switch kind {
	case "customer":
		return e.Customer
	case "subscription":
		return e.Subscription
	case "invoice":
		return e.Invoice
	case "item_price":
		return e.ItemPrice
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
	obj := &object{id: o.ID, updatedAt: o.UpdatedAt, deleted: o.Deleted, raw: buf.Bytes()}
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
	s.dirty = true
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
	s.dirty = true
}

func (s *store) views() (byCreated, byUpdated []*object) {
	if s.dirty || s.byCreated == nil {
		s.byCreated = slices.Clone(s.objs)
		sort.SliceStable(s.byCreated, func(i, j int) bool {
			return less(s.byCreated[i].createdAt, s.byCreated[i].seq, s.byCreated[j].createdAt, s.byCreated[j].seq)
		})
		s.byUpdated = slices.Clone(s.objs)
		sort.SliceStable(s.byUpdated, func(i, j int) bool {
			return less(s.byUpdated[i].updatedAt, s.byUpdated[i].seq, s.byUpdated[j].updatedAt, s.byUpdated[j].seq)
		})
		s.dirty = false
	}
	return s.byCreated, s.byUpdated
}

func less(k1, s1, k2, s2 int64) bool {
	if k1 != k2 {
		return k1 < k2
	}
	return s1 < s2
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
