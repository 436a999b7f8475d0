package schemas

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
)

// Spreadsheet formula injection: a cell a spreadsheet would run as a formula (it
// begins with =, +, -, @, a tab or a carriage return: an email such as
// "=HYPERLINK(...)@x.com" or "-2+3@x.com") is written with a single quote before it,
// so Excel, LibreOffice and Google Sheets show it as text (OWASP "CSV Injection").
// A plain number ("-12.50", "+1") is left as it is: a spreadsheet reads it as a
// number, never as a formula. A cell that itself begins with a quote gets one more,
// so ReadCSV, which takes one leading quote off, gives back exactly what was
// written. Every CSV cb2ac writes goes through EscapeCell; Parquet keeps raw values.
var plainNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// EscapeCell neutralises a cell a spreadsheet would run as a formula.
func EscapeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if plainNumber.MatchString(s) {
			return s
		}
		return "'" + s
	case '\'':
		return "'" + s
	}
	return s
}

// UnescapeCell undoes EscapeCell.
func UnescapeCell(s string) string { return strings.TrimPrefix(s, "'") }

// rowWriter writes the rows gocsv hands it as RFC 4180 CSV, with cb2ac's cell
// rules: every cell through EscapeCell; every non-empty cell quoted, so an empty
// cell is an absent value (NULL to DuckDB) and a reader that honours quotes keeps
// ids and money as text; row_hash as 16 hex digits (as a number it would lose digits
// in any reader that turns it into a double); the stamp columns (stamp.go) after
// the record's own.
type rowWriter struct {
	w       *bufio.Writer
	err     error
	stamp   Stamp
	names   []string // stamp columns
	header  bool     // the header row is written
	hashCol int      // index of row_hash, -1 when none
}

func newRowWriter(w io.Writer, stamp Stamp, names []string) *rowWriter {
	return &rowWriter{w: bufio.NewWriter(w), stamp: stamp, names: names, hashCol: -1}
}

func (r *rowWriter) Write(row []string) error {
	if r.err != nil {
		return r.err
	}
	var extra []string
	quote := true
	if !r.header {
		// Column names stay bare: they are never values to type.
		r.header, quote = true, false
		r.hashCol = slices.Index(row, "row_hash")
		extra = r.names
	} else {
		if r.hashCol >= 0 && r.hashCol < len(row) {
			if n, err := strconv.ParseUint(row[r.hashCol], 10, 64); err == nil {
				row[r.hashCol] = FormatHash(n)
			}
		}
		extra = r.stamp.cells(r.names)
	}
	for i, c := range append(row, extra...) {
		if i > 0 {
			r.w.WriteByte(',')
		}
		if c = EscapeCell(c); c != "" && (quote || strings.ContainsAny(c, "\",\r\n")) {
			r.w.WriteByte('"')
			r.w.WriteString(strings.ReplaceAll(c, `"`, `""`))
			r.w.WriteByte('"')
		} else {
			r.w.WriteString(c)
		}
	}
	_, r.err = r.w.WriteString("\n")
	return r.err
}

func (r *rowWriter) Flush() {
	if err := r.w.Flush(); r.err == nil {
		r.err = err
	}
}

func (r *rowWriter) Error() error { return r.err }

// FormatHash is a row hash as the CSV twins write it: 16 hex digits.
func FormatHash(h uint64) string { return fmt.Sprintf("%016x", h) }

// unescapingReader undoes EscapeCell on every cell read, and reads row_hash back
// from hex (a twin written before the hex form holds decimal digits: read as they are).
type unescapingReader struct {
	r       *csv.Reader
	header  bool
	hashCol int
}

func (u *unescapingReader) Read() ([]string, error) {
	row, err := u.r.Read()
	for i := range row {
		row[i] = UnescapeCell(row[i])
	}
	if !u.header && err == nil {
		u.header = true
		u.hashCol = slices.Index(row, "row_hash")
	} else if u.hashCol >= 0 && u.hashCol < len(row) && len(row[u.hashCol]) == 16 {
		if n, perr := strconv.ParseUint(row[u.hashCol], 16, 64); perr == nil {
			row[u.hashCol] = strconv.FormatUint(n, 10)
		}
	}
	return row, err
}

