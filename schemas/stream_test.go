package schemas

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestStreamWritesWhatWasPut(t *testing.T) {
	for _, n := range []int{0, 1, streamChunk, 3*streamChunk + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Contacts.CreateStream(dir, "contacts", true, Stamp{})
			if err != nil {
				t.Fatal(err)
			}
			var want []Contact
			var c Contact // reused: Put must copy
			for i := range n {
				c = Contact{CustomerID: fmt.Sprintf("c%d", i), Email: fmt.Sprintf("u%d@example.com", i), Fields: []FieldValue{{Title: "Plan", Value: fmt.Sprint(i)}}}
				want = append(want, c)
				if err := s.Put(&c); err != nil {
					t.Fatal(err)
				}
			}
			if s.Rows() != int64(n) {
				t.Errorf("Rows = %d, want %d", s.Rows(), n)
			}
			if err := s.Commit(); err != nil {
				t.Fatal(err)
			}
			s.Abort() // a no-op after Commit
			got, err := Contacts.ReadFile(filepath.Join(dir, "contacts.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			if rows, err := Contacts.Rows(filepath.Join(dir, "contacts.parquet")); err != nil || rows != n {
				t.Errorf("Rows = %d, %v; want %d", rows, err, n)
			}
			if len(got) != n || n > 0 && !reflect.DeepEqual(got, want) {
				t.Fatalf("read back %d records, want %d equal ones", len(got), n)
			}
			if _, err := os.Stat(filepath.Join(dir, "contacts.csv")); err != nil {
				t.Error("no CSV twin")
			}
		})
	}
}

func TestStreamAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Contacts.CreateStream(dir, "contacts", true, Stamp{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2*streamChunk + 1 {
		if err := s.Put(&Contact{CustomerID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Abort()
	s.Abort()
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
}

func TestEachRowPicksRowsByNumber(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.parquet")
	var all []Contact
	for i := range 40000 { // more than one read batch
		all = append(all, Contact{CustomerID: fmt.Sprint(i), Fields: []FieldValue{{Title: "n", Value: fmt.Sprint(i)}}})
	}
	if err := Contacts.WriteFile(path, all); err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{0: true, 7: true, readRows - 1: true, readRows: true, 39999: true}
	var got []int
	err := Contacts.EachRow(path, func(row int) bool { return want[row] }, func(row int, c *Contact) error {
		if !reflect.DeepEqual(*c, all[row]) {
			t.Errorf("row %d = %+v, want %+v", row, *c, all[row])
		}
		got = append(got, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []int{0, 7, readRows - 1, readRows, 39999}) {
		t.Errorf("rows %v", got)
	}
}
