package schemas

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// File is an input file opened for random access. A Parquet reader reads the
// footer, then only the column chunks it is asked for, so a file in object storage
// is read with a few ranged reads instead of being downloaded whole.
type File interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Remote serves the files of a folder tree that is not on this machine's disk (a
// data dir in a bucket, see pipeline.Mount). Paths are slash-separated and relative
// to the root it was mounted at.
type Remote interface {
	OpenFile(rel string) (File, error)
	// Exists reports whether rel is a file of the tree.
	Exists(rel string) (bool, error)
}

var (
	mountsMu sync.RWMutex
	mounts   = map[string]Remote{} // local root → remote
)

// MountRemote makes the files of r readable under the local folder root: a path
// under root that is not on disk is opened from r. Stage code keeps using paths;
// only where the bytes come from changes. The returned function unmounts.
func MountRemote(root string, r Remote) (unmount func()) {
	root = filepath.Clean(root)
	mountsMu.Lock()
	mounts[root] = r
	mountsMu.Unlock()
	return func() {
		mountsMu.Lock()
		delete(mounts, root)
		mountsMu.Unlock()
	}
}

// remoteOf returns the remote whose root holds path, and path relative to it.
func remoteOf(path string) (Remote, string, bool) {
	path = filepath.Clean(path)
	mountsMu.RLock()
	defer mountsMu.RUnlock()
	for root, r := range mounts {
		if rel, ok := strings.CutPrefix(path, root+string(filepath.Separator)); ok {
			return r, filepath.ToSlash(rel), true
		}
	}
	return nil, "", false
}

type localFile struct {
	*os.File
	size int64
}

func (f localFile) Size() int64 { return f.size }

// OpenFile opens path from the disk or, when it is not there and lies under a
// mounted remote, from the remote.
func OpenFile(path string) (File, error) {
	f, err := os.Open(path)
	if err == nil {
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		return localFile{f, st.Size()}, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if r, rel, ok := remoteOf(path); ok {
			return r.OpenFile(rel)
		}
	}
	return nil, err
}

// Exists reports whether path is a file on disk or under a mounted remote: a stage
// asks it before reading an optional input.
func Exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if r, rel, ok := remoteOf(path); ok {
		return r.Exists(rel)
	}
	return false, nil
}
