package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	s3sandbox "github.com/cb2ac/cb2ac/sandbox/s3"
	"github.com/cb2ac/cb2ac/schemas"
)

// setS3Env gives this process the fake server's dummy credentials.
func setS3Env(t *testing.T) {
	for _, kv := range s3sandbox.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// storageURLs are the drivers every Storage test runs against: memory, a folder,
// and the S3 API (in process, on 127.0.0.1).
func storageURLs(t *testing.T) map[string]string {
	setS3Env(t)
	srv := s3sandbox.Start()
	t.Cleanup(srv.Close)
	return map[string]string{
		"mem":  "mem://",
		"file": "file://" + t.TempDir(),
		"s3":   srv.DataURL("cb2ac", "team/data"),
	}
}

func openTestStorage(t *testing.T, u string) Storage {
	t.Helper()
	st, err := OpenStorage(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestStorageChecklist runs Storage's doc-comment checklist against each driver.
func TestStorageChecklist(t *testing.T) {
	for name, u := range storageURLs(t) {
		t.Run(name, func(t *testing.T) { checkStorage(t, u) })
	}
}

// TestStorageContractLive runs the checklist, the state precondition and the lock
// against a real bucket: `make test-live` with CB2AC_TEST_BUCKET set to a URL
// (s3://bucket/prefix, gs://…, azblob://…) and that cloud's usual credentials.
// It works under a fresh prefix and deletes what it wrote.
func TestStorageContractLive(t *testing.T) {
	base := os.Getenv("CB2AC_TEST_BUCKET")
	if os.Getenv("CB2AC_LIVE") != "1" || base == "" {
		t.Skip("live bucket: run `make test-live` with CB2AC_TEST_BUCKET (s3://bucket/prefix, gs://…, azblob://…) and the cloud's credentials set")
	}
	u, q, _ := strings.Cut(base, "?")
	u = strings.TrimSuffix(u, "/") + fmt.Sprintf("/cb2ac-live-%d", rand.Uint64())
	if q != "" {
		u += "?" + q
	}
	t.Cleanup(func() {
		st, err := OpenStorage(context.Background(), u)
		if err != nil {
			return
		}
		defer st.Close()
		keys, _ := st.List(context.Background(), "")
		for _, k := range keys {
			st.Delete(context.Background(), k)
		}
	})
	t.Run("checklist", func(t *testing.T) { checkStorage(t, u) })
	t.Run("state", func(t *testing.T) { checkStatePrecondition(t, u+"-state") })
	t.Run("lock", func(t *testing.T) { checkLock(t, u+"-lock") })
}

func checkStorage(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	st := openTestStorage(t, u)
	if strings.Contains(st.URL(), "?") {
		t.Errorf("URL() keeps the query: %s", st.URL())
	}
	if _, _, err := st.Get(ctx, "state.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get of an absent key: %v, want fs.ErrNotExist", err)
	}
	// PutIf "" creates only if absent.
	v1, err := st.PutIf(ctx, "state.json", []byte(`{"v":1}`), "")
	if err != nil || v1 == "" {
		t.Fatalf("PutIf absent: %q %v", v1, err)
	}
	var pe *PreconditionError
	if _, err := st.PutIf(ctx, "state.json", []byte(`{"v":"x"}`), ""); !errors.As(err, &pe) {
		t.Fatalf("PutIf absent over an object: %v, want *PreconditionError", err)
	}
	b, ver, err := st.Get(ctx, "state.json")
	if err != nil || string(b) != `{"v":1}` || ver != v1 {
		t.Fatalf("Get = %q %q %v, want {\"v\":1} %q", b, ver, err, v1)
	}
	v2, err := st.PutIf(ctx, "state.json", []byte(`{"v":2}`), v1)
	if err != nil || v2 == v1 {
		t.Fatalf("PutIf on the version read: %q %v", v2, err)
	}
	// A writer still holding v1 must not overwrite v2.
	if _, err := st.PutIf(ctx, "state.json", []byte(`{"v":"lost"}`), v1); !errors.As(err, &pe) {
		t.Fatalf("PutIf on a stale version: %v, want *PreconditionError", err)
	}
	if b, _, _ := st.Get(ctx, "state.json"); string(b) != `{"v":2}` {
		t.Fatalf("after a refused write: %s", b)
	}

	body := bytes.Repeat([]byte("0123456789"), 10000)
	if err := st.Put(ctx, "runs/r/extract/a.parquet", bytes.NewReader(body), map[string]string{metaSHA256: "abc"}); err != nil {
		t.Fatal(err)
	}
	size, meta, err := st.Stat(ctx, "runs/r/extract/a.parquet")
	if err != nil || size != int64(len(body)) || meta[metaSHA256] != "abc" {
		t.Fatalf("Stat = %d %v %v", size, meta, err)
	}
	f, err := st.Open(ctx, "runs/r/extract/a.parquet")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 7)
	if n, err := f.ReadAt(p, 99995); n != 5 || err != io.EOF || string(p[:5]) != "56789" {
		t.Fatalf("ReadAt past the end: %d %v %q", n, err, p[:n])
	}
	if n, err := f.ReadAt(p, 12); n != 7 || err != nil || string(p) != "2345678" {
		t.Fatalf("ReadAt: %d %v %q", n, err, p)
	}
	f.Close()

	keys, err := st.List(ctx, "runs/")
	if err != nil || !slices.Equal(keys, []string{"runs/r/extract/a.parquet"}) {
		t.Fatalf("List = %v %v", keys, err)
	}
	if err := st.Delete(ctx, "runs/r/extract/a.parquet"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "runs/r/extract/a.parquet"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	if _, _, err := st.Stat(ctx, "runs/r/extract/a.parquet"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat after Delete: %v", err)
	}
}

// TestStoragePutFailedLeavesNothing: an upload whose body fails half way commits
// no object, and leaves an older one as it was.
func TestStoragePutFailedLeavesNothing(t *testing.T) {
	ctx := context.Background()
	for name, u := range storageURLs(t) {
		t.Run(name, func(t *testing.T) {
			st := openTestStorage(t, u)
			broken := io.MultiReader(bytes.NewReader(make([]byte, 1<<16)), errReader{})
			if err := st.Put(ctx, "new.parquet", broken, nil); err == nil {
				t.Fatal("Put of a failing body succeeded")
			}
			if _, _, err := st.Stat(ctx, "new.parquet"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a failed Put left an object: %v", err)
			}
			if err := st.Put(ctx, "old.parquet", strings.NewReader("old"), nil); err != nil {
				t.Fatal(err)
			}
			broken = io.MultiReader(bytes.NewReader(make([]byte, 1<<16)), errReader{})
			if err := st.Put(ctx, "old.parquet", broken, nil); err == nil {
				t.Fatal("Put of a failing body succeeded")
			}
			if b, _, err := st.Get(ctx, "old.parquet"); err != nil || string(b) != "old" {
				t.Fatalf("a failed Put changed the old object: %q %v", b, err)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestOpenStorageRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://host/x", "s3:///prefix", "file://host/x"} {
		if _, err := OpenStorage(context.Background(), u); err == nil {
			t.Errorf("%s: no error", u)
		}
	}
	for in, want := range map[string]bool{"s3://b/p": true, "file:///tmp/x": true, "data": false, "/var/lib/cb2ac": false, "C:/x": false} {
		if got := IsDataURL(in); got != want {
			t.Errorf("IsDataURL(%q) = %v", in, got)
		}
	}
}

// mountTest mounts u as a pipeline's data dir.
func mountTest(t *testing.T, u string) *Pipeline {
	t.Helper()
	p := New(&Config{DataDir: u}, nil, io.Discard)
	p.Log = discardLog()
	unmount, err := p.MountDataDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unmount(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// TestStatePreconditionFails: two processes read state.json; the second to write
// is refused with a message naming the fix, and the first one's state stays.
func TestStatePreconditionFails(t *testing.T) {
	for name, u := range storageURLs(t) {
		if name == "mem" {
			continue // one process's memory: not shared between mounts
		}
		t.Run(name, func(t *testing.T) { checkStatePrecondition(t, u) })
	}
}

func checkStatePrecondition(t *testing.T, u string) {
	t.Helper()
	a, b := mountTest(t, u), mountTest(t, u)
	sa, err := LoadState(a.Cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := LoadState(b.Cfg.DataDir)
	sa.Extract.RunID = "20260101T000000Z"
	if err := sa.Save(a.Cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	sb.Extract.RunID = "20260202T000000Z"
	err = sb.Save(b.Cfg.DataDir)
	var pe *PreconditionError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "run again") {
		t.Fatalf("second writer: %v, want *PreconditionError naming the fix", err)
	}
	c := mountTest(t, u)
	sc, err := LoadState(c.Cfg.DataDir)
	if err != nil || sc.Extract.RunID != "20260101T000000Z" {
		t.Fatalf("state after the refused write: %+v %v", sc, err)
	}
	// The first writer goes on writing on the version it wrote.
	sa.Extract.RunID = "20260303T000000Z"
	if err := sa.Save(a.Cfg.DataDir); err != nil {
		t.Fatalf("first writer's second save: %v", err)
	}
	// A local mirror holds nothing of the URL: the config hash is the
	// same for every worker.
	if a.Cfg.Hash() != b.Cfg.Hash() {
		t.Error("two mounts of one URL hash their configs differently")
	}
}

// TestBlobLockContentionAndTakeover: a second lock is refused with the holder
// named; a lock whose lease expired is taken over and the log says so; a release
// deletes only the releaser's own lock.
func TestBlobLockContentionAndTakeover(t *testing.T) {
	for name, u := range storageURLs(t) {
		if name == "mem" {
			continue
		}
		t.Run(name, func(t *testing.T) { checkLock(t, u) })
	}
}

func checkLock(t *testing.T, u string) {
	t.Helper()
	a, b := mountTest(t, u), mountTest(t, u)
	unlockA, err := Lock(a.Cfg.DataDir, a.Log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(b.Cfg.DataDir, b.Log)
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(le.Holder, "lease until") || !strings.HasPrefix(le.Path, strings.SplitN(u, "?", 2)[0]) {
		t.Fatalf("second lock: %v, want *LockedError naming the holder and the URL", err)
	}
	unlockA()
	unlockB, err := Lock(b.Cfg.DataDir, b.Log)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlockB()

	// A holder that died: its lease is in the past.
	m, _ := mountOf(a.Cfg.DataDir)
	dead := `{"owner":"pid 1","host":"gone","since":"2026-01-01T00:00:00Z","expires":"2026-01-01T00:02:00Z"}`
	if _, err := m.store.PutIf(context.Background(), "lock", []byte(dead), ""); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	unlockB, err = Lock(b.Cfg.DataDir, textLog(&logBuf))
	if err != nil {
		t.Fatalf("an expired lease was not taken over: %v", err)
	}
	if !strings.Contains(logBuf.String(), "lock lease expired") || !strings.Contains(logBuf.String(), "gone") {
		t.Errorf("the takeover is not logged with the old holder: %s", logBuf.String())
	}
	if _, err := Lock(a.Cfg.DataDir, a.Log); !errors.As(err, &le) {
		t.Fatalf("lock while the taker holds it: %v", err)
	}
	unlockB()
	if ok, _ := (remoteFiles{m}).Exists("lock"); ok {
		t.Error("release left the lock object")
	}
}

// TestMountReadsParquetByRanges: reading two columns of a Parquet file in a bucket
// fetches a fraction of it (footer and those column chunks), not the whole object.
func TestMountReadsParquetByRanges(t *testing.T) {
	setS3Env(t)
	srv := s3sandbox.Start()
	t.Cleanup(srv.Close)
	p := mountTest(t, srv.DataURL("cb2ac", "ranged"))
	dir := filepath.Join(p.Cfg.DataDir, "runs", "20260101T000000Z", "transform")
	writeWideParquet(t, dir)
	if err := PublishDir(dir); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "contacts.parquet")
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil { // only in the bucket now
		t.Fatal(err)
	}
	m, _ := mountOf(dir)
	bs := m.store.(*blobStore)
	before := bs.rangeBytes.Load()
	n := countColumns(t, name, []string{"email", "row_hash"})
	read := bs.rangeBytes.Load() - before
	if n == 0 {
		t.Fatal("no rows read")
	}
	if read <= 0 || read*3 > fi.Size() {
		t.Errorf("read %d of %d bytes for two columns: want ranged reads of under a third", read, fi.Size())
	}
	t.Logf("two columns of %d rows: %d of %d bytes fetched", n, read, fi.Size())
}

func discardLog() *slog.Logger         { return slog.New(slog.DiscardHandler) }
func textLog(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// wideRow is a table with two small columns and three wide ones.
type wideRow struct {
	Email   string `parquet:"email"`
	A       string `parquet:"a"`
	B       string `parquet:"b"`
	C       string `parquet:"c"`
	RowHash uint64 `parquet:"row_hash"`
}

var wideTable = schemas.NewTable[wideRow]("wide", 1)

func writeWideParquet(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	recs := make([]wideRow, 20000)
	for i := range recs {
		recs[i] = wideRow{Email: fmt.Sprintf("c%d@example.com", i), A: word(40), B: word(40), C: word(40), RowHash: rng.Uint64()}
	}
	if err := wideTable.WriteFile(filepath.Join(dir, "contacts.parquet"), recs); err != nil {
		t.Fatal(err)
	}
}

func countColumns(t *testing.T, path string, cols []string) int {
	t.Helper()
	n := 0
	if err := wideTable.EachColumns(path, cols, func(r *wideRow) error {
		if r.Email == "" || r.A != "" {
			return fmt.Errorf("row %d: %+v", n, r)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStaleMirrorsRemoved: the mirror of a killed command (no flock on it) is
// deleted by the next mount; a live one (flocked) and a new one are left.
func TestStaleMirrorsRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead, live := filepath.Join(tmp, mirrorPrefix+"1"), filepath.Join(tmp, mirrorPrefix+"2")
	for _, d := range []string{dead, live} {
		if err := os.MkdirAll(filepath.Join(d, "runs"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	young := filepath.Join(tmp, mirrorPrefix+"3") // made a moment ago, not yet flocked
	if err := os.MkdirAll(young, 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, d := range []string{dead, live} {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := flock(f); err != nil {
		t.Fatal(err)
	}
	mountTest(t, "file://"+t.TempDir())
	if _, err := os.Stat(dead); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dead mirror is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live mirror was removed: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a mirror made a moment ago was removed: %v", err)
	}
}

// TestLostLockStopsWrites: when another run takes the lock over (this one's lease
// lapsed, say the process was frozen), this run's next upload and state write are
// refused instead of mixing with the other run's.
func TestLostLockStopsWrites(t *testing.T) {
	t.Setenv(LeaseEnv, "150ms")
	p := mountTest(t, "file://"+t.TempDir())
	unlock, err := Lock(p.Cfg.DataDir, p.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	m, _ := mountOf(p.Cfg.DataDir)
	_, ver, err := m.store.Get(context.Background(), "lock")
	if err != nil {
		t.Fatal(err)
	}
	other := `{"owner":"pid 2","host":"worker-b","expires":"2099-01-01T00:00:00Z"}`
	if _, err := m.store.PutIf(context.Background(), "lock", []byte(other), ver); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !m.lost.Load() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !m.lost.Load() {
		t.Fatal("the renewal never noticed the takeover")
	}
	st, _ := LoadState(p.Cfg.DataDir)
	if err := st.Save(p.Cfg.DataDir); err == nil || !strings.Contains(err.Error(), "taken over") {
		t.Errorf("state write after the lock was lost: %v", err)
	}
	dir := filepath.Join(p.Cfg.DataDir, "runs", "20260101T000000Z", "extract")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "x.csv"), []byte("a\n"), 0o600)
	if err := PublishDir(dir); err == nil {
		t.Error("upload after the lock was lost succeeded")
	}
	if b, _, _ := m.store.Get(context.Background(), "lock"); string(b) != other {
		t.Errorf("the other run's lock was touched: %s", b)
	}
}
