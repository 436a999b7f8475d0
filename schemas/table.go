package schemas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
)

// Metadata keys written into every Parquet file's key-value metadata.
const (
	MetaSchema  = "cb2ac.schema"
	MetaVersion = "cb2ac.schema_version"
)

// BatchRows is the row-group size: one Arrow record batch, one Parquet row group.
// 64k rows keeps row groups large enough for fast scans while bounding memory.
const BatchRows = 64 * 1024

// BatchBytes bounds a batch by what its builders hold as well: 64k wide rows (a
// recurring payment with its field hashes) took ~150 MB of builders per writer,
// the biggest share of the transform stage's heap at 1M customers. A batch ends at
// BatchRows rows or once its columns reach BatchBytes, checked every
// batchCheckRows rows, so where a row group ends depends on the rows only.
const BatchBytes = 16 << 20

const batchCheckRows = 256

// readRows is how many rows a Reader decodes at a time. Smaller than a row group: a
// streaming stage holds one decoded batch of each file it reads, as Go structs plus
// the Arrow buffers their strings point into, and 64k rows of that is tens of MB.
const readRows = 16 * 1024

// Table describes one file kind: its record type T, its schema name and version.
// Stages read and write typed records through it and never touch Arrow directly.
type Table[T any] struct {
	Name    string
	Version int
	cols    []column
	stamps  []arrow.Field // the stamp columns after cols (stamp.go)
	schema  *arrow.Schema
	// gen is T's generated codec (codec_gen.go), looked up on first use: the
	// package's own tables are made before codec_gen.go's init registers it.
	// reflective tables never use one (the reference the generated codec is tested
	// against).
	genOnce    sync.Once
	gen        *genCodec[T]
	reflective bool
}

// NewTable reflects T's `parquet` tags into an Arrow schema carrying the cb2ac
// schema name and version.
func NewTable[T any](name string, version int) *Table[T] {
	var zero T
	cols := columnsOf(reflect.TypeOf(zero))
	stamps := stampFields(cols)
	md := arrow.NewMetadata([]string{MetaSchema, MetaVersion}, []string{name, strconv.Itoa(version)})
	t := &Table[T]{Name: name, Version: version, cols: cols, stamps: stamps, schema: arrow.NewSchema(append(fieldsOf(cols), stamps...), &md)}
	noteTable(t)
	return t
}

// codec is T's generated codec, nil when T has none (then reflection does the work).
func (t *Table[T]) codec() *genCodec[T] {
	t.genOnce.Do(func() {
		if !t.reflective {
			t.gen = generatedCodec[T]()
		}
	})
	return t.gen
}

// Schema is the Arrow schema of the file kind.
func (t *Table[T]) Schema() *arrow.Schema { return t.schema }

// Columns lists the top-level column names of the record in file order (typed
// twins included, stamp columns not).
func (t *Table[T]) Columns() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.name
	}
	return out
}

// Writer streams records into a Parquet file that appears at its path only on Commit.
type Writer[T any] struct {
	t     *Table[T]
	f     *atomicfile.File
	pw    *pqarrow.FileWriter
	rb    *array.RecordBuilder
	n     int
	rows  int64
	batch int // BatchRows and BatchBytes, but for a benchmark of the builders alone
	bytes int
	stamp Stamp
}

// Create starts a Parquet file of this kind at path (written atomically), its stamp
// columns NULL: stages write through CreateSink, which stamps.
func (t *Table[T]) Create(path string) (*Writer[T], error) {
	return t.CreateStamped(path, Stamp{})
}

// CreateStamped is Create writing st into the stamp columns and the footer.
func (t *Table[T]) CreateStamped(path string, st Stamp) (*Writer[T], error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(BatchRows),
		parquet.WithCreatedBy("cb2ac"),
	}
	for _, c := range t.cols {
		if c.dict {
			opts = append(opts, parquet.WithDictionaryFor(c.name, true))
		}
		if c.kind == kStructList {
			for _, e := range c.children {
				if e.dict {
					opts = append(opts, parquet.WithDictionaryFor(c.name+".list.element."+e.name, true))
				}
			}
		}
	}
	// The Parquet writer closes a sink that is an io.Closer; hide Close so Commit can
	// still fsync and rename the temp file.
	pw, err := pqarrow.NewFileWriter(t.schema, struct{ io.Writer }{f}, parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Abort()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &Writer[T]{t: t, f: f, pw: pw, rb: array.NewRecordBuilder(memory.DefaultAllocator, t.schema), batch: BatchRows, bytes: BatchBytes, stamp: st}, nil
}

