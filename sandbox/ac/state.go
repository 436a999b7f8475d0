package acsandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
)

// stateVersion is bumped when the state file's meaning changes; an unknown version is
// refused rather than half-read.
const stateVersion = 1

// The records below are the state file's format and the in-memory state at once.

type listRec struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	StringID string    `json:"stringid"`
	Created  time.Time `json:"cdate"`
}

type connRec struct {
	ID         string    `json:"id"`
	Service    string    `json:"service"`
	ExternalID string    `json:"externalid"`
	Name       string    `json:"name"`
	LogoURL    string    `json:"logoUrl"`
	LinkURL    string    `json:"linkUrl"`
	ListID     string    `json:"listId"`
	Created    time.Time `json:"cdate"`
	Updated    time.Time `json:"udate"`
}

type fieldRec struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Type     string    `json:"type"`
	Perstag  string    `json:"perstag"`
	Descript string    `json:"descript"`
	Defval   string    `json:"defval"`
	Visible  int       `json:"visible"`
	Ordernum int       `json:"ordernum"`
	Created  time.Time `json:"cdate"`
	Updated  time.Time `json:"udate"`
}

type fieldRelRec struct {
	ID      string    `json:"id"`
	Field   string    `json:"field"`
	RelID   string    `json:"relid"`
	Created time.Time `json:"cdate"`
}

type fieldValueRec struct {
	ID      string    `json:"id"`
	Value   string    `json:"value"`
	Created time.Time `json:"cdate"`
	Updated time.Time `json:"udate"`
}

type contactListRec struct {
	ID       string    `json:"id"`
	Status   int       `json:"status"`
	SourceID string    `json:"sourceid"`
	Created  time.Time `json:"sdate"`
	Updated  time.Time `json:"udate"`
}

type contactRec struct {
	ID          string                     `json:"id"`
	Email       string                     `json:"email"`
	FirstName   string                     `json:"firstName"`
	LastName    string                     `json:"lastName"`
	Phone       string                     `json:"phone"`
	OrgName     string                     `json:"orgname"`
	FieldValues map[string]*fieldValueRec  `json:"fieldValues"` // by field id
	Lists       map[string]*contactListRec `json:"lists"`       // by list id
	Created     time.Time                  `json:"cdate"`
	Updated     time.Time                  `json:"udate"`
}

type rpRec struct {
	ID                      string         `json:"id"`
	LegacyConnectionID      int64          `json:"legacyConnectionId"`
	StoreRecurringPaymentID string         `json:"storeRecurringPaymentId"`
	Fields                  map[string]any `json:"fields"`
	Created                 time.Time      `json:"created"`
	Updated                 time.Time      `json:"updated"`
	// SuppressAutomations is what the last upsert of the record asked
	// (suppressAutomations), kept for tests: it is no field AC returns.
	SuppressAutomations bool `json:"suppressAutomations,omitempty"`
}

// importContact is one contact of a queued bulk import, kept until it is applied.
type importContact struct {
	Email       string            `json:"email"`
	FirstName   string            `json:"first_name,omitempty"`
	LastName    string            `json:"last_name,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	OrgName     string            `json:"customer_acct_name,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
	FieldOrder  []string          `json:"field_order,omitempty"`
	Subscribe   []string          `json:"subscribe,omitempty"`
	Unsubscribe []string          `json:"unsubscribe,omitempty"`
}

type importRec struct {
	ID        string          `json:"batchId"`
	Seq       int64           `json:"seq"`
	Status    string          `json:"status"`
	Queued    int             `json:"queued"`
	Success   []string        `json:"success"`
	Failure   []string        `json:"failure"`
	Created   time.Time       `json:"created"`
	Completed *time.Time      `json:"completed,omitempty"`
	Pending   []importContact `json:"pending,omitempty"`
	// FailAsync: the import ends "failed" when applied (Server.FailImports).
	FailAsync bool `json:"fail_async,omitempty"`
}

type rpBatchRec struct {
	ID        string           `json:"recordId"`
	Seq       int64            `json:"seq"`
	Status    string           `json:"status"`
	Count     int              `json:"count"`
	Failure   []string         `json:"failure"`
	Created   time.Time        `json:"created"`
	Completed *time.Time       `json:"completed,omitempty"`
	Pending   []map[string]any `json:"pending,omitempty"`
	// Drop: the batch writes nothing when applied (Server.DropRecurringPaymentBatches).
	Drop bool `json:"drop,omitempty"`
}

