package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/cb2ac/cb2ac/pipeline"
	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	s3sandbox "github.com/cb2ac/cb2ac/sandbox/s3"
	"github.com/cb2ac/cb2ac/schemas"
)

// The object-storage suite: the real binary with --data-dir s3://… against an S3
// API served by this test process on 127.0.0.1 (sandbox/s3), with dummy
// credentials in the child's environment only.

func startS3(t *testing.T, hook func(*http.Request)) *s3sandbox.Server {
	t.Helper()
	for _, kv := range s3sandbox.Env() { // for this process's own reads of the bucket
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	srv := s3sandbox.StartHooked(hook)
	t.Cleanup(srv.Close)
	return srv
}

func openBucket(t *testing.T, dataURL string) pipeline.Storage {
	t.Helper()
	st, err := pipeline.OpenStorage(context.Background(), dataURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// treeHashes is every file of a data dir on disk, by slash path, with its sha256.
func treeHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = dataHash(rel, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dataHash is a file's sha256; a journal's without the time of each line and
// the import ids the AC sandbox draws at random; a stamped file's without its
// extracted_at (when that night's extract started, on disk and in the bucket a
// few seconds apart).
func dataHash(name string, b []byte) string {
	switch path.Ext(name) {
	case ".parquet":
		b = withoutExtractedAtParquet(b)
	case ".csv":
		b = withoutExtractedAtCSV(b)
	}
	if strings.HasSuffix(name, ".jsonl") {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(l), &e) == nil {
				delete(e, "at")
				delete(e, "import")
				nb, _ := json.Marshal(e)
				l = string(nb)
			}
			lines = append(lines, l)
		}
		b = []byte(strings.Join(lines, "\n"))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// bucketHashes is treeHashes of a data dir in a bucket.
func bucketHashes(t *testing.T, st pipeline.Storage) map[string]string {
	t.Helper()
	keys, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		b, _, err := st.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = dataHash(k, b)
	}
	return out
}

// dataFiles keeps the files that are a run's data: not the manifests, state.json,
// the lock or the sandbox's own files, which carry times, ports and paths.
func dataFiles(h map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "runs/") && path.Base(k) != "manifest.json" {
			out[k] = v
		}
	}
	return out
}

func sameTrees(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("nothing to compare")
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: on disk, not in the bucket", k)
		} else if g != w {
			t.Errorf("%s: differs between disk and bucket", k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: in the bucket, not on disk", k)
		}
	}
}

