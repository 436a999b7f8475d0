package pipeline

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Deleting DATA/lock (it looks like a stale pid file) or replacing it does not let
// a second run in: the lock is the data dir itself.
func TestLockSurvivesDeletedLockFile(t *testing.T) {
	data := t.TempDir()
	unlock, err := Lock(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(LockPath(data)); err != nil {
		t.Fatal(err)
	}
	var locked *LockedError
	if _, err := Lock(data, nil); !errors.As(err, &locked) {
		t.Fatalf("second lock after the lock file was deleted: %v, want *LockedError", err)
	}
	if err := os.WriteFile(LockPath(data), []byte("stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(data, nil); !errors.As(err, &locked) {
		t.Fatalf("second lock after the lock file was replaced: %v, want *LockedError", err)
	}
	unlock()
	unlock2, err := Lock(data, nil)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock2()
}

// A lock file held by an older cb2ac (which flocks only the file) still excludes.
func TestLockFileStillExcludes(t *testing.T) {
	data := t.TempDir()
	f, err := os.OpenFile(LockPath(data), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("pid 1 since then\n")
	if err := flock(f); err != nil {
		t.Fatal(err)
	}
	var locked *LockedError
	if _, err := Lock(data, nil); !errors.As(err, &locked) || locked.Holder != "pid 1 since then" {
		t.Fatalf("lock while the file is flocked: %v, want *LockedError naming the holder", err)
	}
}

// A planted DATA/lock symlink is refused, and its target left as it was.
func TestLockRefusesSymlink(t *testing.T) {
	data := t.TempDir()
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, LockPath(data)); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(data, nil); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("lock through a symlink: %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me\n" {
		t.Errorf("symlink target now %q", b)
	}
}

// A data dir writable by group or others is tightened to 0700, with a warning.
func TestLockTightensWritableDataDir(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o777); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	unlock, err := Lock(data, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "tightened to 0700") {
		t.Errorf("no warning: %q", logs.String())
	}
}
