package pipeline

import (
	"context"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

// A stage that panics is recorded failed before the panic goes on (to internal/cli,
// which exits 70): the manifest never stays "running" after a bug.
func TestRunRecoveringRecordsThenPanics(t *testing.T) {
	var recorded any
	defer func() {
		p := recover()
		if p != "boom" || recorded != "boom" {
			t.Errorf("panic %v, recorded %v; want both boom", p, recorded)
		}
	}()
	runRecovering(context.Background(), t.TempDir(), func(context.Context, string) (schemas.Report, error) {
		panic("boom")
	}, func(p any) { recorded = p })
	t.Error("the panic did not go on")
}