type state struct {
	Version     int              `json:"version"`
	Seq         map[string]int64 `json:"seq"`
	Lists       []*listRec       `json:"lists"`
	Connections []*connRec       `json:"connections"`
	Fields      []*fieldRec      `json:"fields"`
	FieldRels   []*fieldRelRec   `json:"fieldRels"`
	Contacts    []*contactRec    `json:"contacts"`
	RPs         []*rpRec         `json:"recurringPayments"`
	Imports     []*importRec     `json:"imports"`
	RPBatches   []*rpBatchRec    `json:"recurringPaymentBatches"`

	// Indexes, rebuilt on load. Slices above stay in id order; deletions are rare
	// enough to splice.
	contactByID    map[string]*contactRec
	contactByEmail map[string]*contactRec
	rpByKey        map[string]*rpRec
	importByID     map[string]*importRec
}

func newState() *state {
	st := &state{Version: stateVersion, Seq: map[string]int64{}}
	st.reindex()
	return st
}

func (st *state) reindex() {
	st.contactByID = make(map[string]*contactRec, len(st.Contacts))
	st.contactByEmail = make(map[string]*contactRec, len(st.Contacts))
	for _, c := range st.Contacts {
		if c.FieldValues == nil {
			c.FieldValues = map[string]*fieldValueRec{}
		}
		if c.Lists == nil {
			c.Lists = map[string]*contactListRec{}
		}
		st.contactByID[c.ID] = c
		st.contactByEmail[emailKey(c.Email)] = c
	}
	st.rpByKey = make(map[string]*rpRec, len(st.RPs))
	for _, rp := range st.RPs {
		st.rpByKey[rpKey(rp.LegacyConnectionID, rp.StoreRecurringPaymentID)] = rp
	}
	st.importByID = make(map[string]*importRec, len(st.Imports))
	for _, im := range st.Imports {
		st.importByID[im.ID] = im
	}
}

