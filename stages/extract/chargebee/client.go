package chargebee

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Secret is an API key. It prints, logs and marshals as [redacted], so a key that
// ends up in a %v, a log attribute or a JSON document does not leak.
type Secret string

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { io.WriteString(f, redacted) }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) Reveal() string             { return string(s) }

// Endpoint is one list endpoint and the list parameters it accepts. Chargebee's
// endpoints differ (testdata/chargebee/list-params.tsv, from chargebee-go's
// ListRequestParams and chargebee-java's SortByAsc enums), so the client never
// sends a parameter the endpoint does not document: gifts take no updated_at
// filter, sort or include_deleted; item prices and items no include_deleted;
// credit notes, plans and addons take the updated_at filter but cannot be sorted
// by updated_at.
type Endpoint struct {
	Entity          string // path and extract file name: "customers"
	UpdatedAtFilter bool   // updated_at[after] on an incremental read
	SortByUpdatedAt bool   // sort_by[asc]=updated_at with the filter
	IncludeDeleted  bool   // include_deleted=true
	// Optional: a site may not have the list (gifts off; item_prices and items
	// only on Product Catalog 2.0 sites, plans and addons only on 1.0 ones). A
	// 400 or a 404 other than site_not_found skips it.
	Optional bool
	// Catalog is the product catalog version the list belongs to: "2.0", "1.0" or
	// "" (every site).
	Catalog string
}

// Endpoints are the lists cb2ac reads, in extract order. credit_notes and
// payment_sources exist on every site, whatever its catalog (API v2 docs), so they
// are required: a 403 there means the key may not read them, which fails the run
// rather than silently losing refunds or card changes.
var Endpoints = []Endpoint{
	{Entity: "customers", UpdatedAtFilter: true, SortByUpdatedAt: true, IncludeDeleted: true},
	{Entity: "subscriptions", UpdatedAtFilter: true, SortByUpdatedAt: true, IncludeDeleted: true},
	{Entity: "invoices", UpdatedAtFilter: true, SortByUpdatedAt: true, IncludeDeleted: true},
	{Entity: "credit_notes", UpdatedAtFilter: true, IncludeDeleted: true},
	{Entity: "payment_sources", UpdatedAtFilter: true, SortByUpdatedAt: true, IncludeDeleted: true},
	{Entity: "item_prices", UpdatedAtFilter: true, SortByUpdatedAt: true, Optional: true, Catalog: "2.0"},
	{Entity: "items", UpdatedAtFilter: true, SortByUpdatedAt: true, Optional: true, Catalog: "2.0"},
	{Entity: "plans", UpdatedAtFilter: true, IncludeDeleted: true, Optional: true, Catalog: "1.0"},
	{Entity: "addons", UpdatedAtFilter: true, IncludeDeleted: true, Optional: true, Catalog: "1.0"},
	{Entity: "gifts", Optional: true},
}

// Query is the list query of an endpoint: a full read, or with after an
// incremental one (updated_at[after], sorted by updated_at where the endpoint
// can be). An endpoint without the filter is always read in full, and so is a
// non-positive after: a watermark of 0 means "never read", never a negative
// timestamp.
func (e Endpoint) Query(pageSize int, after *int64) ListQuery {
	q := ListQuery{Limit: pageSize, IncludeDeleted: e.IncludeDeleted}
	if e.UpdatedAtFilter && after != nil && *after > 0 {
		a := *after
		q.UpdatedAfter, q.SortByUpdated = &a, e.SortByUpdatedAt
	}
	return q
}

