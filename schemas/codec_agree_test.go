package schemas

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// The generated codec must be the reflective one, only faster: for every table the
// two write the same bytes from the same records, and read the same records from
// the same file, whole, projected, picked by row and detached.

func TestCodecAgreement(t *testing.T) {
	for _, tb := range packageTables {
		ct := tb.(codecTable)
		t.Run(ct.name()+"/"+ct.recordType().Name(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(ct.name()))))
			tb.(codecAgreer).agreeRandom(t, rng, 700)
		})
	}
}

// Files in older versions' forms (Unix seconds as BIGINT, "|"-joined lists) and
// files missing columns take the same path through both codecs.
func TestCodecAgreementOlderFiles(t *testing.T) {
	dir := t.TempDir()
	cust := filepath.Join(dir, "customers.parquet")
	if err := NewTable[v1Customer]("customer", 1).WriteFile(cust, []v1Customer{{ID: "c1", CreatedAt: i64(1700000000)}, {ID: "c2"}, {Phone: "+1"}}); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.parquet")
	if err := NewTable[v1PlanEntry]("plan", 1).WriteFile(plan, []v1PlanEntry{{Key: "a", ChangedFields: "email|fields.Plan"}, {Key: "b"}}); err != nil {
		t.Fatal(err)
	}
	Customers.agreeFile(t, cust)
	Plans.agreeFile(t, plan)
}

// CodecsAgreeOnFile checks the two codecs agree on a Parquet file cb2ac wrote (the
// fixtures' pipeline output, codec_fixtures_test.go): the table is the package's
// table of the file's schema name whose columns cover most of the file's.
func CodecsAgreeOnFile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	name := pf.MetaData().KeyValueMetadata().FindValue(MetaSchema)
	sc := pf.MetaData().Schema.Root()
	have := map[string]bool{}
	for i := range sc.NumFields() {
		have[sc.Field(i).Name()] = true
	}
	pf.Close()
	if name == nil {
		t.Fatalf("%s: no %s", path, MetaSchema)
	}
	var best codecAgreer
	bestN := -1
	for _, tb := range packageTables {
		ct := tb.(codecTable)
		if ct.name() != *name {
			continue
		}
		n := 0
		for _, c := range tb.(interface{ Columns() []string }).Columns() {
			if have[c] {
				n++
			}
		}
		if n > bestN {
			best, bestN = tb.(codecAgreer), n
		}
	}
	if best == nil {
		t.Fatalf("%s: no table named %q", path, *name)
	}
	best.agreeFile(t, path)
}

type codecAgreer interface {
	agreeRandom(t *testing.T, rng *rand.Rand, n int)
	agreeFile(t *testing.T, path string)
}

// reflectiveTwin is the table coded by reflection only.
func (t *Table[T]) reflectiveTwin() *Table[T] {
	r := NewTable[T](t.Name, t.Version)
	r.reflective = true
	return r
}

var testStamp = Stamp{RunID: "20260101T000000Z", ExtractedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}

func (t *Table[T]) agreeRandom(tt *testing.T, rng *rand.Rand, n int) {
	tt.Helper()
	if t.codec() == nil {
		tt.Fatalf("table %s has no generated codec", t.Name)
	}
	recs := make([]T, n)
	for i := range recs {
		randomValue(rng, reflect.ValueOf(&recs[i]).Elem())
	}
	dir := tt.TempDir()
	gen, ref := filepath.Join(dir, "gen.parquet"), filepath.Join(dir, "ref.parquet")
	// Small row groups, so batches and row numbers across them are exercised.
	for _, w := range []struct {
		tb   *Table[T]
		path string
	}{{t, gen}, {t.reflectiveTwin(), ref}} {
		w.tb.writeSmallBatches(tt, w.path, recs)
	}
	a, _ := os.ReadFile(gen)
	b, _ := os.ReadFile(ref)
	if len(a) == 0 || !bytes.Equal(a, b) {
		tt.Fatalf("the generated and the reflective codec wrote different files (%d and %d bytes)", len(a), len(b))
	}
	t.agreeFile(tt, gen)
}

