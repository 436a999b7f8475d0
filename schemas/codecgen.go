package schemas

import (
	"reflect"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Every record goes through the codec on every stage, and doing that by reflection
// was most of a stage's CPU (bench/results.md). So each table's record type has an
// encoder, a decoder and a detacher generated from the same column description the
// reflective codec uses (columnsOf), in codec_gen.go:
//
//	go generate ./schemas
//
// which runs TestCodecGenerated with -update (codecgen_test.go holds the generator).
// TestCodecGenerated fails while codec_gen.go differs from what the record types
// generate, and TestCodecAgreement checks the two codecs write the same files and
// read the same records for every table. A type without a generated codec (a
// stage's narrow view, a test's type) is coded by reflection. When a record change
// leaves codec_gen.go not compiling, delete it and run go generate: nothing else
// refers to it.
//
//go:generate go test . -run ^TestCodecGenerated$ -update

// genCodec is one record type's generated codec.
type genCodec[T any] struct {
	encode func(rb *array.RecordBuilder, rec *T)
	decode func(rs []reader, i int, rec *T)
	detach func(rec *T)
}

// genCodecs maps a record type to its *genCodec; codec_gen.go's init fills it, and
// it is only read after.
var genCodecs = map[reflect.Type]any{}

func registerCodec[T any](encode func(*array.RecordBuilder, *T), decode func([]reader, int, *T), detach func(*T)) {
	genCodecs[reflect.TypeFor[T]()] = &genCodec[T]{encode: encode, decode: decode, detach: detach}
}

func generatedCodec[T any]() *genCodec[T] {
	g, _ := genCodecs[reflect.TypeFor[T]()].(*genCodec[T])
	return g
}

// packageTables are the tables this package declares, in declaration order: those
// NewTable made before the package's init functions ran. They are the record types
// codec_gen.go is generated for.
var (
	packageTables []any
	initialised   bool
)

func init() { initialised = true }

func noteTable(t any) {
	if !initialised {
		packageTables = append(packageTables, t)
	}
}
