package strmap

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestMapAgainstBuiltin(t *testing.T) {
	for _, mask := range []uint64{^uint64(0), 3, 0} { // 0: every key collides
		t.Run(fmt.Sprint(mask), func(t *testing.T) {
			m := New[int](0)
			m.mask = mask
			want := map[string]int{}
			var order []string // keys in the order Put added them: Key(i)'s
			keys := []string{"", "a", "b", "cus_1", "cus_10", "ünï", strings.Repeat("x", chunkSize+1)}
			for i := range 300 {
				keys = append(keys, fmt.Sprintf("k%d", i%150))
			}
			for i, k := range keys {
				v, added := m.Put(k)
				_, had := want[k]
				if added == had {
					t.Fatalf("Put(%q) added=%v, builtin had it=%v", k, added, had)
				}
				if added {
					order = append(order, k)
				}
				*v += i
				want[k] += i
			}
			for i, k := range order {
				if got := m.Key(i); got != k {
					t.Errorf("Key(%d) = %.20q, want %.20q", i, got, k)
				}
			}
			if m.Len() != len(want) {
				t.Fatalf("Len = %d, want %d", m.Len(), len(want))
			}
			for k, w := range want {
				if v, ok := m.Get(k); !ok || *v != w {
					t.Errorf("Get(%q) = %v %v, want %d", k, v, ok, w)
				}
			}
			for _, k := range []string{"k150", "cus_", "A"} {
				if _, ok := m.Get(k); ok {
					t.Errorf("Get(%q) found a key never put", k)
				}
			}
		})
	}
}

// Strings handed out by an Arena stay intact while it grows and after GC.
func TestArenaStringsStable(t *testing.T) {
	var a Arena
	var refs []Ref
	var got []string
	for i := range 20000 {
		s := fmt.Sprintf("value-%d-%s", i, strings.Repeat("z", i%500))
		r := a.Add(s)
		refs = append(refs, r)
		got = append(got, a.String(r))
	}
	runtime.GC()
	for i := range refs {
		want := fmt.Sprintf("value-%d-%s", i, strings.Repeat("z", i%500))
		if got[i] != want || a.String(refs[i]) != want {
			t.Fatalf("string %d changed", i)
		}
	}
	if (Ref{}) != a.Add("") || a.String(Ref{}) != "" {
		t.Error("empty string")
	}
}

func BenchmarkMapPut(b *testing.B) {
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = fmt.Sprintf("cus_%08d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		m := New[int64](len(keys))
		for _, k := range keys {
			v, _ := m.Put(k)
			*v++
		}
	}
}
