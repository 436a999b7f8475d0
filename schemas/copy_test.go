package schemas

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var copyStamp = Stamp{RunID: "20260202T020000Z", ExtractedAt: time.Date(2026, 2, 2, 2, 0, 0, 0, time.UTC)}

// The column copy writes what the row path writes: for every table, random rows
// (every value shape) in row groups smaller than a read batch, copied whole, with
// single rows, runs and a batch's first and last rows dropped, and with nothing
// kept; the files read back as the same records and the same Arrow columns, stamps
// and typed twins included, and the column path is the one taken.
func TestCopyFromAgreesWithRows(t *testing.T) {
	keeps := map[string]func(int) bool{
		"all": nil,
		"some": func(i int) bool {
			return i%7 != 3 && (i < 100 || i > 130) && i != 0 && i != readRows-1 && i != readRows
		},
		"few":     func(i int) bool { return i%500 == 1 },
		"nothing": func(int) bool { return false },
	}
	for _, tb := range packageTables {
		ct := tb.(codecTable)
		t.Run(ct.name()+"/"+ct.recordType().Name(), func(t *testing.T) {
			n := 700
			if ct.name() == Customers.Name {
				n = readRows + 300 // more than one read batch
			}
			rng := rand.New(rand.NewPCG(3, uint64(len(ct.name()))))
			for name, keep := range keeps {
				t.Run(name, func(t *testing.T) {
					tb.(copyAgreer).agreeCopy(t, rng, n, keep)
				})
			}
		})
	}
}

type copyAgreer interface {
	agreeCopy(t *testing.T, rng *rand.Rand, n int, keep func(int) bool)
}

func (t *Table[T]) agreeCopy(tt *testing.T, rng *rand.Rand, n int, keep func(int) bool) {
	tt.Helper()
	recs := make([]T, n)
	for i := range recs {
		randomValue(rng, reflect.ValueOf(&recs[i]).Elem())
	}
	dir := tt.TempDir()
	in := filepath.Join(dir, "in.parquet")
	t.writeSmallBatches(tt, in, recs)
	all, err := t.ReadFile(in)
	if err != nil {
		tt.Fatal(err)
	}
	want := []T{}
	for i := range all {
		if keep == nil || keep(i) {
			want = append(want, all[i])
		}
	}

	r, err := t.openColumns(in, t.Columns(), false) // as CopyFrom opens it
	if err != nil {
		tt.Fatal(err)
	}
	if !t.sameLayout(r) {
		tt.Fatal("a file of the current version does not take the column copy")
	}
	r.Close()

	ctx := context.Background()
	for _, c := range []struct {
		name string
		copy func(*Sink[T]) (int64, error)
	}{
		{"columns", func(s *Sink[T]) (int64, error) { return s.CopyFrom(ctx, in, keep) }},
		{"rows", func(s *Sink[T]) (int64, error) {
			r, err := t.OpenColumns(in, t.Columns())
			if err != nil {
				return 0, err
			}
			defer r.Close()
			return s.copyRows(ctx, r, keep)
		}},
	} {
		s, err := t.CreateSink(dir, c.name, false, copyStamp)
		if err != nil {
			tt.Fatal(err)
		}
		read, err := c.copy(s)
		if err != nil {
			tt.Fatalf("%s: %v", c.name, err)
		}
		if read != int64(n) || s.Rows() != int64(len(want)) {
			tt.Fatalf("%s: read %d rows, wrote %d; want %d and %d", c.name, read, s.Rows(), n, len(want))
		}
		if err := s.Commit(); err != nil {
			tt.Fatal(err)
		}
		got, err := t.ReadFile(filepath.Join(dir, c.name+".parquet"))
		if err != nil {
			tt.Fatal(err)
		}
		agreeRecords(tt, c.name, got, want)
		if st, err := ReadStamp(filepath.Join(dir, c.name+".parquet")); err != nil || st != copyStamp {
			tt.Fatalf("%s: stamp %+v, %v", c.name, st, err)
		}
	}
	cols, rows := rawTable(tt, filepath.Join(dir, "columns.parquet")), rawTable(tt, filepath.Join(dir, "rows.parquet"))
	defer cols.Release()
	defer rows.Release()
	if !cols.Schema().Equal(rows.Schema()) {
		tt.Fatalf("schemas differ:\n%s\n%s", cols.Schema(), rows.Schema())
	}
	for k := range int(cols.NumCols()) {
		if !array.ChunkedEqual(cols.Column(k).Data(), rows.Column(k).Data()) {
			tt.Fatalf("column %s differs between the column copy and the row path", cols.Schema().Field(k).Name)
		}
	}
	if len(want) > 0 && !hasColumn(t.cols, StampRunID) {
		run := rawColumn(tt, filepath.Join(dir, "columns.parquet"), StampRunID).(*array.String)
		if run.Value(run.Len()-1) != copyStamp.RunID {
			tt.Fatalf("run_id %q, want the new stamp", run.Value(run.Len()-1))
		}
	}
}