func (t *Table[T]) agreeFile(tt *testing.T, path string) {
	tt.Helper()
	ref := t.reflectiveTwin()
	got, err := t.ReadFile(path)
	if err != nil {
		tt.Fatal(err)
	}
	want, err := ref.ReadFile(path)
	if err != nil {
		tt.Fatal(err)
	}
	agreeRecords(tt, "ReadFile", got, want)

	// Projections: every column alone, then every other column.
	var cols, alt []string
	for i, c := range t.cols {
		if !c.twin {
			cols = append(cols, c.name)
			if i%2 == 0 {
				alt = append(alt, c.name)
			}
		}
	}
	projections := [][]string{alt}
	for _, c := range cols {
		projections = append(projections, []string{c})
	}
	for _, p := range projections {
		agreeRecords(tt, "EachColumns "+p[0], collect(tt, t, path, p), collect(tt, ref, path, p))
	}

	// EachRow: every third row.
	pick := func(tb *Table[T]) (rows []int, recs []T) {
		err := tb.EachRow(path, func(row int) bool { return row%3 == 1 }, func(row int, rec *T) error {
			rows, recs = append(rows, row), append(recs, *rec)
			return nil
		})
		if err != nil {
			tt.Fatal(err)
		}
		return rows, recs
	}
	gr, grecs := pick(t)
	rr, rrecs := pick(ref)
	if !reflect.DeepEqual(gr, rr) {
		tt.Fatalf("EachRow picked rows %v, reflection %v", gr, rr)
	}
	agreeRecords(tt, "EachRow", grecs, rrecs)

	// Detach: same values, and no string left pointing into the batch.
	for i := range got {
		a, b := got[i], got[i]
		t.Detach(&a)
		ref.Detach(&b)
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, got[i]) {
			tt.Fatalf("Detach of row %d: generated %+v, reflection %+v", i, a, b)
		}
		if f := sharedString(reflect.ValueOf(a), reflect.ValueOf(got[i])); f != "" {
			tt.Fatalf("Detach of row %d left %q pointing into the batch", i, f)
		}
	}

	// Writing what was read: the same bytes both ways.
	dir := tt.TempDir()
	for i, tb := range []*Table[T]{t, ref} {
		w, err := tb.CreateStamped(filepath.Join(dir, []string{"gen", "ref"}[i]+".parquet"), testStamp)
		if err != nil {
			tt.Fatal(err)
		}
		if err := w.Write(got...); err != nil {
			tt.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			tt.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "gen.parquet"))
	b, _ := os.ReadFile(filepath.Join(dir, "ref.parquet"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		tt.Fatalf("%s: rewriting its records, the codecs wrote different files", path)
	}
}

// sharedString is a non-empty string of a (a detached copy of b) whose bytes are
// still b's, "" when there is none.
func sharedString(a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.String:
		if s := a.String(); s != "" && unsafe.StringData(s) == unsafe.StringData(b.String()) {
			return s
		}
	case reflect.Pointer:
		if !a.IsNil() && !b.IsNil() {
			return sharedString(a.Elem(), b.Elem())
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if s := sharedString(a.Field(i), b.Field(i)); s != "" {
				return s
			}
		}
	case reflect.Slice:
		for i := range min(a.Len(), b.Len()) {
			if s := sharedString(a.Index(i), b.Index(i)); s != "" {
				return s
			}
		}
	}
	return ""
}

func collect[T any](tt *testing.T, tb *Table[T], path string, cols []string) []T {
	tt.Helper()
	r, err := tb.OpenColumns(path, cols)
	if err != nil {
		tt.Fatal(err)
	}
	defer r.Close()
	var out []T
	for {
		batch, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tt.Fatal(err)
		}
		out = append(out, batch...)
	}
}

func agreeRecords[T any](tt *testing.T, what string, got, want []T) {
	tt.Helper()
	if len(got) != len(want) {
		tt.Fatalf("%s: generated read %d records, reflection %d", what, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			tt.Fatalf("%s: row %d differs\ngenerated:  %+v\nreflection: %+v", what, i, got[i], want[i])
		}
	}
}

// randomTexts cover NULL (""), text, decimal and time forms valid and not, so the
// typed twins see every case, and a string a list holds.
var randomTexts = []string{
	"", "", "a", "zoë", "x|y", "12.50", "-0.01", "0", "1e5", "123456789012345678.12345678901234567890",
	"99999999999999999999.5", "2024-02-14T10:48:23Z", "2024-02-14T10:48:23+02:00", "not a time",
	"=HYPERLINK(\"x\")", "NULL",
}

var randomInts = []int64{0, 1, -1, 1700000000, -86399, math.MaxInt64, math.MinInt64, maxTimestampSeconds + 1, -maxTimestampSeconds - 1, 253402300799}

// randomValue fills v (a record or part of one) at random: pointers nil or not,
// lists nil, empty or not, every nested struct filled too.
func randomValue(rng *rand.Rand, v reflect.Value) { randomValueOf(rng, v, randomTexts) }

// randomValueOf is randomValue with its strings drawn from texts.
func randomValueOf(rng *rand.Rand, v reflect.Value, texts []string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(texts[rng.IntN(len(texts))])
	case reflect.Int64:
		if rng.IntN(2) == 0 {
			v.SetInt(randomInts[rng.IntN(len(randomInts))])
		} else {
			v.SetInt(rng.Int64() - math.MaxInt64/2)
		}
	case reflect.Uint64:
		v.SetUint(rng.Uint64())
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Pointer:
		if rng.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			randomValueOf(rng, p.Elem(), texts)
			v.Set(p)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				randomValueOf(rng, v.Field(i), texts)
			}
		}
	case reflect.Slice:
		switch n := rng.IntN(5); n {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for j := range n - 1 {
				randomValueOf(rng, s.Index(j), texts)
			}
			v.Set(s)
		}
	}
}

// writeSmallBatches writes recs to a stamped file at path in row groups of 257 rows,
// so that readers cross row-group boundaries with a few hundred rows.
func (t *Table[T]) writeSmallBatches(tt *testing.T, path string, recs []T) {
	tt.Helper()
	w, err := t.CreateStamped(path, testStamp)
	if err != nil {
		tt.Fatal(err)
	}
	w.batch = 257
	if err := w.Write(recs...); err != nil {
		tt.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		tt.Fatal(err)
	}
}
