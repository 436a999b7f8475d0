package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A typo in the config names the key, its section and the nearest key, never a
// Go type.
func TestConfigTypoSuggestsKey(t *testing.T) {
	for body, want := range map[string]string{
		"datadir: x\n":                         "line 1: unknown key datadir at the top level; did you mean data_dir?",
		"chargebee:\n  sit: acme\n":            "line 2: unknown key sit in section chargebee; did you mean site?",
		"activecampaign:\n  lsit: Customers\n": "line 2: unknown key lsit in section activecampaign; did you mean list?",
		"site: acme\n":                         "line 1: unknown key site at the top level; did you mean chargebee.site?",
		"retention:\n  keep_run: 3\n":          "line 2: unknown key keep_run in section retention; did you mean keep_runs?",
		"field_mappings:\n  - titel: X\n":      "line 2: unknown key titel in section field_mappings; did you mean title?",
		"chargebee:\n  api_key: x\n":           "line 2: unknown key api_key in section chargebee; secrets are never config keys: set CHARGEBEE_API_KEY or AC_API_TOKEN (or *_FILE) in the environment",
		"zzzzzz: 1\nsync:\n  enabeld: false\n": "line 1: unknown key zzzzzz at the top level; line 3: unknown key enabeld in section sync; did you mean enabled?",
	} {
		path := filepath.Join(t.TempDir(), "cb2ac.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(path)
		if err == nil || !strings.HasSuffix(err.Error(), want) || strings.Contains(err.Error(), "pipeline.") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line ending %q", body, err, want)
		}
	}
	// Every section of the config is known, so no error falls back to a type name.
	for typ, sec := range configSections() {
		if len(sec.keys) == 0 && typ != "time.Time" {
			t.Errorf("section %q (%s) has no keys", sec.name, typ)
		}
	}
}
