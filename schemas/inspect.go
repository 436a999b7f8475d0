package schemas

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Inspect formats; an empty format means table.
const (
	inspFormatTable = "table"
	inspFormatCSV   = "csv"
	inspFormatJSON  = "json"
)

// inspectCellRunes is the widest a cell of the table format gets; longer cells are cut
// and end in "…".
const inspectCellRunes = 40

// inspectSniff is how much of a file is checked for being text before it is read as CSV.
const inspectSniff = 64 * 1024

// Inspect prints the schema and the first limit rows of a Parquet or CSV file cb2ac wrote.
//
// The kind of file is decided by its content: a file that starts with the Parquet magic
// "PAR1" is read as Parquet, a text file as CSV (header and rows). The extension only
// breaks the tie for a file named *.parquet that lacks the magic, which is reported as a
// broken Parquet file rather than shown as text. Any Parquet file can be inspected; the
// cb2ac schema name and version come from its key-value metadata.
//
// format is "table" (the default: a schema block, then the rows as an aligned text table
// with nested values as compact JSON, NULL for null and cells cut to 40 runes), "csv"
// (header and rows, nested values as compact JSON, null as an empty cell) or "json" (one
// document with the path, the schema, the total row count and the rows as objects). A
// limit <= 0 prints every row; otherwise Parquet is read only as far as the rows printed.
//
// Every error is one line naming the path: "inspect <path>: <what went wrong>".
func Inspect(w io.Writer, path string, limit int, format string) (err error) {
	switch format {
	case "", inspFormatTable:
		format = inspFormatTable
	case inspFormatCSV, inspFormatJSON:
	default:
		return fmt.Errorf("inspect %s: unknown format %q (want table, csv or json)", path, format)
	}
	if limit < 0 {
		limit = 0
	}
	// A corrupt file can make the Parquet decoder panic; report it like any other error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("inspect %s: corrupt file: %s", path, inspOneLine(fmt.Sprint(r)))
		}
	}()
	src, err := inspOpen(path, limit, format != inspFormatCSV)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	defer src.close()
	switch format {
	case inspFormatTable:
		err = inspWriteTable(w, path, src, limit)
	case inspFormatCSV:
		err = inspWriteCSV(w, src, limit)
	case inspFormatJSON:
		err = inspWriteJSON(w, path, src, limit)
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	return nil
}

// inspColumn is one top-level column as the json format reports it.
type inspColumn struct {
	Name     string
	Type     string
	Nullable bool
}

// inspMeta is what a file says about itself.
type inspMeta struct {
	kind      string  // "parquet" or "csv"
	name      *string // cb2ac.schema, nil when absent
	version   *string // cb2ac.schema_version, nil when absent
	numRows   int64   // total rows; -1 when not counted
	rowGroups int
	columns   []inspColumn
}

// inspSource yields a file's rows as generic values: nil, string, int64, uint64,
// float64, bool, []any, inspObject or json.RawMessage.
type inspSource interface {
	meta() *inspMeta
	// next returns up to want (> 0) more rows, or io.EOF after the last one.
	next(want int) ([][]any, error)
	close()
}

// inspOpen opens path as Parquet or CSV. count asks a CSV source to count all its rows
// (it then holds the first limit rows and only counts the rest).
func inspOpen(path string, limit int, count bool) (inspSource, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err // the path is already in the message
		}
		return nil, err
	}
	src, err := inspOpenFile(f, path, limit, count)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

func inspOpenFile(f *os.File, path string, limit int, count bool) (inspSource, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory, not a Parquet or CSV file")
	}
	if st.Size() == 0 {
		return nil, errors.New("empty file, not a Parquet or CSV file")
	}
	head := make([]byte, 4)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	switch {
	case string(head) == "PAR1":
		// With or without the footer magic: a truncated Parquet file is still Parquet,
		// and the reader says what is wrong with it.
		return inspOpenParquet(f, limit)
	case strings.EqualFold(filepath.Ext(path), ".parquet"):
		return nil, errors.New("not a Parquet file (no PAR1 magic)")
	}
	text, err := inspIsText(f)
	if err != nil {
		return nil, err
	}
	if !text {
		return nil, errors.New("not a Parquet or CSV file")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return inspOpenCSV(f, limit, count)
}

