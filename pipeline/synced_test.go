package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A manifest file name is a file of the stage folder or of one folder in it (the
// load's synced/), never a way out of it.
func TestVerifyFilesNames(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "synced"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"plan.csv", "synced/contacts.parquet"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rec := func(name string) FileRecord {
		fr, err := hashFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		fr.Name = name
		return fr
	}
	for _, name := range []string{"plan.csv", "synced/contacts.parquet"} {
		if err := verifyFiles(dir, StageLoad, []FileRecord{rec(name)}, "fix it"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"", "../plan.csv", "/etc/passwd", "synced/../../x", "a/b/c"} {
		err := verifyFiles(dir, StageLoad, []FileRecord{{Name: name, SHA256: "00"}}, "fix it")
		if err == nil || !strings.Contains(err.Error(), "bad file entry") {
			t.Errorf("%q: %v, want a bad file entry", name, err)
		}
	}
	changed := rec("synced/contacts.parquet")
	os.WriteFile(filepath.Join(dir, "synced/contacts.parquet"), []byte("other"), 0o600)
	if err := verifyFiles(dir, StageLoad, []FileRecord{changed}, "fix it"); err == nil || !strings.HasSuffix(err.Error(), "; fix it") {
		t.Errorf("a changed file: %v, want an error ending with the remedy", err)
	}
}
