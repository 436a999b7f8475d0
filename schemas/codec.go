package schemas

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// The codec turns a record struct into Arrow columns and back, driven by `parquet`
// struct tags, so every file kind is declared once, as a Go type. Supported field
// types are the ones our records use: string, int64, uint64, bool, pointers to those
// (nullable columns), nested structs and pointers to structs (struct columns), and
// slices of strings or structs (list columns). Tag options after the name:
// `dict` turns on dictionary encoding for a low-cardinality column (a top-level one,
// or a string in the element struct of a list, which is also read back as a
// dictionary: field_hashes' names, the same few dozen in every row); `timestamp` on
// an int64 or *int64 of Unix seconds writes a TIMESTAMP (UTC) column, so a query
// engine sees a time while Go code keeps Chargebee's seconds; `decimal` and `time` on
// a string or *string in AC's wire form (a decimal string, an RFC 3339 time) add a
// typed twin column after it, NAMEDecimal or NAMETime, written from the text and
// never read back (the text column is what load sends).
//
// A string column writes NULL for "" and reads NULL back as "": Chargebee's absent
// values and cb2ac's empty ones are the same thing, and a query engine should see
// one NULL, not a mix of NULL and "" (json_extract_string on "" fails).
//
// This file's reflective walk codes types without a generated codec and is the
// reference for codec_gen.go, which unrolls the same walk per table (codecgen.go).

type column struct {
	name     string
	index    int // struct field index
	field    arrow.Field
	dict     bool
	children []column // struct, or the element struct of a list
	kind     colKind
	elem     reflect.Type // element type for lists / pointers
	// twin: the column is derived from the field of another (decimal or time
	// twin), written only.
	twin bool
}

type colKind int

const (
	kString colKind = iota
	kInt64
	kUint64
	kBool
	kPtrString
	kPtrInt64
	kPtrBool
	kStruct
	kPtrStruct
	kStringList
	kStructList
	kTimestamp    // int64 Unix seconds as TIMESTAMP (UTC)
	kPtrTimestamp // *int64 Unix seconds as TIMESTAMP (UTC)
	kDecimalTwin  // string or *string decimal text → DECIMAL(38, twinScale)
	kTimeTwin     // string or *string RFC 3339 text → TIMESTAMP (UTC)
)

// timestampType is how times are stored: UTC, in milliseconds, Parquet's coarsest
// unit (a seconds column would be written as milliseconds anyway and read back as
// such). The Go fields keep Chargebee's seconds.
var timestampType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// maxTimestampSeconds bounds the seconds a millisecond column holds; a time beyond it
// (only a corrupt input has one) is written NULL rather than wrapped around.
const maxTimestampSeconds = math.MaxInt64 / 1000

func appendSeconds(b array.Builder, sec int64) {
	if sec > maxTimestampSeconds || sec < -maxTimestampSeconds {
		b.AppendNull()
		return
	}
	b.(*array.TimestampBuilder).Append(arrow.Timestamp(sec * 1000))
}

// seconds reads a millisecond timestamp back as Unix seconds (floor).
func seconds(a arrow.Array, i int) int64 {
	ms := int64(a.(*array.Timestamp).Value(i))
	sec := ms / 1000
	if ms%1000 < 0 {
		sec--
	}
	return sec
}

// The decimal twins' type. One scale for every currency in one column: Chargebee's
// multi-decimal pricing allows prices and units with up to 20 decimal places
// (Chargebee docs, "What is multi-decimal support in Chargebee?"), and 18 integer
// digits hold any int64 amount in minor units. A value beyond either (a sum of
// multi-decimal products can have more places) gets a NULL twin, never a rounded one;
// its text column is exact.
const (
	twinPrecision = 38
	twinScale     = 20
)

var decimalTwinType = &arrow.Decimal128Type{Precision: twinPrecision, Scale: twinScale}

var (
	stringType = reflect.TypeOf("")
	int64Type  = reflect.TypeOf(int64(0))
	uint64Type = reflect.TypeOf(uint64(0))
	boolType   = reflect.TypeOf(false)
)

