package schemas

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// FieldHash is the hash of one AC field of a transform row: load names the fields
// an update changes from these alone, without reading either row whole.
type FieldHash struct {
	Field string `parquet:"field" csv:"field" json:"field"`
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

// HashPayload hashes a marshalled row (json.Marshal of the record, its row_hash
// zero): the row hash of the whole, and one hash per field of its Payload (the
// hash of the same JSON text Payload holds). The field hashes are kept out of the
// JSON (json:"-"), so they never change the row hash. It scans the bytes once
// rather than decoding them into a map: transform hashes every row, and a decode
// tripled its time.
func HashPayload(b []byte) (row uint64, fields FieldHashes) {
	row = xxhash.Sum64(b)
	fields = make(FieldHashes, 0, 48)
	ok := scanObject(b, func(key string, raw []byte) bool {
		if slices.Contains(notPayload, key) {
			return true
		}
		if key == "fields" && string(raw) == "null" {
			return true // no custom field: none counted, as in Payload
		}
		if key != "fields" || len(raw) == 0 || raw[0] != '[' {
			fields = append(fields, FieldHash{Field: key, Hash: xxhash.Sum64(raw)})
			return true
		}
		return scanArray(raw, func(elem []byte) bool {
			var title string
			var value []byte
			ok := scanObject(elem, func(k string, v []byte) bool {
				switch k {
				case "title":
					return json.Unmarshal(v, &title) == nil
				case "value":
					value = v
				}
				return true
			})
			if ok && value != nil {
				fields = append(fields, FieldHash{Field: "fields." + title, Hash: xxhash.Sum64(value)})
			}
			return ok
		})
	})
	if !ok {
		// Not what json.Marshal writes: hash the decoded payload instead.
		fields = fields[:0]
		for k, v := range payloadOf(b) {
			fields = append(fields, FieldHash{Field: k, Hash: xxhash.Sum64String(v)})
		}
	}
	slices.SortFunc(fields, func(a, b FieldHash) int { return strings.Compare(a.Field, b.Field) })
	return row, fields
}

// scanObject calls fn with each key and raw value of the JSON object b (as
// json.Marshal writes it: no blanks); false when b is not such an object or fn
// said stop.
func scanObject(b []byte, fn func(key string, raw []byte) bool) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	i := 1
	for i < len(b)-1 {
		end := skipValue(b, i)
		if end < 0 || b[i] != '"' || end >= len(b) || b[end] != ':' {
			return false
		}
		key := string(b[i+1 : end-1])
		if strings.IndexByte(key, '\\') >= 0 && json.Unmarshal(b[i:end], &key) != nil {
			return false
		}
		vEnd := skipValue(b, end+1)
		if vEnd < 0 || !fn(key, b[end+1:vEnd]) {
			return false
		}
		i = vEnd
		if i < len(b)-1 {
			if b[i] != ',' {
				return false
			}
			i++
		}
	}
	return true
}

// scanArray calls fn with each raw element of the JSON array b.
func scanArray(b []byte, fn func(raw []byte) bool) bool {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return false
	}
	i := 1
	for i < len(b)-1 {
		end := skipValue(b, i)
		if end < 0 || !fn(b[i:end]) {
			return false
		}
		i = end
		if i < len(b)-1 {
			if b[i] != ',' {
				return false
			}
			i++
		}
	}
	return true
}

// skipValue returns the end of the JSON value starting at b[i], -1 if it is cut.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := skipValue(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	return j
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
	Field string `parquet:"field" csv:"field" json:"field"`
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
