package transform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/cb2ac/cb2ac/schemas"
)

// An attribute is a value a config key may name: customer.<column> or
// subscription.<column>, with the extract file's column names (dotted for nested
// columns, cf_* for custom fields). Resolving the path once up front turns a typo in
// the config into an error before any row is read.
type attribute struct {
	source string // as written in the config
	entity string // customer | subscription
	index  []int  // reflect field path, nil for cf_*
	cf     string // custom field key
	kind   reflect.Kind
	ptr    bool
	isTime bool
}

var (
	customerType     = reflect.TypeOf(schemas.Customer{})
	subscriptionType = reflect.TypeOf(schemas.Subscription{})
)

func parseAttribute(source string) (*attribute, error) {
	entity, path, ok := strings.Cut(source, ".")
	if !ok || path == "" {
		return nil, fmt.Errorf("source %q: want customer.<attribute> or subscription.<attribute>", source)
	}
	var t reflect.Type
	switch entity {
	case "customer":
		t = customerType
	case "subscription":
		t = subscriptionType
	default:
		return nil, fmt.Errorf("source %q: want customer.<attribute> or subscription.<attribute>", source)
	}
	a := &attribute{source: source, entity: entity}
	if strings.HasPrefix(path, "cf_") {
		a.cf = path
		return a, nil
	}
	for _, part := range strings.Split(path, ".") {
		f, ok := fieldByTag(t, part)
		if !ok {
			return nil, fmt.Errorf("source %q: %s has no attribute %q", source, entity, part)
		}
		a.index = append(a.index, f.Index...)
		t = f.Type
		a.ptr = t.Kind() == reflect.Pointer
		if a.ptr {
			t = t.Elem()
		}
		a.isTime = strings.HasSuffix(part, "_at") || strings.HasSuffix(part, "_date") || part == "trial_start" || part == "trial_end" || part == "date"
	}
	switch t.Kind() {
	case reflect.String, reflect.Int64, reflect.Bool:
		a.kind = t.Kind()
	default:
		return nil, fmt.Errorf("source %q names a %s, not a single value", source, t.Kind())
	}
	return a, nil
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("parquet"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// value returns the attribute's value as AC text. Timestamps become dates when the
// field is a date field, else the `2019-11-16T10:48:23Z` form; ok is false when the
// record lacks the value.
func (a *attribute) value(c *schemas.Customer, s *schemas.Subscription, fieldType string) (string, bool) {
	var v reflect.Value
	var cfJSON string
	switch a.entity {
	case "customer":
		if c == nil {
			return "", false
		}
		v, cfJSON = reflect.ValueOf(c).Elem(), c.CustomFields
	case "subscription":
		if s == nil {
			return "", false
		}
		v, cfJSON = reflect.ValueOf(s).Elem(), s.CustomFields
	}
	if a.cf != "" {
		return customField(cfJSON, a.cf)
	}
	f := v.FieldByIndex(a.index)
	if a.ptr {
		if f.IsNil() {
			return "", false
		}
		f = f.Elem()
	}
	switch a.kind {
	case reflect.String:
		return f.String(), f.String() != ""
	case reflect.Bool:
		return strconv.FormatBool(f.Bool()), true
	case reflect.Int64:
		if a.isTime {
			if fieldType == "date" {
				return formatDay(f.Int()), true
			}
			return formatTime(f.Int()), true
		}
		return strconv.FormatInt(f.Int(), 10), true
	}
	return "", false
}

// customField reads one cf_* key of the custom-fields JSON as text.
func customField(cfJSON, key string) (string, bool) {
	if cfJSON == "" {
		return "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(cfJSON), &m) != nil {
		return "", false
	}
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return string(raw), true // a number or bool: its JSON text is its value
}

// attrValue is an attribute's value for one record; ok is false when it lacks one.
type attrValue struct {
	v  string
	ok bool
}

// customerAttrs is how many values customerValues returns: the mapped fields, then
// marketing consent, or none when no attribute comes from the customer.
func (m *Mapper) customerAttrs() int {
	if m.marketing != nil && m.marketing.entity == "customer" {
		return len(m.mapped) + 1
	}
	for _, mf := range m.mapped {
		if mf.attr.entity == "customer" {
			return len(m.mapped) + 1
		}
	}
	return 0
}

// customerValues evaluates the customer attributes of the mapped fields and of
// marketing consent (in that order) once per customer, so the subscription pass
// needs the values, not the whole customer record.
func (m *Mapper) customerValues(c *schemas.Customer, n int) []attrValue {
	if n == 0 {
		return nil
	}
	out := make([]attrValue, n)
	for i, mf := range m.mapped {
		if mf.attr.entity == "customer" {
			out[i].v, out[i].ok = mf.attr.value(c, nil, mf.field.Type)
		}
	}
	if m.marketing != nil && m.marketing.entity == "customer" {
		out[n-1].v, out[n-1].ok = m.marketing.value(c, nil, "text")
	}
	return out
}

// attr is the value of attribute a (the i-th of customerValues) for a customer whose
// values are cv and the subscription s.
func (m *Mapper) attr(a *attribute, i int, cv []attrValue, s *schemas.Subscription, fieldType string) (string, bool) {
	if a.entity == "customer" {
		if i >= len(cv) {
			return "", false
		}
		return cv[i].v, cv[i].ok
	}
	return a.value(nil, s, fieldType)
}