// EndpointFor returns the endpoint of an entity.
func EndpointFor(entity string) (Endpoint, bool) {
	for _, e := range Endpoints {
		if e.Entity == entity {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Defaults. The rate limit is per site and shared with every other API client of
// the site — the merchant's own backend, checkout, webhooks handlers — so cb2ac
// stays well under the lowest limit (150 requests a minute on Starter and on every
// test site, Chargebee KB "API rate limits"): 100 a minute leaves a third for the
// merchant's traffic. Going over the limit blocks the whole site for about a
// minute (429), and on a live site it flags the account.
const (
	DefaultRatePerMinute = 100
	DefaultTimeout       = 60 * time.Second
	DefaultMaxRetries    = 8
	DefaultBackoffBase   = 2 * time.Second
	DefaultBackoffMax    = 64 * time.Second
	MaxPageSize          = 100
	// DefaultMaxPages bounds one list read: 100,000 pages is 10 million records
	// at 100 a page, beyond any site cb2ac is sized for. A server whose
	// next_offset never repeats and never ends stops here with an error.
	DefaultMaxPages = 100_000
	// maxEmptyPages is how many pages in a row may hold no record yet name a
	// next_offset before the read is taken to be going nowhere.
	maxEmptyPages = 3
	// maxRetryAfter bounds a Retry-After a server might send: past it, failing
	// and letting the scheduler retry later beats holding a run open for hours.
	maxRetryAfter = 5 * time.Minute
)

// DefaultBaseURL is a site's API base URL.
func DefaultBaseURL(site string) string {
	return "https://" + site + ".chargebee.com/api/v2"
}

// Config configures a Client. Zero values take the defaults.
type Config struct {
	BaseURL string // https://{site}.chargebee.com/api/v2, or a sandbox's
	APIKey  Secret
	// RatePerMinute caps requests across every entity read by this client (the
	// limit is per site, not per endpoint). 0 = DefaultRatePerMinute; < 0 = no cap
	// (a local sandbox only).
	RatePerMinute float64
	Timeout       time.Duration // per attempt, body included
	MaxRetries    int           // retries after the first attempt; < 0 = none
	MaxPages      int           // pages one list read may take (0 = DefaultMaxPages)
	BackoffBase   time.Duration // first retry delay, doubled per retry, with jitter
	BackoffMax    time.Duration
	HTTPClient    *http.Client
	UserAgent     string
	Log           *slog.Logger // retries are logged at warn; nil = silent
}

// Client is a small typed Chargebee API v2 client for the list endpoints: Basic
// auth, opaque next_offset paging, one site-wide rate limiter, retries with backoff.
type Client struct {
	cfg     Config
	base    *url.URL
	limiter *rate.Limiter
	http    *http.Client
	log     *slog.Logger

	mu        sync.Mutex
	notBefore time.Time // a 429 pauses every request of the client, not just the one
	stats     map[string]*Stats
}

// Stats counts one entity's traffic.
type Stats struct {
	Requests int64 // HTTP requests sent, retries included
	Retries  int64
	Pages    int64 // list pages decoded
	Records  int64 // list entries decoded
}

// NewClient checks the config and returns a client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("chargebee: no API URL (set chargebee.site, or chargebee.api_url / CHARGEBEE_API_URL)")
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("chargebee: API URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if u.User != nil {
		// A key in the URL would show up in every url.Error message.
		return nil, errors.New("chargebee: API URL must not carry credentials; the key comes from CHARGEBEE_API_KEY")
	}
	if cfg.APIKey == "" {
		return nil, errors.New("chargebee: no API key (set CHARGEBEE_API_KEY or CHARGEBEE_API_KEY_FILE)")
	}
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = DefaultRatePerMinute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "cb2ac"
	}
	c := &Client{cfg: cfg, base: u, http: cfg.HTTPClient, log: cfg.Log, stats: map[string]*Stats{}}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.RatePerMinute > 0 {
		// Burst 1: requests are spaced evenly, so no 60 s window ever holds more
		// than the limit (plus the one request at its edge).
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RatePerMinute/60), 1)
	}
	return c, nil
}

// BaseURL is the API base URL the client talks to (it holds no secret).
func (c *Client) BaseURL() string { return c.base.String() }

