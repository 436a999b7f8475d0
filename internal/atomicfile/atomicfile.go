// Package atomicfile writes files so that a reader sees either the old file or the
// complete new one, never a torn write: data goes to a temp file in the same folder,
// is fsynced, renamed over the target, and the folder is fsynced so the rename survives
// a crash.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// FileMode and DirMode are the modes for everything cb2ac writes: the files hold
// customer data, so only the owner may read them.
const (
	FileMode os.FileMode = 0o600
	DirMode  os.FileMode = 0o700
)

// syncFile is (*os.File).Sync. A full disk often shows first at fsync, which a test
// cannot provoke without root, so the test swaps this for one that fails.
var syncFile = (*os.File).Sync

// File is a temp file that becomes Path on Commit. Write to it like an *os.File.
type File struct {
	*os.File
	Path string
	done bool
}

// Create opens a temp file beside path. Call Commit to publish it or Abort to drop it;
// calling Abort after Commit is a no-op, so `defer f.Abort()` is always safe.
func Create(path string) (*File, error) { return create(path, FileMode) }

func create(path string, mode os.FileMode) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &File{File: tmp, Path: path}, nil
}

// Commit fsyncs the temp file, renames it to Path and fsyncs the folder.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already committed or aborted", f.Path)
	}
	f.done = true
	tmp := f.File.Name()
	if err := syncFile(f.File); err != nil {
		f.File.Close()
		os.Remove(tmp)
		return fmt.Errorf("commit %s: fsync: %w", f.Path, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("commit %s: %w", f.Path, err)
	}
	if err := os.Rename(tmp, f.Path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("commit %s: %w", f.Path, err)
	}
	return SyncDir(filepath.Dir(f.Path))
}

// Abort closes and removes the temp file unless it was committed.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to path atomically, with FileMode.
func WriteFile(path string, data []byte) error { return WriteFileMode(path, data, FileMode) }

// WriteFileMode writes data to path atomically with mode (whatever the umask), for
// the rare file another user must read and that holds nothing private (the metrics
// file node_exporter reads). A missing folder is still created with DirMode.
func WriteFileMode(path string, data []byte, mode os.FileMode) error {
	f, err := create(path, mode)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// SyncDir fsyncs a folder so renames and removals inside it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
