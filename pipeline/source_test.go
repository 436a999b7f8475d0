package pipeline

import (
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/stages/extract"
)

// A bare extract or run reads the API when a Chargebee site is configured, a pages
// folder when --in names one, and otherwise says what to set.
func TestResolveSource(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cfg            ChargebeeConfig
		env            map[string]string
		source, in     string
		want, wantErrs string
	}{
		{name: "site in the config", cfg: ChargebeeConfig{Site: "acme"}, want: extract.SourceChargebee},
		{name: "api_url in the config", cfg: ChargebeeConfig{APIURL: "http://127.0.0.1:1/api/v2"}, want: extract.SourceChargebee},
		{name: "CHARGEBEE_SITE", env: map[string]string{EnvChargebeeSite: "acme"}, want: extract.SourceChargebee},
		{name: "CHARGEBEE_API_URL", env: map[string]string{EnvChargebeeAPIURL: "http://127.0.0.1:1/api/v2"}, want: extract.SourceChargebee},
		{name: "--in names pages", cfg: ChargebeeConfig{Site: "acme"}, in: "fixtures/chargebee", want: extract.SourcePages},
		{name: "--source wins", cfg: ChargebeeConfig{Site: "acme"}, source: extract.SourceSnapshot, in: "x", want: extract.SourceSnapshot},
		{name: "nothing configured", wantErrs: "set chargebee.site in the config, or CHARGEBEE_SITE or CHARGEBEE_API_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{EnvChargebeeSite, EnvChargebeeAPIURL} {
				t.Setenv(k, tc.env[k])
			}
			p := &Pipeline{Cfg: &Config{Chargebee: tc.cfg}}
			opts := extract.Options{Source: tc.source, In: tc.in}
			err := p.ResolveSource(&opts)
			switch {
			case tc.wantErrs != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErrs) {
					t.Errorf("error %v, want one saying %q", err, tc.wantErrs)
				}
			case err != nil:
				t.Fatal(err)
			case opts.Source != tc.want:
				t.Errorf("source %q, want %q", opts.Source, tc.want)
			}
		})
	}
}
