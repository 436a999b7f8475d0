package schemas

import "sync/atomic"

// streamChunk is how many records a Stream copies before handing them to its
// encoder. The Parquet writer cuts row groups at BatchRows whatever the chunk, so the
// files do not depend on it; a small chunk keeps the copies (and the input batches
// their strings point into) few.
const streamChunk = 4096

// Stream is a Sink fed one record at a time whose encoding runs on a goroutine of
// its own: a streaming stage decodes and maps on one core while the previous chunk
// is encoded on the other. Nothing appears until Commit. Put copies the record, so
// the caller may reuse it; its strings must stay valid until Commit or Abort, which
// holds for strings from a Reader (the Go allocator keeps their batch alive).
type Stream[T any] struct {
	s      *Sink[T]
	buf    []T
	n      int64
	queue  chan []T // chunks to encode
	free   chan []T // encoded chunks, cleared, for reuse
	done   chan struct{}
	err    error       // the first write error; the goroutine's until done
	failed atomic.Bool // err is set
	closed bool
}

// CreateStream opens DIR/NAME.parquet (and its CSV twin) for streaming.
func (t *Table[T]) CreateStream(dir, name string, twin bool, st Stamp) (*Stream[T], error) {
	s, err := t.CreateSink(dir, name, twin, st)
	if err != nil {
		return nil, err
	}
	w := &Stream[T]{s: s, buf: make([]T, 0, streamChunk), queue: make(chan []T, 2), free: make(chan []T, 3), done: make(chan struct{})}
	for range 2 {
		w.free <- make([]T, 0, streamChunk)
	}
	go w.loop()
	return w, nil
}

func (w *Stream[T]) loop() {
	defer close(w.done)
	for b := range w.queue {
		if w.err == nil {
			if w.err = w.s.Write(b...); w.err != nil {
				w.failed.Store(true)
			}
		}
		// The copies' strings point into input batches; drop them so those can go.
		clear(b)
		w.free <- b[:0]
	}
}

// Put appends a copy of r. It returns the encoder's error once one happened.
func (w *Stream[T]) Put(r *T) error {
	w.buf = append(w.buf, *r)
	w.n++
	if len(w.buf) < cap(w.buf) {
		return nil
	}
	if w.failed.Load() {
		return w.err
	}
	w.queue <- w.buf
	w.buf = <-w.free
	return nil
}

// Rows is the number of records put.
func (w *Stream[T]) Rows() int64 { return w.n }

// stop ends the goroutine, after encoding what was put unless drop.
func (w *Stream[T]) stop(drop bool) error {
	if w.closed {
		return nil
	}
	w.closed = true
	if len(w.buf) > 0 && !drop {
		w.queue <- w.buf
	}
	w.buf = nil
	close(w.queue)
	<-w.done
	return w.err
}

// Commit encodes the rest and publishes the files.
func (w *Stream[T]) Commit() error {
	if err := w.stop(false); err != nil {
		w.s.Abort()
		return err
	}
	return w.s.Commit()
}

// Abort drops the files; a no-op after Commit.
func (w *Stream[T]) Abort() {
	w.stop(true)
	w.s.Abort()
}