// rawTable is a file's columns as Arrow reads them, every one (stamps too).
func rawTable(t *testing.T, path string) arrow.Table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, parquet.NewReaderProperties(memory.DefaultAllocator), pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// An older file takes the row path and reads as today's records; a file of
// another kind is refused.
func TestCopyFromOlderFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "customers.parquet")
	if err := NewTable[v1Customer]("customer", 1).WriteFile(in, []v1Customer{{ID: "c1", CreatedAt: i64(1700000000)}, {ID: "c2"}, {ID: "c3", Phone: "+1"}}); err != nil {
		t.Fatal(err)
	}
	r, err := Customers.OpenColumns(in, Customers.Columns())
	if err != nil {
		t.Fatal(err)
	}
	if Customers.sameLayout(r) {
		t.Error("a version 1 file would be copied column by column")
	}
	r.Close()
	want, err := Customers.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Customers.CreateSink(dir, "out", false, copyStamp)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.CopyFrom(context.Background(), in, func(i int) bool { return i != 1 }); err != nil || n != 3 {
		t.Fatalf("CopyFrom = %d, %v", n, err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := Customers.ReadFile(filepath.Join(dir, "out.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	agreeRecords(t, "v1", got, []Customer{want[0], want[2]})

	ss, err := Subscriptions.CreateSink(dir, "subs", false, copyStamp)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Abort()
	if _, err := ss.CopyFrom(context.Background(), in, nil); err == nil {
		t.Error("a customer file was copied into a subscriptions file")
	}
}

// BenchmarkCopyFrom copies a file of BatchRows random customers and one of
// subscriptions to a new sink, 1% of the rows dropped, column by column and
// through records (what validate did before).
//
//	go test ./schemas -run '^$' -bench CopyFrom -benchmem
func BenchmarkCopyFrom(b *testing.B) {
	benchCopy(b, Customers)
	benchCopy(b, Subscriptions)
}

func benchCopy[T any](b *testing.B, t *Table[T]) {
	rng := rand.New(rand.NewPCG(7, 7))
	recs := make([]T, BatchRows)
	for i := range recs {
		randomValue(rng, reflect.ValueOf(&recs[i]).Elem())
	}
	dir := b.TempDir()
	in := filepath.Join(dir, "in.parquet")
	if err := t.WriteFiles(dir, "in", recs, false, testStamp); err != nil {
		b.Fatal(err)
	}
	keep := func(i int) bool { return i%100 != 42 }
	ctx := context.Background()
	for _, path := range []string{"columns", "rows"} {
		b.Run(t.Name+"/path="+path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := t.CreateSink(dir, "out", false, copyStamp)
				if err != nil {
					b.Fatal(err)
				}
				if path == "columns" {
					_, err = s.CopyFrom(ctx, in, keep)
				} else {
					var r *Reader[T]
					if r, err = t.OpenColumns(in, t.Columns()); err == nil {
						_, err = s.copyRows(ctx, r, keep)
						r.Close()
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*BatchRows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
