// Package ac is a small typed client for the ActiveCampaign v3 REST API and its eComm
// GraphQL endpoint: the calls cb2ac needs, with rate limiting, retries that honour
// Retry-After, and one error type for every error shape AC answers with.
package ac

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a client. The token is never logged or written anywhere.
type Config struct {
	// APIURL is the URL from AC Settings → Developer (https://acme.api-us1.com); a
	// trailing /api/3 is accepted. It is never built from an account name.
	APIURL string
	Token  string
	// RateLimit is requests per second for the whole account (default 5, AC's limit).
	RateLimit float64
	// Timeout bounds one HTTP attempt (default 30s).
	Timeout time.Duration
	// MaxAttempts bounds tries per request, the first included (default 6).
	MaxAttempts int
	// BaseBackoff is the first retry delay, doubled per attempt with full jitter
	// (default 500ms).
	BaseBackoff time.Duration
	// MaxWait caps one wait, Retry-After included (default 2m).
	MaxWait time.Duration
	// ImportRateWait is the wait after the bulk importer's own rate limit, which AC
	// answers with HTTP 400 {"message":"Rate limit exceeded.","failureReasons":["Up
	// to 100 imports may be requested per minute...retry this request in a minute."]}
	// and no documented Retry-After (AC's bulk-import reference, sample
	// bulk-import.error-400.json). Default 1m, as its message says; a Retry-After,
	// if AC sends one, wins.
	ImportRateWait time.Duration
	// HTTPClient replaces the default transport (tests).
	HTTPClient *http.Client
}

// Client talks to one AC account.
type Client struct {
	base    string // .../api/3
	token   string
	http    *http.Client
	limiter *rate.Limiter
	cfg     Config
	// Counters are atomic: one client may serve concurrent batches.
	requests, writes, retries, throttle atomic.Int64
}

// Stats counts requests by outcome, for the load summary.
type Stats struct {
	Requests int64 // attempts sent
	Writes   int64 // attempts of write operations
	Retries  int64
	Throttle int64 // 429/503 answers
}

// New checks the config and builds a client.
func New(cfg Config) (*Client, error) {
	if cfg.APIURL == "" {
		return nil, errors.New("activecampaign: no API URL (activecampaign.api_url or AC_API_URL)")
	}
	if cfg.Token == "" {
		return nil, errors.New("activecampaign: no API token (AC_API_TOKEN or AC_API_TOKEN_FILE)")
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	base = strings.TrimSuffix(base, "/api/3")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("activecampaign: API URL %q must start with https://", cfg.APIURL)
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 5
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Minute
	}
	if cfg.ImportRateWait <= 0 {
		cfg.ImportRateWait = time.Minute
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	if hc.CheckRedirect == nil {
		// Go's client forwards custom headers (Api-Token) on a redirect, to any
		// host: cb2ac refuses a redirect to another host or from https to http.
		cp := *hc
		cp.CheckRedirect = checkRedirect
		hc = &cp
	}
	// Space requests evenly, 10% under the limit: a token bucket with burst 1 never
	// puts more than the limit into any one-second window, even one counted from an
	// arbitrary start as AC's own counter may be. AC counts arrivals, not sends, and
	// a request delayed on the way (a busy host, a slow network) closes the gap to
	// the next one: at 5/s the headroom leaves 100 ms of such jitter per window
	// before AC would see a sixth request. A 429 costs far more than 10%.
	every := time.Duration(float64(time.Second) / cfg.RateLimit * 1.10)
	return &Client{
		base: base + "/api/3", token: cfg.Token, http: hc, cfg: cfg,
		limiter: rate.NewLimiter(rate.Every(every), 1),
	}, nil
}

// Stats returns the request counters so far.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Writes: c.writes.Load(), Retries: c.retries.Load(), Throttle: c.throttle.Load()}
}

// Error is every AC error shape in one type: the HTTP status, the JSON:API errors[],
// a plain message, bulk import failureReasons, GraphQL errors, and Retry-After.
type Error struct {
	Status         int
	Op             string
	Errors         []ErrorItem
	Message        string
	FailureReasons json.RawMessage
	RetryAfter     time.Duration
}

// ErrorItem is one entry of errors[] (REST 422/403 or GraphQL).
type ErrorItem struct {
	Title      string          `json:"title"`
	Detail     string          `json:"detail"`
	Code       string          `json:"code"`
	Message    string          `json:"message"` // GraphQL
	Extensions json.RawMessage `json:"extensions,omitempty"`
}

