package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
	"github.com/cb2ac/cb2ac/stages/load"
	"github.com/cb2ac/cb2ac/stages/transform"
	"github.com/cb2ac/cb2ac/stages/validate"
)

// Config is cb2ac.yaml. Every key is optional; flags override it. Secrets are not
// config keys: they come from the environment (or a *_FILE named there).
type Config struct {
	// DataDir holds state.json, the lock and runs/ (default ./data): a folder, or
	// a bucket URL (s3://, gs://, azblob://, file:///), which MountDataDir turns
	// into a local mirror's path.
	DataDir string `yaml:"data_dir" json:"data_dir,omitempty"`
	// dataURL is the data dir URL a mounted DataDir stands for.
	dataURL string
	// CSV writes a CSV twin beside every Parquet file.
	CSV bool `yaml:"csv" json:"csv,omitempty"`
	// OnError is what validate does with bad records: ignore (carry the good rows on,
	// the default) or fail (exit 2 after writing errors.csv).
	OnError string `yaml:"on_error" json:"on_error,omitempty"`
	// RedactErrors writes validate's and load's errors.csv with the email column
	// empty and emails scrubbed from the messages (--redact), for a CSV that goes to
	// people who may not see customer data.
	RedactErrors bool `yaml:"redact_errors" json:"redact_errors,omitempty"`

	// Sync.Enabled false pauses the job: `run` exits 0 saying so, and a crontab
	// needs no edit (the "disable auto sync" switch).
	Sync SyncConfig `yaml:"sync" json:"sync"`
	// Retention.KeepRuns > 0 keeps that many run folders after each run (the run
	// state.json points at is always kept); 0 keeps every run.
	Retention RetentionConfig `yaml:"retention" json:"retention"`
	// MetricsFile, when set, gets a Prometheus textfile after every run.
	MetricsFile string `yaml:"metrics_file" json:"metrics_file,omitempty"`

	Chargebee      ChargebeeConfig      `yaml:"chargebee" json:"chargebee"`
	ActiveCampaign ActiveCampaignConfig `yaml:"activecampaign" json:"activecampaign"`

	// The stages' own keys sit at the top level of the file.
	Validate  validate.Config  `yaml:",inline" json:"validate"`
	Transform transform.Config `yaml:",inline" json:"transform"`
}

// SyncConfig is the pause switch.
type SyncConfig struct {
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"` // default true
}

// On says whether runs sync (the default when the key is absent).
func (s SyncConfig) On() bool { return s.Enabled == nil || *s.Enabled }

// RetentionConfig bounds how long customer data stays on disk.
type RetentionConfig struct {
	KeepRuns int `yaml:"keep_runs" json:"keep_runs,omitempty"`
}

// ChargebeeConfig says where to read. The API key is CHARGEBEE_API_KEY (or the file
// named by CHARGEBEE_API_KEY_FILE), never a config key.
type ChargebeeConfig struct {
	Site   string `yaml:"site" json:"site,omitempty"`
	APIURL string `yaml:"api_url" json:"api_url,omitempty"` // overrides https://{site}.chargebee.com/api/v2
	// RateLimitPerMinute caps API requests across all lists (default 100: the
	// lowest plan's and every test site's limit is 150, shared with the merchant's
	// own API traffic; over it Chargebee blocks the site).
	// A negative value turns the cap off: for a local sandbox only.
	RateLimitPerMinute float64 `yaml:"rate_limit_per_minute" json:"rate_limit_per_minute,omitempty"`
	// Timeout bounds one request, body included (default 60s).
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
	// MaxRetries is how often a 429, 5xx or network error is retried (default 8).
	MaxRetries int `yaml:"max_retries" json:"max_retries,omitempty"`
	// MaxPages bounds one list read (default 100000 pages, 10 million records): a
	// next_offset that never ends stops there with an error.
	MaxPages int `yaml:"max_pages" json:"max_pages,omitempty"`
	// APIKey is set in-process only (cb2ac run --sandbox); otherwise it comes from
	// the environment when the API is read.
	APIKey chargebee.Secret `yaml:"-" json:"-"`
}