// Stats returns an entity's counters so far.
func (c *Client) Stats(entity string) Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.stats[entity]; s != nil {
		return *s
	}
	return Stats{}
}

func (c *Client) count(entity string, f func(*Stats)) {
	c.mu.Lock()
	s := c.stats[entity]
	if s == nil {
		s = &Stats{}
		c.stats[entity] = s
	}
	f(s)
	c.mu.Unlock()
}

// ListQuery is one list request's parameters.
type ListQuery struct {
	Limit          int    // 1..100; 0 = 100
	Offset         string // the previous page's next_offset, verbatim
	UpdatedAfter   *int64 // updated_at[after] (strictly after, Unix seconds)
	UpdatedBefore  *int64 // updated_at[before]
	SortByUpdated  bool   // sort_by[asc]=updated_at (default order: created_at asc)
	IncludeDeleted bool   // include_deleted=true
	MaxPages       int    // pages this read may take, at most the client's MaxPages (0 = the client's); never sent
}

// Values encodes the query as Chargebee's query string parameters.
func (q ListQuery) Values() url.Values {
	v := url.Values{}
	limit := q.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	v.Set("limit", strconv.Itoa(limit))
	if q.Offset != "" {
		v.Set("offset", q.Offset)
	}
	if q.UpdatedAfter != nil {
		v.Set("updated_at[after]", strconv.FormatInt(*q.UpdatedAfter, 10))
	}
	if q.UpdatedBefore != nil {
		v.Set("updated_at[before]", strconv.FormatInt(*q.UpdatedBefore, 10))
	}
	if q.SortByUpdated {
		v.Set("sort_by[asc]", "updated_at")
	}
	if q.IncludeDeleted {
		v.Set("include_deleted", "true")
	}
	return v
}

// List reads every page of an entity's list from q.Offset on and hands each to fn
// in order.
//
// A read that pages without end stops with an error naming the list: an offset
// handed back twice, more than q.MaxPages pages (or the client's MaxPages), or
// maxEmptyPages pages in a row that hold no record but name a next page.
func (c *Client) List(ctx context.Context, entity string, q ListQuery, fn func(*Page) error) error {
	limit := c.cfg.MaxPages
	if q.MaxPages > 0 && q.MaxPages < limit {
		limit = q.MaxPages
	}
	seen := map[string]bool{}
	var pages, records, empty int
	for {
		if pages >= limit {
			return fmt.Errorf("chargebee: GET /%s: still more after %d pages (%d records); stopping: a server that pages without end, or a list larger than the limit (chargebee.max_pages, or --full when an incremental read's limit, scaled to the previous copy, is too low)", entity, pages, records)
		}
		page, err := c.ListPage(ctx, entity, q)
		if err != nil {
			return err
		}
		pages++
		records += len(page.List)
		if err := fn(page); err != nil {
			return err
		}
		if page.NextOffset == "" {
			return nil
		}
		if len(page.List) == 0 {
			if empty++; empty >= maxEmptyPages {
				return fmt.Errorf("chargebee: GET /%s: %d empty pages in a row still name a next_offset; stopping", entity, empty)
			}
		} else {
			empty = 0
		}
		if seen[page.NextOffset] {
			// A server that hands back an offset twice would page forever.
			return fmt.Errorf("chargebee: GET /%s: next_offset %q repeated; stopping", entity, page.NextOffset)
		}
		seen[page.NextOffset] = true
		q.Offset = page.NextOffset
	}
}