// Write appends records, flushing a row group every BatchRows records or BatchBytes.
func (w *Writer[T]) Write(recs ...T) error {
	gen := w.t.codec()
	for i := range recs {
		if gen != nil {
			gen.encode(w.rb, &recs[i])
		} else {
			v := reflect.ValueOf(&recs[i]).Elem()
			for k := range w.t.cols {
				c := &w.t.cols[k]
				appendValue(c, w.rb.Field(k), v.Field(c.index))
			}
		}
		w.stamp.append(w.t.stamps, w.rb.Fields()[len(w.t.cols):])
		w.n++
		if w.n >= w.batch || w.n%batchCheckRows == 0 && w.batchBytes() >= w.bytes {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *Writer[T]) flush() error {
	if w.n == 0 {
		return nil
	}
	// The builders start empty after NewRecordBatch and would grow by doubling again,
	// re-copying and zeroing their buffers every batch: size them like this one, once
	// this batch is written and released, so the two never take memory at once.
	// Handing the released buffers back to the builders (an allocator pooling them)
	// was tried for issue 16: at 1M it served 5 GB of the 5.1 GB the builders ask for
	// from the pool, yet transform took more CPU (75 vs 69 s user+sys, same RSS), as
	// the idle pool is live heap that brings the GC's memory limit nearer.
	sizes := make([]builderSize, len(w.rb.Fields()))
	for k := range sizes {
		sizes[k] = sizeOf(w.rb.Field(k))
	}
	rec := w.rb.NewRecordBatch()
	err := w.pw.Write(rec)
	rec.Release()
	if err != nil {
		return fmt.Errorf("write %s: %w", w.f.Path, err)
	}
	for k := range sizes {
		sizes[k].reserve(w.rb.Field(k))
	}
	w.rows += int64(w.n)
	w.n = 0
	return nil
}

// batchBytes is about how many bytes the batch's values take in its builders
// (validity bitmaps and the slack of grown buffers left out).
func (w *Writer[T]) batchBytes() int {
	n := 0
	for _, b := range w.rb.Fields() {
		n += builtBytes(b)
	}
	return n
}

func builtBytes(b array.Builder) int {
	switch b := b.(type) {
	case *array.StringBuilder:
		return b.DataLen() + 4*b.Len()
	case *array.StructBuilder:
		n := 0
		for i := range b.NumField() {
			n += builtBytes(b.FieldBuilder(i))
		}
		return n
	case *array.ListBuilder:
		return builtBytes(b.ValueBuilder()) + 4*b.Len()
	}
	if fw, ok := b.Type().(arrow.FixedWidthDataType); ok {
		return b.Len() * max(fw.BitWidth()/8, 1)
	}
	return 8 * b.Len()
}

// builderSize is how much a builder (and the builders nested in it) held.
type builderSize struct {
	n, data int
	kids    []builderSize
}

func sizeOf(b array.Builder) builderSize {
	sz := builderSize{n: b.Len()}
	switch b := b.(type) {
	case *array.StringBuilder:
		sz.data = b.DataLen()
	case *array.StructBuilder:
		for i := range b.NumField() {
			sz.kids = append(sz.kids, sizeOf(b.FieldBuilder(i)))
		}
	case *array.ListBuilder:
		sz.kids = []builderSize{sizeOf(b.ValueBuilder())}
	}
	return sz
}

func (sz builderSize) reserve(b array.Builder) {
	b.Reserve(sz.n)
	switch b := b.(type) {
	case *array.StringBuilder:
		b.ReserveData(sz.data)
	case *array.StructBuilder:
		for i, k := range sz.kids {
			k.reserve(b.FieldBuilder(i))
		}
	case *array.ListBuilder:
		sz.kids[0].reserve(b.ValueBuilder())
	}
}

// Rows is the number of records written so far.
func (w *Writer[T]) Rows() int64 { return w.rows + int64(w.n) }

// Commit flushes, closes the Parquet footer, fsyncs and renames the file into place.
func (w *Writer[T]) Commit() error {
	defer w.rb.Release()
	if err := w.flush(); err != nil {
		w.f.Abort()
		return err
	}
	for _, kv := range [][2]string{{MetaRunID, w.stamp.RunID}, {MetaExtractedAt, w.stamp.cells([]string{StampExtractedAt})[0]}} {
		if kv[1] == "" {
			continue
		}
		if err := w.pw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			w.f.Abort()
			return fmt.Errorf("write %s: %w", w.f.Path, err)
		}
	}
	if err := w.pw.Close(); err != nil {
		w.f.Abort()
		return fmt.Errorf("write %s: %w", w.f.Path, err)
	}
	return w.f.Commit()
}

// Abort drops the partial file. Safe after Commit.
func (w *Writer[T]) Abort() {
	w.f.Abort()
}

// WriteFile writes all records to path in one go.
func (t *Table[T]) WriteFile(path string, recs []T) error {
	w, err := t.Create(path)
	if err != nil {
		return err
	}
	for len(recs) > 0 {
		n := min(len(recs), BatchRows)
		if err := w.Write(recs[:n]...); err != nil {
			w.Abort()
			return err
		}
		recs = recs[n:]
	}
	return w.Commit()
}

// SchemaError says a file is not of the expected kind or is too new for this build.
type SchemaError struct {
	Path string
	Msg  string
}

func (e *SchemaError) Error() string { return e.Path + ": " + e.Msg }

// Reader streams records out of a Parquet file of this kind, readRows at a time.
type Reader[T any] struct {
	t     *Table[T]
	path  string
	f     File
	pf    *file.Reader
	rr    pqarrow.RecordReader
	total int64
}

// Open checks the file's schema name and version and prepares to stream it.
func (t *Table[T]) Open(path string) (*Reader[T], error) {
	return t.OpenColumns(path, nil)
}

// OpenColumns is Open reading only the named top-level columns (nil: all); a
// nested column (struct or list) is read whole.
// The others are never decoded and stay at their zero values: a pass that needs a
// key and a hash reads two columns, not thirty.
func (t *Table[T]) OpenColumns(path string, cols []string) (*Reader[T], error) {
	return t.openColumns(path, cols, true)
}

// openColumns is OpenColumns; !dictNames reads the dictionary-encoded names of list
// elements as plain strings, the writer's schema (the column copy writes batches as
// they are read).
func (t *Table[T]) openColumns(path string, cols []string, dictNames bool) (*Reader[T], error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := t.open(path, f, cols, dictNames)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// OpenFile is OpenColumns over a file already open for random access (name is
// for messages). Only the footer and the chosen columns' chunks are read. The
// reader owns f: it is closed on error and by Close.
func (t *Table[T]) OpenFile(name string, f File, cols []string) (*Reader[T], error) {
	r, err := t.open(name, f, cols, true)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (t *Table[T]) open(path string, f File, cols []string, dictNames bool) (r *Reader[T], err error) {
	// The Parquet decoder can panic on a corrupt file; a stage must report it as
	// a bad input file like any other, not crash.
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &SchemaError{Path: path, Msg: fmt.Sprintf("corrupt Parquet file: %v", p)}
		}
	}()
	pf, err := file.NewParquetReader(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		return nil, &SchemaError{Path: path, Msg: "not a readable Parquet file: " + err.Error()}
	}
	sanitizeArrowSchema(pf.MetaData())
	if err := t.checkMeta(path, pf); err != nil {
		pf.Close()
		return nil, err
	}
	sc := pf.MetaData().Schema
	props := pqarrow.ArrowReadProperties{BatchSize: readRows}
	for _, c := range t.cols {
		if c.kind != kStructList || !dictNames {
			continue
		}
		for _, e := range c.children {
			if i := sc.ColumnIndexByName(c.name + ".list.element." + e.name); e.dict && i >= 0 {
				// The few names every row repeats: read as indexes into one
				// dictionary a batch, not as a string a row each (the codec's
				// string reader takes either).
				props.SetReadDict(i, true)
			}
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var leaves []int // nil: every column
	for _, name := range cols {
		i := sc.ColumnIndexByName(name)
		if i < 0 {
			// A nested column (a struct or a list): every leaf under it.
			for j := 0; j < sc.NumColumns(); j++ {
				if strings.HasPrefix(sc.Column(j).Path(), name+".") {
					leaves = append(leaves, j)
					i = j
				}
			}
			if i >= 0 {
				continue
			}
		}
		if i < 0 && slices.Contains(t.Columns(), name) {
			// A column added after the file was written reads as its zero value,
			// in a projection as in a full read (see NewTable's versions).
			continue
		}
		if i < 0 {
			pf.Close()
			return nil, &SchemaError{Path: path, Msg: fmt.Sprintf("no column %q", name)}
		}
		leaves = append(leaves, i)
	}
	rr, err := fr.GetRecordReader(context.Background(), leaves, nil)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &Reader[T]{t: t, path: path, f: f, pf: pf, rr: rr, total: pf.NumRows()}, nil
}

func (t *Table[T]) checkMeta(path string, pf *file.Reader) error {
	kv := pf.MetaData().KeyValueMetadata()
	name := kv.FindValue(MetaSchema)
	if name == nil {
		return &SchemaError{Path: path, Msg: fmt.Sprintf("not a cb2ac %s file (no %s metadata)", t.Name, MetaSchema)}
	}
	if *name != t.Name {
		return &SchemaError{Path: path, Msg: fmt.Sprintf("holds schema %q, want %q", *name, t.Name)}
	}
	ver := kv.FindValue(MetaVersion)
	if ver == nil {
		return &SchemaError{Path: path, Msg: "no " + MetaVersion + " metadata"}
	}
	v, err := strconv.Atoi(*ver)
	if err != nil {
		return &SchemaError{Path: path, Msg: fmt.Sprintf("bad schema version %q", *ver)}
	}
	if v > t.Version {
		return &SchemaError{Path: path, Msg: fmt.Sprintf("schema %s version %d is newer than this cb2ac understands (%d); upgrade cb2ac", t.Name, v, t.Version)}
	}
	return nil
}

// Detach gives rec's strings memory of their own, so the record can be kept after
// the batch it was read in: a streaming stage that keeps a few rows of every batch
// would otherwise keep every batch.
func (t *Table[T]) Detach(rec *T) {
	if gen := t.codec(); gen != nil {
		gen.detach(rec)
		return
	}
	detach(t.cols, reflect.ValueOf(rec).Elem())
}

// Rows is the row count of the file at path, from its footer: a stage sizes its
// tables with it before streaming the file.
func (t *Table[T]) Rows(path string) (int, error) {
	r, err := t.Open(path)
	if err != nil {
		return 0, err
	}
	n := r.plausibleRows()
	return int(n), r.Close()
}

// plausibleRows is the footer's row count trusted no further than the file's size:
// every cb2ac table has a unique key column, so a real row takes at least a byte, and
// a corrupt count must not become an allocation that kills the process.
func (r *Reader[T]) plausibleRows() int64 {
	n := max(r.NumRows(), 0)
	return min(n, r.f.Size())
}

// NumRows is the row count from the file footer.
func (r *Reader[T]) NumRows() int64 { return r.total }

// Next returns the next batch of records, or io.EOF after the last one.
func (r *Reader[T]) Next() (out []T, err error) {
	read := r.t.recordReader()
	err = r.batch(func(readers []reader, n int) {
		out = make([]T, n)
		for i := range n {
			read(readers, i, &out[i])
		}
	})
	return out, err
}

// batch decodes the next batch and hands its column readers to fn.
func (r *Reader[T]) batch(fn func(readers []reader, n int)) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &SchemaError{Path: r.path, Msg: fmt.Sprintf("corrupt Parquet file: %v", p)}
		}
	}()
	if !r.rr.Next() {
		if err := r.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", r.path, err)
		}
		return io.EOF
	}
	rec := r.rr.RecordBatch()
	sc := rec.Schema()
	readers, err := bindReaders(r.t.cols, func(name string) (arrow.Array, error) {
		idx := sc.FieldIndices(name)
		if len(idx) == 0 {
			return nil, nil
		}
		return rec.Column(idx[0]), nil
	})
	if err != nil {
		return &SchemaError{Path: r.path, Msg: err.Error()}
	}
	fn(readers, int(rec.NumRows()))
	return nil
}

