package schemas

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
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

// escapingWriter escapes every cell gocsv writes.
type escapingWriter struct{ gocsv.CSVWriter }

func (w escapingWriter) Write(row []string) error {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = EscapeCell(c)
	}
	return w.CSVWriter.Write(out)
}

func safeWriter(w *csv.Writer) gocsv.CSVWriter {
	return escapingWriter{gocsv.NewSafeCSVWriter(w)}
}

// unescapingReader undoes EscapeCell on every cell read.
type unescapingReader struct{ r *csv.Reader }

func (u unescapingReader) Read() ([]string, error) {
	row, err := u.r.Read()
	for i := range row {
		row[i] = UnescapeCell(row[i])
	}
	return row, err
}

func (u unescapingReader) ReadAll() ([][]string, error) {
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
	w      *csv.Writer
	header bool
}

// CreateCSV starts a CSV file at path (written atomically on Commit).
func CreateCSV[T any](path string) (*CSVWriter[T], error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	return &CSVWriter[T]{f: f, w: csv.NewWriter(f)}, nil
}

// Write appends records.
func (c *CSVWriter[T]) Write(recs ...T) error {
	if len(recs) == 0 {
		return nil
	}
	var err error
	if !c.header {
		err = gocsv.MarshalCSV(recs, safeWriter(c.w))
		c.header = true
	} else {
		err = gocsv.MarshalCSVWithoutHeaders(recs, safeWriter(c.w))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", c.f.Path, err)
	}
	return nil
}

// Commit writes the header if no row did, then publishes the file.
func (c *CSVWriter[T]) Commit() error {
	if !c.header {
		if err := gocsv.MarshalCSV([]T{}, safeWriter(c.w)); err != nil {
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

// WriteCSV writes all records to path.
func WriteCSV[T any](path string, recs []T) error {
	w, err := CreateCSV[T](path)
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
	if err := gocsv.UnmarshalCSV(unescapingReader{csv.NewReader(f)}, &out); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// MarshalCSV joins the values with "|" (the separator AC plan.csv also uses).
func (l StringList) MarshalCSV() (string, error) { return strings.Join(l, "|"), nil }

// UnmarshalCSV splits a "|"-joined cell.
func (l *StringList) UnmarshalCSV(s string) error {
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
	cw := csv.NewWriter(w)
	if recs == nil {
		recs = []T{}
	}
	if err := gocsv.MarshalCSV(recs, safeWriter(cw)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw.Flush()
	return cw.Error()
}
