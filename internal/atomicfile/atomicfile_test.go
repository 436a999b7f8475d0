package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// dirHolds checks that dir holds exactly want (name → content): no temp file left.
func dirHolds(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(want) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want only %d files", dir, names, len(want))
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != content {
			t.Errorf("%s: %q, %v; want the previous content %q", name, b, err, content)
		}
	}
}

// A disk that fills at fsync: Commit fails with ENOSPC, the temp file is gone and
// the previous file is intact.
func TestCommitDiskFull(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	syncFile = func(*os.File) error { return syscall.ENOSPC }
	t.Cleanup(func() { syncFile = (*os.File).Sync })

	err := WriteFile(path, bytes.Repeat([]byte("new"), 1000))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("WriteFile on a full disk: %v, want ENOSPC", err)
	}
	dirHolds(t, dir, map[string]string{"state.json": "old"})

	// The same through Create/Write/Commit, with Abort deferred as callers do.
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Commit: %v", err)
	}
	f.Abort()
	dirHolds(t, dir, map[string]string{"state.json": "old"})
}

// A write the kernel refuses part way (RLIMIT_FSIZE: EFBIG, since Go ignores
// SIGXFSZ) leaves no partial file and the previous one intact.
func TestWriteFailsPartWay(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "customers.parquet")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	small := lim
	small.Cur = 4096
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		t.Skip(err)
	}
	err := WriteFile(path, make([]byte, 64<<10))
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim)
	if err == nil {
		t.Fatal("a write over the file size limit succeeded")
	}
	dirHolds(t, dir, map[string]string{"customers.parquet": "old"})
}

// Files are 0600 and new folders 0700 whatever the umask allows.
func TestModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "f")
	if err := WriteFile(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: FileMode, filepath.Dir(path): DirMode, filepath.Dir(filepath.Dir(path)): DirMode} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want %v", p, st.Mode().Perm(), err, want)
		}
	}
}