// inspIsText reports whether the start of the file is UTF-8 text without NUL bytes.
func inspIsText(f *os.File) (bool, error) {
	buf := make([]byte, inspectSniff)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, err
	}
	full := n == len(buf)
	buf = buf[:n]
	if bytes.IndexByte(buf, 0) >= 0 {
		return false, nil
	}
	for i := 0; i < len(buf); {
		r, size := utf8.DecodeRune(buf[i:])
		if r == utf8.RuneError && size <= 1 {
			// A rune cut by the end of the sniffed block is fine.
			return full && len(buf)-i < utf8.UTFMax && !utf8.FullRune(buf[i:]), nil
		}
		i += size
	}
	return true, nil
}

// ---- Parquet ----

type inspParquet struct {
	pf  *file.Reader
	rr  pqarrow.RecordReader // nil when the file has no row groups
	m   inspMeta
	rec arrow.RecordBatch
	off int
}

func inspOpenParquet(f *os.File, limit int) (inspSource, error) {
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return nil, fmt.Errorf("not a readable Parquet file: %s", inspOneLine(err.Error()))
	}
	sanitizeArrowSchema(pf.MetaData())
	src, err := inspReadParquet(pf, limit)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return src, nil
}

func inspReadParquet(pf *file.Reader, limit int) (*inspParquet, error) {
	md := pf.MetaData()
	p := &inspParquet{pf: pf, m: inspMeta{kind: "parquet", numRows: pf.NumRows(), rowGroups: pf.NumRowGroups()}}
	kv := md.KeyValueMetadata()
	p.m.name, p.m.version = kv.FindValue(MetaSchema), kv.FindValue(MetaVersion)

	batch := BatchRows
	if limit > 0 && limit < batch {
		batch = limit
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batch)}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("not a readable Parquet file: %s", inspOneLine(err.Error()))
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("not a readable Parquet file: %s", inspOneLine(err.Error()))
	}
	for _, fd := range sc.Fields() {
		p.m.columns = append(p.m.columns, inspColumn{Name: fd.Name, Type: fd.Type.String(), Nullable: fd.Nullable})
	}
	if p.m.rowGroups == 0 {
		return p, nil
	}
	// Read only the row groups that hold the rows to print.
	var groups []int
	var rows int64
	for i := 0; i < p.m.rowGroups; i++ {
		groups = append(groups, i)
		rows += md.RowGroup(i).NumRows()
		if limit > 0 && rows >= int64(limit) {
			break
		}
	}
	p.rr, err = fr.GetRecordReader(context.Background(), nil, groups)
	if err != nil {
		return nil, fmt.Errorf("read: %s", inspOneLine(err.Error()))
	}
	return p, nil
}

func (p *inspParquet) meta() *inspMeta { return &p.m }

func (p *inspParquet) next(want int) ([][]any, error) {
	if p.rr == nil {
		return nil, io.EOF
	}
	for p.rec == nil || p.off >= int(p.rec.NumRows()) {
		if !p.rr.Next() {
			p.rec = nil
			if err := p.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("corrupt Parquet file: %s", inspOneLine(err.Error()))
			}
			return nil, io.EOF
		}
		// The batch stays valid until the next call to Next.
		p.rec, p.off = p.rr.RecordBatch(), 0
	}
	end := min(p.off+want, int(p.rec.NumRows()))
	cols := p.rec.Columns()
	out := make([][]any, 0, end-p.off)
	for i := p.off; i < end; i++ {
		row := make([]any, len(cols))
		for c, a := range cols {
			row[c] = inspValue(a, i)
		}
		out = append(out, row)
	}
	p.off = end
	return out, nil
}

func (p *inspParquet) close() {
	if p.rr != nil {
		p.rr.Release()
	}
	p.pf.Close()
}

// inspObject is a struct (or map) value: its keys in schema order.
type inspObject struct {
	keys []string
	vals []any
}

