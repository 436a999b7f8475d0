package schemas

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// Every file a stage writes says which run wrote it and when its data was read from
// Chargebee, as two columns after the record's own (run_id, extracted_at) and as
// footer metadata. They are the file's, not the record's: they live outside the Go
// types, so they are in no row hash, no plan diff and no request, and a question
// across nights ("status counts per night") is a GROUP BY run_id over a glob.
const (
	StampRunID       = "run_id"
	StampExtractedAt = "extracted_at"
	MetaRunID        = "cb2ac.run_id"
	MetaExtractedAt  = "cb2ac.extracted_at"
)

// Stamp is what a stage writes into the stamp columns of every row of a file.
// ExtractedAt is when the extract the data comes from started (carried from file to
// file by the stages: see ReadStamp); zero values are written as NULL.
type Stamp struct {
	RunID       string
	ExtractedAt time.Time
}

// stampFields are the stamp columns of a file kind: none that the record already
// has (errors.csv rows carry their own run_id).
func stampFields(cols []column) []arrow.Field {
	var fs []arrow.Field
	for _, name := range []string{StampRunID, StampExtractedAt} {
		if hasColumn(cols, name) {
			continue
		}
		dt := arrow.DataType(arrow.BinaryTypes.String)
		if name == StampExtractedAt {
			dt = timestampType
		}
		fs = append(fs, arrow.Field{Name: name, Type: dt, Nullable: true})
	}
	return fs
}

func hasColumn(cols []column, name string) bool {
	for _, c := range cols {
		if c.name == name {
			return true
		}
	}
	return false
}

// append appends one row's stamp values to the builders of the stamp columns.
func (st Stamp) append(fields []arrow.Field, bs []array.Builder) {
	for i, f := range fields {
		switch f.Name {
		case StampRunID:
			if st.RunID == "" {
				bs[i].AppendNull()
			} else {
				bs[i].(*array.StringBuilder).Append(st.RunID)
			}
		case StampExtractedAt:
			if st.ExtractedAt.IsZero() {
				bs[i].AppendNull()
			} else {
				appendSeconds(bs[i], st.ExtractedAt.Unix())
			}
		}
	}
}

// cells is the stamp as CSV cells, for the stamp columns named.
func (st Stamp) cells(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		switch n {
		case StampRunID:
			out[i] = st.RunID
		case StampExtractedAt:
			if !st.ExtractedAt.IsZero() {
				out[i] = st.ExtractedAt.UTC().Format(time.RFC3339)
			}
		}
	}
	return out
}

// csvStampNames are the stamp columns a CSV of T gets: those T has no csv column of.
func csvStampNames[T any]() []string {
	var zero T
	t := reflect.TypeOf(zero)
	var out []string
	for _, name := range []string{StampRunID, StampExtractedAt} {
		found := false
		for i := range t.NumField() {
			if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("csv"), ","); tag == name {
				found = true
			}
		}
		if !found {
			out = append(out, name)
		}
	}
	return out
}

// ReadStamp reads the stamp of a Parquet file cb2ac wrote from its footer: a stage
// carries its input's ExtractedAt into its own files. A file from before the stamp
// (schema version 1) gives a zero Stamp.
func ReadStamp(path string) (Stamp, error) {
	f, err := OpenFile(path)
	if err != nil {
		return Stamp{}, fmt.Errorf("read stamp: %w", err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		return Stamp{}, &SchemaError{Path: path, Msg: "not a readable Parquet file: " + err.Error()}
	}
	defer pf.Close()
	var st Stamp
	kv := pf.MetaData().KeyValueMetadata()
	if v := kv.FindValue(MetaRunID); v != nil {
		st.RunID = *v
	}
	if v := kv.FindValue(MetaExtractedAt); v != nil {
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			return Stamp{}, &SchemaError{Path: path, Msg: fmt.Sprintf("bad %s %q", MetaExtractedAt, *v)}
		}
		st.ExtractedAt = t.UTC()
	}
	return st, nil
}