// columnsOf reflects a struct type into columns. It panics on an unsupported field:
// record types are fixed at compile time, so that is a programming error caught by tests.
func columnsOf(t reflect.Type) []column {
	var cols []column
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("parquet")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		c := column{name: parts[0], index: i}
		var ts bool
		var twin colKind
		twinName := ""
		for _, opt := range parts[1:] {
			switch opt {
			case "dict":
				c.dict = true
			case "timestamp":
				ts = true
			case "decimal":
				twin, twinName = kDecimalTwin, c.name+"Decimal"
			case "time":
				twin, twinName = kTimeTwin, c.name+"Time"
			}
		}
		var dt arrow.DataType
		nullable := false
		ft := f.Type
		switch {
		case ft == stringType || ft.Kind() == reflect.String:
			c.kind, dt = kString, arrow.BinaryTypes.String
		case ft == int64Type:
			c.kind, dt = kInt64, arrow.PrimitiveTypes.Int64
		case ft == uint64Type:
			c.kind, dt = kUint64, arrow.PrimitiveTypes.Uint64
		case ft == boolType:
			c.kind, dt = kBool, arrow.FixedWidthTypes.Boolean
		case ft.Kind() == reflect.Pointer && ft.Elem() == stringType:
			c.kind, dt, nullable = kPtrString, arrow.BinaryTypes.String, true
		case ft.Kind() == reflect.Pointer && ft.Elem() == int64Type:
			c.kind, dt, nullable = kPtrInt64, arrow.PrimitiveTypes.Int64, true
		case ft.Kind() == reflect.Pointer && ft.Elem() == boolType:
			c.kind, dt, nullable = kPtrBool, arrow.FixedWidthTypes.Boolean, true
		case ft.Kind() == reflect.Struct:
			c.kind = kStruct
			c.children = columnsOf(ft)
			dt = arrow.StructOf(fieldsOf(c.children)...)
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			c.kind, c.elem, nullable = kPtrStruct, ft.Elem(), true
			c.children = columnsOf(ft.Elem())
			dt = arrow.StructOf(fieldsOf(c.children)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			c.kind, c.elem = kStringList, ft.Elem()
			dt = arrow.ListOf(arrow.BinaryTypes.String)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			c.kind, c.elem = kStructList, ft.Elem()
			c.children = columnsOf(ft.Elem())
			dt = arrow.ListOf(arrow.StructOf(fieldsOf(c.children)...))
		default:
			panic(fmt.Sprintf("schemas: field %s.%s has unsupported type %s", t.Name(), f.Name, ft))
		}
		if ts {
			switch c.kind {
			case kInt64:
				c.kind, dt = kTimestamp, timestampType
			case kPtrInt64:
				c.kind, dt = kPtrTimestamp, timestampType
			default:
				panic(fmt.Sprintf("schemas: field %s.%s: timestamp needs int64 seconds", t.Name(), f.Name))
			}
		}
		if c.kind == kString {
			nullable = true // "" is written as NULL
		}
		// Lists and plain structs are written non-null (an empty list, a zero struct),
		// which keeps DuckDB queries free of NULL checks for them.
		c.field = arrow.Field{Name: c.name, Type: dt, Nullable: nullable || c.kind == kStringList || c.kind == kStructList || c.kind == kStruct}
		cols = append(cols, c)
		if twin != 0 {
			if c.kind != kString && c.kind != kPtrString {
				panic(fmt.Sprintf("schemas: field %s.%s: a typed twin needs a string", t.Name(), f.Name))
			}
			tw := column{name: twinName, index: i, kind: twin, elem: ft, twin: true}
			tdt := arrow.DataType(decimalTwinType)
			if twin == kTimeTwin {
				tdt = timestampType
			}
			tw.field = arrow.Field{Name: twinName, Type: tdt, Nullable: true}
			cols = append(cols, tw)
		}
	}
	return cols
}

// twinText is the text a twin column is derived from; ok is false for NULL.
func twinText(c *column, v reflect.Value) (string, bool) {
	if c.elem.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	s := v.String()
	return s, s != ""
}