// inspValue converts row i of an Arrow array into a generic value.
func inspValue(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		o := inspObject{keys: make([]string, a.NumField()), vals: make([]any, a.NumField())}
		for k := range o.keys {
			o.keys[k] = st.Field(k).Name
			o.vals[k] = inspValue(a.Field(k), i)
		}
		return o
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		o := inspObject{}
		for j := int(start); j < int(end); j++ {
			o.keys = append(o.keys, inspCell(inspValue(keys, j), "null"))
			o.vals = append(o.vals, inspValue(items, j))
		}
		return o
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			out = append(out, inspValue(vals, j))
		}
		return out
	case *array.Dictionary:
		return inspValue(a.Dictionary(), a.GetValueIndex(i))
	case array.ExtensionArray:
		return inspValue(a.Storage(), i)
	}
	// Dates, times, decimals, binary...: the array's own JSON form.
	v := arr.GetOneForMarshal(i)
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return arr.ValueStr(i)
	}
	return json.RawMessage(b)
}

// ---- CSV ----

type inspCSV struct {
	f    *os.File
	r    *csv.Reader
	m    inspMeta
	held [][]any // rows read ahead while counting
	lazy bool    // rows come straight from r
}

func inspOpenCSV(f *os.File, limit int, count bool) (inspSource, error) {
	br := bufio.NewReader(f)
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	header, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("empty file, not a Parquet or CSV file")
	}
	if err != nil {
		return nil, fmt.Errorf("not a readable CSV file: %s", inspOneLine(err.Error()))
	}
	c := &inspCSV{f: f, r: r, m: inspMeta{kind: "csv", numRows: -1}}
	for _, h := range header {
		c.m.columns = append(c.m.columns, inspColumn{Name: h, Type: "string"})
	}
	if !count {
		c.lazy = true
		return c, nil
	}
	c.m.numRows = 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable CSV file: %s", inspOneLine(err.Error()))
		}
		if limit <= 0 || len(c.held) < limit {
			c.held = append(c.held, inspStrings(rec))
		}
		c.m.numRows++
	}
	return c, nil
}

// inspStrings takes a CSV row as values: cb2ac's formula escapes (EscapeCell) are
// undone, so every output format shows the raw value, and CSV output escapes once.
func inspStrings(rec []string) []any {
	row := make([]any, len(rec))
	for i, s := range rec {
		row[i] = UnescapeCell(s)
	}
	return row
}

func (c *inspCSV) meta() *inspMeta { return &c.m }

func (c *inspCSV) next(want int) ([][]any, error) {
	if !c.lazy {
		if len(c.held) == 0 {
			return nil, io.EOF
		}
		n := min(want, len(c.held))
		out := c.held[:n]
		c.held = c.held[n:]
		return out, nil
	}
	var out [][]any
	for len(out) < want {
		rec, err := c.r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable CSV file: %s", inspOneLine(err.Error()))
		}
		out = append(out, inspStrings(rec))
	}
	if len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

func (c *inspCSV) close() { c.f.Close() }

// ---- output ----

// inspEach calls fn for each row up to limit (all when limit <= 0).
func inspEach(src inspSource, limit int, fn func([]any) error) error {
	done := 0
	for limit <= 0 || done < limit {
		want := BatchRows
		if limit > 0 {
			want = min(want, limit-done)
		}
		rows, err := src.next(want)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := fn(row); err != nil {
				return err
			}
		}
		done += len(rows)
	}
	return nil
}

