package pipeline

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// LockedError says another cb2ac holds the data dir's lock (exit 75, EX_TEMPFAIL:
// a scheduler tries again later).
type LockedError struct {
	Path   string
	Holder string // what the holder wrote into the lock file, if readable
}

func (e *LockedError) Error() string {
	msg := "another cb2ac is running on this data dir (" + e.Path + ")"
	if e.Holder != "" {
		msg += ": " + e.Holder
	}
	return msg
}

// LockPath is data/lock.
func LockPath(dataDir string) string { return filepath.Join(dataDir, "lock") }

// Lock takes the data dir's exclusive lock without waiting, and returns the function
// that releases it (a data dir in a bucket has a leased lock object instead: see
// mount.lock). flock(2) is released by the kernel when the process dies, so a
// killed run never leaves a stale lock behind.
//
// The lock is the data dir itself, flocked through a descriptor of the folder: the
// lock file can be deleted (it looks like a stale pid file) or replaced without a
// second run getting in, since a new file would be a new lock but the folder is the
// same one. The file DATA/lock is still flocked too (an older cb2ac locks only it)
// and carries the holder's pid and start time for the message; it is opened without
// following a symbolic link (a planted link would have its target truncated) and
// must be a regular file. A run that finds the lock taken returns *LockedError
// before it has written anything.
//
// A data dir writable by its group or by others (another user could replace
// state.json or plant files) is tightened to 0700 with a warning on log.
func Lock(dataDir string, log *slog.Logger) (unlock func(), err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m, key := mountOf(dataDir); m != nil && key == "" {
		return m.lock(log) // a bucket: a leased lock object
	}
	path := LockPath(dataDir)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	dir, err := os.Open(dataDir)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := flock(dir); err != nil {
		dir.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, Holder: holder(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", dataDir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		dir.Close()
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("lock: %s is a symbolic link; cb2ac does not follow it (remove it)", path)
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	release := func() { f.Close(); dir.Close() }
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		release()
		return nil, fmt.Errorf("lock: %s is not a regular file (remove it)", path)
	}
	if err := flock(f); err != nil {
		release()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, Holder: holder(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if fi, err := dir.Stat(); err == nil && fi.Mode().Perm()&0o022 != 0 {
		if err := os.Chmod(dataDir, 0o700); err != nil {
			release()
			return nil, fmt.Errorf("data dir %s is writable by group or others (%v) and could not be tightened: %w", dataDir, fi.Mode().Perm(), err)
		}
		log.Warn("data dir was writable by group or others; tightened to 0700", "data_dir", dataDir, "was", fi.Mode().Perm().String())
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	return release, nil
}

func flock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// holder reads what the lock's holder wrote, without following a symbolic link
// and never more than a line's worth.
func holder(path string) string {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 200))
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}