func (e *Error) Error() string {
	var parts []string
	for _, it := range e.Errors {
		msg := firstNonEmpty(it.Message, it.Title)
		if it.Detail != "" && it.Detail != msg {
			msg += ": " + it.Detail
		}
		if it.Code != "" {
			msg += " (" + it.Code + ")"
		}
		parts = append(parts, msg)
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	if len(e.FailureReasons) > 0 && string(e.FailureReasons) != "null" {
		parts = append(parts, "failureReasons "+string(e.FailureReasons))
	}
	detail := strings.Join(parts, "; ")
	if detail == "" {
		detail = http.StatusText(e.Status)
	}
	if e.Status == 0 {
		return fmt.Sprintf("activecampaign %s: %s", e.Op, detail)
	}
	return fmt.Sprintf("activecampaign %s: HTTP %d: %s", e.Op, e.Status, detail)
}

// HasCode reports whether any errors[] entry carries code.
func (e *Error) HasCode(code string) bool {
	for _, it := range e.Errors {
		if it.Code == code {
			return true
		}
	}
	return false
}

// Rejected reports whether AC refused the request's content (a 4xx other than auth
// and throttling, or GraphQL errors): retrying it unchanged will not help, but
// splitting the batch may. The bulk importer's 400 "Rate limit exceeded." is
// throttling, not a rejection.
func Rejected(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch {
	case e.Status == 0: // GraphQL errors in a 200 answer
		return !e.ServerSide()
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden, e.Status == http.StatusTooManyRequests:
		return false
	case e.importRateLimited():
		return false
	case e.Status >= 400 && e.Status < 500:
		return true
	}
	return false
}

// serverSideCodes are GraphQL error codes (errors[].extensions.code) that say the
// server failed, not the request: Apollo's INTERNAL_SERVER_ERROR and its kin. They
// are transient, retried with backoff like a 5xx, never rejections of the records.
// Validation codes (BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, ...) and errors with
// no code stay rejections.
var serverSideCodes = map[string]bool{
	"INTERNAL_SERVER_ERROR": true, "INTERNAL_ERROR": true, "SERVICE_UNAVAILABLE": true,
	"TIMEOUT": true, "TIMED_OUT": true, "GATEWAY_TIMEOUT": true, "DOWNSTREAM_SERVICE_ERROR": true,
}

// ServerSide reports GraphQL errors of which one carries a server-side code
// (extensions.code, or code): the server failed, whatever the records hold.
func (e *Error) ServerSide() bool {
	for _, it := range e.Errors {
		if serverSideCodes[strings.ToUpper(it.Code)] {
			return true
		}
		var ext struct {
			Code string `json:"code"`
		}
		if len(it.Extensions) > 0 && json.Unmarshal(it.Extensions, &ext) == nil && serverSideCodes[strings.ToUpper(ext.Code)] {
			return true
		}
	}
	return false
}

// importRateLimited: the bulk importer's own limit (20 single-contact and 100
// multi-contact requests a minute) comes back as HTTP 400 with the message "Rate
// limit exceeded." (AC reference sample bulk-import.error-400.json, "Other Error").
func (e *Error) importRateLimited() bool {
	return e.Status == http.StatusBadRequest && strings.EqualFold(strings.TrimSpace(e.Message), "Rate limit exceeded.")
}

// IsRateLimited reports an answer that means "too many requests, try later": 429,
// or the bulk importer's 400 "Rate limit exceeded.".
func IsRateLimited(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusTooManyRequests || e.importRateLimited())
}

// ValidationErrorsMessage is errors[0].message of a bulkUpsertRecurringPayments that
// AC refused because of some of its records; errors[0].extensions then holds one key
// per failing record containing "storeRecurringPaymentId-<id>" (AC's WooCommerce
// plugin, Cofe_Order_Repository::split_errors_from_response / get_error_record).
const ValidationErrorsMessage = "Validation errors"

// RecordErrors returns the records AC names in a "Validation errors" GraphQL answer:
// storeRecurringPaymentId → AC's message for it. Nil when the answer names none (then
// the caller falls back to splitting the batch).
func (e *Error) RecordErrors() map[string]string {
	const marker = "storeRecurringPaymentId-"
	var out map[string]string
	for _, it := range e.Errors {
		if !strings.EqualFold(strings.TrimSpace(it.Message), ValidationErrorsMessage) || len(it.Extensions) == 0 {
			continue
		}
		var ext map[string]json.RawMessage
		if json.Unmarshal(it.Extensions, &ext) != nil {
			continue
		}
		for k, v := range ext {
			i := strings.Index(k, marker)
			if i < 0 || len(k) == i+len(marker) {
				continue
			}
			// The plugin takes the text between the dashes; an id may hold dashes
			// itself, so cb2ac takes all of what follows the marker.
			id := k[i+len(marker):]
			var msg string
			if json.Unmarshal(v, &msg) != nil {
				msg = string(v)
			}
			if msg == "" || msg == "null" {
				continue // the plugin skips keys without a message too
			}
			if out == nil {
				out = map[string]string{}
			}
			out[id] = msg
		}
	}
	return out
}

