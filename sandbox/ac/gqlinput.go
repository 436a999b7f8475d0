package acsandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/cb2ac/cb2ac/sandbox/ac/acschema"
)

// Input values. gqlparser has parsed and validated the document against
// acschema's schema.graphql, except the values of literals (see sandboxRules): an
// argument is resolved here (variables substituted) and checked against its type in
// the same schema when the request runs, so that an error names the record
// (extensions.index) and the field, as AC's answers do.

var (
	// dateRe: the reference's form 2019-11-16T10:48:23Z, and the same instant as
	// AC's WooCommerce plugin sends it (PHP DATE_ATOM: +00:00) or with milliseconds
	// (JavaScript's toISOString, used by other AC clients).
	dateRe    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|\+00:00)$`)
	decimalRe = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
)

type valKind int

const (
	vNull valKind = iota
	vInt
	vFloat
	vString
	vBool
	vEnum
	vList
	vObject
)

type objField struct {
	name string
	val  *gqlValue
}

// gqlValue is an argument's value with its variables substituted.
type gqlValue struct {
	kind   valKind
	raw    string // text of int/float/string/enum, "true"/"false"
	list   []*gqlValue
	fields []objField
	// fromVar marks values that came from the JSON variables, where enums arrive as
	// strings.
	fromVar bool
	// line and col locate a literal in the document (0 for a variable's value).
	line, col int
}

func jsonToValue(v any) *gqlValue {
	out := &gqlValue{fromVar: true}
	switch x := v.(type) {
	case nil:
		out.kind = vNull
	case string:
		out.kind, out.raw = vString, x
	case bool:
		out.kind, out.raw = vBool, strconv.FormatBool(x)
	case json.Number:
		out.kind, out.raw = vInt, string(x)
		if strings.ContainsAny(string(x), ".eE") {
			out.kind = vFloat
		}
	case []any:
		out.kind = vList
		for _, it := range x {
			out.list = append(out.list, jsonToValue(it))
		}
	case map[string]any:
		out.kind = vObject
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.fields = append(out.fields, objField{name: k, val: jsonToValue(x[k])})
		}
	default:
		out.kind, out.raw = vString, fmt.Sprint(x)
	}
	return out
}

// resolveValue turns a literal of the document into a gqlValue, substituting the
// variables; nil means "not provided" (a variable without value or default).
func resolveValue(v *ast.Value, vars map[string]*gqlValue) *gqlValue {
	if v == nil {
		return nil
	}
	out := &gqlValue{raw: v.Raw}
	out.line, out.col = pos(v.Position)
	switch v.Kind {
	case ast.Variable:
		return vars[v.Raw]
	case ast.IntValue:
		out.kind = vInt
	case ast.FloatValue:
		out.kind = vFloat
	case ast.StringValue, ast.BlockValue:
		out.kind = vString
	case ast.BooleanValue:
		out.kind = vBool
	case ast.NullValue:
		out.kind = vNull
	case ast.EnumValue:
		out.kind = vEnum
	case ast.ListValue:
		out.kind = vList
		for _, c := range v.Children {
			r := resolveValue(c.Value, vars)
			if r == nil {
				r = &gqlValue{kind: vNull, line: out.line, col: out.col}
			}
			out.list = append(out.list, r)
		}
	case ast.ObjectValue:
		out.kind = vObject
		for _, c := range v.Children {
			// An object field whose variable was not provided is absent.
			if r := resolveValue(c.Value, vars); r != nil {
				out.fields = append(out.fields, objField{name: c.Name, val: r})
			}
		}
	}
	return out
}

// describe renders a value for an error message, GraphQL style.
func describe(v *gqlValue) string {
	switch v.kind {
	case vString:
		return strconv.Quote(v.raw)
	case vNull:
		return "null"
	case vList:
		parts := make([]string, len(v.list))
		for i, it := range v.list {
			parts[i] = describe(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case vObject:
		parts := make([]string, len(v.fields))
		for i, f := range v.fields {
			parts[i] = f.name + ": " + describe(f.val)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return v.raw
}

// inputErr is a problem with one input value: index is the record (-1 for an
// argument as a whole), field its dotted path inside the record.
type inputErr struct {
	msg   string
	index int
	field string
	// content marks a value of the right GraphQL type that AC's own checks refuse
	// (a date not in its format, an empty id, an unknown connection, a fail-email):
	// AC answers those as "Validation errors" naming the record.
	content bool
	// line and col locate the value in the document, when it is a literal.
	line, col int
}

// at locates an error at the value v.
func (e *inputErr) at(v *gqlValue) *inputErr {
	if v != nil {
		e.line, e.col = v.line, v.col
	}
	return e
}

// schemaType is a named type of acschema's schema.
func schemaType(name string) *ast.Definition { return acschema.Schema().Types[name] }

// isDate reports a field marked @dateTime in the schema.
func isDate(fd *ast.FieldDefinition) bool {
	return fd != nil && fd.Directives.ForName(acschema.DateTime) != nil
}

func enumValues(def *ast.Definition) []string {
	out := make([]string, len(def.EnumValues))
	for i, ev := range def.EnumValues {
		out[i] = ev.Name
	}
	return out
}

// coerce turns one input value into its stored Go form, checking it against its
// type t in the schema; date marks a @dateTime field.
func coerce(v *gqlValue, t *ast.Type, date bool, index int, field string) (any, *inputErr) {
	fail := func(format string, args ...any) (any, *inputErr) {
		return nil, (&inputErr{msg: field + ": " + fmt.Sprintf(format, args...), index: index, field: field}).at(v)
	}
	if v.kind == vNull {
		if t.NonNull {
			return fail("required field of type \"%s\" must not be null", t)
		}
		return nil, nil
	}
	if t.Elem != nil {
		return coerceList(v, t, date, index, field)
	}
	def := schemaType(t.NamedType)
	if def == nil {
		return fail("unknown type %s", t.NamedType)
	}
	switch {
	case def.Kind == ast.Enum:
		switch {
		case v.kind == vEnum, v.kind == vString && v.fromVar:
		case v.kind == vString:
			return fail("Enum \"%s\" cannot represent non-enum value: %s. Did you mean the enum value \"%s\"?", def.Name, describe(v), v.raw)
		default:
			return fail("Enum \"%s\" cannot represent non-enum value: %s", def.Name, describe(v))
		}
		if def.EnumValues.ForName(v.raw) == nil {
			return fail("Value \"%s\" does not exist in \"%s\" enum (one of %s)", v.raw, def.Name, strings.Join(enumValues(def), ", "))
		}
		return v.raw, nil
	case def.Kind == ast.InputObject:
		m, err := coerceObject(v, def, index, field)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	switch def.Name {
	case "String", "ID":
		if v.kind != vString {
			return fail("%s cannot represent a non string value: %s", def.Name, describe(v))
		}
		if t.NonNull && strings.TrimSpace(v.raw) == "" {
			return nil, (&inputErr{msg: field + ": must not be empty", index: index, field: field, content: true}).at(v)
		}
		if date {
			if !dateRe.MatchString(v.raw) {
				return nil, (&inputErr{msg: fmt.Sprintf("%s: %s is not in the format 2019-11-16T10:48:23Z", field, strconv.Quote(v.raw)), index: index, field: field, content: true}).at(v)
			}
			if _, err := time.Parse(time.RFC3339Nano, v.raw); err != nil {
				return nil, (&inputErr{msg: fmt.Sprintf("%s: %s is not a valid date", field, strconv.Quote(v.raw)), index: index, field: field, content: true}).at(v)
			}
		}
		return v.raw, nil
	case "Int":
		switch {
		case v.kind == vInt:
		case v.kind == vFloat && v.fromVar:
			if f, err := strconv.ParseFloat(v.raw, 64); err != nil || f != math.Trunc(f) {
				return fail("Int cannot represent non-integer value: %s", describe(v))
			}
		default:
			return fail("Int cannot represent non-integer value: %s", describe(v))
		}
		f, err := strconv.ParseFloat(v.raw, 64)
		if err != nil || f > math.MaxInt32 || f < math.MinInt32 {
			return fail("Int cannot represent non 32-bit signed integer value: %s", describe(v))
		}
		return int64(f), nil
	case "Boolean":
		if v.kind != vBool {
			return fail("Boolean cannot represent a non boolean value: %s", describe(v))
		}
		return v.raw == "true", nil
	case "BigDecimal", "Float":
		switch v.kind {
		case vInt, vFloat:
			return v.raw, nil
		case vString:
			if def.Name == "BigDecimal" && decimalRe.MatchString(v.raw) {
				return v.raw, nil
			}
		}
		return fail("%s cannot represent %s: expected a number or a decimal string such as \"20.00\"", def.Name, describe(v))
	}
	return fail("the sandbox does not take values of type %s", def.Name)
}

// coerceList reads a list. A single value is a list of one (GraphQL input
// coercion). A list of input objects (billingAddress, shippingAddress: the reference
// types them [AddressInput] and its example sends one object) is stored as its one
// object: the sandbox keeps one address.
func coerceList(v *gqlValue, t *ast.Type, date bool, index int, field string) (any, *inputErr) {
	if def := schemaType(t.Elem.Name()); t.Elem.Elem == nil && def != nil && def.Kind == ast.InputObject {
		obj := v
		if v.kind == vList && len(v.list) == 1 {
			obj = v.list[0]
		}
		if obj.kind != vObject {
			return nil, (&inputErr{msg: fmt.Sprintf("%s: Expected type \"%s\" to be an object, got %s", field, def.Name, describe(v)), index: index, field: field}).at(v)
		}
		return coerceObject(obj, def, index, field)
	}
	items := v.list
	if v.kind != vList {
		items = []*gqlValue{v}
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		if t.Elem.Name() != "String" || it.kind != vString {
			return nil, (&inputErr{msg: fmt.Sprintf("%s[%d]: %s cannot represent a non string value: %s", field, i, t.Elem.Name(), describe(it)), index: index, field: field}).at(it)
		}
		out = append(out, it.raw)
	}
	return out, nil
}

// coerceObject reads a nested input object (customerData, an address); the first
// error is the answer.
func coerceObject(v *gqlValue, def *ast.Definition, index int, field string) (map[string]any, *inputErr) {
	fail := func(at *gqlValue, format string, args ...any) (map[string]any, *inputErr) {
		return nil, (&inputErr{msg: field + ": " + fmt.Sprintf(format, args...), index: index, field: field}).at(at)
	}
	if v.kind != vObject {
		return fail(v, "Expected type \"%s\" to be an object, got %s", def.Name, describe(v))
	}
	out := map[string]any{}
	for _, f := range v.fields {
		fd := def.Fields.ForName(f.name)
		if fd == nil {
			return fail(f.val, "Field \"%s\" is not defined by type \"%s\"", f.name, def.Name)
		}
		val, err := coerce(f.val, fd.Type, isDate(fd), index, field+"."+f.name)
		if err != nil {
			return nil, err
		}
		out[f.name] = val
	}
	for _, fd := range def.Fields {
		if _, ok := out[fd.Name]; !ok && fd.Type.NonNull && fd.DefaultValue == nil {
			return fail(v, "Field \"%s.%s\" of required type \"%s\" was not provided.", def.Name, fd.Name, fd.Type)
		}
	}
	return out, nil
}

// coerceRecord checks one RecurringPaymentInput, reporting every bad field.
func coerceRecord(v *gqlValue, index int) (map[string]any, []inputErr) {
	def := schemaType("RecurringPaymentInput")
	if v.kind != vObject {
		return nil, []inputErr{{msg: fmt.Sprintf("recurringPayments[%d]: Expected type \"%s\" to be an object, got %s", index, def.Name, describe(v)), index: index, line: v.line, col: v.col}}
	}
	var errs []inputErr
	rec := map[string]any{}
	for _, f := range v.fields {
		fd := def.Fields.ForName(f.name)
		if fd == nil {
			errs = append(errs, inputErr{msg: fmt.Sprintf("Field \"%s\" is not defined by type \"%s\"", f.name, def.Name), index: index, field: f.name, line: f.val.line, col: f.val.col})
			continue
		}
		val, err := coerce(f.val, fd.Type, isDate(fd), index, f.name)
		if err != nil {
			errs = append(errs, *err)
			continue
		}
		rec[f.name] = val
	}
	for _, fd := range def.Fields {
		if _, ok := rec[fd.Name]; !ok && fd.Type.NonNull && !hasErrFor(errs, fd.Name) {
			errs = append(errs, inputErr{msg: fmt.Sprintf("Field \"%s.%s\" of required type \"%s\" was not provided.", def.Name, fd.Name, fd.Type),
				index: index, field: fd.Name, line: v.line, col: v.col})
		}
	}
	// email is a plain String in the contract, and the documented example itself sends
	// "[email protected]" (an address mangled by the docs' web page), so its format is
	// not checked here; only a valid address creates a contact when applied.
	return rec, errs
}

func hasErrFor(errs []inputErr, field string) bool {
	for _, e := range errs {
		if e.field == field {
			return true
		}
	}
	return false
}

// normalizeRPFields restores the Go types of stored fields after a JSON round trip.
func normalizeRPFields(m map[string]any) map[string]any {
	def := schemaType("RecurringPaymentInput")
	for k, v := range m {
		fd := def.Fields.ForName(k)
		if fd == nil || v == nil {
			continue
		}
		switch {
		case fd.Type.NamedType == "Int":
			if n, ok := v.(json.Number); ok {
				i, _ := n.Int64()
				m[k] = i
			}
		case fd.Type.Elem != nil && fd.Type.Elem.NamedType == "String":
			if list, ok := v.([]any); ok {
				out := make([]string, 0, len(list))
				for _, it := range list {
					s, _ := it.(string)
					out = append(out, s)
				}
				m[k] = out
			}
		}
	}
	return m
}