// ActiveCampaignConfig says where to write (load.Config: api_url, list,
// on_customer_deleted, on_customer_erased, exclude_automations, rate_limit, batch sizes). The token is
// AC_API_TOKEN (or the file named by AC_API_TOKEN_FILE); AC_API_URL overrides api_url.
type ActiveCampaignConfig = load.Config

// Defaults.
const (
	DefaultDataDir = "data"
	OnErrorIgnore  = "ignore"
	OnErrorFail    = "fail"
)

// LoadConfig reads the config file; an empty path means defaults only. Unknown keys
// are errors, so a typo never silently falls back to a default.
func LoadConfig(path string) (*Config, error) {
	cfg := &Config{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: %w", path, configKeyError(err))
		}
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.OnError == "" {
		cfg.OnError = OnErrorIgnore
	}
	cfg.ActiveCampaign.APIURL = strings.TrimSpace(cfg.ActiveCampaign.APIURL)
	// AC_API_URL is read when it is used (ACURL), but checked here with the file,
	// so a bad one fails before any stage runs rather than at load.
	if v := os.Getenv(EnvACAPIURL); v != "" {
		if err := CheckACURL(EnvACAPIURL, v); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	if err := cfg.Check(); err != nil {
		if path != "" {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// Check validates values that the stages would otherwise reject half way.
func (c *Config) Check() error {
	switch c.OnError {
	case OnErrorIgnore, OnErrorFail:
	default:
		return fmt.Errorf("on_error %q: want ignore or fail", c.OnError)
	}
	if err := c.ActiveCampaign.Check(); err != nil {
		return fmt.Errorf("activecampaign.%w", err)
	}
	if c.Retention.KeepRuns < 0 {
		return fmt.Errorf("retention.keep_runs %d: want 0 (keep all) or more", c.Retention.KeepRuns)
	}
	if c.Chargebee.Timeout < 0 || c.Chargebee.MaxRetries < 0 || c.Chargebee.MaxPages < 0 {
		return fmt.Errorf("chargebee.timeout, chargebee.max_retries and chargebee.max_pages must not be negative")
	}
	if c.ActiveCampaign.APIURL != "" {
		if err := CheckACURL("activecampaign.api_url", c.ActiveCampaign.APIURL); err != nil {
			return err
		}
	}
	if _, err := transform.NewMapper(c.Transform); err != nil {
		return err
	}
	return nil
}

// EnvACAPIURL overrides activecampaign.api_url.
const EnvACAPIURL = "AC_API_URL"

// CheckACURL checks an AC API URL (name says where it came from): surrounding
// white space (a trailing newline from a file or a shell) is ignored; what is
// left must be an http(s) URL with a host and nothing else — no user name or
// password (the token is AC_API_TOKEN, and a URL is written to state.json and
// logs), no query or fragment. The message never repeats the URL, which may hold
// a password.
func CheckACURL(name, raw string) error {
	v := strings.TrimSpace(raw)
	u, err := url.Parse(v)
	switch {
	case err != nil || v == "":
		return fmt.Errorf("%s is not a URL (want https://ACCOUNT.api-us1.com)", name)
	case u.User != nil:
		return fmt.Errorf("%s must not carry a user name or password (user:password@); the token comes from AC_API_TOKEN", name)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("%s %q: want an http(s) URL with a host (https://ACCOUNT.api-us1.com)", name, v)
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(v, " \t\r\n"):
		return fmt.Errorf("%s %q: want the account's base URL only, without a query, fragment or white space", name, v)
	}
	return nil
}

// Hash identifies the config a stage ran with (recorded in the manifest): the same
// settings give the same hash however the file is formatted.
func (c *Config) Hash() string {
	if c.dataURL != "" {
		// The same for every worker: not the path of this one's mirror.
		cc := *c
		cc.DataDir, cc.dataURL = c.dataURL, ""
		c = &cc
	}
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
