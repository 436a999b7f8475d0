package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 18 item 10: a Chargebee endpoint (or a proxy in front of it) that echoes
// the request's Authorization header in its 401 body: the key's Basic-auth forms
// reach neither stderr, stdout nor any file of the data dir (manifest.json holds
// the stage's error).
func TestChargebeeEchoedAuthorizationStaysOut(t *testing.T) {
	key := "cbkey_" + randHex()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{
			"message":        "Sorry, authentication failed for " + r.Header.Get("Authorization"),
			"api_error_code": "api_authentication_failed", "type": "invalid_request"})
	}))
	defer ts.Close()
	cfg := filepath.Join(t.TempDir(), "cb2ac.yaml")
	if err := os.WriteFile(cfg, []byte("chargebee:\n  rate_limit_per_minute: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	r := cb2acEnv(t, []string{"CHARGEBEE_API_URL=" + ts.URL + "/api/v2", "CHARGEBEE_API_KEY=" + key},
		"--data-dir", data, "--config", cfg, "--log-format", "json", "--log-level", "debug",
		"extract", "--source", "chargebee", "--run-id", day1Run)
	if r.code == 0 {
		t.Fatalf("extract against a 401 succeeded\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "[redacted]") {
		t.Errorf("the echoed header is not in the error, redacted:\n%s", r.stderr)
	}
	for _, form := range secretForms(key) {
		if strings.Contains(r.stdout, form) || strings.Contains(r.stderr, form) {
			t.Errorf("a form of the key is printed: %q\nstdout:\n%s\nstderr:\n%s", form, r.stdout, r.stderr)
		}
	}
	m, err := os.ReadFile(filepath.Join(data, "runs", day1Run, "manifest.json"))
	if err != nil || !strings.Contains(string(m), "[redacted]") {
		t.Errorf("manifest.json does not hold the redacted error (%v):\n%s", err, m)
	}
	assertNoSecret(t, data, []string{key})
}
