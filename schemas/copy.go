package schemas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// CopyFrom appends the rows of the file at path that keep accepts (by row number
// from 0; nil: every row) to the sink, stamped with the sink's stamp, and returns
// how many rows the file had. A file of this table's current version and layout is
// copied column by column: its Arrow batches lose the rows not kept and get new
// stamp columns, and no record is ever decoded or encoded, which made up half of
// validate's CPU when every accepted row went through Go structs. An older file, a
// file whose columns differ, and a sink with a CSV twin (its cells are formatted
// from records) take the row path; both give the same records.
func (s *Sink[T]) CopyFrom(ctx context.Context, path string, keep func(row int) bool) (int64, error) {
	w := s.pq
	r, err := w.t.openColumns(path, w.t.Columns(), false)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if s.csv == nil && w.n == 0 && w.t.sameLayout(r) {
		return w.copyColumns(ctx, r, keep)
	}
	return s.copyRows(ctx, r, keep)
}

// sameLayout tells whether r's batches are this table's columns as the writer's
// schema has them, so that they can be written without going through records.
func (t *Table[T]) sameLayout(r *Reader[T]) bool {
	v := r.pf.MetaData().KeyValueMetadata().FindValue(MetaVersion)
	if v == nil || *v != strconv.Itoa(t.Version) {
		return false
	}
	sc := r.rr.Schema()
	if sc.NumFields() != len(t.cols) {
		return false
	}
	for i := range t.cols {
		got, want := sc.Field(i), t.schema.Field(i)
		if got.Name != want.Name || got.Nullable != want.Nullable || !arrow.TypeEqual(got.Type, want.Type) {
			return false
		}
	}
	return true
}

// copyRows is CopyFrom through records: the reference the column copy is tested
// against, and what older files need (their records are read in today's form).
func (s *Sink[T]) copyRows(ctx context.Context, r *Reader[T], keep func(row int) bool) (int64, error) {
	read := r.t.recordReader()
	var recs []T
	base := 0
	for {
		if err := ctx.Err(); err != nil {
			return int64(base), err
		}
		err := r.batch(func(readers []reader, n int) {
			for i := range n {
				if keep == nil || keep(base+i) {
					recs = append(recs, *new(T))
					read(readers, i, &recs[len(recs)-1])
				}
			}
			base += n
		})
		if err == io.EOF {
			return int64(base), nil
		}
		if err != nil {
			return int64(base), err
		}
		// Write copies the strings, which point into the batch read.
		if err := s.Write(recs...); err != nil {
			return int64(base), err
		}
		clear(recs)
		recs = recs[:0]
	}
}

// copyColumns is the column copy. Reading (decoding Parquet, dropping rows) runs
// on a goroutine of its own, one batch ahead of writing (encoding, compressing):
// the two took about as long each. The batches go to the Parquet writer's
// buffered row group, which cuts row groups at BatchRows as the row path does.
func (w *Writer[T]) copyColumns(ctx context.Context, r *Reader[T], keep func(row int) bool) (int64, error) {
	batches := make(chan keptBatch, 1)
	stop := make(chan struct{})
	go r.readKept(ctx, keep, batches, stop)
	defer func() {
		close(stop)
		for b := range batches {
			b.release()
		}
	}()
	var st stampColumns
	defer st.release()
	for b := range batches {
		if b.err != nil || b.cols == nil {
			return b.read, b.err
		}
		m := b.cols[0].Len()
		b.cols = append(b.cols, st.get(m, w.stampArrays)...)
		out := array.NewRecordBatch(w.t.schema, b.cols, int64(m))
		err := w.pw.WriteBuffered(out)
		out.Release()
		b.release()
		if err != nil {
			return b.read, fmt.Errorf("write %s: %w", w.f.Path, err)
		}
		w.rows += int64(m)
	}
	return 0, errors.New("copy: the reader stopped without a last batch") // unreachable
}

// keptBatch is one batch's kept columns, or the end of the file (cols nil) with
// the rows read and what ended it.
type keptBatch struct {
	cols []arrow.Array
	read int64
	err  error
}

func (b keptBatch) release() {
	for _, c := range b.cols {
		c.Release()
	}
}