func (u *unescapingReader) ReadAll() ([][]string, error) {
	var rows [][]string
	for {
		row, err := u.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// CSVWriter streams records of one kind into a CSV file (gocsv, `csv` tags; nested
// structs become dotted columns such as billingAddress.city). The header is written
// even when there are no rows, so an empty errors.csv still says what it would hold.
type CSVWriter[T any] struct {
	f      *atomicfile.File
	w      *rowWriter
	header bool
}

// CreateCSV starts the CSV twin of a Parquet file at path (written atomically on
// Commit), with the stamp columns T lacks.
func CreateCSV[T any](path string, st Stamp) (*CSVWriter[T], error) {
	return createCSV[T](path, st, csvStampNames[T]())
}

func createCSV[T any](path string, st Stamp, stampNames []string) (*CSVWriter[T], error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	return &CSVWriter[T]{f: f, w: newRowWriter(f, st, stampNames)}, nil
}

// Write appends records.
func (c *CSVWriter[T]) Write(recs ...T) error {
	if len(recs) == 0 {
		return nil
	}
	var err error
	if !c.header {
		err = gocsv.MarshalCSV(recs, c.w)
		c.header = true
	} else {
		err = gocsv.MarshalCSVWithoutHeaders(recs, c.w)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", c.f.Path, err)
	}
	return nil
}

// Commit writes the header if no row did, then publishes the file.
func (c *CSVWriter[T]) Commit() error {
	if !c.header {
		if err := gocsv.MarshalCSV([]T{}, c.w); err != nil {
			c.f.Abort()
			return fmt.Errorf("write %s: %w", c.f.Path, err)
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		c.f.Abort()
		return fmt.Errorf("write %s: %w", c.f.Path, err)
	}
	return c.f.Commit()
}

// Abort drops the partial file.
func (c *CSVWriter[T]) Abort() { c.f.Abort() }

// WriteCSV writes all records to path: a file of its own such as errors.csv, not a
// twin, so only T's columns.
func WriteCSV[T any](path string, recs []T) error {
	w, err := createCSV[T](path, Stamp{}, nil)
	if err != nil {
		return err
	}
	for len(recs) > 0 {
		n := min(len(recs), BatchRows)
		if err := w.Write(recs[:n]...); err != nil {
			w.Abort()
			return err
		}
		recs = recs[n:]
	}
	return w.Commit()
}

// ReadCSV reads a CSV file written by WriteCSV, formula escapes undone.
func ReadCSV[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	var out []T
	if err := gocsv.UnmarshalCSV(&unescapingReader{r: csv.NewReader(f), hashCol: -1}, &out); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// MarshalCSV writes the values as one JSON cell, as every list column is.
func (l StringList) MarshalCSV() (string, error) { return jsonCell(l) }

// UnmarshalCSV reads a JSON cell, or the "|"-joined cell twins held before lists
// were JSON (schema version 1).
func (l *StringList) UnmarshalCSV(s string) error {
	if strings.HasPrefix(s, "[") {
		return unjsonCell(s, l)
	}
	if s == "" {
		*l = nil
		return nil
	}
	*l = strings.Split(s, "|")
	return nil
}

// MarshalCSV writes the items as one JSON cell.
func (it Items) MarshalCSV() (string, error) { return jsonCell(it) }

// UnmarshalCSV reads a JSON cell.
func (it *Items) UnmarshalCSV(s string) error { return unjsonCell(s, it) }

// MarshalCSV writes the line items as one JSON cell.
func (l InvoiceLines) MarshalCSV() (string, error) { return jsonCell(l) }

// UnmarshalCSV reads the JSON cell MarshalCSV writes.
func (l *InvoiceLines) UnmarshalCSV(s string) error { return unjsonCell(s, l) }

// MarshalCSV writes the payments as one JSON cell.
func (p InvoicePayments) MarshalCSV() (string, error) { return jsonCell(p) }

// UnmarshalCSV reads the JSON cell MarshalCSV writes.
func (p *InvoicePayments) UnmarshalCSV(s string) error { return unjsonCell(s, p) }

// MarshalCSV writes the field values as one JSON cell.
func (fv FieldValues) MarshalCSV() (string, error) { return jsonCell(fv) }

// UnmarshalCSV reads a JSON cell.
func (fv *FieldValues) UnmarshalCSV(s string) error { return unjsonCell(s, fv) }

func jsonCell(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return "[]", nil
	}
	return string(b), nil
}

func unjsonCell(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// WriteCSVTo writes records as CSV to w (a terminal, a pipe), header included.
func WriteCSVTo[T any](w io.Writer, recs []T) error {
	cw := newRowWriter(w, Stamp{}, nil)
	if recs == nil {
		recs = []T{}
	}
	if err := gocsv.MarshalCSV(recs, cw); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw.Flush()
	return cw.Error()
}
