package cli

// Issue 17's operational points, end to end through the CLI: the synced snapshot in
// the manifest, status marks, backfill warnings, the past-date API extract, schema
// drift.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/schemas"
)

// The load's synced snapshot is in the manifest with rows and sha256, and a synced
// file replaced or truncated after the load is refused when the next load would diff
// against it (before: not listed, and read as if nothing had happened).
func TestSyncedFilesInManifestAndChecked(t *testing.T) {
	data := t.TempDir()
	ac := newOpsAC(t, acsandbox.Options{}, "")
	mustExit(t, ac.run(t, "--data-dir", data, "--run-id", fixedRun, "--log-level", "warn", "run", "--in", "fixtures/chargebee"), 0)
	m := readManifest(t, filepath.Join(data, "runs", fixedRun))
	synced := stageDir(data, fixedRun, "load") + "/synced/"
	for name, rows := range map[string]func(string) (int, error){
		"synced/contacts.parquet":           count(schemas.Contacts),
		"synced/recurring_payments.parquet": count(schemas.RecurringPayments),
	} {
		n, err := rows(filepath.Join(stageDir(data, fixedRun, "load"), name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fileRows(m, "load", name); got != int64(n) || n == 0 {
			t.Errorf("manifest load files: %s rows=%d, want %d (the file's)", name, got, n)
		}
	}
	plan := []string{"plan", "--in", stageDir(data, fixedRun, "transform")}
	if r := ac.run(t, append([]string{"--data-dir", data}, plan...)...); r.code != 0 {
		t.Fatalf("plan against an intact synced snapshot: exit %d: %s", r.code, r.stderr)
	}

	orig := map[string][]byte{}
	for _, f := range []string{"contacts.parquet", "recurring_payments.parquet"} {
		b, err := os.ReadFile(synced + f)
		if err != nil {
			t.Fatal(err)
		}
		orig[f] = b
	}
	other, err := os.ReadFile(filepath.Join(stageDir(data, fixedRun, "transform"), "recurring_payments.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tamper := range map[string]func(){
		"truncated": func() {
			os.WriteFile(synced+"contacts.parquet", orig["contacts.parquet"][:len(orig["contacts.parquet"])/2], 0o600)
		},
		"replaced": func() { os.WriteFile(synced+"recurring_payments.parquet", other, 0o600) },
		"deleted":  func() { os.Remove(synced + "contacts.parquet") },
	} {
		t.Run(name, func(t *testing.T) {
			tamper()
			for _, args := range [][]string{plan, {"run", "--in", "fixtures/chargebee"}} {
				r := ac.run(t, append([]string{"--data-dir", data, "--log-level", "warn"}, args...)...)
				if r.code != 1 || !strings.Contains(r.stderr, "last synced snapshot") || !strings.Contains(r.stderr, "--full") {
					t.Errorf("%v with a %s synced file: exit %d, want 1 naming the synced snapshot and --full: %s", args, name, r.code, r.stderr)
				}
				if strings.Contains(r.stdout, "load      ok") {
					t.Errorf("%v: the load ran: %s", args, r.stdout)
				}
			}
			// Put everything back for the next case.
			for f, b := range orig {
				os.WriteFile(synced+f, b, 0o600)
			}
		})
	}
}
