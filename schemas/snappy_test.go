package schemas

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
)

// Pages are compressed by s2.EncodeSnappy and still decode, through arrow-go's
// Snappy codec (what every cb2ac reader uses) and s2's decoder alike.
func TestSnappyPagesPlainEncoder(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(plainSnappy); !ok {
		t.Fatalf("the Snappy codec is %T, not plainSnappy", c)
	}
	var page bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&page, "sub_%07d|2026-01-%02dT00:00:00Z|ACTIVE|%d.00;", i, i%28+1, i%97)
	}
	src := page.Bytes()
	enc := c.Encode(nil, src)
	if !bytes.Equal(enc, s2.EncodeSnappy(nil, src)) {
		t.Error("Encode is not s2.EncodeSnappy")
	}
	if lvl := c.(compress.Codec).EncodeLevel(nil, src, 9); !bytes.Equal(lvl, enc) {
		t.Error("EncodeLevel is not s2.EncodeSnappy")
	}
	if len(enc) >= len(src)/2 {
		t.Errorf("compressed %d bytes to %d", len(src), len(enc))
	}
	for name, dec := range map[string]func() ([]byte, error){
		"arrow-go": func() ([]byte, error) { return compress.Decode(c, nil, enc) },
		"s2":       func() ([]byte, error) { return s2.Decode(nil, enc) },
	} {
		got, err := dec()
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%s decode: %v, equal %v", name, err, bytes.Equal(got, src))
		}
	}
}