// parseDecimal reads a decimal string at the twin's scale; ok is false when it is not
// one, or does not fit exactly (more places than the scale: never rounded; more
// integer digits than the precision leaves). AC's amounts (-?digits.digits, at most
// 19 digits) take a path of plain integer
// arithmetic: decimal128.FromString goes through big.Float, and was a fifth of
// writing a recurring payments file.
func parseDecimal(s string) (decimal128.Num, bool) {
	digits := s
	neg := strings.HasPrefix(digits, "-")
	if neg {
		digits = digits[1:]
	}
	ip, fp, _ := strings.Cut(digits, ".")
	if len(fp) > twinScale || len(strings.TrimLeft(ip, "0")) > twinPrecision-twinScale {
		return decimal128.Num{}, false
	}
	if ip != "" && len(ip)+len(fp) <= 19 {
		var u uint64
		simple := true
		for _, part := range [2]string{ip, fp} {
			for i := 0; i < len(part) && simple; i++ {
				c := part[i]
				if c < '0' || c > '9' {
					simple = false
				}
				u = u*10 + uint64(c-'0')
			}
		}
		if simple {
			n := decimal128.FromU64(u).Mul(decimal128.GetScaleMultiplier(twinScale - len(fp)))
			if neg {
				n = n.Negate()
			}
			return n, true
		}
	}
	n, err := decimal128.FromString(s, twinPrecision, twinScale)
	if err != nil || !n.FitsInPrecision(twinPrecision) {
		return decimal128.Num{}, false
	}
	return n, true
}

func fieldsOf(cols []column) []arrow.Field {
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = c.field
	}
	return fs
}

// The typed appenders below are the one definition of how a Go value becomes a
// cell: the reflective codec (appendValue) and the generated one (codec_gen.go) both
// call them, so the two cannot disagree on NULLs, clamping or twins.

func appendString(b array.Builder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.(*array.StringBuilder).Append(s)
}

func appendPtrString(b array.Builder, p *string) {
	if p == nil {
		b.AppendNull()
		return
	}
	b.(*array.StringBuilder).Append(*p)
}

func appendInt64(b array.Builder, n int64) { b.(*array.Int64Builder).Append(n) }

func appendPtrInt64(b array.Builder, p *int64) {
	if p == nil {
		b.AppendNull()
		return
	}
	b.(*array.Int64Builder).Append(*p)
}

func appendUint64(b array.Builder, n uint64) { b.(*array.Uint64Builder).Append(n) }

func appendBool(b array.Builder, v bool) { b.(*array.BooleanBuilder).Append(v) }

func appendPtrBool(b array.Builder, p *bool) {
	if p == nil {
		b.AppendNull()
		return
	}
	b.(*array.BooleanBuilder).Append(*p)
}

func appendPtrSeconds(b array.Builder, p *int64) {
	if p == nil {
		b.AppendNull()
		return
	}
	appendSeconds(b, *p)
}

// appendDecimalTwin writes the decimal twin of text s (NULL for "" or a non-decimal).
func appendDecimalTwin(b array.Builder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	n, ok := parseDecimal(s)
	if !ok {
		b.AppendNull()
		return
	}
	b.(*array.Decimal128Builder).Append(n)
}

func appendDecimalTwinPtr(b array.Builder, p *string) {
	if p == nil {
		b.AppendNull()
		return
	}
	appendDecimalTwin(b, *p)
}

// appendTimeTwin writes the time twin of RFC 3339 text s (NULL for "" or a non-time).
func appendTimeTwin(b array.Builder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		b.AppendNull()
		return
	}
	appendSeconds(b, t.Unix())
}

func appendTimeTwinPtr(b array.Builder, p *string) {
	if p == nil {
		b.AppendNull()
		return
	}
	appendTimeTwin(b, *p)
}

func appendStrings(b array.Builder, ss []string) {
	lb := b.(*array.ListBuilder)
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, s := range ss {
		vb.Append(s)
	}
}

// openList starts a non-null list cell of structs and returns the builder its
// elements are appended to.
func openList(b array.Builder) *array.StructBuilder {
	lb := b.(*array.ListBuilder)
	lb.Append(true)
	return lb.ValueBuilder().(*array.StructBuilder)
}

