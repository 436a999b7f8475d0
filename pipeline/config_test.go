package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig("../cb2ac.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ActiveCampaign.List != "Customers" || len(cfg.Transform.FieldMappings) != 3 || cfg.Transform.MarketingConsent == "" || len(cfg.Transform.StatusMap) != 1 {
		t.Errorf("example config read as %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]string{
		"datadir: x\n":        "unknown key datadir at the top level; did you mean data_dir?",
		"on_error: explode\n": "on_error",
		"activecampaign:\n  on_customer_deleted: burn\n":             "on_customer_deleted",
		"activecampaign:\n  max_attempts: -1\n":                      "activecampaign.timeout 0s and max_attempts -1 must not be negative",
		"activecampaign:\n  on_customer_erased: shred\n":             "activecampaign.on_customer_erased",
		"status_preset: magento\n":                                   "status_preset",
		"field_mappings:\n  - title: X\n    source: customer.nope\n": "no attribute",
	}
	for body, want := range cases {
		p := filepath.Join(t.TempDir(), "cb2ac.yaml")
		os.WriteFile(p, []byte(body), 0o600)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: err = %v, want it to name the file and mention %q", body, err, want)
		}
	}
	cfg, err := LoadConfig("")
	// The loader's keys keep their defaults in the loader (load.Config), once.
	if err != nil || cfg.DataDir != "data" || cfg.OnError != "ignore" || cfg.ActiveCampaign.OnCustomerDeleted != "" {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
}

func TestCheckInput(t *testing.T) {
	data := t.TempDir()
	run, err := OpenRun(data, "20261120T020000Z", true)
	if err != nil {
		t.Fatal(err)
	}
	dir := run.StageDir(StageExtract)
	os.MkdirAll(dir, 0o700)
	if _, err := CheckInput(dir, StageExtract); err == nil || !strings.Contains(err.Error(), "no manifest.json") {
		t.Errorf("no manifest: %v", err)
	}
	run.setStage(StageExtract, &StageRecord{Status: StatusRunning})
	if _, err := CheckInput(dir, StageExtract); err == nil || !strings.Contains(err.Error(), "did not succeed") {
		t.Errorf("running stage: %v", err)
	}
	run.setStage(StageExtract, &StageRecord{Status: StatusSucceeded})
	in, err := CheckInput(dir, StageExtract)
	if err != nil || in.RunID != run.ID {
		t.Errorf("succeeded stage: %+v %v", in, err)
	}
	if _, err := CheckInput(dir, StageValidate); err == nil || !strings.Contains(err.Error(), "not a validate folder") {
		t.Errorf("wrong stage: %v", err)
	}
	if _, err := OpenRun(data, "../../etc", true); err == nil {
		t.Error("a run id escaping runs/ was accepted")
	}
}

// A stage's input files are checked against the manifest's sha256 before use: a
// file replaced after the stage wrote it is refused, naming it.
func TestCheckInputVerifiesChecksums(t *testing.T) {
	run, err := OpenRun(t.TempDir(), "20261120T020000Z", true)
	if err != nil {
		t.Fatal(err)
	}
	dir := run.StageDir(StageTransform)
	os.MkdirAll(dir, 0o700)
	path := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(path, []byte("email\na@x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := DescribeFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	run.setStage(StageTransform, &StageRecord{Status: StatusSucceeded, Files: files})
	if _, err := CheckInput(dir, StageTransform); err != nil {
		t.Fatalf("untouched input: %v", err)
	}
	// Same size, other content: only the hash tells.
	if err := os.WriteFile(path, []byte("email\nb@x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckInput(dir, StageTransform); err == nil || !strings.Contains(err.Error(), "contacts.csv is not the file the transform stage wrote") {
		t.Errorf("replaced file: %v", err)
	}
	os.Remove(path)
	if _, err := CheckInput(dir, StageTransform); err == nil || !strings.Contains(err.Error(), "contacts.csv") {
		t.Errorf("missing file: %v", err)
	}
}

// AC_API_URL and activecampaign.api_url are checked when the config is read: a
// URL with user:password@ is refused without repeating the password, and a
// trailing newline is dropped rather than failing at load.
func TestACURLCheckedWhenConfigRead(t *testing.T) {
	t.Setenv(EnvACAPIURL, "https://user:s3cret@acme.api-us1.com")
	_, err := LoadConfig("")
	if err == nil || !strings.Contains(err.Error(), "AC_API_URL must not carry a user name or password") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("userinfo in AC_API_URL: %v", err)
	}
	for _, bad := range []string{"ftp://acme.api-us1.com", "acme.api-us1.com", "https://acme.api-us1.com/?x=1", "https://acme .api-us1.com"} {
		t.Setenv(EnvACAPIURL, bad)
		if _, err := LoadConfig(""); err == nil {
			t.Errorf("AC_API_URL %q accepted", bad)
		}
	}
	t.Setenv(EnvACAPIURL, "https://acme.api-us1.com\n")
	cfg, err := LoadConfig("")
	if err != nil {
		t.Fatalf("trailing newline: %v", err)
	}
	if got := (&Pipeline{Cfg: cfg}).ACURL(); got != "https://acme.api-us1.com" {
		t.Errorf("ACURL %q", got)
	}
	t.Setenv(EnvACAPIURL, "")
	path := filepath.Join(t.TempDir(), "cb2ac.yaml")
	os.WriteFile(path, []byte("activecampaign:\n  api_url: \"https://u:p4ss@acme.api-us1.com\"\n"), 0o600)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "activecampaign.api_url must not carry") || strings.Contains(err.Error(), "p4ss") {
		t.Errorf("userinfo in api_url: %v", err)
	}
}
