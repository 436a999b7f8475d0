package schemas

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// The codec turns a record struct into Arrow columns and back, driven by `parquet`
// struct tags, so every file kind is declared once, as a Go type. Supported field
// types are the ones our records use: string, int64, uint64, bool, pointers to those
// (nullable columns), nested structs and pointers to structs (struct columns), and
// slices of strings or structs (list columns). Tag options after the name:
// `dict` turns on dictionary encoding for a low-cardinality column.

type column struct {
	name     string
	index    int // struct field index
	field    arrow.Field
	dict     bool
	children []column // struct, or the element struct of a list
	kind     colKind
	elem     reflect.Type // element type for lists / pointers
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
)

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
		for _, opt := range parts[1:] {
			if opt == "dict" {
				c.dict = true
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
		// Lists and plain structs are written non-null (an empty list, a zero struct),
		// which keeps DuckDB queries free of NULL checks for them.
		c.field = arrow.Field{Name: c.name, Type: dt, Nullable: nullable || c.kind == kStringList || c.kind == kStructList || c.kind == kStruct}
		cols = append(cols, c)
	}
	return cols
}

func fieldsOf(cols []column) []arrow.Field {
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = c.field
	}
	return fs
}

// appendValue appends one Go value to the builder of its column.
func appendValue(c *column, b array.Builder, v reflect.Value) {
	switch c.kind {
	case kString:
		b.(*array.StringBuilder).Append(v.String())
	case kInt64:
		b.(*array.Int64Builder).Append(v.Int())
	case kUint64:
		b.(*array.Uint64Builder).Append(v.Uint())
	case kBool:
		b.(*array.BooleanBuilder).Append(v.Bool())
	case kPtrString:
		if v.IsNil() {
			b.AppendNull()
		} else {
			b.(*array.StringBuilder).Append(v.Elem().String())
		}
	case kPtrInt64:
		if v.IsNil() {
			b.AppendNull()
		} else {
			b.(*array.Int64Builder).Append(v.Elem().Int())
		}
	case kPtrBool:
		if v.IsNil() {
			b.AppendNull()
		} else {
			b.(*array.BooleanBuilder).Append(v.Elem().Bool())
		}
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
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		sb := lb.ValueBuilder().(*array.StructBuilder)
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
}

func bindReaders(cols []column, arrs func(name string) (arrow.Array, error)) ([]reader, error) {
	rs := make([]reader, len(cols))
	for i := range cols {
		c := &cols[i]
		a, err := arrs(c.name)
		if err != nil {
			return nil, err
		}
		r, err := bindReader(c, a)
		if err != nil {
			return nil, err
		}
		rs[i] = r
	}
	return rs, nil
}

func bindReader(c *column, a arrow.Array) (reader, error) {
	r := reader{col: c, arr: a}
	if a == nil {
		return r, nil
	}
	if !arrow.TypeEqual(a.DataType(), c.field.Type) {
		// Nested types are matched by child name below; scalars must match exactly.
		switch c.kind {
		case kStruct, kPtrStruct, kStructList:
		default:
			return r, fmt.Errorf("column %q has type %s, want %s", c.name, a.DataType(), c.field.Type)
		}
	}
	switch c.kind {
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

// read sets v (the struct field) from row i of the column.
func (r *reader) read(i int, v reflect.Value) {
	a := r.arr
	if a == nil {
		return
	}
	if a.IsNull(i) {
		// Pointers stay nil; non-null kinds keep their zero value.
		return
	}
	switch r.col.kind {
	case kString:
		v.SetString(a.(*array.String).Value(i))
	case kInt64:
		v.SetInt(a.(*array.Int64).Value(i))
	case kUint64:
		v.SetUint(a.(*array.Uint64).Value(i))
	case kBool:
		v.SetBool(a.(*array.Boolean).Value(i))
	case kPtrString:
		s := a.(*array.String).Value(i)
		v.Set(reflect.ValueOf(&s))
	case kPtrInt64:
		n := a.(*array.Int64).Value(i)
		v.Set(reflect.ValueOf(&n))
	case kPtrBool:
		b := a.(*array.Boolean).Value(i)
		v.Set(reflect.ValueOf(&b))
	case kStruct:
		readStruct(r.subs, i, v)
	case kPtrStruct:
		p := reflect.New(r.col.elem)
		readStruct(r.subs, i, p.Elem())
		v.Set(p)
	case kStringList:
		start, end := r.list.ValueOffsets(i)
		if start == end {
			return // an empty list reads as nil, as it was most likely written
		}
		s := r.inner.(*array.String)
		out := reflect.MakeSlice(v.Type(), int(end-start), int(end-start))
		for j := start; j < end; j++ {
			out.Index(int(j - start)).SetString(s.Value(int(j)))
		}
		v.Set(out)
	case kStructList:
		start, end := r.list.ValueOffsets(i)
		if start == end {
			return
		}
		out := reflect.MakeSlice(v.Type(), int(end-start), int(end-start))
		for j := start; j < end; j++ {
			readStruct(r.subs, int(j), out.Index(int(j-start)))
		}
		v.Set(out)
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