// readKept sends out the kept columns of each batch that keeps a row, then a last
// batch without columns; it stops early once stop is closed.
func (r *Reader[T]) readKept(ctx context.Context, keep func(row int) bool, out chan<- keptBatch, stop <-chan struct{}) {
	defer close(out)
	base := 0
	send := func(b keptBatch) bool {
		select {
		case out <- b:
			return true
		case <-stop:
			b.release()
			return false
		}
	}
	defer func() {
		// The Parquet decoder can panic on a corrupt file.
		if p := recover(); p != nil {
			send(keptBatch{read: int64(base), err: &SchemaError{Path: r.path, Msg: fmt.Sprintf("corrupt Parquet file: %v", p)}})
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			send(keptBatch{read: int64(base), err: err})
			return
		}
		if !r.rr.Next() {
			var err error
			if err = r.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				err = fmt.Errorf("read %s: %w", r.path, err)
			} else {
				err = nil
			}
			send(keptBatch{read: int64(base), err: err})
			return
		}
		rec := r.rr.RecordBatch()
		cols := keptColumns(rec, base, keep)
		base += int(rec.NumRows())
		if cols != nil && !send(keptBatch{cols: cols, read: int64(base)}) {
			return
		}
	}
}

// keptColumns are rec's columns without the rows keep refuses (rows numbered from
// base), each retained for the caller; nil when no row is kept. Runs of kept rows
// are sliced and concatenated: rejected rows are few, so a batch is one or a few
// runs, and arrow's take kernel (arrow/compute) would bring in a large dependency
// for what Concatenate does here.
func keptColumns(rec arrow.RecordBatch, base int, keep func(row int) bool) []arrow.Array {
	n := int(rec.NumRows())
	var runs [][2]int64
	if keep == nil {
		runs = [][2]int64{{0, int64(n)}}
	} else {
		for i := 0; i < n; {
			for i < n && !keep(base+i) {
				i++
			}
			lo := i
			for i < n && keep(base+i) {
				i++
			}
			if i > lo {
				runs = append(runs, [2]int64{int64(lo), int64(i)})
			}
		}
	}
	if len(runs) == 0 {
		return nil
	}
	cols := make([]arrow.Array, rec.NumCols())
	for k, c := range rec.Columns() {
		if len(runs) == 1 {
			cols[k] = array.NewSlice(c, runs[0][0], runs[0][1])
			continue
		}
		parts := make([]arrow.Array, len(runs))
		for j, run := range runs {
			parts[j] = array.NewSlice(c, run[0], run[1])
		}
		cat, err := array.Concatenate(parts, memory.DefaultAllocator)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			// Slices of one array have its type; Concatenate fails only on
			// offsets past 2 GiB, which a batch of readRows rows cannot reach.
			panic(fmt.Sprintf("concatenate column %d: %v", k, err))
		}
		cols[k] = cat
	}
	return cols
}

// stampColumns holds the stamp columns for the longest batch so far; a shorter
// one gets slices of them.
type stampColumns struct{ cols []arrow.Array }

func (s *stampColumns) get(n int, build func(n int) []arrow.Array) []arrow.Array {
	if len(s.cols) == 0 || s.cols[0].Len() < n {
		s.release()
		s.cols = build(n)
	}
	out := make([]arrow.Array, len(s.cols))
	for i, c := range s.cols {
		out[i] = array.NewSlice(c, 0, int64(n))
	}
	return out
}

func (s *stampColumns) release() {
	for _, c := range s.cols {
		c.Release()
	}
	s.cols = nil
}

// stampArrays are n rows of the writer's stamp columns, built as the row path
// builds them.
func (w *Writer[T]) stampArrays(n int) []arrow.Array {
	bs := make([]array.Builder, len(w.t.stamps))
	for i, f := range w.t.stamps {
		bs[i] = array.NewBuilder(memory.DefaultAllocator, f.Type)
		bs[i].Reserve(n)
	}
	for range n {
		w.stamp.append(w.t.stamps, bs)
	}
	out := make([]arrow.Array, len(bs))
	for i, b := range bs {
		out[i] = b.NewArray()
		b.Release()
	}
	return out
}
