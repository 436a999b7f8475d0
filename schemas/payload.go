package schemas

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// FieldHash is the hash of one AC field of a transform row: load names the fields
// an update changes from these alone, without reading either row whole.
type FieldHash struct {
	// dict: the same few dozen names in every row, stored once per column chunk
	// rather than once per row (at 1M, contacts.parquet 15% smaller, recurring
	// payments 8%).
	Field string `parquet:"field,dict" csv:"field" json:"field"`
	Hash  uint64 `parquet:"hash" csv:"hash" json:"hash"`
}

// FieldHashes are a row's field hashes, sorted by field; in CSV one JSON cell.
type FieldHashes []FieldHash

// MarshalCSV writes the hashes as one JSON cell.
func (h FieldHashes) MarshalCSV() (string, error) { return jsonCell(h) }

// UnmarshalCSV reads the JSON cell MarshalCSV writes.
func (h *FieldHashes) UnmarshalCSV(s string) error { return unjsonCell(s, h) }

// notPayload are the JSON keys of a transform row that AC is not sent as fields:
// the hash itself, and the AC ids only load knows (null or absent in transform).
var notPayload = []string{"row_hash", "legacyConnectionId", "acContactId"}

// Payload renders a contact or recurring payment as AC field → the JSON text of its
// value, custom contact fields one per title as fields.<title>.
// It is what a plan compares and shows; the JSON is the one row_hash hashes, so two
// rows with the same row_hash have the same payload.
func Payload(rec any) map[string]string {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil // plain data always marshals
	}
	return payloadOf(b)
}

func payloadOf(b []byte) map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	out := make(map[string]string, len(m)+len(DefaultFields))
	for k, raw := range m {
		if slices.Contains(notPayload, k) {
			continue
		}
		if k == customFields {
			var fs []FieldValue
			if json.Unmarshal(raw, &fs) == nil {
				for _, f := range fs {
					v, _ := json.Marshal(f.Value)
					out[customFields+"."+f.Title] = string(v)
				}
				continue
			}
		}
		out[k] = string(raw)
	}
	return out
}

// customFields is the JSON key Payload spreads into one field per title,
// fields.<title>.
const customFields = "fields"

// PayloadColumns maps the fields Payload renders of a record to the top-level
// Parquet columns that hold them, from the record type's json and parquet tags:
// custom contact fields (fields.<title>) all live in the fields column, an address
// or the customer data in its one struct column. A plan reads just the columns of
// the fields an update changed: a record read from those alone renders the same
// values for them as the whole row (TestPayloadColumns).
type PayloadColumns map[string]string

// PayloadColumns is the field → column map of T (see the type).
func (t *Table[T]) PayloadColumns() PayloadColumns {
	m := PayloadColumns{}
	rt := reflect.TypeFor[T]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		col, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		if name == "" {
			name = f.Name // as encoding/json names an untagged field
		}
		if !f.IsExported() || name == "-" || col == "" || col == "-" || slices.Contains(notPayload, name) {
			continue
		}
		m[name] = col
	}
	return m
}

// Column is the column that holds field; false for a name that is no payload
// field of the type.
func (m PayloadColumns) Column(field string) (string, bool) {
	if strings.HasPrefix(field, customFields+".") {
		field = customFields
	} else if field == customFields {
		return "", false // never a Payload key: always spread by title
	}
	c, ok := m[field]
	return c, ok
}

// ChangedFields names the fields whose hashes differ between two rows' field
// hashes (both sorted by field), a field only one row has included: what an update
// changes, in field order.
func ChangedFields(old, cur FieldHashes) []string {
	var out []string
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && old[i].Field < cur[j].Field):
			out = append(out, old[i].Field)
			i++
		case i == len(old) || cur[j].Field < old[i].Field:
			out = append(out, cur[j].Field)
			j++
		default:
			if old[i].Hash != cur[j].Hash {
				out = append(out, old[i].Field)
			}
			i++
			j++
		}
	}
	return out
}

// PlanChange is one changed field of an update: its value in the synced snapshot and
// in the transform file, as Payload renders it with strings unquoted ("" for absent
// or null).
type PlanChange struct {
	Field string `parquet:"field,dict" csv:"field" json:"field"`
	Old   string `parquet:"old" csv:"old" json:"old"`
	New   string `parquet:"new" csv:"new" json:"new"`
}

// PlanChanges are an update's changed fields; in CSV one JSON cell.
type PlanChanges []PlanChange

// MarshalCSV writes the changes as one JSON cell.
func (c PlanChanges) MarshalCSV() (string, error) { return jsonCell(c) }

// UnmarshalCSV reads the JSON cell MarshalCSV writes.
func (c *PlanChanges) UnmarshalCSV(s string) error { return unjsonCell(s, c) }

// DisplayValue is a Payload value as a person reads it: a JSON string unquoted,
// null as "", anything else (numbers, lists, addresses) as its compact JSON.
func DisplayValue(v string) string {
	if v == "null" {
		return ""
	}
	if strings.HasPrefix(v, `"`) {
		var s string
		if json.Unmarshal([]byte(v), &s) == nil {
			return s
		}
	}
	return v
}

// FormatChange is one changed field as a person reads it in a plan: field: old → new,
// with empty values shown as "" so a cleared field is seen.
func FormatChange(field, old, cur string) string {
	show := func(v string) string {
		if v == "" {
			return `""`
		}
		return v
	}
	return field + ": " + show(old) + " → " + show(cur)
}