func inspWriteTable(w io.Writer, path string, src inspSource, limit int) error {
	m := src.meta()
	var rows [][]string
	var changes []string
	err := inspEach(src, limit, func(row []any) error {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = inspCut(inspEscape(inspCell(v, "NULL")), inspectCellRunes)
		}
		rows = append(rows, cells)
		if m.kind == "parquet" && m.name != nil && *m.name == Plans.Name {
			changes = append(changes, inspPlanChanges(m, row)...)
		}
		return nil
	})
	if err != nil {
		return err
	}

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "file:        %s\n", path)
	fmt.Fprintf(bw, "format:      %s\n", m.kind)
	if m.kind == "parquet" {
		switch {
		case m.name == nil:
			fmt.Fprintf(bw, "schema:      (not a cb2ac file)\n")
		case m.version == nil:
			fmt.Fprintf(bw, "schema:      %s (no version)\n", *m.name)
		default:
			fmt.Fprintf(bw, "schema:      %s version %s\n", *m.name, *m.version)
		}
	}
	fmt.Fprintf(bw, "rows:        %d\n", m.numRows)
	if m.kind == "parquet" {
		fmt.Fprintf(bw, "row groups:  %d\n", m.rowGroups)
	}
	fmt.Fprintf(bw, "columns:     %d\n", len(m.columns))
	nameW := 0
	for _, c := range m.columns {
		nameW = max(nameW, utf8.RuneCountInString(c.Name))
	}
	for _, c := range m.columns {
		if m.kind == "csv" {
			fmt.Fprintf(bw, "  %s\n", c.Name)
			continue
		}
		null := "not null"
		if c.Nullable {
			null = "nullable"
		}
		fmt.Fprintf(bw, "  %s  %-8s  %s\n", inspPad(c.Name, nameW), null, c.Type)
	}
	bw.WriteString("\n")

	header := make([]string, len(m.columns))
	rule := make([]string, len(m.columns))
	widths := make([]int, len(m.columns))
	for i, c := range m.columns {
		header[i] = inspEscape(c.Name)
		widths[i] = utf8.RuneCountInString(header[i])
	}
	for _, r := range rows {
		for i := range widths {
			if i < len(r) {
				widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
			}
		}
	}
	for i := range rule {
		rule[i] = strings.Repeat("-", widths[i])
	}
	inspLine(bw, header, widths)
	inspLine(bw, rule, widths)
	for _, r := range rows {
		inspLine(bw, r, widths)
	}
	switch {
	case m.numRows >= 0 && int64(len(rows)) < m.numRows:
		fmt.Fprintf(bw, "(showing %d of %d rows)\n", len(rows), m.numRows)
	case len(rows) == 1:
		fmt.Fprintf(bw, "(1 row)\n")
	default:
		fmt.Fprintf(bw, "(%d rows)\n", len(rows))
	}
	if len(changes) > 0 {
		// A plan's changes are cut to a cell above: here whole, one field a line.
		bw.WriteString("\nchanges:\n")
		for _, c := range changes {
			bw.WriteString(inspEscape(c) + "\n")
		}
	}
	return bw.Flush()
}

// inspLine writes cells padded to widths, two spaces apart, without trailing blanks.
func inspLine(w *bufio.Writer, cells []string, widths []int) {
	var b strings.Builder
	for i, wd := range widths {
		if i > 0 {
			b.WriteString("  ")
		}
		cell := ""
		if i < len(cells) {
			cell = cells[i]
		}
		b.WriteString(inspPad(cell, wd))
	}
	w.WriteString(strings.TrimRight(b.String(), " "))
	w.WriteString("\n")
}

func inspPad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

