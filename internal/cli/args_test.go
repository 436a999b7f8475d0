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
