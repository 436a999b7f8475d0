package schemas

import (
	"encoding/base64"
	"encoding/binary"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// A Parquet file written through Arrow keeps its Arrow schema in the footer
// ("ARROW:schema": an IPC schema message, base64), and pqarrow decodes it before any
// row is read. That decoder trusts the lengths and the nesting it finds: one corrupt
// byte can ask for a slice of billions of fields, or make a field its own child, and
// the process then dies of an out-of-memory or stack-overflow fatal error that no
// recover() catches. sanitizeArrowSchema walks the message first, within bounds; when
// it is not sound the key is dropped, the column types come from the Parquet schema
// alone (as for a file not written through Arrow), and a broken file fails with an
// ordinary error.

const arrowSchemaKey = "ARROW:schema"

// Bounds of a schema we accept: far above anything cb2ac or a data tool writes.
const (
	arrowMaxDepth = 64
	arrowMaxNodes = 100_000
)

func sanitizeArrowSchema(md *metadata.FileMetaData) {
	for _, kv := range md.KeyValueMetadata() {
		if kv != nil && kv.Key == arrowSchemaKey && kv.Value != nil && !arrowSchemaSound(*kv.Value) {
			kv.Value = nil
		}
	}
}

// arrowSchemaSound mirrors what ipc.NewReader allocates from the message: the
// metadata and body lengths, and every vector of fields, children and custom
// metadata, each of which must fit in the bytes that are there.
func arrowSchemaSound(enc string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false // read past the end: corrupt
		}
	}()
	// pqarrow accepts padded and unpadded base64; so does this.
	b, err := base64.StdEncoding.DecodeString(enc)
	if len(enc)%4 != 0 || len(b) == 0 || err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
			return false
		}
	}
	if len(b) < 8 {
		return false
	}
	n := uint64(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if n == 0xFFFFFFFF { // continuation token, then the length
		n = uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	if n < 4 || n > uint64(len(b)) {
		return false
	}
	meta, body := b[:n], b[n:]
	c := &fbCheck{buf: meta}
	msg := flatbuffers.Table{Bytes: meta, Pos: flatbuffers.GetUOffsetT(meta)}
	// Message: version 0, header_type 1, header 2, bodyLength 3, custom_metadata 4.
	if o := flatbuffers.UOffsetT(msg.Offset(10)); o != 0 {
		if bl := msg.GetInt64(o + msg.Pos); bl < 0 || bl > int64(len(body)) {
			return false
		}
	}
	o := flatbuffers.UOffsetT(msg.Offset(8))
	if o == 0 {
		return false
	}
	schema := flatbuffers.Table{Bytes: meta, Pos: msg.Indirect(o + msg.Pos)}
	// Schema: endianness 0, fields 1, custom_metadata 2, features 3.
	return c.keyValues(&schema, 8) && c.fields(&schema, 6, 0)
}

type fbCheck struct {
	buf   []byte
	nodes int
}

// vector returns where the vector of field slot vt starts and how long it is, and
// whether its elements of elemSize bytes fit in the buffer.
func (c *fbCheck) vector(t *flatbuffers.Table, vt flatbuffers.VOffsetT, elemSize int) (flatbuffers.UOffsetT, int, bool) {
	o := flatbuffers.UOffsetT(t.Offset(vt))
	if o == 0 {
		return 0, 0, true
	}
	start, n := t.Vector(o), t.VectorLen(o)
	return start, n, n >= 0 && int(start) <= len(c.buf) && n <= (len(c.buf)-int(start))/elemSize
}

func (c *fbCheck) keyValues(t *flatbuffers.Table, vt flatbuffers.VOffsetT) bool {
	_, _, ok := c.vector(t, vt, 4)
	return ok
}

// fields checks a vector of Field tables (name 0, nullable 1, type_type 2, type 3,
// dictionary 4, children 5, custom_metadata 6) and their children, depth first.
func (c *fbCheck) fields(t *flatbuffers.Table, vt flatbuffers.VOffsetT, depth int) bool {
	start, n, ok := c.vector(t, vt, 4)
	if !ok || depth > arrowMaxDepth {
		return false
	}
	for i := 0; i < n; i++ {
		if c.nodes++; c.nodes > arrowMaxNodes {
			return false
		}
		f := flatbuffers.Table{Bytes: c.buf, Pos: t.Indirect(start + flatbuffers.UOffsetT(i*4))}
		if !c.keyValues(&f, 16) || !c.fields(&f, 14, depth+1) {
			return false
		}
	}
	return true
}
