package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
)

// problemLines are stderr's lines that are not log records, without the
// "cb2ac: " prefix of the first.
func problemLines(stderr string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "time=") {
			continue
		}
		out = append(out, strings.TrimPrefix(line, "cb2ac: "))
	}
	return out
}

// `cb2ac check` proves the set-up in a few read requests: a good one passes; a
// wrong AC token, a missing list and a wrong Chargebee key each give one line and
// exit 1; `run` stops on them before its extract.
func TestCheck(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	cfg := writeConfig(t, acConfig{unthrottled: true})
	env := append(append([]string{}, cbEnv...), ac.env()...)
	data := t.TempDir()
	args := func(extra ...string) []string {
		return append([]string{"--data-dir", data, "--config", cfg}, extra...)
	}

	t.Run("good", func(t *testing.T) {
		ac.ResetLog()
		r := cb2acEnv(t, env, args("check")...)
		mustExit(t, r, 0)
		for _, want := range []string{"chargebee ok", "activecampaign ok", `list "Customers"`} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if n := ac.WriteRequests(); n != 0 {
			t.Errorf("check made %d write requests to AC, want 0", n)
		}
		checkNoToken(t, ac.token, data, r)
	})

	wrongToken := append(append([]string{}, cbEnv...), "AC_API_URL="+ac.url, "AC_API_TOKEN="+randomToken())
	missingList := writeConfig(t, acConfig{unthrottled: true, extraYAMLKeys: "  list: No Such List\n"})
	wrongKey := append(append([]string{}, ac.env()...), cbEnv[0], "CHARGEBEE_API_KEY=cbwrong_"+randHex())
	for _, tc := range []struct {
		name string
		env  []string
		cfg  string
		want []string
	}{
		{"wrong AC token", wrongToken, cfg, []string{"check activecampaign:", "403", "AC Settings"}},
		{"missing list", env, missingList, []string{"check activecampaign:", `no list "No Such List"`, "activecampaign.list"}},
		{"wrong Chargebee key", wrongKey, cfg, []string{"check chargebee:", "401", "CHARGEBEE_API_KEY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cmd := range [][]string{{"check"}, {"run", "--run-id", fixedRun}} {
				cb.ResetRequests()
				d := t.TempDir()
				r := cb2acEnv(t, tc.env, append([]string{"--data-dir", d, "--config", tc.cfg}, cmd...)...)
				mustExit(t, r, 1)
				lines := problemLines(r.stderr)
				if len(lines) != 1 {
					t.Fatalf("%s: want one problem line, got %d:\n%s", cmd[0], len(lines), r.stderr)
				}
				for _, want := range tc.want {
					if !strings.Contains(lines[0], want) {
						t.Errorf("%s: %q lacks %q", cmd[0], lines[0], want)
					}
				}
				// Nothing was extracted: no run folder, one Chargebee request at most.
				if _, err := os.Stat(filepath.Join(d, "runs", fixedRun)); err == nil {
					t.Errorf("%s: a run folder was made before the check passed", cmd[0])
				}
				if n := len(cb.Requests()); n > 1 {
					t.Errorf("%s: %d Chargebee requests, want the check's one at most", cmd[0], n)
				}
			}
		})
	}

	t.Run("field of another type", func(t *testing.T) {
		// A field cb2ac would create is taken, by title, by a date field: one line,
		// and nothing created.
		withField := writeConfig(t, acConfig{unthrottled: true})
		f, err := os.OpenFile(withField, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("field_mappings:\n  - title: Industry\n    source: customer.cf_industry\n")
		f.Close()
		if r := cb2acEnv(t, env, "--data-dir", t.TempDir(), "--config", withField, "check"); r.code != 0 || !strings.Contains(r.stdout, "custom fields to create") {
			t.Fatalf("before the field exists: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		body := strings.NewReader(`{"field":{"title":"industry","type":"date"}}`)
		req, _ := http.NewRequest(http.MethodPost, ac.url+"/api/3/fields", body)
		req.Header.Set("Api-Token", ac.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("create the field in the sandbox: %v %v", err, resp)
		}
		resp.Body.Close()
		ac.ResetLog()
		r := cb2acEnv(t, env, "--data-dir", t.TempDir(), "--config", withField, "check")
		mustExit(t, r, 1)
		if lines := problemLines(r.stderr); len(lines) != 1 || !strings.Contains(lines[0], `field "industry"`) || !strings.Contains(lines[0], "field_prefix") {
			t.Errorf("want one line naming the field and field_prefix, got %q", lines)
		}
		if n := ac.WriteRequests(); n != 0 {
			t.Errorf("check made %d write requests", n)
		}
	})

	t.Run("skipped parts", func(t *testing.T) {
		// --dry-run skips AC; a pages source skips Chargebee.
		r := cb2acEnv(t, wrongToken, args("check", "--dry-run")...)
		mustExit(t, r, 0)
		if !strings.Contains(r.stdout, "activecampaign skipped") {
			t.Errorf("--dry-run: %s", r.stdout)
		}
		r = cb2acEnv(t, wrongKey, args("check", "--in", "fixtures/chargebee")...)
		mustExit(t, r, 0)
		if !strings.Contains(r.stdout, "chargebee skipped") || !strings.Contains(r.stdout, "activecampaign ok") {
			t.Errorf("--in pages: %s", r.stdout)
		}
		// Both wrong: two lines.
		bad := append(append([]string{}, wrongToken[2:]...), wrongKey[2:]...)
		r = cb2acEnv(t, bad, args("check")...)
		mustExit(t, r, 1)
		if lines := problemLines(r.stderr); len(lines) != 2 {
			t.Errorf("wrong key and token: want two lines, got %q", lines)
		}
	})
}
