package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// LeaseDuration is how long a lock object in a bucket holds without renewal. A
// holder renews it every third of that while it works; a lock whose lease ran out
// belongs to a cb2ac that died, and the next run takes it over. A bucket has no
// kernel to release a lock when its holder dies, so this is the price: a killed
// run blocks the next for up to this long.
var LeaseDuration = 2 * time.Minute

// LeaseEnv is for tests only: a shorter lease (a Go duration), so a test can see
// a dead holder's lock taken over without waiting two minutes.
const LeaseEnv = "CB2AC_TEST_LOCK_LEASE"

func leaseDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(LeaseEnv)); err == nil && d > 0 {
		return d
	}
	return LeaseDuration
}

// leaseRecord is the lock object's body.
type leaseRecord struct {
	Owner   string    `json:"owner"` // pid and start, unique per process
	Host    string    `json:"host"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

func (l leaseRecord) String() string {
	return fmt.Sprintf("%s on %s since %s, lease until %s", l.Owner, l.Host, l.Since.Format(time.RFC3339), l.Expires.Format(time.RFC3339))
}

// lock takes the bucket's lock object: created only if absent; a present one is
// taken over only when its lease has expired, with a precondition on the version
// read, so of two runs taking over the same dead lock one wins. The state is read
// again once the lock is held: what a run reads is what the last holder left.
func (m *mount) lock(log *slog.Logger) (unlock func(), err error) {
	lease := leaseDuration()
	host, _ := os.Hostname()
	now := time.Now().UTC()
	rec := leaseRecord{Owner: fmt.Sprintf("pid %d", os.Getpid()), Host: host, Since: now, Expires: now.Add(lease)}
	body := func() []byte { b, _ := json.Marshal(rec); return b }
	path := DisplayPath(LockPath(m.root))

	ver, err := m.store.PutIf(m.ctx, "lock", body(), "")
	var pe *PreconditionError
	if errors.As(err, &pe) {
		b, curVer, gerr := m.store.Get(m.ctx, "lock")
		if gerr != nil {
			return nil, &LockedError{Path: path}
		}
		var cur leaseRecord
		if jerr := json.Unmarshal(b, &cur); jerr == nil && cur.Expires.After(time.Now()) {
			return nil, &LockedError{Path: path, Holder: cur.String()}
		}
		ver, err = m.store.PutIf(m.ctx, "lock", body(), curVer)
		if errors.As(err, &pe) {
			return nil, &LockedError{Path: path, Holder: "another run took over the expired lock first"}
		}
		if err == nil {
			log.Warn("lock lease expired (its holder died); taken over", "lock", path, "holder", cur.String())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}

	var mu sync.Mutex
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			mu.Lock()
			rec.Expires = time.Now().UTC().Add(lease)
			v, err := m.store.PutIf(m.ctx, "lock", body(), ver)
			if err == nil {
				ver = v
			}
			mu.Unlock()
			if errors.As(err, &pe) {
				m.lost.Store(true)
				log.Error("lock lost: another run took it over (this run's lease had expired); this run writes nothing more", "lock", path)
				return
			}
			if err != nil {
				log.Warn("lock lease not renewed; retrying", "lock", path, "err", err)
			}
		}
	}()
	release := func() {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		// Deleted only while it is still this run's.
		if _, cur, err := m.store.Get(m.ctx, "lock"); err == nil && cur == ver {
			if err := m.store.Delete(m.ctx, "lock"); err != nil {
				log.Warn("lock not released; it expires with its lease", "lock", path, "err", err)
			}
		}
	}
	// The mirror is made again from the bucket: between the mount and the lock
	// another run may have written or pruned.
	ents, err := os.ReadDir(m.root)
	for _, e := range ents {
		if err == nil {
			err = os.RemoveAll(filepath.Join(m.root, e.Name()))
		}
	}
	if err == nil {
		err = m.hydrate()
	}
	if err != nil {
		release()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return release, nil
}
