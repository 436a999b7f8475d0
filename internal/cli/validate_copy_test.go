package cli

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/validate"
)

// TestValidateCopyMatchesRowPath: validate copies accepted and carried rows column
// by column (schemas.Sink.CopyFrom); with CSV twins it goes through records, as it
// always did. Over every fixture site and every readable bad-input case, both write
// the same files: every column of every Parquet file (stamps and typed twins too),
// the same errors.csv and the same counts.
func TestValidateCopyMatchesRowPath(t *testing.T) {
	ctx := context.Background()
	cases := map[string]string{}
	for _, site := range []string{"chargebee", "chargebee-pc1", "chargebee-day2"} {
		cases[site] = filepath.Join("fixtures", site)
	}
	wants, err := filepath.Glob(filepath.Join(badinputDir, "*", "want.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		cases["badinput/"+filepath.Base(filepath.Dir(w))] = filepath.Dir(w)
	}
	compared := 0
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ex := filepath.Join(dir, "extract")
			if _, err := extract.Run(ctx, extract.Options{Source: extract.SourcePages, In: cases[name], Stamp: schemas.Stamp{RunID: "r1"}}, ex); err != nil {
				t.Skipf("unreadable pages (TestBadInputCorpus covers them): %v", err)
			}
			if v := schemaVersion(t, filepath.Join(ex, "customers.parquet")); v != strconv.Itoa(schemas.Customers.Version) {
				t.Fatalf("extract wrote customers version %s: the column copy would not be taken", v)
			}
			cols, rows := filepath.Join(dir, "columns"), filepath.Join(dir, "rows")
			rc, err := validate.Run(ctx, validate.Options{In: ex, RunID: "r2"}, validate.Config{}, cols)
			if err != nil {
				t.Fatal(err)
			}
			rr, err := validate.Run(ctx, validate.Options{In: ex, RunID: "r2", CSV: true}, validate.Config{}, rows)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(rc.Counts, rr.Counts) {
				t.Errorf("counts: column copy %v, row path %v", rc.Counts, rr.Counts)
			}
			a, _ := os.ReadFile(filepath.Join(cols, validate.ErrorsFile))
			b, _ := os.ReadFile(filepath.Join(rows, validate.ErrorsFile))
			if len(a) == 0 || string(a) != string(b) {
				t.Errorf("errors.csv differs:\n%s\n---\n%s", a, b)
			}
			files, err := filepath.Glob(filepath.Join(cols, "*.parquet"))
			if err != nil || len(files) != 9 {
				t.Fatalf("column copy wrote %d Parquet files, want 9 (%v)", len(files), err)
			}
			for _, f := range files {
				sameArrowColumns(t, f, filepath.Join(rows, filepath.Base(f)))
			}
			compared++
		})
	}
	if compared < 30 {
		t.Errorf("compared %d cases, want the fixtures and most of the bad-input corpus", compared)
	}
}

// sameArrowColumns fails unless the two Parquet files hold the same columns with
// the same values.
func sameArrowColumns(t *testing.T, a, b string) {
	t.Helper()
	read := func(path string) arrow.Table {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tbl, err := pqarrow.ReadTable(context.Background(), f, parquet.NewReaderProperties(memory.DefaultAllocator), pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return tbl
	}
	x, y := read(a), read(b)
	defer x.Release()
	defer y.Release()
	if !x.Schema().Equal(y.Schema()) || x.NumRows() != y.NumRows() {
		t.Fatalf("%s: %d rows of %s, the row path %d rows of %s", filepath.Base(a), x.NumRows(), x.Schema(), y.NumRows(), y.Schema())
	}
	for k := range int(x.NumCols()) {
		if !array.ChunkedEqual(x.Column(k).Data(), y.Column(k).Data()) {
			t.Errorf("%s: column %s differs from the row path's", filepath.Base(a), x.Schema().Field(k).Name)
		}
	}
}