// appendValue appends one Go value to the builder of its column.
func appendValue(c *column, b array.Builder, v reflect.Value) {
	switch c.kind {
	case kString:
		appendString(b, v.String())
	case kTimestamp:
		appendSeconds(b, v.Int())
	case kPtrTimestamp:
		appendPtrSeconds(b, v.Interface().(*int64))
	case kDecimalTwin, kTimeTwin:
		s, ok := twinText(c, v)
		if !ok {
			s = ""
		}
		if c.kind == kDecimalTwin {
			appendDecimalTwin(b, s)
		} else {
			appendTimeTwin(b, s)
		}
	case kInt64:
		appendInt64(b, v.Int())
	case kUint64:
		appendUint64(b, v.Uint())
	case kBool:
		appendBool(b, v.Bool())
	case kPtrString:
		appendPtrString(b, v.Interface().(*string))
	case kPtrInt64:
		appendPtrInt64(b, v.Interface().(*int64))
	case kPtrBool:
		appendPtrBool(b, v.Interface().(*bool))
	case kStruct:
		appendStruct(c.children, b.(*array.StructBuilder), v)
	case kPtrStruct:
		if v.IsNil() {
			b.AppendNull()
		} else {
			appendStruct(c.children, b.(*array.StructBuilder), v.Elem())
		}
	case kStringList:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.StringBuilder)
		for i := 0; i < v.Len(); i++ {
			vb.Append(v.Index(i).String())
		}
	case kStructList:
		sb := openList(b)
		for i := 0; i < v.Len(); i++ {
			appendStruct(c.children, sb, v.Index(i))
		}
	}
}

func appendStruct(children []column, sb *array.StructBuilder, v reflect.Value) {
	sb.Append(true)
	for i := range children {
		appendValue(&children[i], sb.FieldBuilder(i), v.Field(children[i].index))
	}
}

// reader reads one column of a record batch into struct fields. It is resolved against
// the file's actual schema, so a column missing from an older file version reads as
// the zero value.
type reader struct {
	col   *column
	arr   arrow.Array // nil when the file lacks the column
	subs  []reader    // struct children
	list  *array.List
	inner arrow.Array
	// legacy: the file holds the column in an older version's form (see bindReader).
	legacy bool
	// The column as its concrete array, set by bindReader for the scalar kinds (and
	// the legacy forms), so reading a cell is no type switch.
	str  *array.String
	dict *array.Dictionary // a string column read as a dictionary: str is its values
	i64  *array.Int64
	u64  *array.Uint64
	bln  *array.Boolean
	tsms *array.Timestamp
}

