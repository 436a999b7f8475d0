package schemas

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// Issue 18: cells a spreadsheet would run as formulas are escaped in every CSV
// cb2ac writes, and read back exactly.
func TestCSVFormulaCellsEscaped(t *testing.T) {
	cases := map[string]string{
		`=HYPERLINK("http://x","y")@a.com`: `'=HYPERLINK("http://x","y")@a.com`,
		"+1+2@a.com":                       "'+1+2@a.com",
		"-2+3@a.com":                       "'-2+3@a.com",
		"@SUM(A1)":                         "'@SUM(A1)",
		"\tx":                              "'\tx",
		"'quoted":                          "''quoted",
		"-12.50":                           "-12.50", // a number stays a number
		"+1":                               "+1",
		"a@b.com":                          "a@b.com",
		"":                                 "",
	}
	var in []ValidationError
	for raw := range cases {
		in = append(in, ValidationError{RunID: "r", Email: raw, Message: raw})
	}
	path := filepath.Join(t.TempDir(), "errors.csv")
	if err := WriteCSV(path, in); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows[1:] {
		raw := in[i].Email
		if row[5] != cases[raw] || row[8] != cases[raw] {
			t.Errorf("%q written as %q / %q, want %q", raw, row[5], row[8], cases[raw])
		}
	}
	back, err := ReadCSV[ValidationError](path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if back[i] != in[i] {
			t.Errorf("read back %+v, want %+v", back[i], in[i])
		}
	}

	// The same through WriteCSVTo (cb2ac errors) and inspect --format csv.
	var b bytes.Buffer
	if err := WriteCSVTo(&b, in[:1]); err != nil {
		t.Fatal(err)
	}
	r, _ := csv.NewReader(&b).ReadAll()
	if r[1][5] != cases[in[0].Email] {
		t.Errorf("WriteCSVTo wrote %q", r[1][5])
	}
	b.Reset()
	if err := Inspect(&b, path, 100, "csv"); err != nil {
		t.Fatal(err)
	}
	r, _ = csv.NewReader(&b).ReadAll()
	for i, row := range r[1:] {
		if raw := in[i].Email; row[5] != cases[raw] {
			t.Errorf("inspect --format csv wrote %q as %q, want %q (escaped once)", raw, row[5], cases[raw])
		}
	}
}