// ImportFailures returns the contacts a refused bulk import names: index in the
// request's contacts → AC's failureReason (400 {"failureReasons":[{"contact":230,
// "failureReason":"..."}]}, AC's bulk-import reference). Nil when it names none.
func (e *Error) ImportFailures() map[int]string {
	if e.Status != http.StatusBadRequest || len(e.FailureReasons) == 0 {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(e.FailureReasons, &items) != nil {
		return nil
	}
	var out map[int]string
	for _, raw := range items {
		var fr struct {
			Contact *json.Number `json:"contact"`
			Reason  string       `json:"failureReason"`
		}
		if json.Unmarshal(raw, &fr) != nil || fr.Contact == nil {
			continue // a plain string reason names no contact
		}
		i, err := fr.Contact.Int64()
		if err != nil || i < 0 {
			continue
		}
		if out == nil {
			out = map[int]string{}
		}
		if out[int(i)] != "" {
			out[int(i)] += "; "
		}
		out[int(i)] += fr.Reason
	}
	return out
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

func decodeError(op string, status int, body []byte, h http.Header) *Error {
	e := &Error{Status: status, Op: op, RetryAfter: retryAfter(h)}
	var shape struct {
		Errors         []ErrorItem     `json:"errors"`
		Message        string          `json:"message"`
		FailureReasons json.RawMessage `json:"failureReasons"`
	}
	if json.Unmarshal(body, &shape) == nil {
		e.Errors, e.Message, e.FailureReasons = shape.Errors, shape.Message, shape.FailureReasons
	} else if s := strings.TrimSpace(string(body)); s != "" && len(s) < 300 {
		e.Message = s // a proxy's HTML or text answer
	}
	return e
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// do sends one request with retries and decodes the JSON answer into out.
// Retried: 429 and 503 (after Retry-After when given), other 5xx, timeouts and
// connection errors. Not retried: everything AC answered with a 4xx.
func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	return c.doOpts(ctx, op, method, path, in, out, doOpts{})
}

// doOpts changes how do retries.
type doOpts struct {
	// noReplay: a create that is not idempotent (POST /connections, POST /fields)
	// is not sent again after an answer that leaves unknown whether AC made the
	// record (a timeout, a dropped connection, a 5xx): do returns, and the caller
	// looks before creating again. Throttling (429/503 with nothing done) is still
	// waited out and retried.
	noReplay bool
	// read: a POST that writes nothing (a GraphQL query), not counted in Writes.
	read bool
	// check looks at a 2xx answer decoded into out: an error it returns is
	// transient (a GraphQL server-side error in a 200) and retried like a 5xx.
	check func() error
}

// AmbiguousError is a create whose outcome is unknown: the request may or may not
// have been applied.
type AmbiguousError struct {
	Op  string
	Err error
}

func (e *AmbiguousError) Error() string {
	return e.Err.Error() + " (whether AC created it is unknown)"
}
func (e *AmbiguousError) Unwrap() error { return e.Err }

func (c *Client) doOpts(ctx context.Context, op, method, path string, in, out any, o doOpts) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("activecampaign %s: %w", op, err)
		}
	}
	write := method != http.MethodGet && !o.read
	var last error
	for attempt := 1; attempt <= c.cfg.MaxAttempts; attempt++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return fmt.Errorf("activecampaign %s: %w", op, err)
		}
		status, respBody, h, err := c.send(ctx, method, path, body)
		c.requests.Add(1)
		if write {
			c.writes.Add(1)
		}
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("activecampaign %s: %w", op, ctx.Err())
			}
			if re := (*RedirectError)(nil); errors.As(err, &re) {
				return fmt.Errorf("activecampaign %s: %w", op, re) // not retried: nothing was sent there
			}
			if tl := (*TooLargeError)(nil); errors.As(err, &tl) {
				return fmt.Errorf("activecampaign %s: %w", op, tl)
			}
			last = fmt.Errorf("activecampaign %s: %w", op, err)
			if o.noReplay {
				return &AmbiguousError{Op: op, Err: last}
			}
		case status >= 200 && status < 300:
			if out == nil || len(bytes.TrimSpace(respBody)) == 0 {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				// A truncated body is a transport fault: try again.
				last = fmt.Errorf("activecampaign %s: bad JSON answer: %w", op, err)
				if o.noReplay {
					return &AmbiguousError{Op: op, Err: last}
				}
				break
			}
			if o.check != nil {
				if err := o.check(); err != nil {
					last = err
					if o.noReplay {
						return &AmbiguousError{Op: op, Err: last}
					}
					break
				}
			}
			return nil
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			c.throttle.Add(1)
			e := decodeError(op, status, respBody, h)
			last, wait = e, e.RetryAfter
		case status >= 500:
			last = decodeError(op, status, respBody, h)
			if o.noReplay {
				return &AmbiguousError{Op: op, Err: last}
			}
		default:
			e := decodeError(op, status, respBody, h)
			if !e.importRateLimited() {
				return e
			}
			// Throttled by the importer's own limit: nothing was queued, so sending
			// it again after the wait is safe.
			c.throttle.Add(1)
			last, wait = e, e.RetryAfter
			if wait == 0 {
				wait = c.cfg.ImportRateWait
			}
		}
		if attempt == c.cfg.MaxAttempts {
			break
		}
		if wait == 0 {
			// Full jitter: spread retries of concurrent clients apart.
			ceiling := c.cfg.BaseBackoff << (attempt - 1)
			wait = time.Duration(rand.Int64N(int64(ceiling)) + 1)
		}
		wait = min(wait, c.cfg.MaxWait)
		c.retries.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("activecampaign %s: %w", op, ctx.Err())
		case <-t.C:
		}
	}
	return last
}

