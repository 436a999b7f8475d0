package cli

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/cb2ac/cb2ac/pipeline"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load"
	"github.com/cb2ac/cb2ac/stages/transform"
)

// TestSchemaV1FilesStillRead holds the schema versions' promise (schemas/records.go):
// testdata/schema-v1 is the demo's night 1 as cb2ac wrote it before times became
// TIMESTAMP columns and strings NULL (validate/, Chargebee kinds version 1) and its
// synced snapshot (load/synced/). Today's transform reads that validate folder, and
// its output diffs against that synced snapshot with nothing to send: no twin, stamp
// or NULL moved a row hash, and an operator's old synced (or backfill) snapshot does
// not turn into a night of spurious updates.
func TestSchemaV1FilesStillRead(t *testing.T) {
	v1 := filepath.Join("internal", "cli", "testdata", "schema-v1")
	cfg, err := pipeline.LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := transform.Run(context.Background(), transform.Options{In: filepath.Join(v1, "validate"), RunID: fixedRun}, cfg.Transform, out); err != nil {
		t.Fatalf("transform of version 1 files: %v", err)
	}
	// The old files really are the old form.
	for _, f := range []string{"validate/customers.parquet", "validate/subscriptions.parquet", "synced/recurring_payments.parquet"} {
		if v := schemaVersion(t, filepath.Join(v1, f)); v != "1" {
			t.Fatalf("testdata/schema-v1/%s is schema version %s, want 1", f, v)
		}
	}
	plan := t.TempDir()
	res, err := load.Run(context.Background(), load.Options{In: out, Synced: filepath.Join(v1, "synced"), RunID: fixedRun, DryRun: true, Fields: cfg.Transform.Fields()}, cfg.ActiveCampaign, plan)
	if err != nil {
		t.Fatalf("plan against a version 1 synced snapshot: %v", err)
	}
	entries := readTable(t, schemas.Plans, filepath.Join(plan, "plan.parquet"))
	if len(entries) == 0 {
		t.Fatal("empty plan")
	}
	for _, e := range entries {
		if e.Op != load.OpUnchanged {
			t.Errorf("%s %s: %s %v against the version 1 synced snapshot of the same data, want unchanged", e.Entity, e.Key, e.Op, e.ChangedFields)
		}
	}
	t.Logf("plan: %v", res.Counts)
}

// schemaVersion is the cb2ac.schema_version of a Parquet file.
func schemaVersion(t *testing.T, path string) string {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	v := pf.MetaData().KeyValueMetadata().FindValue(schemas.MetaVersion)
	if v == nil {
		t.Fatalf("%s: no %s", path, schemas.MetaVersion)
	}
	return *v
}
