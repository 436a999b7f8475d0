package cli

// Secrets and customer data: the Chargebee key and the AC token come only from the
// environment or a *_FILE, no command takes one as a flag and no example passes one;
// after a whole job through both sandboxes neither is in any file of the data dir,
// the metrics file or any output; every file is 0600 and every folder 0700; and
// --redact / redact_errors keep emails out of both errors.csv files.

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/schemas"
)

func TestSecretsStayOutOfFilesAndOutput(t *testing.T) {
	key, token := "cbkey_"+randHex(), randomToken()
	cb, err := cbsandbox.New(cbsandbox.Options{APIKey: key, Pages: day1Pages})
	if err != nil {
		t.Fatal(err)
	}
	cbURL, err := cb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cb.Close() })
	// Two customers AC rejects, so load/errors.csv has rows to redact.
	ac := startAC(t, acsandbox.Options{Token: token, FailEmails: []string{"emily.carter@example.com", "eleni.papadopoulou@example.com"}})

	secrets := t.TempDir()
	keyFile, tokenFile := filepath.Join(secrets, "chargebee.key"), filepath.Join(secrets, "ac.token")
	for path, v := range map[string]string{keyFile: key + "\n", tokenFile: token + "\n"} {
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"CHARGEBEE_API_URL=" + cbURL, "CHARGEBEE_API_KEY_FILE=" + keyFile, "AC_API_URL=" + ac.url, "AC_API_TOKEN_FILE=" + tokenFile}
	cfg := filepath.Join(t.TempDir(), "cb2ac.yaml")
	if err := os.WriteFile(cfg, []byte("chargebee:\n  rate_limit_per_minute: -1\nactivecampaign:\n  import_poll: 10ms\n  rate_limit: 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// cb2ac creates the data dir itself, so its mode is checked too.
	data, metrics := filepath.Join(t.TempDir(), "data"), filepath.Join(t.TempDir(), "cb2ac.prom")
	base := []string{"--data-dir", data, "--config", cfg, "--log-format", "json", "--log-level", "debug", "--csv", "--metrics-file", metrics}
	var outs []result
	run := func(code int, args ...string) {
		t.Helper()
		r := cb2acEnv(t, env, append(base, args...)...)
		mustExit(t, r, code)
		outs = append(outs, r)
	}
	run(2, "run", "--source", "chargebee", "--run-id", day1Run, "--redact")
	run(0, "status")
	run(0, "errors", "--csv")
	run(0, "verify", "--sample", "0")
	run(1, "load", "--run-id", day1Run) // refused: the run holds the synced snapshot
	// A wrong token: a one-line 403, and it is in no file and no output either.
	bad := randomToken()
	r := cb2acEnv(t, []string{"CHARGEBEE_API_URL=" + cbURL, "CHARGEBEE_API_KEY=" + key, "AC_API_URL=" + ac.url, "AC_API_TOKEN=" + bad},
		append(base, "run", "--source", "chargebee")...)
	mustExit(t, r, 1)
	outs = append(outs, r)

	for _, sec := range []string{key, token, bad} {
		for _, form := range secretForms(sec) {
			for i, o := range outs {
				if strings.Contains(o.stdout, form) || strings.Contains(o.stderr, form) {
					t.Errorf("command %d printed a secret", i)
				}
			}
		}
	}
	assertNoSecret(t, data, []string{key, token, bad})
	assertNoSecret(t, filepath.Dir(metrics), []string{key, token, bad})

	// Customer data stays the owner's: every file 0600, every folder 0700.
	n := 0
	err = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil || n < 30 {
		t.Fatalf("walked %d entries: %v", n, err)
	}

	// --redact: both errors.csv files have their rows, and no email anywhere in them.
	emails := secretsEmails(t, filepath.Join(stageDir(data, day1Run, "extract"), "customers.parquet"))
	for _, stage := range []string{"validate", "load"} {
		secretsRedacted(t, filepath.Join(stageDir(data, day1Run, stage), "errors.csv"), emails)
	}
	// redact_errors in the config does the same for a later run.
	if err := os.WriteFile(cfg, []byte("redact_errors: true\nchargebee:\n  rate_limit_per_minute: -1\nactivecampaign:\n  import_poll: 10ms\n  rate_limit: 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(2, "run", "--source", "chargebee", "--run-id", day2Run, "--full", "--full-load")
	for _, stage := range []string{"validate", "load"} {
		secretsRedacted(t, filepath.Join(stageDir(data, day2Run, stage), "errors.csv"), emails)
	}
	assertNoSecret(t, data, []string{key, token})
}

// secretsEmails lists every customer email of an extract, trimmed and lower-cased.
func secretsEmails(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, c := range readTable(t, schemas.Customers, path) {
		if e := strings.ToLower(strings.TrimSpace(c.Email)); strings.Contains(e, "@") {
			out = append(out, e)
		}
	}
	return out
}

// secretsRedacted checks an errors.csv written with --redact: rows, no email.
func secretsRedacted(t *testing.T, path string, emails []string) {
	t.Helper()
	rows, err := schemas.ReadCSV[schemas.ValidationError](path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no rows to check", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	low := strings.ToLower(string(b))
	for _, e := range emails {
		if strings.Contains(low, e) {
			t.Errorf("%s still holds %s", path, e)
		}
	}
	for _, r := range rows {
		if r.Email != "" || r.Code == "" || r.Message == "" {
			t.Errorf("%s: row %+v", path, r)
		}
	}
}

// No command takes a secret as a flag: a flag's value shows in `ps`, in shell
// history and in a scheduler's task definition.
func TestNoSecretFlags(t *testing.T) {
	secretish := regexp.MustCompile(`(?i)key|token|secret|passw|credential`)
	// Flags that look like it but hold none: both name the environment variable
	// that holds the key a local emulator accepts.
	allowed := map[string]bool{"sandbox ac --token-env": true, "sandbox chargebee --key-env": true}
	var walk func(prefix string, cmds []*cli.Command)
	seen := 0
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			for _, f := range c.Flags {
				for _, n := range f.Names() {
					seen++
					if secretish.MatchString(n) && !allowed[name+" --"+n] {
						t.Errorf("`cb2ac %s --%s` looks like a secret passed as a flag", name, n)
					}
				}
			}
			walk(name, c.Subcommands)
		}
	}
	app := newApp(io.Discard, io.Discard)
	walk("", app.Commands)
	for _, f := range app.Flags {
		if n := f.Names()[0]; secretish.MatchString(n) {
			t.Errorf("global flag --%s looks like a secret", n)
		}
	}
	if seen < 50 {
		t.Fatalf("only %d flags seen", seen)
	}
}

// The examples people copy never put a key on a command line or in the config, and
// hold nothing that looks like a real key.
func TestExamplesPassNoSecrets(t *testing.T) {
	checks := []struct {
		re  *regexp.Regexp
		why string
	}{
		{regexp.MustCompile(`["']?\b(CHARGEBEE_API_KEY|AC_API_TOKEN)["']?\s*[=:]\s*["']?[^\s"'$]`), "a key set inline (use the *_FILE variable)"},
		{regexp.MustCompile(`(?i)--[a-z-]*(key|token|secret|passw)[a-z-]*`), "a secret-looking flag"},
		{regexp.MustCompile(`\b(live|test)_[A-Za-z0-9]{16,}`), "a Chargebee API key"},
		{regexp.MustCompile(`\b[0-9a-fA-F]{40,}\b`), "a long hex string (an AC API token?)"},
		{regexp.MustCompile(`(?i)(authorization|api-token)\s*:\s*\S{8,}`), "an auth header with a value"},
	}
	yamlKey := regexp.MustCompile(`(?i)^\s*[a-z_.]*(key|token|secret|passw)[a-z_.]*\s*:`)
	for _, path := range []string{"README.md", "scripts/cron.example", "scripts/airflow/cb2ac_dag.py", "cb2ac.example.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, c := range checks {
				if m := c.re.FindString(line); m != "" {
					t.Errorf("%s:%d: %s: %q", path, i+1, c.why, m)
				}
			}
			if strings.HasSuffix(path, ".yaml") && yamlKey.MatchString(line) {
				t.Errorf("%s:%d: a secret-looking config key: %q", path, i+1, line)
			}
		}
	}
	// A secret offered as a config key is refused by name, and not echoed back.
	cfg := filepath.Join(t.TempDir(), "cb2ac.yaml")
	const val = "live_abcdefghijklmnopqrstuvwxyz123456"
	for _, doc := range []string{"chargebee:\n  api_key: " + val + "\n", "activecampaign:\n  api_token: " + val + "\n"} {
		if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		r := cb2acEnv(t, nil, "--config", cfg, "--data-dir", t.TempDir(), "status")
		if r.code != 1 || strings.Contains(r.stderr+r.stdout, val) || !strings.Contains(r.stderr, "unknown key api_") || !strings.Contains(r.stderr, "secrets are never config keys") {
			t.Errorf("config %q: exit %d, stderr %q", doc, r.code, r.stderr)
		}
	}
}
