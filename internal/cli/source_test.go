package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/pipeline"
)

// A bare `extract` with a Chargebee site configured reads the API; with no site and
// no --in, it says what to set instead of asking for --in.
func TestBareExtractReadsConfiguredSite(t *testing.T) {
	s := newSite(t)
	const runID = "20261120T020000Z"
	r := s.run(t, "", "extract", "--rate-limit=-1", "--run-id", runID)
	mustExit(t, r, 0)
	m := readManifest(t, filepath.Join(s.data, "runs", runID)).Stages["extract"]
	if m == nil || m.Status != pipeline.StatusSucceeded || len(m.Inputs) == 0 || m.Inputs[0].Dir != s.url {
		t.Errorf("bare extract: manifest %+v, want the API %s as input", m, s.url)
	}
	if len(s.srv.Requests()) == 0 {
		t.Error("bare extract sent no request to the configured site")
	}

	for _, cmd := range []string{"extract", "run"} {
		r := cb2ac(t, "--data-dir", t.TempDir(), cmd)
		last := lastLine(r.stderr)
		if r.code != 1 || !strings.Contains(last, "chargebee.site") || !strings.Contains(last, "CHARGEBEE_SITE") || strings.Contains(last, "needs --in") {
			t.Errorf("bare %s with no site: exit %d, %q; want one line naming chargebee.site and CHARGEBEE_SITE", cmd, r.code, last)
		}
	}
}
