package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// Environment variables of the Chargebee API source. The key is never a config key.
const (
	EnvChargebeeSite   = "CHARGEBEE_SITE"
	EnvChargebeeAPIURL = "CHARGEBEE_API_URL"
	EnvChargebeeAPIKey = "CHARGEBEE_API_KEY" // or CHARGEBEE_API_KEY_FILE
)

// ChargebeeAPIURL is the API base URL: CHARGEBEE_API_URL, else chargebee.api_url,
// else https://{site}.chargebee.com/api/v2 with CHARGEBEE_SITE or chargebee.site.
func (p *Pipeline) ChargebeeAPIURL() (string, error) {
	if v := strings.TrimSpace(os.Getenv(EnvChargebeeAPIURL)); v != "" {
		return strings.TrimRight(v, "/"), nil
	}
	if v := p.Cfg.Chargebee.APIURL; v != "" {
		return strings.TrimRight(v, "/"), nil
	}
	site := strings.TrimSpace(os.Getenv(EnvChargebeeSite))
	if site == "" {
		site = p.Cfg.Chargebee.Site
	}
	if site == "" {
		return "", errors.New("no Chargebee site: set chargebee.site in the config or CHARGEBEE_SITE (or CHARGEBEE_API_URL)")
	}
	if !siteName.MatchString(site) {
		return "", fmt.Errorf("chargebee site %q: want the site name only, as in https://{site}.chargebee.com", site)
	}
	return chargebee.DefaultBaseURL(site), nil
}

// chargebeeConfigured says whether a Chargebee site or API URL is set, in the
// config or the environment.
func (p *Pipeline) chargebeeConfigured() bool {
	return strings.TrimSpace(os.Getenv(EnvChargebeeAPIURL)) != "" || p.Cfg.Chargebee.APIURL != "" ||
		strings.TrimSpace(os.Getenv(EnvChargebeeSite)) != "" || p.Cfg.Chargebee.Site != ""
}

// ResolveSource fills in an extract's source when no --source was given: pages
// when --in names a folder (as before), else the Chargebee API when a site is
// configured; with neither, an error saying what to set.
func (p *Pipeline) ResolveSource(opts *extract.Options) error {
	switch {
	case opts.Source != "":
	case opts.In != "":
		opts.Source = extract.SourcePages
	case p.chargebeeConfigured():
		opts.Source = extract.SourceChargebee
	default:
		return errors.New("nothing to read: set chargebee.site in the config, or CHARGEBEE_SITE or CHARGEBEE_API_URL, to read the Chargebee API; or give --in DIR (a folder of list pages), or --source snapshot --in RUN/extract")
	}
	return nil
}

var (
	siteName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	siteURL  = regexp.MustCompile(`^https://([A-Za-z0-9][A-Za-z0-9-]*)\.chargebee\.com/api/v2$`)
)

// SiteKey names the Chargebee site an extract read, for state.json: the site name
// for a standard API URL, else the URL itself (a sandbox or a proxy is another site,
// so its watermark is never applied to the real one).
func SiteKey(apiURL string) string {
	if m := siteURL.FindStringSubmatch(apiURL); m != nil {
		return m[1]
	}
	return apiURL
}

// chargebeeClientConfig is the Chargebee client's config: the API URL, the key
// (from the environment unless set in-process) and the config's limits.
func (p *Pipeline) chargebeeClientConfig() (chargebee.Config, error) {
	apiURL, err := p.ChargebeeAPIURL()
	if err != nil {
		return chargebee.Config{}, err
	}
	key := p.Cfg.Chargebee.APIKey
	if key == "" {
		v, err := Secret(EnvChargebeeAPIKey)
		if err != nil {
			return chargebee.Config{}, err
		}
		if v == "" {
			return chargebee.Config{}, errors.New("no Chargebee API key: set CHARGEBEE_API_KEY or CHARGEBEE_API_KEY_FILE")
		}
		key = chargebee.Secret(v)
	}
	c := p.Cfg.Chargebee
	return chargebee.Config{
		BaseURL:       apiURL,
		APIKey:        key,
		RatePerMinute: c.RateLimitPerMinute,
		Timeout:       c.Timeout,
		MaxRetries:    c.MaxRetries,
		MaxPages:      c.MaxPages,
		UserAgent:     "cb2ac/" + Version,
	}, nil
}