// recordReader is how a row of bound readers becomes a T: T's generated decoder, or
// reflection.
func (t *Table[T]) recordReader() func(readers []reader, i int, rec *T) {
	if gen := t.codec(); gen != nil {
		return gen.decode
	}
	return readRecord[T]
}

func readRecord[T any](readers []reader, i int, rec *T) {
	v := reflect.ValueOf(rec).Elem()
	for k := range readers {
		readers[k].read(i, v.Field(readers[k].col.index))
	}
}

// EachRow calls fn for the rows of the file at path that want accepts, by row number
// from 0, with every column. The other rows are decoded by Parquet but never turned
// into records: picking the 1% of a file that changed costs a fraction of Each.
func (t *Table[T]) EachRow(path string, want func(row int) bool, fn func(row int, rec *T) error) error {
	return t.EachRowColumns(path, nil, want, fn)
}

// EachRowColumns is EachRow reading only the named columns (see OpenColumns): the
// field hashes of the rows an update touches, not the rows.
func (t *Table[T]) EachRowColumns(path string, cols []string, want func(row int) bool, fn func(row int, rec *T) error) error {
	r, err := t.OpenColumns(path, cols)
	if err != nil {
		return err
	}
	defer r.Close()
	read := t.recordReader()
	base := 0
	for {
		var ferr error
		err := r.batch(func(readers []reader, n int) {
			for i := 0; i < n && ferr == nil; i++ {
				if want(base + i) {
					var rec T
					read(readers, i, &rec)
					ferr = fn(base+i, &rec)
				}
			}
			base += n
		})
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if ferr != nil {
			return ferr
		}
	}
}