func inspWriteCSV(w io.Writer, src inspSource, limit int) error {
	m := src.meta()
	cw := csv.NewWriter(w)
	header := make([]string, len(m.columns))
	for i, c := range m.columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	err := inspEach(src, limit, func(row []any) error {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = EscapeCell(inspCell(v, "")) // formula injection: see EscapeCell
		}
		return cw.Write(cells)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func inspWriteJSON(w io.Writer, path string, src inspSource, limit int) error {
	m := src.meta()
	var b bytes.Buffer
	b.WriteString("{\n  \"path\": ")
	inspAppendJSON(&b, path)
	b.WriteString(",\n  \"schema\": {\n    \"name\": ")
	if m.name != nil {
		inspAppendJSON(&b, *m.name)
	} else {
		b.WriteString("null")
	}
	b.WriteString(",\n    \"version\": ")
	switch {
	case m.version == nil:
		b.WriteString("null")
	default:
		if v, err := strconv.ParseInt(*m.version, 10, 64); err == nil {
			b.WriteString(strconv.FormatInt(v, 10))
		} else {
			inspAppendJSON(&b, *m.version)
		}
	}
	b.WriteString(",\n    \"columns\": [")
	for i, c := range m.columns {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n      {\"name\": ")
		inspAppendJSON(&b, c.Name)
		b.WriteString(", \"type\": ")
		inspAppendJSON(&b, c.Type)
		b.WriteString(", \"nullable\": ")
		b.WriteString(strconv.FormatBool(c.Nullable))
		b.WriteString("}")
	}
	if len(m.columns) > 0 {
		b.WriteString("\n    ")
	}
	b.WriteString("]\n  },\n  \"num_rows\": ")
	b.WriteString(strconv.FormatInt(m.numRows, 10))
	b.WriteString(",\n  \"rows\": [")

	n := 0
	err := inspEach(src, limit, func(row []any) error {
		if n > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n    ")
		obj := inspObject{keys: make([]string, len(row)), vals: row}
		for i := range row {
			if i < len(m.columns) {
				obj.keys[i] = m.columns[i].Name
			} else {
				obj.keys[i] = "column" + strconv.Itoa(i+1)
			}
		}
		inspAppendJSON(&b, obj)
		n++
		// Stream: keep the buffer small.
		if b.Len() >= 64*1024 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	_, err = w.Write(b.Bytes())
	return err
}

// inspCell renders a value as one cell: scalars as text, nested values as compact JSON.
func inspCell(v any, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case json.RawMessage:
		var s string
		if len(x) > 0 && x[0] == '"' && json.Unmarshal(x, &s) == nil {
			return s
		}
		return string(x)
	}
	var b bytes.Buffer
	inspAppendJSON(&b, v)
	return b.String()
}

// inspAppendJSON appends v as compact JSON (no HTML escaping; object keys in order).
func inspAppendJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		inspAppendString(b, x)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			inspAppendString(b, strconv.FormatFloat(x, 'g', -1, 64))
		} else {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			inspAppendJSON(b, e)
		}
		b.WriteByte(']')
	case inspObject:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			inspAppendString(b, k)
			b.WriteByte(':')
			inspAppendJSON(b, x.vals[i])
		}
		b.WriteByte('}')
	case json.RawMessage:
		if json.Compact(b, x) != nil {
			inspAppendString(b, string(x))
		}
	default:
		var e bytes.Buffer
		enc := json.NewEncoder(&e)
		enc.SetEscapeHTML(false)
		if enc.Encode(x) != nil {
			inspAppendString(b, fmt.Sprint(x))
			return
		}
		b.Write(bytes.TrimRight(e.Bytes(), "\n"))
	}
}

func inspAppendString(b *bytes.Buffer, s string) {
	var e bytes.Buffer
	enc := json.NewEncoder(&e)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	b.Write(bytes.TrimRight(e.Bytes(), "\n"))
}

// inspEscape makes a cell one line: control characters become visible escapes.
func inspEscape(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// inspCut shortens s to at most n runes, the last being "…" when it was cut.
func inspCut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}

// inspOneLine keeps an error message on one line.
func inspOneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// inspPlanChanges renders a plan row's changes column: a line naming the record,
// then one line per changed field (FormatChange).
func inspPlanChanges(m *inspMeta, row []any) []string {
	col := map[string]any{}
	for i, c := range m.columns {
		if i < len(row) {
			col[c.Name] = row[i]
		}
	}
	list, _ := col["changes"].([]any)
	if len(list) == 0 {
		return nil
	}
	out := []string{"  " + inspCell(col["entity"], "") + " " + inspCell(col["key"], "") + " " + inspCell(col["op"], "")}
	for _, v := range list {
		o, ok := v.(inspObject)
		if !ok {
			continue
		}
		f := map[string]string{}
		for k, key := range o.keys {
			f[key] = inspCell(o.vals[k], "")
		}
		out = append(out, "    "+FormatChange(f["field"], f["old"], f["new"]))
	}
	return out
}
