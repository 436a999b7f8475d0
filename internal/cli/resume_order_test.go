package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
)

// Issue 18 item 11: `load --resume` of a run older than the one state.json's synced
// snapshot names is refused, naming both runs, and state.json stays as it was.
func TestLoadResumeOlderRunRefused(t *testing.T) {
	cfg := writeConfig(t, acConfig{unthrottled: true})
	ac := startAC(t, acsandbox.Options{})
	data := t.TempDir()
	base := []string{"--data-dir", data, "--config", cfg}
	// Day 1 gets as far as transform; its load never runs.
	mustExit(t, cb2acEnv(t, ac.env(), append(base, "extract", "--in", "fixtures/chargebee", "--run-id", day1Run)...), 0)
	mustExit(t, cb2acEnv(t, ac.env(), append(base, "validate", "--run-id", day1Run)...), 0)
	mustExit(t, cb2acEnv(t, ac.env(), append(base, "transform", "--run-id", day1Run)...), 0)
	// Day 2 syncs in full.
	mustExit(t, cb2acEnv(t, ac.env(), append(base, "run", "--in", "fixtures/chargebee", "--run-id", day2Run)...), 0)
	state := filepath.Join(data, "state.json")
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(before), day2Run) {
		t.Fatalf("state.json does not name day 2:\n%s", before)
	}
	ac.ResetLog()
	r := cb2acEnv(t, ac.env(), append(base, "load", "--resume", "--run-id", day1Run)...)
	if r.code == 0 {
		t.Fatalf("load --resume of an older run succeeded\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, day1Run) || !strings.Contains(r.stderr, day2Run) || !strings.Contains(r.stderr, "older") {
		t.Errorf("the error does not name both runs:\n%s", r.stderr)
	}
	after, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("state.json moved:\nbefore %s\nafter  %s", before, after)
	}
	if n := ac.WriteRequests(); n != 0 {
		t.Errorf("the refused resume made %d writes to AC", n)
	}
}