// Cursor walks a file's rows once, a decoded batch (readRows) at a time, turning
// into records only the rows asked for: a stage that sends rows in file order reads
// them when it sends them, holding one batch, not the file.
type Cursor[T any] struct {
	r    *Reader[T]
	base int
	done bool
}

// OpenCursor opens the file at path for a Cursor.
func (t *Table[T]) OpenCursor(path string) (*Cursor[T], error) {
	r, err := t.Open(path)
	if err != nil {
		return nil, err
	}
	return &Cursor[T]{r: r}, nil
}

// Next decodes the next batch and calls fn for the rows of it want accepts, by row
// number from 0. It reports false once the file is read.
func (c *Cursor[T]) Next(want func(row int) bool, fn func(row int, rec *T) error) (bool, error) {
	if c.done {
		return false, nil
	}
	var ferr error
	read := c.r.t.recordReader()
	err := c.r.batch(func(readers []reader, n int) {
		for i := 0; i < n && ferr == nil; i++ {
			if want(c.base + i) {
				var rec T
				read(readers, i, &rec)
				ferr = fn(c.base+i, &rec)
			}
		}
		c.base += n
	})
	if err == io.EOF {
		c.done = true
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, ferr
}

// Close releases the file.
func (c *Cursor[T]) Close() error { return c.r.Close() }

// Close releases the file.
func (r *Reader[T]) Close() error {
	r.rr.Release()
	// The Parquet reader sees a section reader, which it cannot close.
	return errors.Join(r.pf.Close(), r.f.Close())
}

// Each calls fn for every record of the file at path, streaming readRows at a time.
func (t *Table[T]) Each(path string, fn func(*T) error) error {
	return t.EachColumns(path, nil, fn)
}

// EachColumns is Each reading only the named columns (see OpenColumns).
func (t *Table[T]) EachColumns(path string, cols []string, fn func(*T) error) error {
	r, err := t.OpenColumns(path, cols)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		batch, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
	}
}

// ReadFile reads every record of the file at path. The slice is sized from the
// footer's row count up front: growing it by append re-copied (and page-faulted in)
// the whole table many times over, a third of a stage's CPU at 100k rows.
func (t *Table[T]) ReadFile(path string) ([]T, error) {
	r, err := t.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := make([]T, 0, r.plausibleRows())
	for {
		batch, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, batch...)
	}
}
