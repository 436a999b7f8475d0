package schemas

import (
	"path/filepath"
)

// Report is what a stage returns besides its files: named counts for the manifest and
// the summary line (e.g. "customers": 64, "rejected": 9).
type Report struct {
	Counts map[string]int64 `json:"counts"`
	// Drift is the schema drift an extract saw: per list, the fields Chargebee
	// sent that cb2ac does not know (none: nil).
	Drift []Drift `json:"drift,omitempty"`
}

// Drift is one list's unknown fields: field (resource.field for a resource beside
// the list's own, as "card.wallet" in customers) → the records that carried it.
type Drift struct {
	List          string           `json:"list"`
	UnknownFields map[string]int64 `json:"unknown_fields"`
}

// Add increments a count.
func (r *Report) Add(name string, n int64) {
	if r.Counts == nil {
		r.Counts = make(map[string]int64)
	}
	r.Counts[name] += n
}

// Sink writes one file kind of a stage: DIR/NAME.parquet and, when twin is on, the
// CSV twin DIR/NAME.csv. Both appear only on Commit.
type Sink[T any] struct {
	pq  *Writer[T]
	csv *CSVWriter[T]
}

// CreateSink opens the Parquet file (and its CSV twin), both stamped with st.
func (t *Table[T]) CreateSink(dir, name string, twin bool, st Stamp) (*Sink[T], error) {
	pq, err := t.CreateStamped(filepath.Join(dir, name+".parquet"), st)
	if err != nil {
		return nil, err
	}
	s := &Sink[T]{pq: pq}
	if twin {
		if s.csv, err = CreateCSV[T](filepath.Join(dir, name+".csv"), st); err != nil {
			pq.Abort()
			return nil, err
		}
	}
	return s, nil
}

// Write appends records to both files.
func (s *Sink[T]) Write(recs ...T) error {
	if err := s.pq.Write(recs...); err != nil {
		return err
	}
	if s.csv != nil {
		return s.csv.Write(recs...)
	}
	return nil
}

// Rows is the number of records written.
func (s *Sink[T]) Rows() int64 { return s.pq.Rows() }

// Commit publishes both files.
func (s *Sink[T]) Commit() error {
	err := s.pq.Commit()
	if s.csv != nil {
		if err != nil {
			s.csv.Abort()
		} else {
			err = s.csv.Commit()
		}
	}
	return err
}

// Abort drops both files.
func (s *Sink[T]) Abort() {
	s.pq.Abort()
	if s.csv != nil {
		s.csv.Abort()
	}
}

// WriteFiles writes all records through a sink.
func (t *Table[T]) WriteFiles(dir, name string, recs []T, twin bool, st Stamp) error {
	s, err := t.CreateSink(dir, name, twin, st)
	if err != nil {
		return err
	}
	for len(recs) > 0 {
		n := min(len(recs), BatchRows)
		if err := s.Write(recs[:n]...); err != nil {
			s.Abort()
			return err
		}
		recs = recs[n:]
	}
	return s.Commit()
}
