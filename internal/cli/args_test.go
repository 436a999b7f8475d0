package cli

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// Flags after a command's positional arguments are read as flags (the README's
// `inspect FILE --format csv`), with their values; "--" ends the flags.
func TestInterspersedArgs(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	for in, want := range map[string]string{
		"cb2ac inspect F --format csv":                    "cb2ac inspect --format csv F",
		"cb2ac inspect F -n 3 --format=json":              "cb2ac inspect -n 3 --format=json F",
		"cb2ac --data-dir d inspect F --format csv":       "cb2ac --data-dir d inspect --format csv F",
		"cb2ac inspect --format csv F":                    "cb2ac inspect --format csv F",
		"cb2ac inspect F -- --format":                     "cb2ac inspect -- F --format",
		"cb2ac --log-level debug run --in x --csv --full": "cb2ac --log-level debug run --in x --csv --full",
		"cb2ac sandbox chargebee --pages p --addr :0":     "cb2ac sandbox chargebee --pages p --addr :0",
		"cb2ac nosuch F --x":                              "cb2ac nosuch F --x",
		"cb2ac":                                           "cb2ac",
	} {
		got := strings.Join(interspersed(app, strings.Fields(in)), " ")
		if got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
	if got := interspersed(app, []string{"cb2ac", "inspect", "F", "--format"}); !slices.Equal(got, []string{"cb2ac", "inspect", "F", "--format"}) {
		t.Errorf("a flag missing its value is left for the cli library to report: %q", got)
	}
}

// Each command's help lists the flags it uses, not every global one; a global
// flag is still accepted before any command.
func TestCommandHelpListsOnlyItsFlags(t *testing.T) {
	for _, tc := range []struct {
		cmd        []string
		has, lacks []string
	}{
		{[]string{"status"}, []string{"--last", "--data-dir", "--config", "--log-format"}, []string{"--run-id", "--csv", "--metrics-file", "--source"}},
		{[]string{"prune"}, []string{"--keep", "--data-dir"}, []string{"--run-id", "--csv", "--metrics-file"}},
		{[]string{"errors"}, []string{"--csv", "--run", "--code"}, []string{"--run-id", "--metrics-file"}},
		// Every stage command writes the metrics file (README "Metrics").
		{[]string{"load"}, []string{"--run-id", "--dry-run", "--metrics-file"}, []string{"--csv"}},
		{[]string{"extract"}, []string{"--run-id", "--csv", "--source", "--metrics-file"}, []string{"--last"}},
		{[]string{"run"}, []string{"--run-id", "--csv", "--metrics-file", "--no-check"}, nil},
		{[]string{"inspect"}, []string{"--format"}, []string{"--data-dir", "--run-id"}},
	} {
		r := cb2ac(t, append(tc.cmd, "--help")...)
		if r.code != 0 {
			t.Fatalf("%v --help: exit %d %s", tc.cmd, r.code, r.stderr)
		}
		for _, f := range tc.has {
			if !strings.Contains(r.stdout, f+" ") && !strings.Contains(r.stdout, f+",") {
				t.Errorf("%v --help lacks %s:\n%s", tc.cmd, f, r.stdout)
			}
		}
		for _, f := range tc.lacks {
			if strings.Contains(r.stdout, f+" ") || strings.Contains(r.stdout, f+",") {
				t.Errorf("%v --help lists %s, which it does not use:\n%s", tc.cmd, f, r.stdout)
			}
		}
	}
	data := t.TempDir()
	if r := cb2ac(t, "--data-dir", data, "status", "--run-id", fixedRun); r.code != 1 || !strings.Contains(r.stderr, "run-id") {
		t.Errorf("status --run-id: exit %d %s; want a refusal", r.code, r.stderr)
	}
	if r := cb2ac(t, "--data-dir", data, "--run-id", fixedRun, "--csv", "status"); r.code != 0 {
		t.Errorf("global flags before status: exit %d %s", r.code, r.stderr)
	}
}
