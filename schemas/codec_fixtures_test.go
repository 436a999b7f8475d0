package schemas_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/transform"
	"github.com/cb2ac/cb2ac/stages/validate"
)

// The generated and the reflective codec agree on every Parquet file the fixtures
// become, and every transform row's hashes are json.Marshal's (HashesAgreeOnFile): each fixture site extracted, validated and transformed in process, each
// file checked by schemas.CodecsAgreeOnFile (codec_agree_test.go).
func TestCodecAgreementOnFixtures(t *testing.T) {
	ctx := context.Background()
	for _, site := range []string{"chargebee", "chargebee-pc1", "chargebee-day2"} {
		t.Run(site, func(t *testing.T) {
			dir := t.TempDir()
			ex, va, tr := filepath.Join(dir, "extract"), filepath.Join(dir, "validate"), filepath.Join(dir, "transform")
			if _, err := extract.Run(ctx, extract.Options{Source: extract.SourcePages, In: filepath.Join("..", "fixtures", site), Stamp: schemas.Stamp{RunID: "r1"}}, ex); err != nil {
				t.Fatal(err)
			}
			if _, err := validate.Run(ctx, validate.Options{In: ex, RunID: "r1"}, validate.Config{}, va); err != nil {
				t.Fatal(err)
			}
			if _, err := transform.Run(ctx, transform.Options{In: va, RunID: "r1"}, transform.Config{}, tr); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, d := range []string{ex, va, tr} {
				files, err := filepath.Glob(filepath.Join(d, "*.parquet"))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if st, err := os.Stat(f); err != nil || st.Size() == 0 {
						t.Fatalf("%s: %v", f, err)
					}
					t.Run(filepath.Base(d)+"/"+strings.TrimSuffix(filepath.Base(f), ".parquet"), func(t *testing.T) {
						schemas.CodecsAgreeOnFile(t, f)
						if d == tr {
							schemas.HashesAgreeOnFile(t, f)
						}
					})
					n++
				}
			}
			if n < 12 {
				t.Fatalf("the fixtures became %d Parquet files, want every extract, validate and transform file", n)
			}
		})
	}
}
