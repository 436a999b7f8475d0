package pipeline

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configSection is one mapping of cb2ac.yaml: its dotted name ("" for the top
// level) and the keys it takes.
type configSection struct {
	name string
	keys []string
}

// configSections maps the Go type of each mapping of Config (as yaml names it in
// an error) to its section, read from the yaml tags.
func configSections() map[string]configSection {
	out := map[string]configSection{}
	var walk func(t reflect.Type, name string)
	walk = func(t reflect.Type, name string) {
		if _, done := out[t.String()]; done {
			return
		}
		sec := configSection{name: name}
		out[t.String()] = sec // placeholder against cycles
		var fields func(t reflect.Type)
		fields = func(t reflect.Type) {
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if tag == "-" {
					continue
				}
				if strings.Contains(opts, "inline") {
					if ft := deref(f.Type); ft.Kind() == reflect.Struct {
						fields(ft)
					}
					continue
				}
				if tag == "" {
					tag = strings.ToLower(f.Name)
				}
				sec.keys = append(sec.keys, tag)
				child := tag
				if name != "" {
					child = name + "." + tag
				}
				ft := deref(f.Type)
				switch ft.Kind() {
				case reflect.Slice, reflect.Map:
					if et := deref(ft.Elem()); et.Kind() == reflect.Struct {
						walk(et, child)
					}
				case reflect.Struct:
					if ft.NumField() > 0 && ft.PkgPath() != "time" {
						walk(ft, child)
					}
				}
			}
		}
		fields(t)
		out[t.String()] = sec
	}
	walk(reflect.TypeOf(Config{}), "")
	return out
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var secretKey = regexp.MustCompile(`(?i)(key|token|secret|password)`)

var unknownField = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)

// configKeyError rewrites yaml's "field X not found in type pipeline.Config" (an
// unknown key: LoadConfig decodes with KnownFields) as the key, its section and
// the nearest key there, on one line. Other errors pass unchanged.
func configKeyError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	sections := configSections()
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := unknownField.FindStringSubmatch(e)
		sec, ok := configSection{}, false
		if m != nil {
			sec, ok = sections[m[3]]
		}
		if !ok {
			msgs = append(msgs, e)
			continue
		}
		where := "at the top level"
		if sec.name != "" {
			where = "in section " + sec.name
		}
		msg := fmt.Sprintf("line %s: unknown key %s %s", m[1], m[2], where)
		if s := suggestKey(m[2], sec, sections); s != "" {
			msg += "; did you mean " + s + "?"
		} else if secretKey.MatchString(m[2]) {
			msg += "; secrets are never config keys: set CHARGEBEE_API_KEY or AC_API_TOKEN (or *_FILE) in the environment"
		}
		msgs = append(msgs, msg)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// suggestKey is the section's key nearest to key (a typo), else the same key in
// another section (a key put at the wrong level), else "".
func suggestKey(key string, sec configSection, all map[string]configSection) string {
	best, bestD := "", -1
	for _, k := range sec.keys {
		if d := editDistance(strings.ToLower(key), k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD >= 0 && bestD <= max(2, len(key)/3) {
		return best
	}
	var elsewhere []string
	for _, s := range all {
		if s.name != sec.name && slices.Contains(s.keys, key) {
			if s.name == "" {
				elsewhere = append(elsewhere, key+" at the top level")
			} else {
				elsewhere = append(elsewhere, s.name+"."+key)
			}
		}
	}
	slices.Sort(elsewhere)
	return strings.Join(elsewhere, " or ")
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
