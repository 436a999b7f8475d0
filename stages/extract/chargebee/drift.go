package chargebee

import (
	"bytes"
	"strings"
)

// sdkSets is sdkTopFields as sets, by list entry key.
var sdkSets = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for res, names := range sdkTopFields {
		out[res] = map[string]bool{}
		for _, n := range strings.Fields(names) {
			out[res][n] = true
		}
	}
	return out
}()

// Unknown counts schema drift in a page: entry key ("customer", "card") → a
// top-level key of that resource the SDK does not declare → the entries that carry
// it. cf_* keys are custom fields, read as such, never drift.
type Unknown map[string]map[string]int64

// unknownKeys scans a page DecodePage has already decoded (so valid JSON) for keys
// outside sdkTopFields. It walks the bytes once without building values: decoding each
// entry again into maps to see its keys would double the cost of a page. Anything
// it does not expect ends the scan with what it counted, never a panic.
func unknownKeys(page []byte) Unknown {
	var out Unknown
	s := &scan{b: page}
	s.object(func(key []byte) bool {
		if string(key) != "list" {
			return false
		}
		s.array(func() {
			s.object(func(res []byte) bool {
				known := sdkSets[string(res)]
				if known == nil || s.peek() != '{' {
					return false
				}
				s.object(func(k []byte) bool {
					if !known[string(k)] && !bytes.HasPrefix(k, []byte("cf_")) {
						if out == nil {
							out = Unknown{}
						}
						if out[string(res)] == nil {
							out[string(res)] = map[string]int64{}
						}
						out[string(res)][string(k)]++
					}
					return false
				})
				return true
			})
		})
		return true
	})
	return out
}

// scan is a cursor over JSON bytes that skips values without decoding them.
type scan struct {
	b   []byte
	i   int
	bad bool
}

func (s *scan) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *scan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// str reads a string at the cursor and returns its raw content (escapes as they are).
func (s *scan) str() []byte {
	if s.peek() != '"' {
		s.bad = true
		return nil
	}
	start := s.i + 1
	for i := start; i < len(s.b); i++ {
		switch s.b[i] {
		case '\\':
			i++
		case '"':
			s.i = i + 1
			return s.b[start:i]
		}
	}
	s.bad = true
	return nil
}

// skip steps over one value of any kind.
func (s *scan) skip() {
	switch s.peek() {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) && !s.bad {
			switch s.b[s.i] {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
		s.bad = true
	case 0:
		s.bad = true
	default: // a number, true, false or null
		for ; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
		}
	}
}

// object walks the object at the cursor (any other value is skipped): value(key)
// either reads the key's value and returns true, or leaves it to be skipped. Bad
// input sets bad and ends every walk.
func (s *scan) object(value func(key []byte) bool) {
	if s.peek() != '{' {
		s.skip()
		return
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return
	}
	for !s.bad {
		key := s.str()
		if s.peek() != ':' {
			s.bad = true
			return
		}
		s.i++
		if !value(key) {
			s.skip()
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return
		default:
			s.bad = true
		}
	}
}

// array walks the array at the cursor (any other value is skipped), elem reading
// each element.
func (s *scan) array(elem func()) {
	if s.peek() != '[' {
		s.skip()
		return
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return
	}
	for !s.bad {
		elem()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return
		default:
			s.bad = true
		}
	}
}
