package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	"github.com/cb2ac/cb2ac/schemas"
)

// A data dir in object storage is worked on through a mount: a local folder that
// mirrors the bucket prefix's layout, so the pipeline and the stages keep working
// with paths. At start (and again once the lock is held) the small files come
// down (state.json, manifests, error CSVs, journals, the sandbox's state); Parquet
// stays in the bucket and is read in place with ranged reads (schemas.MountRemote).
// Writes go up: a stage writes into the local folder as on a disk, and its files
// are uploaded whole before its manifest entry says succeeded; a manifest is
// uploaded each time it is written; state.json is written with a precondition on
// the version read; the lock is a leased object (bloblock.go).
type mount struct {
	store Storage
	root  string // the local mirror
	ctx   context.Context
	log   *slog.Logger

	mu           sync.Mutex
	stateVersion string   // state.json's version as last read or written; "" = absent
	foreign      []string // top-level names cb2ac does not write

	// lost is set when another run took the lock over (this run's lease had
	// lapsed): from then on this run writes nothing more to the bucket.
	lost atomic.Bool
}

// errIfLost refuses a write once the lock was taken over.
func (m *mount) errIfLost() error {
	if m.lost.Load() {
		return fmt.Errorf("the lock of %s was taken over by another run (this run's lease lapsed); this run stops writing", m.store.URL())
	}
	return nil
}

var (
	mountsMu sync.RWMutex
	mounts   = map[string]*mount{}
)

// mountOf returns the mount whose mirror holds p, and p as a key of the store.
func mountOf(p string) (*mount, string) {
	p = filepath.Clean(p)
	mountsMu.RLock()
	defer mountsMu.RUnlock()
	for root, m := range mounts {
		if p == root {
			return m, ""
		}
		if rel, ok := strings.CutPrefix(p, root+string(filepath.Separator)); ok {
			return m, filepath.ToSlash(rel)
		}
	}
	return nil, ""
}

// MountDataDir serves a data dir URL (see OpenStorage) through a fresh local
// mirror: Cfg.DataDir becomes the mirror's path and the URL is kept for the
// config hash and messages. A plain path is left alone. The returned function
// unmounts and deletes the mirror; call it when the command ends.
func (p *Pipeline) MountDataDir(ctx context.Context) (unmount func() error, err error) {
	if !IsDataURL(p.Cfg.DataDir) {
		return func() error { return nil }, nil
	}
	st, err := OpenStorage(ctx, p.Cfg.DataDir)
	if err != nil {
		return nil, err
	}
	removeStaleMirrors(p.Log)
	root, err := os.MkdirTemp("", mirrorPrefix)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("data dir %s: local mirror: %w", st.URL(), err)
	}
	// Held while the mirror is in use; the kernel lets go when the process dies,
	// which is how the next command knows a mirror is stale.
	held, err := os.Open(root)
	if err == nil {
		err = flock(held)
	}
	if err != nil {
		st.Close()
		os.RemoveAll(root)
		return nil, fmt.Errorf("data dir %s: local mirror: %w", st.URL(), err)
	}
	m := &mount{store: st, root: root, ctx: ctx, log: p.Log}
	if err := m.hydrate(); err != nil {
		st.Close()
		os.RemoveAll(root)
		held.Close()
		return nil, err
	}
	mountsMu.Lock()
	mounts[root] = m
	mountsMu.Unlock()
	unmountFiles := schemas.MountRemote(root, remoteFiles{m})
	p.Cfg.dataURL, p.Cfg.DataDir = st.URL(), root
	return func() error {
		unmountFiles()
		mountsMu.Lock()
		delete(mounts, root)
		mountsMu.Unlock()
		defer held.Close()
		return errors.Join(st.Close(), os.RemoveAll(root))
	}, nil
}

// mirrorPrefix names the local mirrors in the temp folder.
const mirrorPrefix = "cb2ac-data-"

// removeStaleMirrors deletes the mirrors of commands that were killed (a mirror
// holds customer data, and nobody else cleans it up): one whose flock can be
// taken has no living owner. A mirror younger than a minute is left: another
// command may be between creating it and taking its flock.
func removeStaleMirrors(log *slog.Logger) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), mirrorPrefix+"*"))
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		f, err := os.Open(d)
		if err != nil {
			continue
		}
		if flock(f) == nil {
			if err := os.RemoveAll(d); err == nil {
				log.Info("removed the local mirror of a killed cb2ac", "dir", d)
			}
		}
		f.Close()
	}
}

// DisplayPath is p as a person finds it: inside a mount, the object's URL.
func DisplayPath(p string) string {
	if m, key := mountOf(p); m != nil {
		if key == "" {
			return m.store.URL()
		}
		return strings.TrimSuffix(m.store.URL(), "/") + "/" + key
	}
	return p
}

// hydrate brings the bucket's small files into the mirror and makes a folder for
// every folder that holds Parquet, so listing runs, reading manifests and state,
// and checking a stage folder work on the mirror as on a disk.
func (m *mount) hydrate() error {
	keys, err := m.store.List(m.ctx, "")
	if err != nil {
		return fmt.Errorf("data dir %s: list: %w", m.store.URL(), err)
	}
	has := map[string]bool{}
	for _, k := range keys {
		has[k] = true
	}
	m.foreign = nil
	for _, k := range keys {
		top, _, _ := strings.Cut(k, "/")
		if !dataDirEntries[top] {
			if !slices.Contains(m.foreign, top) {
				m.foreign = append(m.foreign, top)
			}
			continue
		}
		local := filepath.Join(m.root, filepath.FromSlash(k))
		switch {
		case k == "lock":
			continue
		case path.Ext(k) == ".parquet",
			// A CSV twin is for people; the stages read its Parquet.
			path.Ext(k) == ".csv" && has[strings.TrimSuffix(k, ".csv")+".parquet"]:
			if err := os.MkdirAll(filepath.Dir(local), atomicfile.DirMode); err != nil {
				return fmt.Errorf("data dir mirror: %w", err)
			}
			continue
		}
		b, ver, err := m.store.Get(m.ctx, k)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the listing
		}
		if err != nil {
			return fmt.Errorf("data dir %s: read %s: %w", m.store.URL(), k, err)
		}
		if err := atomicfile.WriteFile(local, b); err != nil {
			return fmt.Errorf("data dir mirror: %w", err)
		}
		if k == "state.json" {
			m.mu.Lock()
			m.stateVersion = ver
			m.mu.Unlock()
		}
	}
	return nil
}

