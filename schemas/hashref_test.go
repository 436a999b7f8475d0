package schemas

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// The reference HashContact and HashRecurringPayment are held to (hash_test.go):
// what transform did before them, json.Marshal's bytes scanned for each field.

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
