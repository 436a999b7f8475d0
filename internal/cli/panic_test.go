package cli

import (
	"bytes"
	"strings"
	"testing"
)

// Issue 18: a panic never exits 2 (the code for "records rejected").
func TestGuardTurnsPanicIntoExitCrash(t *testing.T) {
	var w bytes.Buffer
	code := guard(&w, func() int {
		var m map[string]int
		m["x"] = 1 // a runtime panic: assignment to entry in nil map
		return exitOK
	})
	if code != exitCrash || code == exitRejected {
		t.Fatalf("exit %d, want %d", code, exitCrash)
	}
	if out := w.String(); !strings.Contains(out, "panic: assignment to entry in nil map") || !strings.Contains(out, "panic_test.go") {
		t.Errorf("stderr does not show the panic and its stack:\n%s", out)
	}
	if code := guard(&w, func() int { return exitRejected }); code != exitRejected {
		t.Errorf("guard changed a normal exit to %d", code)
	}
}

// Through the built binary: a command that panics exits 70 with the panic on stderr.
func TestPanicExitsWithItsOwnCode(t *testing.T) {
	data := t.TempDir()
	r := cb2acEnv(t, []string{PanicEnv + "=validate"}, "--data-dir", data, "validate")
	if r.code != exitCrash {
		t.Fatalf("exit %d, want %d\nstderr:%s", r.code, exitCrash, r.stderr)
	}
	if !strings.Contains(r.stderr, "panic: test panic at validate") || !strings.Contains(r.stderr, "internal error") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