// prepareChargebee completes an API extract's options from the config, the
// environment and state.json, and returns the stage's inputs: the API URL, and the
// previous extract when the read is incremental. With no usable previous extract of
// the same site, the read is a full one.
func (p *Pipeline) prepareChargebee(req *ExtractRequest, runID string) ([]Input, error) {
	if req.In != "" {
		return nil, errors.New("--in is not used with --source chargebee (the API is the input)")
	}
	if req.Since != "" {
		if _, err := extract.ParseSince(req.Since); err != nil {
			return nil, err
		}
		if req.Full {
			return nil, errors.New("--since and --full exclude each other")
		}
	}
	api, err := p.chargebeeClientConfig()
	if err != nil {
		return nil, err
	}
	apiURL := api.BaseURL
	req.API = api
	req.Log = p.Log.With("run_id", runID, "stage", StageExtract)
	if req.Summary == nil {
		req.Summary = p.Out
	}
	req.Now = p.Now
	inputs := []Input{{Dir: apiURL}}
	if req.Full {
		return inputs, nil
	}

	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return nil, err
	}
	site := SiteKey(apiURL)
	prev := st.Extract
	switch {
	case prev.RunID == "":
		req.Log.Info("no previous extract in state.json: reading everything")
	case prev.Site != site:
		req.Log.Info("state.json's watermark belongs to another site: reading everything", "state_site", prev.Site, "site", site)
	case prev.Format != extract.Format:
		// The base lacks lists and columns of this version (or its watermark is
		// the old single one, which moved even past skipped lists): merging into
		// it would never fill them in for records that do not change.
		req.Log.Info("state.json's extract base has another extract format: reading everything", "base", prev.RunID, "base_format", prev.Format, "format", extract.Format)
	case prev.RunID == runID:
		return nil, fmt.Errorf("run %s holds the extract the next incremental read merges into; pick another --run-id, or use --full", runID)
	default:
		in, err := Input{}, CheckRunID(prev.RunID)
		if err == nil {
			in, err = CheckInput(filepath.Join(RunsDir(p.Cfg.DataDir), prev.RunID, StageExtract), StageExtract)
		}
		if err != nil {
			// A pruned or broken base costs a full read, never a partial snapshot.
			req.Log.Warn("previous extract unusable: reading everything", "err", err.Error())
			break
		}
		req.Prev, req.Watermarks = in.Dir, maps.Clone(prev.Lists)
		inputs = append(inputs, in)
	}
	if req.Since != "" && req.Prev == "" {
		return nil, errors.New("--since needs a previous extract of this site to merge into, and there is none: run a full extract first")
	}
	return inputs, nil
}

// AdvanceExtractState makes run's extract the base of the next incremental extract:
// state.json's extract watermarks (one per list, from the manifest counts), format,
// run id and site move to it. Call it only once the
// whole job built on that extract has succeeded (RunAll does, at its end; so may a
// load that finished). Runs whose extract did not read the API (pages, snapshot) or
// was cut by --limit leave the state alone, as does an older run than the current base.
func (p *Pipeline) AdvanceExtractState(run *Run) error {
	m, err := run.Manifest()
	if err != nil {
		return fmt.Errorf("extract state: %w", err)
	}
	rec := m.Stages[StageExtract]
	if rec == nil {
		return nil // a backfill run (validate --in an older extract) read no API
	}
	if rec.Status != StatusSucceeded {
		return fmt.Errorf("extract state: run %s has no successful extract", run.ID)
	}
	for name, s := range m.Stages {
		if s.Status != StatusSucceeded {
			return fmt.Errorf("extract state: run %s stage %s is %s; the watermark stays", run.ID, name, s.Status)
		}
	}
	wm, ok := rec.Counts[extract.CountWatermark]
	if !ok {
		return nil
	}
	log := p.Log.With("run_id", run.ID)
	if rec.Counts[extract.CountLimited] > 0 {
		log.Info("extract was cut by --limit: the watermark stays")
		return nil
	}
	site := ""
	for _, in := range rec.Inputs {
		if in.RunID == "" && strings.Contains(in.Dir, "://") {
			site = SiteKey(in.Dir)
		}
	}
	if site == "" {
		return fmt.Errorf("extract state: run %s's manifest does not name the API it read", run.ID)
	}
	st, err := LoadState(p.Cfg.DataDir)
	if err != nil {
		return err
	}
	if st.Extract.Site == site && compareRunIDs(st.Extract.RunID, run.ID) > 0 {
		log.Info("state.json already has a newer extract base", "base", st.Extract.RunID)
		return nil
	}
	// An extract without a format count was written before per-list watermarks:
	// Format 0 makes the next read a full one.
	lists := extract.ListWatermarks(rec.Counts)
	st.Extract = ExtractState{RunID: run.ID, Watermark: wm, Site: site, Format: rec.Counts[extract.CountFormat], Lists: lists}
	if err := st.Save(p.Cfg.DataDir); err != nil {
		return fmt.Errorf("extract state: %w", err)
	}
	log.Info("extract watermarks advanced", "watermark", wm, "lists", fmt.Sprint(lists), "site", site)
	return nil
}

// compareRunIDs orders run ids by start time, then by their same-second suffix as
// a number: 20261120T020000Z-10 came after 20261120T020000Z-9.
func compareRunIDs(a, b string) int {
	ta, sa, _ := strings.Cut(a, "-")
	tb, sb, _ := strings.Cut(b, "-")
	if c := strings.Compare(ta, tb); c != 0 {
		return c
	}
	na, _ := strconv.Atoi(sa)
	nb, _ := strconv.Atoi(sb)
	return cmp.Compare(na, nb)
}