func bucketManifest(t *testing.T, st pipeline.Storage, runID string) *pipeline.Manifest {
	t.Helper()
	b, _, err := st.Get(context.Background(), "runs/"+runID+"/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m pipeline.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestObjectStorageDemo runs the demo's three nights (make demo) on a disk and on
// s3://, and wants the same files in both, byte for byte.
func TestObjectStorageDemo(t *testing.T) {
	srv := startS3(t, nil)
	dataURL := srv.DataURL("cb2ac", "team/cb2ac")
	disk := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	nights := []struct{ id, apply string }{
		{"20261120T020000Z", ""},
		{"20261121T020000Z", ""},
		{"20261122T020000Z", "fixtures/chargebee-day2"},
	}
	for _, n := range nights {
		for _, dd := range []string{disk, dataURL} {
			// Unthrottled: the demo's pace is not what is tested.
			args := []string{"--data-dir", dd, "--config", cfg, "--log-level", "warn", "--run-id", n.id, "run", "--sandbox", "--csv", "--sandbox-ac-rate", "0"}
			if n.apply != "" {
				args = append(args, "--sandbox-apply", n.apply)
			}
			r := cb2acEnv(t, s3sandbox.Env(), args...)
			if r.code != 0 {
				t.Fatalf("night %s on %s: exit %d\n%s%s", n.id, dd, r.code, r.stdout, r.stderr)
			}
			if dd == dataURL && !strings.Contains(r.stdout, "run "+n.id+" done: s3://cb2ac/team/cb2ac/runs/"+n.id) {
				t.Errorf("the run is not named by its URL:\n%s", r.stdout)
			}
			if dd == dataURL && strings.Contains(r.stdout+r.stderr, os.TempDir()) {
				t.Errorf("a local mirror path reached the output:\n%s", r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, "cb2ac-test") {
				t.Error("the dummy credentials reached the output")
			}
		}
	}
	st := openBucket(t, dataURL)
	sameTrees(t, dataFiles(bucketHashes(t, st)), dataFiles(treeHashes(t, disk)))
	for _, n := range nights {
		if m := bucketManifest(t, st, n.id); m.Stages[pipeline.StageLoad] == nil || m.Stages[pipeline.StageLoad].Status != pipeline.StatusSucceeded {
			t.Errorf("run %s: the load did not succeed in the bucket's manifest", n.id)
		}
	}
	b, _, err := st.Get(context.Background(), "state.json")
	if err != nil || !strings.Contains(string(b), `"run_id": "20261122T020000Z"`) {
		t.Errorf("state.json in the bucket: %s %v", b, err)
	}
	if _, _, err := st.Get(context.Background(), "lock"); err == nil {
		t.Error("the lock object outlived the runs")
	}
}

// cb2acIn runs the binary from its own working directory, as a worker on
// another machine would (nothing on its disk but the binary and its input).
func cb2acIn(t *testing.T, cwd string, args ...string) result {
	t.Helper()
	cmd, out, errb := cliCommand(s3sandbox.Env(), args...)
	cmd.Dir = cwd
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// TestObjectStorageStageByStage runs extract, validate and transform as three
// workers, each from its own empty working directory, on one bucket, and wants
// what one process writes on a disk.
func TestObjectStorageStageByStage(t *testing.T) {
	srv := startS3(t, nil)
	dataURL := srv.DataURL("cb2ac", "workers")
	pages, _ := filepath.Abs("fixtures/chargebee")
	disk := t.TempDir()
	if r := cb2ac(t, "--data-dir", disk, "--run-id", fixedRun, "--csv", "run", "--in", pages); r.code != 0 {
		t.Fatalf("disk run: %d %s", r.code, r.stderr)
	}
	for _, step := range [][]string{
		{"--run-id", fixedRun, "--csv", "extract", "--in", pages},
		{"--run-id", fixedRun, "--csv", "validate"},
		{"--csv", "transform"}, // the latest run with a validate stage
	} {
		r := cb2acIn(t, t.TempDir(), append([]string{"--data-dir", dataURL}, step...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", step, r.code, r.stdout, r.stderr)
		}
	}
	st := openBucket(t, dataURL)
	sameTrees(t, dataFiles(bucketHashes(t, st)), dataFiles(treeHashes(t, disk)))
	m := bucketManifest(t, st, fixedRun)
	for _, s := range []string{pipeline.StageExtract, pipeline.StageValidate, pipeline.StageTransform} {
		if m.Stages[s] == nil || m.Stages[s].Status != pipeline.StatusSucceeded {
			t.Fatalf("%s not succeeded in the bucket's manifest", s)
		}
	}
	if in := m.Stages[pipeline.StageTransform].Inputs; len(in) != 1 || in[0].Dir != "s3://cb2ac/workers/runs/"+fixedRun+"/validate" {
		t.Errorf("transform's input is not named by its URL: %+v", in)
	}
	// A backfill names its input by URL.
	r := cb2acIn(t, t.TempDir(), "--data-dir", dataURL, "--run-id", "20261121T020000Z", "validate", "--in", "s3://cb2ac/workers/runs/"+fixedRun+"/extract")
	if r.code != 0 {
		t.Fatalf("validate --in URL: %d %s", r.code, r.stderr)
	}
}

// TestObjectStorageLock: a live lock object makes a run exit 75 and write nothing;
// an expired one is taken over, and the log says so.
func TestObjectStorageLock(t *testing.T) {
	srv := startS3(t, nil)
	dataURL := srv.DataURL("cb2ac", "locked")
	st := openBucket(t, dataURL)
	ctx := context.Background()
	pages, _ := filepath.Abs("fixtures/chargebee")
	live := `{"owner":"pid 7","host":"worker-a","since":"2026-01-01T00:00:00Z","expires":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`
	if _, err := st.PutIf(ctx, "lock", []byte(live), ""); err != nil {
		t.Fatal(err)
	}
	r := cb2acIn(t, t.TempDir(), "--data-dir", dataURL, "run", "--in", pages)
	if r.code != 75 || !strings.Contains(r.stderr, "worker-a") {
		t.Fatalf("run against a held lock: exit %d, want 75 naming the holder\n%s", r.code, r.stderr)
	}
	if keys, _ := st.List(ctx, ""); !slices.Equal(keys, []string{"lock"}) {
		t.Fatalf("a locked-out run wrote %v", keys)
	}

	_, ver, _ := st.Get(ctx, "lock")
	dead := `{"owner":"pid 7","host":"worker-a","since":"2026-01-01T00:00:00Z","expires":"2026-01-01T00:02:00Z"}`
	if _, err := st.PutIf(ctx, "lock", []byte(dead), ver); err != nil {
		t.Fatal(err)
	}
	r = cb2acIn(t, t.TempDir(), "--data-dir", dataURL, "run", "--in", pages)
	if r.code != 0 {
		t.Fatalf("run after the holder died: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "lock lease expired") || !strings.Contains(r.stderr, "worker-a") {
		t.Errorf("the takeover is not logged:\n%s", r.stderr)
	}
}

// TestObjectStorageKillMidUpload SIGKILLs the job while the S3 server is
// receiving transform's contacts.parquet: no part of it becomes visible, the
// manifest does not say succeeded, and a worker elsewhere re-runs the stage.
func TestObjectStorageKillMidUpload(t *testing.T) {
	var (
		mu     sync.Mutex
		victim *os.Process
		killed bool
	)
	srv := startS3(t, func(r *http.Request) {
		if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/transform/contacts.parquet") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if victim == nil || killed {
			return
		}
		io.CopyN(io.Discard, r.Body, 512) // the upload has begun
		victim.Signal(syscall.SIGKILL)
		killed = true
		time.Sleep(100 * time.Millisecond)
	})
	dataURL := srv.DataURL("cb2ac", "killed")
	pages, _ := filepath.Abs("fixtures/chargebee")
	lease := pipeline.LeaseEnv + "=5s" // long enough for the refused attempt below on a loaded machine
	// The killed job's mirror stays behind, in a folder of the test's.
	cmd, _, errb := cliCommand(append(s3sandbox.Env(), lease, "TMPDIR="+t.TempDir()), "--data-dir", dataURL, "--run-id", fixedRun, "run", "--in", pages)
	cmd.Dir = t.TempDir()
	mu.Lock()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	victim = cmd.Process
	mu.Unlock()
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !killed || !ok || !ws.Signaled() {
		t.Fatalf("the job was not killed mid-upload: %v\n%s", err, errb)
	}
	st := openBucket(t, dataURL)
	ctx := context.Background()
	if _, _, err := st.Stat(ctx, "runs/"+fixedRun+"/transform/contacts.parquet"); err == nil {
		t.Fatal("a killed upload left contacts.parquet in the bucket")
	}
	if s := bucketManifest(t, st, fixedRun).Stages[pipeline.StageTransform]; s == nil || s.Status == pipeline.StatusSucceeded {
		t.Fatalf("transform after the kill: %+v, want running", s)
	}
	// The lock's holder died holding it: a worker elsewhere is refused until
	// the lease runs out, then takes the lock over and re-runs the stage.
	if r := cb2acIn(t, t.TempDir(), "--data-dir", dataURL, "--run-id", fixedRun, "transform"); r.code != 75 {
		t.Fatalf("transform while the dead holder's lease lasts: exit %d, want 75\n%s", r.code, r.stderr)
	}
	time.Sleep(5 * time.Second)
	cmd, out, errb := cliCommand(append(s3sandbox.Env(), lease), "--data-dir", dataURL, "--run-id", fixedRun, "transform")
	cmd.Dir = t.TempDir()
	if err := cmd.Run(); err != nil {
		t.Fatalf("transform after the lease ran out: %v\n%s%s", err, out, errb)
	}
	if !strings.Contains(errb.String(), "lock lease expired") {
		t.Errorf("the takeover is not logged:\n%s", errb)
	}
	if s := bucketManifest(t, st, fixedRun).Stages[pipeline.StageTransform]; s == nil || s.Status != pipeline.StatusSucceeded {
		t.Fatalf("transform re-run: %+v", s)
	}
}

// TestObjectStorageLoadKilledResumes SIGKILLs a load on s3:// after its contacts
// were acknowledged (the job held at its first recurring payment batch), then
// resumes from another working folder: the journal that went up while the load
// ran means no record is sent twice, and AC ends as after an uninterrupted night.
func TestObjectStorageLoadKilledResumes(t *testing.T) {
	cfg := writeConfig(t, acConfig{unthrottled: true, importBatch: 25, importMin: 1, rpBatch: 25})
	dataWrite := func(op string) bool { return contactOps[op] || op == "bulkUpsertRecurringPayments" }
	clean := startAC(t, acsandbox.Options{})
	mustExit(t, cb2acEnv(t, clean.env(), "--data-dir", t.TempDir(), "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day1Run), 0)
	clean.Flush()
	want := normalize(clean.Snapshot())

	srv := startS3(t, nil)
	dataURL := srv.DataURL("cb2ac", "resume")
	pages, _ := filepath.Abs("fixtures/chargebee")
	var (
		armed  atomic.Bool
		mu     sync.Mutex
		writes int
	)
	stalled, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	var once sync.Once
	ac := startAC(t, acsandbox.Options{Hook: func(ctx context.Context, r acsandbox.Request) {
		if !armed.Load() || !dataWrite(r.Op) {
			return
		}
		mu.Lock()
		hit := r.Op == "bulkUpsertRecurringPayments" && writes >= 3
		writes++
		mu.Unlock()
		if hit {
			armed.Store(false)
			once.Do(func() { close(stalled) })
			select {
			case <-ctx.Done():
			case <-release:
			}
		}
	}})
	armed.Store(true)
	env := append(ac.env(), s3sandbox.Env()...)
	short := []string{pipeline.LeaseEnv + "=2s", pipeline.JournalSyncEnv + "=100ms", "TMPDIR=" + t.TempDir()}
	cmd, out, errb := cliCommand(append(env, short...), "--data-dir", dataURL, "--config", cfg, "run", "--in", pages, "--run-id", day1Run)
	cmd.Dir = t.TempDir()
	killAtStall(t, cmd, out, errb, stalled, time.Second /* several journal uploads */, 60*time.Second)
	time.Sleep(2 * time.Second) // the dead job's lease runs out

	cmd, out, errb = cliCommand(env, "--data-dir", dataURL, "--config", cfg, "load", "--resume", "--run-id", day1Run)
	cmd.Dir = t.TempDir()
	if err := cmd.Run(); err != nil {
		t.Fatalf("load --resume: %v\n%s%s", err, out, errb)
	}
	ac.Flush()
	if tw := sentRecords(ac.Requests()).twice(); len(tw) > 0 {
		t.Errorf("records sent twice: %v", tw)
	}
	if got := normalize(ac.Snapshot()); !reflect.DeepEqual(got, want) {
		t.Errorf("AC after the resume differs from an uninterrupted night")
	}
}

// withoutExtractedAtParquet is a Parquet file's columns and footer metadata as JSON,
// all but the extracted_at column and key. A file that does not decode is kept as
// it is, so it is still compared byte for byte.
func withoutExtractedAtParquet(b []byte) []byte {
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		return b
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return b
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return b
	}
	defer tbl.Release()
	var out bytes.Buffer
	kv := pf.MetaData().KeyValueMetadata()
	for i, k := range kv.Keys() {
		if k != schemas.MetaExtractedAt {
			fmt.Fprintf(&out, "%s=%s\n", k, kv.Values()[i])
		}
	}
	for i, f := range tbl.Schema().Fields() {
		if f.Name == schemas.StampExtractedAt {
			continue
		}
		fmt.Fprintf(&out, "%s %s\n", f.Name, f.Type)
		for _, ch := range tbl.Column(i).Data().Chunks() {
			j, err := ch.MarshalJSON()
			if err != nil {
				return b
			}
			out.Write(j)
		}
	}
	return out.Bytes()
}

// withoutExtractedAtCSV is a CSV twin without its extracted_at column.
func withoutExtractedAtCSV(b []byte) []byte {
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) == 0 {
		return b
	}
	col := slices.Index(rows[0], schemas.StampExtractedAt)
	if col < 0 {
		return b
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for _, r := range rows {
		if col < len(r) {
			r = slices.Delete(r, col, col+1)
		}
		_ = w.Write(r)
	}
	w.Flush()
	return out.Bytes()
}
