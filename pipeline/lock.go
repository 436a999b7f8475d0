package pipeline

import (
	"errors"
	"fmt"
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

// Lock takes the data dir's exclusive lock without waiting. flock(2) is released by
// the kernel when the process dies, so a killed run never leaves a stale lock
// behind. A run that finds the lock taken returns *LockedError before it has
// touched anything; the holder writes its pid and start time into the file so the
// message can say who holds it.
func Lock(dataDir string) (unlock func(), err error) {
	path := LockPath(dataDir)
	if _, err := os.Stat(path); err == nil {
		// Probe without O_CREATE or a truncating write, so a run that loses the
		// race leaves the file exactly as the holder wrote it.
		if f, err := os.Open(path); err == nil {
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
				b, _ := os.ReadFile(path)
				f.Close()
				return nil, &LockedError{Path: path, Holder: strings.TrimSpace(string(b))}
			}
			f.Close()
		}
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := os.ReadFile(path)
			return nil, &LockedError{Path: path, Holder: strings.TrimSpace(string(b))}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	return func() { f.Close() }, nil
}