// ListPage reads one page of an entity's list, retrying 429s, 5xx and network
// errors with backoff, and decodes it with DecodePage (the pages source's decoder).
func (c *Client) ListPage(ctx context.Context, entity string, q ListQuery) (*Page, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + entity
	u.RawQuery = q.Values().Encode()
	path := "/" + entity
	for attempt := 0; ; attempt++ {
		body, retryAfter, date, err := c.do(ctx, entity, u.String(), path)
		if err == nil {
			page, derr := DecodePage(bytes.NewReader(body))
			if derr != nil {
				return nil, fmt.Errorf("chargebee: GET %s: %w", path, derr)
			}
			page.Date = date
			c.count(entity, func(s *Stats) { s.Pages++; s.Records += int64(len(page.List)) })
			return page, nil
		}
		if !retryable(err) || attempt >= c.cfg.MaxRetries || c.cfg.MaxRetries < 0 {
			if retryable(err) && attempt > 0 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
			}
			return nil, err
		}
		delay := c.backoff(attempt)
		if retryAfter > delay {
			delay = retryAfter
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
			c.pause(delay)
		}
		c.count(entity, func(s *Stats) { s.Retries++ })
		c.log.Warn("chargebee request failed, retrying", "entity", entity, "attempt", attempt+1, "delay", delay.Round(time.Millisecond).String(), "err", err.Error())
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// do sends one GET and returns the body of a 200. Any other answer is an *APIError
// (or a network error); retryAfter is the server's Retry-After, if it sent one;
// date is the server's Date header (Unix seconds, 0 when absent).
func (c *Client) do(ctx context.Context, entity, rawURL, path string) (body []byte, retryAfter time.Duration, date int64, err error) {
	if err := c.wait(ctx); err != nil {
		return nil, 0, 0, err
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("chargebee: GET %s: %w", path, err)
	}
	// Set by hand, never as URL user info: url.Error messages print user names.
	req.Header.Set("Authorization", basicAuth(c.cfg.APIKey.Reveal()))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	c.count(entity, func(s *Stats) { s.Requests++ })
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, 0, c.netError(ctx, path, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, 0, c.netError(ctx, path, err)
	}
	if resp.StatusCode == http.StatusOK {
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil && t.Unix() > 0 {
			date = t.Unix()
		}
		return body, 0, date, nil
	}
	return nil, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), 0, c.apiError(path, resp.StatusCode, body)
}

// scrub replaces every form of the key a server could echo from a request with
// [redacted]: the key, and the base64 of "key:" (the Authorization header cb2ac
// sends) and of "key" (the SDKs' form without the colon), standard and URL-safe,
// with or without padding (the unpadded form is a prefix of the padded one).
func scrub(key Secret, s string) string {
	k := key.Reveal()
	if k == "" || s == "" {
		return s
	}
	forms := []string{k}
	for _, raw := range []string{k + ":", k} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			if f := strings.TrimRight(enc.EncodeToString([]byte(raw)), "="); f != "" {
				forms = append(forms, f)
			}
		}
	}
	// Longest first: base64("key:") and base64("key") share a prefix.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, redacted)
	}
	return s
}

