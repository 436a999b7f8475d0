package schemas

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// BenchmarkCodec writes and reads a 16k-row file (one read batch) of the tables the
// nightly stages move most rows through, with the generated codec and by
// reflection: the difference is what codec_gen.go saves.
//
//	go test ./schemas -run '^$' -bench Codec -benchmem -count 6 > c.txt
//	benchstat -col /impl c.txt
func BenchmarkCodec(b *testing.B) {
	benchCodec(b, Customers)
	benchCodec(b, Subscriptions)
	benchCodec(b, Invoices)
	benchCodec(b, Contacts)
	benchCodec(b, RecurringPayments)
	benchCodec(b, Plans)
}

// BenchmarkCodecRows is the codec alone, without Parquet: records into the Arrow
// builders of one batch, and one decoded Arrow batch into records.
func BenchmarkCodecRows(b *testing.B) {
	benchCodecRows(b, Customers)
	benchCodecRows(b, Subscriptions)
	benchCodecRows(b, Invoices)
	benchCodecRows(b, Contacts)
	benchCodecRows(b, RecurringPayments)
	benchCodecRows(b, Plans)
}

func benchCodecRows[T any](b *testing.B, t *Table[T]) {
	const rows = readRows
	recs, path := benchInput(b, t, rows)
	for _, c := range []struct {
		name string
		tb   *Table[T]
	}{{"generated", t}, {"reflect", t.reflectiveTwin()}} {
		b.Run(t.Name+"/encode/impl="+c.name, func(b *testing.B) {
			w, err := c.tb.Create(filepath.Join(b.TempDir(), "w.parquet"))
			if err != nil {
				b.Fatal(err)
			}
			defer w.Abort()
			w.batch, w.bytes = rows+1, math.MaxInt // never flush: only the builders are measured
			for b.Loop() {
				if err := w.Write(recs...); err != nil {
					b.Fatal(err)
				}
				w.rb.NewRecordBatch().Release()
				w.n = 0
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
		b.Run(t.Name+"/decode/impl="+c.name, func(b *testing.B) {
			r, err := c.tb.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			read := c.tb.recordReader()
			out := make([]T, rows)
			err = r.batch(func(readers []reader, n int) {
				for b.Loop() {
					clear(out)
					for i := range n {
						read(readers, i, &out[i])
					}
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

func benchCodec[T any](b *testing.B, t *Table[T]) {
	const rows = readRows
	recs, path := benchInput(b, t, rows)
	for _, c := range []struct {
		name string
		tb   *Table[T]
	}{{"generated", t}, {"reflect", t.reflectiveTwin()}} {
		b.Run(t.Name+"/write/impl="+c.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "w.parquet")
			for b.Loop() {
				if err := c.tb.WriteFile(out, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
		b.Run(t.Name+"/read/impl="+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.tb.ReadFile(path); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
		b.Run(t.Name+"/detach/impl="+c.name, func(b *testing.B) {
			for b.Loop() {
				for i := range recs {
					r := recs[i]
					c.tb.Detach(&r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

// BenchmarkReadFieldHashes is plan's hash step on a file of 100k contacts with the
// 18 default custom fields: reading the field_hashes column of every row and
// decoding one row in fifty (the updates), as stages/load's diff does.
func BenchmarkReadFieldHashes(b *testing.B) {
	const n = 100_000
	recs := make([]Contact, n)
	for i := range recs {
		c := Contact{CustomerID: "cus_" + strconv.Itoa(i), Email: "a" + strconv.Itoa(i) + "@x.io", ListStatus: "active"}
		for _, f := range DefaultFields {
			c.Fields = append(c.Fields, FieldValue{Title: f.Title, Value: strconv.Itoa(i)})
		}
		c.RowHash, c.FieldHashes = HashContact(&c)
		recs[i] = c
	}
	path := filepath.Join(b.TempDir(), "c.parquet")
	if err := Contacts.WriteFile(path, recs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		picked := 0
		err := Contacts.EachRowColumns(path, []string{"field_hashes"}, func(row int) bool { return row%50 == 0 }, func(_ int, c *Contact) error {
			Contacts.Detach(c)
			picked += len(c.FieldHashes)
			return nil
		})
		if err != nil || picked != n/50*26 {
			b.Fatal(err, picked)
		}
	}
}

// benchInput is rows random records of t (the same every run) and a file holding them.
func benchInput[T any](b *testing.B, t *Table[T], rows int) ([]T, string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	recs := make([]T, rows)
	for i := range recs {
		randomValue(rng, reflect.ValueOf(&recs[i]).Elem())
	}
	path := filepath.Join(b.TempDir(), "f.parquet")
	if err := t.WriteFile(path, recs); err != nil {
		b.Fatal(err)
	}
	return recs, path
}
