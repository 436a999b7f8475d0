// Package strmap holds a million string-keyed records in a form the garbage collector
// does not have to scan.
//
// A Go map[string]V with a million entries holds a million string pointers (plus
// whatever pointers V has), and every GC cycle walks them all: in the transform stage
// at 1M customers that was a quarter of the CPU. Map keeps its keys back to back in
// one []byte and indexes them by a 64-bit hash in a map[uint64]int32; neither has
// pointers, so a cycle skips them. Arena does the same for values' strings.
package strmap

import (
	"hash/maphash"
	"unsafe"
)

// Map maps string keys to values of type V. Give it a V without pointers (numbers,
// bools, Refs into an Arena) or it is no cheaper for the GC than a plain map. It is
// not safe for concurrent use.
type Map[V any] struct {
	seed  maphash.Seed
	mask  uint64           // all ones; tests clear bits to force hash collisions
	index map[uint64]int32 // hash → first entry with that hash
	keys  Arena
	ents  []entry[V]
}

type entry[V any] struct {
	key  Ref
	next int32 // next entry whose key has the same hash, or -1
	val  V
}

// New returns an empty map sized for about hint keys.
func New[V any](hint int) *Map[V] {
	return &Map[V]{seed: maphash.MakeSeed(), mask: ^uint64(0), index: make(map[uint64]int32, hint), ents: make([]entry[V], 0, hint)}
}

// Len is the number of keys.
func (m *Map[V]) Len() int { return len(m.ents) }

// Key is the key Put added i-th (from 0): keys are numbered in the order they came.
// It shares the map's memory, valid as long as the map.
func (m *Map[V]) Key(i int) string { return m.keys.String(m.ents[i].key) }

// Get returns the value stored under key. The pointer is valid until the next Put.
func (m *Map[V]) Get(key string) (*V, bool) {
	i, ok := m.index[maphash.String(m.seed, key)&m.mask]
	if !ok {
		return nil, false
	}
	for ; i >= 0; i = m.ents[i].next {
		if m.keys.String(m.ents[i].key) == key {
			return &m.ents[i].val, true
		}
	}
	return nil, false
}

// Put returns the value stored under key, adding a zero value when the key is new
// (added is then true). The pointer is valid until the next Put.
func (m *Map[V]) Put(key string) (v *V, added bool) {
	h := maphash.String(m.seed, key) & m.mask
	head, ok := m.index[h]
	if ok {
		for i := head; i >= 0; i = m.ents[i].next {
			if m.keys.String(m.ents[i].key) == key {
				return &m.ents[i].val, false
			}
		}
	} else {
		head = -1
	}
	m.ents = append(m.ents, entry[V]{key: m.keys.Add(key), next: head})
	n := int32(len(m.ents) - 1)
	m.index[h] = n
	return &m.ents[n].val, true
}

// Arena stores strings back to back in chunks of bytes that are never written again
// once a string is in them, so the strings it hands out can point into them. The
// zero Arena is ready to use.
type Arena struct {
	chunks [][]byte
}

// Ref names a string in an Arena. The zero Ref is the empty string.
type Ref struct {
	chunk, off, n uint32
}

const chunkSize = 4 << 20

// Add copies s into the arena.
func (a *Arena) Add(s string) Ref {
	return a.AddBytes(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// AddBytes copies b into the arena.
func (a *Arena) AddBytes(s []byte) Ref {
	if len(s) == 0 {
		return Ref{}
	}
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < len(s) {
		// A new chunk, never a grown one: growing would copy the bytes and leave the
		// strings already handed out pointing at the old copy (still correct, but the
		// old chunk could then never be freed).
		a.chunks = append(a.chunks, make([]byte, 0, max(chunkSize, len(s))))
		last++
	}
	c := a.chunks[last]
	r := Ref{chunk: uint32(last), off: uint32(len(c)), n: uint32(len(s))}
	a.chunks[last] = append(c, s...)
	return r
}

// String returns the string r names. It shares the arena's memory: no copy.
func (a *Arena) String(r Ref) string {
	if r.n == 0 {
		return ""
	}
	return unsafe.String(&a.chunks[r.chunk][r.off], int(r.n))
}
