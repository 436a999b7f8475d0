package schemas

import (
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
)

// arrow-go compresses Snappy pages with klauspost's snappy.Encode, which is
// s2.EncodeSnappyBetter: at 1M customers that was the biggest single cost of
// writing Parquet in the transform stage (4.2 s of 78 s CPU). s2.EncodeSnappy
// writes the same format, which every Snappy reader decodes, a little larger and
// in about half the time; a stage writes far more than a person ever stores.
// Reading is arrow-go's own codec, untouched.
type plainSnappy struct{ snappyCodec }

type snappyCodec interface {
	compress.ErrorCodec
	compress.StreamingCodec
}

func (plainSnappy) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (plainSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

func init() {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		panic("schemas: arrow-go has no Snappy codec: " + err.Error())
	}
	sc, ok := c.(snappyCodec)
	if !ok {
		panic("schemas: arrow-go's Snappy codec no longer decodes with errors and streams")
	}
	compress.RegisterCodec(compress.Codecs.Snappy, plainSnappy{sc})
}