// publish uploads the mirror file at p, with its sha256 as metadata so an input
// check can compare it with the manifest without reading the object.
func publish(p string) error {
	m, key := mountOf(p)
	if m == nil {
		return nil
	}
	return m.upload(key, filepath.Join(m.root, filepath.FromSlash(key)))
}

func (m *mount) upload(key, local string) error {
	if err := m.errIfLost(); err != nil {
		return err
	}
	fr, err := hashFile(local)
	if err != nil {
		return err
	}
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := m.store.Put(m.ctx, key, f, map[string]string{metaSHA256: fr.SHA256}); err != nil {
		return fmt.Errorf("upload %s to %s: %w", key, m.store.URL(), err)
	}
	return nil
}

// JournalSyncInterval is how often a running stage's journal goes up to the
// bucket: a load killed mid-way (a pod evicted) leaves a journal at most this old
// for `run --resume`, which then re-sends only the batches of those last seconds.
var JournalSyncInterval = 5 * time.Second

// JournalSyncEnv is for tests only: a shorter JournalSyncInterval (a Go duration).
const JournalSyncEnv = "CB2AC_TEST_JOURNAL_SYNC"

// syncWhileRunning uploads the mirror file p (a journal that only grows) every
// JournalSyncInterval while a stage runs, until the returned stop is called.
// Outside a mount it does nothing. A copy taken mid-append may end in a torn line,
// which a resumed load cuts, as after a kill on a disk.
func syncWhileRunning(p string, log *slog.Logger) (stop func()) {
	m, key := mountOf(p)
	if m == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		every := JournalSyncInterval
		if d, err := time.ParseDuration(os.Getenv(JournalSyncEnv)); err == nil && d > 0 {
			every = d
		}
		t := time.NewTicker(every)
		defer t.Stop()
		var sent int64 = -1
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			b, err := os.ReadFile(p)
			if err != nil || int64(len(b)) == sent {
				continue
			}
			sum := sha256.Sum256(b)
			if err := m.store.Put(m.ctx, key, bytes.NewReader(b), map[string]string{metaSHA256: hex.EncodeToString(sum[:])}); err != nil {
				log.Warn("journal not uploaded; retrying", "err", err)
				continue
			}
			sent = int64(len(b))
		}
	}()
	return func() { close(quit); <-done }
}

// metaSHA256 is the object metadata key holding the sha256 cb2ac uploaded.
const metaSHA256 = "cb2ac-sha256"

// PublishDir uploads every file under the mirror folder dir (a stage's output,
// the sandbox's state), one whole object each; outside a mount it does nothing.
// Temp files (dot names) are left out.
func PublishDir(dir string) error {
	m, _ := mountOf(dir)
	if m == nil {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		return publish(p)
	})
}

// removeAll removes the mirror folder or file p and every object under it.
func removeAll(p string) error {
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	m, key := mountOf(p)
	if m == nil {
		return nil
	}
	keys, err := m.store.List(m.ctx, key+"/")
	if err != nil {
		return fmt.Errorf("%s: %w", DisplayPath(p), err)
	}
	// A manifest goes first: a run half deleted is one nothing vouches for.
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmpBool(path.Base(b) == "manifest.json", path.Base(a) == "manifest.json")
	})
	if _, _, err := m.store.Stat(m.ctx, key); err == nil && key != "" {
		keys = append(keys, key) // p was a file
	}
	for _, k := range keys {
		if err := m.store.Delete(m.ctx, k); err != nil {
			return fmt.Errorf("delete %s from %s: %w", k, m.store.URL(), err)
		}
	}
	return nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// remoteFile describes a file that is only in the bucket, from its metadata:
// what hashFile says of a file on disk.
func remoteFile(p string) (FileRecord, bool, error) {
	m, key := mountOf(p)
	if m == nil {
		return FileRecord{}, false, nil
	}
	size, meta, err := m.store.Stat(m.ctx, key)
	if err != nil {
		return FileRecord{}, true, err
	}
	return FileRecord{Name: path.Base(key), Bytes: size, SHA256: meta[metaSHA256]}, true, nil
}

// saveState writes state.json to the bucket only if it is still the version this
// process read (or wrote): two runs never overwrite each other's state silently.
func (m *mount) saveState(b []byte) error {
	if err := m.errIfLost(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ver, err := m.store.PutIf(m.ctx, "state.json", b, m.stateVersion)
	var pe *PreconditionError
	if errors.As(err, &pe) {
		return fmt.Errorf("state: %w; run again: the next run starts from the state the other writer left", err)
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	m.stateVersion = ver
	return nil
}

// remoteFiles serves the mount's objects to schemas' readers.
type remoteFiles struct{ m *mount }

func (r remoteFiles) OpenFile(rel string) (schemas.File, error) {
	return r.m.store.Open(r.m.ctx, rel)
}

func (r remoteFiles) Exists(rel string) (bool, error) {
	_, _, err := r.m.store.Stat(r.m.ctx, rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