// maxResponseBytes caps what is read of one answer (64 MiB): AC's largest answers
// (a page of 100 contacts, a search, an import's status) are a few hundred KB, so
// this is generous; an endless or runaway body stops there with a TooLargeError
// instead of exhausting memory. A variable for tests.
var maxResponseBytes int64 = 64 << 20

// TooLargeError is an answer longer than maxResponseBytes. It is not retried: the
// same request would get the same answer.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("answer larger than %d MiB, not read further (cb2ac's cap on one AC answer)", e.Limit>>20)
}

func (c *Client) send(ctx context.Context, method, path string, body []byte) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Api-Token", c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "cb2ac")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, scrub(err, c.token)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, scrub(err, c.token)
	}
	if int64(len(b)) > maxResponseBytes {
		return 0, nil, nil, &TooLargeError{Limit: maxResponseBytes}
	}
	// A server that echoes the request must not get the token written anywhere.
	return resp.StatusCode, redact(b, c.token), resp.Header, nil
}

// RedirectError is a redirect cb2ac refused to follow: to another host (or port),
// or from https to http. Following it would send the Api-Token there. It is not
// retried: the API URL is to be corrected (AC Settings → Developer).
type RedirectError struct {
	From, To string // scheme://host of the request and of the redirect's target
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("redirect from %s to %s refused: the API token is never sent to another host; check activecampaign.api_url (AC Settings → Developer)", e.From, e.To)
}

// checkRedirect follows a redirect only within the same scheme://host:port
// (https → http refused too), at most 10 times, so the Api-Token header never
// reaches another host.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	from := first.Scheme + "://" + first.Host
	to := req.URL.Scheme + "://" + req.URL.Host
	if !strings.EqualFold(first.Host, req.URL.Host) || (first.Scheme == "https" && req.URL.Scheme != "https") {
		return &RedirectError{From: from, To: to}
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// apiTokenValue matches an Api-Token value as a server echoing the request may
// write it: "Api-Token: v", "api_token=v", {"Api-Token":["v"]}, and the same with
// JSON-escaped quotes; group 1 is what precedes the value.
var apiTokenValue = regexp.MustCompile(`(?i)(api[-_ ]?token(?:\\?["'])?\s*[:=]\s*\[?\s*(?:\\?["'])?)([^\s"'\\,;&}\]]+)`)

// redact takes the token, and any value labelled Api-Token, out of what AC (or
// anything between) answered: an answer becomes error messages, which go to
// errors.csv, journal.jsonl, logs and stderr. The replacement holds no quote, so
// a JSON body stays JSON.
func redact(b []byte, token string) []byte {
	if apiTokenValue.Match(b) {
		b = apiTokenValue.ReplaceAll(b, []byte("${1}[redacted]"))
	}
	if token != "" && bytes.Contains(b, []byte(token)) {
		b = bytes.ReplaceAll(b, []byte(token), []byte("[redacted]"))
	}
	return b
}

// scrub keeps the token out of an error text (a URL error never holds it, as the
// token travels in a header, but an error is printed and logged, so be certain).
func scrub(err error, token string) error {
	if msg := err.Error(); string(redact([]byte(msg), token)) != msg {
		return errors.New(string(redact([]byte(msg), token)))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timeout: %w", err)
	}
	return err
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ID is an AC id: AC sends ids as strings ("10") and sometimes as numbers (10).
type ID string

// UnmarshalJSON accepts a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "null":
		*id = ""
	case strings.HasPrefix(s, `"`):
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*id = ID(v)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id %s: %w", s, err)
		}
		*id = ID(n.String())
	}
	return nil
}

// Int is the id as an integer (legacyConnectionId is an Int in GraphQL).
func (id ID) Int() (int64, error) { return strconv.ParseInt(string(id), 10, 64) }