func (st *state) nextID(kind string) string {
	st.Seq[kind]++
	return strconv.FormatInt(st.Seq[kind], 10)
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func rpKey(conn int64, storeID string) string { return strconv.FormatInt(conn, 10) + "\x00" + storeID }

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func (st *state) addList(name string, now time.Time) *listRec {
	l := &listRec{ID: st.nextID("list"), Name: name, StringID: strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-"), Created: now}
	st.Lists = append(st.Lists, l)
	return l
}

func (st *state) listByName(name string) *listRec {
	for _, l := range st.Lists {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func (st *state) list(id string) *listRec {
	for _, l := range st.Lists {
		if l.ID == id {
			return l
		}
	}
	return nil
}

func (st *state) connection(id string) *connRec {
	for _, c := range st.Connections {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (st *state) field(id string) *fieldRec {
	for _, f := range st.Fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func (st *state) newContact(email string, now time.Time) *contactRec {
	c := &contactRec{
		ID: st.nextID("contact"), Email: strings.TrimSpace(email),
		FieldValues: map[string]*fieldValueRec{}, Lists: map[string]*contactListRec{},
		Created: now, Updated: now,
	}
	st.Contacts = append(st.Contacts, c)
	st.contactByID[c.ID] = c
	st.contactByEmail[emailKey(c.Email)] = c
	return c
}

func (st *state) deleteContact(c *contactRec) {
	delete(st.contactByID, c.ID)
	delete(st.contactByEmail, emailKey(c.Email))
	for i, x := range st.Contacts {
		if x == c {
			st.Contacts = append(st.Contacts[:i], st.Contacts[i+1:]...)
			break
		}
	}
}

func (st *state) setEmail(c *contactRec, email string) {
	delete(st.contactByEmail, emailKey(c.Email))
	c.Email = strings.TrimSpace(email)
	st.contactByEmail[emailKey(c.Email)] = c
}

func (st *state) setFieldValue(c *contactRec, fieldID, value string, now time.Time) {
	if fv := c.FieldValues[fieldID]; fv != nil {
		if fv.Value != value {
			fv.Value, fv.Updated = value, now
		}
		return
	}
	c.FieldValues[fieldID] = &fieldValueRec{ID: st.nextID("fieldValue"), Value: value, Created: now, Updated: now}
}

func (st *state) setListStatus(c *contactRec, listID string, status int, sourceID string, now time.Time) *contactListRec {
	cl := c.Lists[listID]
	if cl == nil {
		cl = &contactListRec{ID: st.nextID("contactList"), Created: now}
		c.Lists[listID] = cl
	}
	cl.Status, cl.Updated = status, now
	if sourceID != "" {
		cl.SourceID = sourceID
	}
	return cl
}

// loadState reads a state file; a missing file is a fresh account (nil, nil).
func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("acsandbox: read state %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	st := &state{}
	if err := dec.Decode(st); err != nil {
		return nil, fmt.Errorf("acsandbox: state %s is not valid: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("acsandbox: state %s has version %d, this sandbox reads %d", path, st.Version, stateVersion)
	}
	if st.Seq == nil {
		st.Seq = map[string]int64{}
	}
	// JSON has one number type; put back the Go types the GraphQL layer stores.
	for _, rp := range st.RPs {
		rp.Fields = normalizeRPFields(rp.Fields)
	}
	for _, b := range st.RPBatches {
		for i, rec := range b.Pending {
			b.Pending[i] = normalizeRPFields(rec)
		}
	}
	st.reindex()
	return st, nil
}

// save writes the state file if anything changed since the last write. The state is
// encoded under mu (a consistent cut) and written under saveMu only, and a write
// never replaces a newer one, so concurrent requests cannot reorder the file.
func (s *Server) save() error {
	if s.opts.StatePath == "" {
		return nil
	}
	s.mu.Lock()
	gen := s.dirtyGen
	if gen == s.savedGen {
		s.mu.Unlock()
		return nil
	}
	data, err := json.Marshal(s.st)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("acsandbox: encode state: %w", err)
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	stale := gen <= s.savedGen
	s.mu.Unlock()
	if stale {
		return nil
	}
	if err := atomicfile.WriteFile(s.opts.StatePath, data); err != nil {
		return fmt.Errorf("acsandbox: save state: %w", err)
	}
	s.mu.Lock()
	if gen > s.savedGen {
		s.savedGen = gen
	}
	s.mu.Unlock()
	return nil
}

// touch marks the state changed; call with mu held.
func (s *Server) touch() { s.dirtyGen++ }

// Snapshot types: copies handed to tests, with AC's string ids.

// List is an AC list.
type List struct {
	ID, Name, StringID string
	Created            time.Time
}

// Connection is a Deep Data connection; its ID is the legacyConnectionId.
type Connection struct {
	ID, Service, ExternalID, Name, LogoURL, LinkURL, ListID string
	Created, Updated                                        time.Time
}

// Field is a custom contact field.
type Field struct {
	ID, Title, Type, Perstag, Descript, Defval string
	Visible, Ordernum                          int
}

// FieldRel attaches a field to a list (RelID "0" = all lists).
type FieldRel struct{ ID, Field, RelID string }

// Contact is an AC contact.
type Contact struct {
	ID, Email, FirstName, LastName, Phone, OrgName string
	// Fields maps field id → value.
	Fields map[string]string
	// Lists maps list id → status (1 subscribed, 2 unsubscribed).
	Lists            map[string]int
	Created, Updated time.Time
}

// RecurringPayment is a stored recurring payment. Fields holds every input field as
// received and merged by upserts: strings (amounts as their decimal text, enums as
// their names), int64, bool, []string, map[string]any for addresses and customerData,
// nil for a field explicitly set to null.
type RecurringPayment struct {
	ID                      string
	LegacyConnectionID      int64
	StoreRecurringPaymentID string
	Email                   string
	Fields                  map[string]any
	Created, Updated        time.Time
	// SuppressAutomations: the last upsert asked AC not to start automations.
	SuppressAutomations bool
}

// ImportBatch is a bulk import request and its outcome.
type ImportBatch struct {
	BatchID string
	// Status is "waiting" until applied, then "completed" (or "failed", see
	// Server.FailImports).
	Status  string
	Queued  int
	Success []string // ids of contacts the import created
	Failure []string // emails that failed
	Created time.Time
}

// RecurringPaymentBatch is an accepted bulkUpsertRecurringPayments call.
type RecurringPaymentBatch struct {
	RecordID string
	Status   string // "waiting", then "completed"
	Count    int
	Failure  []string // storeRecurringPaymentIds that could not be applied
	Created  time.Time
}

// Snapshot is a deep copy of the account, in id order.
type Snapshot struct {
	Lists                   []List
	Connections             []Connection
	Fields                  []Field
	FieldRels               []FieldRel
	Contacts                []Contact
	RecurringPayments       []RecurringPayment
	Imports                 []ImportBatch
	RecurringPaymentBatches []RecurringPaymentBatch
}

// ContactByEmail finds a contact, ignoring case.
func (sn Snapshot) ContactByEmail(email string) (Contact, bool) {
	for _, c := range sn.Contacts {
		if emailKey(c.Email) == emailKey(email) {
			return c, true
		}
	}
	return Contact{}, false
}

// RecurringPayment finds a recurring payment by its composite key.
func (sn Snapshot) RecurringPayment(legacyConnectionID int64, storeRecurringPaymentID string) (RecurringPayment, bool) {
	for _, rp := range sn.RecurringPayments {
		if rp.LegacyConnectionID == legacyConnectionID && rp.StoreRecurringPaymentID == storeRecurringPaymentID {
			return rp, true
		}
	}
	return RecurringPayment{}, false
}

// Snapshot copies the current state.
func (s *Server) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	var sn Snapshot
	for _, l := range st.Lists {
		sn.Lists = append(sn.Lists, List{ID: l.ID, Name: l.Name, StringID: l.StringID, Created: l.Created})
	}
	for _, c := range st.Connections {
		sn.Connections = append(sn.Connections, Connection{ID: c.ID, Service: c.Service, ExternalID: c.ExternalID, Name: c.Name,
			LogoURL: c.LogoURL, LinkURL: c.LinkURL, ListID: c.ListID, Created: c.Created, Updated: c.Updated})
	}
	for _, f := range st.Fields {
		sn.Fields = append(sn.Fields, Field{ID: f.ID, Title: f.Title, Type: f.Type, Perstag: f.Perstag, Descript: f.Descript,
			Defval: f.Defval, Visible: f.Visible, Ordernum: f.Ordernum})
	}
	for _, r := range st.FieldRels {
		sn.FieldRels = append(sn.FieldRels, FieldRel{ID: r.ID, Field: r.Field, RelID: r.RelID})
	}
	for _, c := range st.Contacts {
		sc := Contact{ID: c.ID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone, OrgName: c.OrgName,
			Fields: map[string]string{}, Lists: map[string]int{}, Created: c.Created, Updated: c.Updated}
		for id, fv := range c.FieldValues {
			sc.Fields[id] = fv.Value
		}
		for id, cl := range c.Lists {
			sc.Lists[id] = cl.Status
		}
		sn.Contacts = append(sn.Contacts, sc)
	}
	for _, rp := range st.RPs {
		email, _ := rp.Fields["email"].(string)
		sn.RecurringPayments = append(sn.RecurringPayments, RecurringPayment{ID: rp.ID, LegacyConnectionID: rp.LegacyConnectionID,
			StoreRecurringPaymentID: rp.StoreRecurringPaymentID, Email: email, Fields: deepCopyMap(rp.Fields),
			Created: rp.Created, Updated: rp.Updated, SuppressAutomations: rp.SuppressAutomations})
	}
	for _, im := range st.Imports {
		sn.Imports = append(sn.Imports, ImportBatch{BatchID: im.ID, Status: im.Status, Queued: im.Queued,
			Success: append([]string(nil), im.Success...), Failure: append([]string(nil), im.Failure...), Created: im.Created})
	}
	for _, b := range st.RPBatches {
		sn.RecurringPaymentBatches = append(sn.RecurringPaymentBatches, RecurringPaymentBatch{RecordID: b.ID, Status: b.Status,
			Count: b.Count, Failure: append([]string(nil), b.Failure...), Created: b.Created})
	}
	return sn
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []string:
		return append([]string(nil), x...)
	default:
		return v
	}
}

// sortedKeys gives map keys in numeric-id order (ids are decimal strings).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return idLess(keys[i], keys[j]) })
	return keys
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