func basicAuth(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

// wait blocks for the site-wide limiter and any 429 pause.
func (c *Client) wait(ctx context.Context) error {
	for {
		c.mu.Lock()
		d := time.Until(c.notBefore)
		c.mu.Unlock()
		if d <= 0 {
			break
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	if c.limiter == nil {
		return ctx.Err()
	}
	return c.limiter.Wait(ctx)
}

func (c *Client) pause(d time.Duration) {
	c.mu.Lock()
	if t := time.Now().Add(d); t.After(c.notBefore) {
		c.notBefore = t
	}
	c.mu.Unlock()
}

// backoff is base·2^attempt, capped, with jitter in [d/2, d] so concurrent readers
// do not retry in lockstep.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BackoffBase << min(attempt, 20)
	if d > c.cfg.BackoffMax || d <= 0 {
		d = c.cfg.BackoffMax
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		d = time.Duration(max(n, 0)) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// netError wraps a transport failure. A host that does not resolve is a wrong site,
// not a blip, so it is not retried.
func (c *Client) netError(ctx context.Context, path string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return fmt.Errorf("chargebee: GET %s: host %s not found: check chargebee.site / CHARGEBEE_SITE / CHARGEBEE_API_URL", path, c.base.Host)
	}
	msg := err.Error()
	var uerr *url.Error
	if errors.As(err, &uerr) {
		msg = uerr.Err.Error() // the URL is already in our message, without the query
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg = fmt.Sprintf("no answer within %s", c.cfg.Timeout)
	}
	return &transientError{fmt.Errorf("chargebee: GET %s: %s", path, oneLine(c.cfg.APIKey, msg))}
}

type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func retryable(err error) bool {
	var t *transientError
	if errors.As(err, &t) {
		return true
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Temporary()
}

// APIError is a non-200 answer from Chargebee.
type APIError struct {
	Path    string // "/customers"
	BaseURL string
	Status  int
	Code    string // api_error_code (or error_code), e.g. api_authentication_failed
	Type    string
	Message string
}

// Temporary says whether a retry may succeed: rate limits, server errors, and
// lock_timeout (429 operation_failed: concurrent requests on one resource, API v2
// "Error handling"), which clears once the other request is done.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Code == "lock_timeout"
}

// Error is one line that says what to fix: the key for 401/403, the site for 404.
func (e *APIError) Error() string {
	what := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		what += " " + e.Code
	}
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	var hint string
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " — check CHARGEBEE_API_KEY (authentication failed)"
	case http.StatusForbidden:
		hint = " — the API key may not read this (CHARGEBEE_API_KEY), or the site blocked it"
	case http.StatusNotFound:
		hint = " — check chargebee.site / CHARGEBEE_SITE / CHARGEBEE_API_URL (" + e.BaseURL + ")"
	}
	return fmt.Sprintf("chargebee: GET %s: %s%s%s", e.Path, what, msg, hint)
}

// IsAuth reports whether err is a 401 or 403: the key is wrong or lacks access.
func IsAuth(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// IsNotFound reports whether err is a 404 (a wrong site, or an endpoint the site
// does not have).
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// NotOnSite reports whether an optional list's error means "this site does not
// have it" rather than a failure: a 400 (configuration_incompatible: a Product
// Catalog 2.0 list on a 1.0 site or the reverse, gifts off, and the like) or a 404
// other than site_not_found. A wrong key (401/403) or site fails as ever.
func NotOnSite(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusBadRequest:
		// A parameter the list refuses (param_wrong_value) is cb2ac's bug, not a
		// site without the list: skipping it would keep a stale copy for good.
		// (400 codes: chargebee-java 4.0.1 BadRequestApiErrorCode.)
		return e.Code != "param_wrong_value"
	case http.StatusNotFound:
		return e.Code != "site_not_found"
	}
	return false
}

// IsStatus reports whether err is an API error with this HTTP status.
func IsStatus(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}

func (c *Client) apiError(path string, status int, body []byte) *APIError {
	e := &APIError{Path: path, BaseURL: c.base.String(), Status: status}
	var b struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		APIErrorCode string `json:"api_error_code"`
		ErrorCode    string `json:"error_code"`
		ErrorMsg     string `json:"error_msg"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Type, e.Message = b.APIErrorCode, b.Type, b.Message
		if e.Code == "" {
			e.Code = b.ErrorCode
		}
		if e.Message == "" {
			e.Message = b.ErrorMsg
		}
	} else if status >= 500 || status == http.StatusTooManyRequests {
		// 502/504 from a proxy are HTML; the status says enough.
		e.Message = http.StatusText(status)
	} else {
		e.Message = string(body)
	}
	e.Message = oneLine(c.cfg.APIKey, e.Message)
	// The code and type come from the server too: an echo there is scrubbed alike.
	e.Code, e.Type = scrub(c.cfg.APIKey, e.Code), scrub(c.cfg.APIKey, e.Type)
	return e
}

// oneLine makes a server message fit one log or error line, and removes the key
// should a server (or proxy) ever echo it back (scrub).
func oneLine(key Secret, s string) string {
	s = scrub(key, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}
