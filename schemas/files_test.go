package schemas

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

type memRemote map[string][]byte

type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

func (r memRemote) OpenFile(rel string) (File, error) {
	b, ok := r[rel]
	if !ok {
		return nil, fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
	}
	return memFile{bytes.NewReader(b)}, nil
}

func (r memRemote) Exists(rel string) (bool, error) { _, ok := r[rel]; return ok, nil }

type remoteRow struct {
	ID   string `parquet:"id"`
	Note string `parquet:"note"`
}

// TestMountedRemote: a path under a mounted root that is not on disk is read from
// the remote (Open, Exists), a path on disk from the disk, and unmounting ends it.
func TestMountedRemote(t *testing.T) {
	tb := NewTable[remoteRow]("remote_row", 1)
	src := filepath.Join(t.TempDir(), "rows.parquet")
	want := []remoteRow{{"a", "x"}, {"b", "y"}}
	if err := tb.WriteFile(src, want); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	unmount := MountRemote(root, memRemote{"runs/r/transform/rows.parquet": b})
	path := filepath.Join(root, "runs", "r", "transform", "rows.parquet")
	if ok, err := Exists(path); !ok || err != nil {
		t.Fatalf("Exists(remote file) = %v %v", ok, err)
	}
	if ok, err := Exists(filepath.Join(root, "runs", "r", "transform", "none.parquet")); ok || err != nil {
		t.Fatalf("Exists(absent) = %v %v", ok, err)
	}
	got, err := tb.ReadFile(path)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ReadFile through the remote = %v %v", got, err)
	}
	var ids []string
	if err := tb.EachColumns(path, []string{"id"}, func(r *remoteRow) error { ids = append(ids, r.ID+r.Note); return nil }); err != nil || fmt.Sprint(ids) != "[a b]" {
		t.Fatalf("EachColumns(id) = %v %v", ids, err)
	}
	unmount()
	if ok, _ := Exists(path); ok {
		t.Error("a path of an unmounted remote still exists")
	}
	if _, err := tb.ReadFile(path); err == nil {
		t.Error("an unmounted remote still serves files")
	}
	if ok, err := Exists(src); !ok || err != nil {
		t.Errorf("Exists(file on disk) = %v %v", ok, err)
	}
}
