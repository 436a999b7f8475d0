package schemas

import (
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// The Arrow schema cb2ac writes passes the check (so files keep their exact Arrow
// types), and the same schema with a field count of a billion does not (pqarrow
// would try to allocate it and the process would die).
func TestArrowSchemaSound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rp.parquet")
	if err := RecurringPayments.WriteFile(path, sampleRPs()); err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	enc := pf.MetaData().KeyValueMetadata().FindValue(arrowSchemaKey)
	if enc == nil {
		t.Fatal("no ARROW:schema in a file cb2ac wrote")
	}
	if !arrowSchemaSound(*enc) {
		t.Fatal("cb2ac's own Arrow schema is judged unsound")
	}
	b, err := base64.StdEncoding.DecodeString(*enc)
	if err != nil {
		t.Fatal(err)
	}
	// Every little-endian 32-bit word equal to the column count is a candidate for
	// the fields vector length; set each in turn to 1<<30. Other words may equal the
	// count by chance (an offset, a length), so one candidate judged unsound, the
	// real one, is what is asked.
	cols := uint32(len(RecurringPayments.Schema().Fields())) // the stamp columns included
	tried, caught := 0, 0
	for i := 8; i+4 <= len(b); i++ {
		if uint32(b[i])|uint32(b[i+1])<<8|uint32(b[i+2])<<16|uint32(b[i+3])<<24 != cols {
			continue
		}
		bad := append([]byte(nil), b...)
		bad[i], bad[i+1], bad[i+2], bad[i+3] = 0, 0, 0, 0x40
		if !arrowSchemaSound(base64.StdEncoding.EncodeToString(bad)) {
			caught++
		}
		tried++
	}
	if tried == 0 {
		t.Fatal("no field count found to corrupt")
	}
	if caught == 0 {
		t.Errorf("a field count of 1<<30 is judged sound at each of the %d places it may be", tried)
	}
	for _, s := range []string{"", "!!", base64.StdEncoding.EncodeToString([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x7f})} {
		if arrowSchemaSound(s) {
			t.Errorf("%q judged sound", s)
		}
	}
}