func bindReaders(cols []column, arrs func(name string) (arrow.Array, error)) ([]reader, error) {
	rs := make([]reader, 0, len(cols))
	for i := range cols {
		c := &cols[i]
		if c.twin {
			continue // derived from another column, never read back
		}
		a, err := arrs(c.name)
		if err != nil {
			return nil, err
		}
		r, err := bindReader(c, a)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func bindReader(c *column, a arrow.Array) (reader, error) {
	r := reader{col: c, arr: a}
	if a == nil {
		return r, nil
	}
	if !arrow.TypeEqual(a.DataType(), c.field.Type) {
		// Nested types are matched by child name below; scalars must match exactly,
		// but for the forms older schema versions wrote (see records.go).
		switch {
		case c.kind == kStruct, c.kind == kPtrStruct, c.kind == kStructList:
		case (c.kind == kTimestamp || c.kind == kPtrTimestamp) && a.DataType().ID() == arrow.INT64:
			r.legacy = true // version 1: Unix seconds as BIGINT
		case c.kind == kStringList && a.DataType().ID() == arrow.STRING:
			r.legacy = true // version 1: one "|"-joined string
		case c.kind == kString && arrow.TypeEqual(dictValues(a), arrow.BinaryTypes.String):
			// A dict column read as a dictionary (Table.open): the same strings.
			r.dict = a.(*array.Dictionary)
			if r.dict.Len() > r.dict.NullN() { // else no dictionary, and no cell to read
				r.str = r.dict.Dictionary().(*array.String)
			}
			return r, nil
		default:
			return r, fmt.Errorf("column %q has type %s, want %s", c.name, a.DataType(), c.field.Type)
		}
	}
	if r.legacy {
		switch c.kind {
		case kTimestamp, kPtrTimestamp:
			r.i64 = a.(*array.Int64)
		case kStringList:
			r.str = a.(*array.String)
		}
		return r, nil
	}
	switch c.kind {
	case kString, kPtrString:
		r.str = a.(*array.String)
	case kInt64, kPtrInt64:
		r.i64 = a.(*array.Int64)
	case kUint64:
		r.u64 = a.(*array.Uint64)
	case kBool, kPtrBool:
		r.bln = a.(*array.Boolean)
	case kTimestamp, kPtrTimestamp:
		r.tsms = a.(*array.Timestamp)
	case kStruct, kPtrStruct:
		sa, ok := a.(*array.Struct)
		if !ok {
			return r, fmt.Errorf("column %q has type %s, want a struct", c.name, a.DataType())
		}
		subs, err := bindReaders(c.children, structChildren(sa))
		if err != nil {
			return r, fmt.Errorf("column %q: %w", c.name, err)
		}
		r.subs = subs
	case kStringList, kStructList:
		la, ok := a.(*array.List)
		if !ok {
			return r, fmt.Errorf("column %q has type %s, want a list", c.name, a.DataType())
		}
		r.list = la
		r.inner = la.ListValues()
		if c.kind == kStructList {
			sa, ok := r.inner.(*array.Struct)
			if !ok {
				return r, fmt.Errorf("column %q holds %s, want a list of structs", c.name, r.inner.DataType())
			}
			subs, err := bindReaders(c.children, structChildren(sa))
			if err != nil {
				return r, fmt.Errorf("column %q: %w", c.name, err)
			}
			r.subs = subs
		}
	}
	return r, nil
}

func structChildren(sa *array.Struct) func(string) (arrow.Array, error) {
	st := sa.DataType().(*arrow.StructType)
	return func(name string) (arrow.Array, error) {
		if i, ok := st.FieldIdx(name); ok {
			return sa.Field(i), nil
		}
		return nil, nil
	}
}

// The typed cell readers below are the one definition of how a cell becomes a Go
// value, shared by the reflective codec (read) and the generated one (codec_gen.go).
// Each reports false for NULL and for a column the file lacks: the field then keeps
// its zero value (pointers stay nil).

func (r *reader) valid(i int) bool { return r.arr != nil && !r.arr.IsNull(i) }

func (r *reader) string(i int) (string, bool) {
	if !r.valid(i) {
		return "", false
	}
	if r.dict != nil {
		return r.str.Value(r.dict.GetValueIndex(i)), true
	}
	return r.str.Value(i), true
}

// dictValues is the value type of a dictionary array, nil for any other.
func dictValues(a arrow.Array) arrow.DataType {
	if d, ok := a.DataType().(*arrow.DictionaryType); ok {
		return d.ValueType
	}
	return nil
}

func (r *reader) int64(i int) (int64, bool) {
	if !r.valid(i) {
		return 0, false
	}
	return r.i64.Value(i), true
}

func (r *reader) uint64(i int) (uint64, bool) {
	if !r.valid(i) {
		return 0, false
	}
	return r.u64.Value(i), true
}

func (r *reader) bool(i int) (bool, bool) {
	if !r.valid(i) {
		return false, false
	}
	return r.bln.Value(i), true
}

// seconds reads a timestamp column as Unix seconds; version 1 wrote the seconds as
// BIGINT.
func (r *reader) seconds(i int) (int64, bool) {
	if !r.valid(i) {
		return 0, false
	}
	if r.legacy {
		return r.i64.Value(i), true
	}
	return seconds(r.tsms, i), true
}

// strings reads a list of strings; an empty list reads as nil, as it was most
// likely written. Version 1 wrote the list as one "|"-joined string.
func (r *reader) strings(i int) []string {
	if !r.valid(i) {
		return nil
	}
	if r.legacy {
		s := r.str.Value(i)
		if s == "" {
			return nil
		}
		return strings.Split(s, "|")
	}
	start, end := r.list.ValueOffsets(i)
	if start == end {
		return nil
	}
	s := r.inner.(*array.String)
	out := make([]string, end-start)
	for j := start; j < end; j++ {
		out[j-start] = s.Value(int(j))
	}
	return out
}

// span is where row i's elements of a list of structs are in r.subs; ok is false for
// NULL and for an empty list (read as nil).
func (r *reader) span(i int) (start, end int, ok bool) {
	if !r.valid(i) {
		return 0, 0, false
	}
	s, e := r.list.ValueOffsets(i)
	return int(s), int(e), s < e
}

// read sets v (the struct field) from row i of the column.
func (r *reader) read(i int, v reflect.Value) {
	switch r.col.kind {
	case kString:
		if s, ok := r.string(i); ok {
			v.SetString(s)
		}
	case kPtrString:
		// Copies made inside the branch: taking the address of s itself would move
		// it to the heap at its declaration, one allocation per NULL cell too.
		if s, ok := r.string(i); ok {
			p := s
			v.Set(reflect.ValueOf(&p))
		}
	case kTimestamp:
		if n, ok := r.seconds(i); ok {
			v.SetInt(n)
		}
	case kPtrTimestamp:
		if n, ok := r.seconds(i); ok {
			p := n
			v.Set(reflect.ValueOf(&p))
		}
	case kInt64:
		if n, ok := r.int64(i); ok {
			v.SetInt(n)
		}
	case kPtrInt64:
		if n, ok := r.int64(i); ok {
			p := n
			v.Set(reflect.ValueOf(&p))
		}
	case kUint64:
		if n, ok := r.uint64(i); ok {
			v.SetUint(n)
		}
	case kBool:
		if b, ok := r.bool(i); ok {
			v.SetBool(b)
		}
	case kPtrBool:
		if b, ok := r.bool(i); ok {
			p := b
			v.Set(reflect.ValueOf(&p))
		}
	case kStruct:
		if r.valid(i) {
			readStruct(r.subs, i, v)
		}
	case kPtrStruct:
		if r.valid(i) {
			p := reflect.New(r.col.elem)
			readStruct(r.subs, i, p.Elem())
			v.Set(p)
		}
	case kStringList:
		if ss := r.strings(i); ss != nil {
			out := reflect.MakeSlice(v.Type(), len(ss), len(ss))
			for j, s := range ss {
				out.Index(j).SetString(s)
			}
			v.Set(out)
		}
	case kStructList:
		if start, end, ok := r.span(i); ok {
			out := reflect.MakeSlice(v.Type(), end-start, end-start)
			for j := start; j < end; j++ {
				readStruct(r.subs, j, out.Index(j-start))
			}
			v.Set(out)
		}
	}
}

func readStruct(subs []reader, i int, v reflect.Value) {
	for k := range subs {
		subs[k].read(i, v.Field(subs[k].col.index))
	}
}

// detach copies every string of v (a record of these columns) into memory of its
// own. Strings a Reader hands out point into the batch's Arrow buffers, so one
// record kept past its batch would keep the whole batch alive.
func detach(cols []column, v reflect.Value) {
	for i := range cols {
		c := &cols[i]
		f := v.Field(c.index)
		switch c.kind {
		case kString:
			f.SetString(strings.Clone(f.String()))
		case kPtrString:
			if !f.IsNil() {
				s := strings.Clone(f.Elem().String())
				f.Set(reflect.ValueOf(&s))
			}
		case kStruct:
			detach(c.children, f)
		case kPtrStruct:
			if !f.IsNil() {
				p := reflect.New(c.elem)
				p.Elem().Set(f.Elem())
				detach(c.children, p.Elem())
				f.Set(p)
			}
		case kStringList:
			if f.Len() > 0 {
				out := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				for j := range f.Len() {
					out.Index(j).SetString(strings.Clone(f.Index(j).String()))
				}
				f.Set(out)
			}
		case kStructList:
			if f.Len() > 0 {
				out := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				reflect.Copy(out, f)
				for j := range f.Len() {
					detach(c.children, out.Index(j))
				}
				f.Set(out)
			}
		}
	}
}
