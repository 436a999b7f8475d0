// Package cbsandbox is a local Chargebee API v2 emulator for tests and demos. It
// serves list pages (fixtures/chargebee, or generated data) through the real list
// endpoints — /api/v2/customers, /subscriptions, /invoices, /credit_notes,
// /payment_sources, /item_prices, /items, /plans, /addons, /gifts — with Basic
// auth, limit/offset/next_offset paging, and exactly the updated_at filters,
// include_deleted and sort_by each endpoint takes (testdata/chargebee/list-params.tsv).
// It can misbehave on purpose (5xx, latency, 429, a fault aimed at one list, a
// Product Catalog version that refuses the other version's lists) so the client is
// tested over real HTTP. It listens on 127.0.0.1 only by default.
package cbsandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a sandbox.
type Options struct {
	// Addr to listen on; default 127.0.0.1:0 (a free port).
	Addr string
	// APIKey the sandbox accepts, as Basic auth "key:" or base64(key) with no colon
	// (the official SDKs' form). Empty accepts any non-empty key.
	APIKey string
	// Pages is a folder of list pages to serve (DIR/<entity>/*.json).
	Pages string

	// FailRate is the share of API requests answered with a 500, 502 or 503.
	FailRate float64
	// Latency is added to every API request.
	Latency time.Duration
	// RateLimit is the number of API requests allowed per RateWindow; over it the
	// sandbox answers 429 with Chargebee's error body until the window ends.
	// 0 = no limit.
	RateLimit  int
	RateWindow time.Duration // default one minute, as Chargebee
	// RetryAfter adds a Retry-After header to 429s. Chargebee does not document
	// one, so it is off by default.
	RetryAfter bool
	// Seed makes FailRate's choices repeatable.
	Seed uint64

	// ProductCatalog makes the sandbox a site of one Product Catalog version, as
	// every real site is: "1.0" refuses /item_prices and /items, "2.0" refuses
	// /plans and /addons (400 configuration_incompatible, see catalogRefusal).
	// Empty serves every list, which no real site does but a test of one list
	// may want.
	ProductCatalog string

	// Hook, when set, runs at the start of every API request, before any lock is
	// taken: a test can change the data between two pages of a read.
	Hook func(r *http.Request)
}

// Request is one entry of the request log. It never holds the Authorization header.
type Request struct {
	Time    time.Time  `json:"time"`
	Method  string     `json:"method"`
	Path    string     `json:"path"`
	Entity  string     `json:"entity,omitempty"`
	Query   url.Values `json:"query,omitempty"`
	Status  int        `json:"status"`
	Records int        `json:"records"` // list entries returned
	More    bool       `json:"more"`    // a next_offset was returned
	AuthOK  bool       `json:"auth_ok"`
	SDKAuth bool       `json:"sdk_auth,omitempty"` // base64(key) without a colon
}

// Fault is an answer forced on the next API requests (see Inject).
type Fault struct {
	// Entity, when set, aims the fault at one list (e.g. "item_prices"): only a
	// request to that list takes it, the others pass it by.
	Entity string
	Status int // 400, 404, 429, 500, 502, 503, ...; 0 = serve normally after Delay
	// Code is the api_error_code of the answer when its status has more than one:
	// 400 configuration_incompatible (the default for 400) or param_wrong_value,
	// 429 api_request_limit_exceeded (the default) or lock_timeout, 404
	// resource_not_found. See errorFor.
	Code  string
	Delay time.Duration // wait before answering (a hung server, for timeouts)
	// Reset closes the connection without an answer (a reset by a load balancer).
	Reset bool
	// Truncate serves the page but closes the connection half way through its
	// body, which the Content-Length header promised in full.
	Truncate bool
}

// Server is a running (or ready to run) sandbox.
type Server struct {
	opts Options

	mu     sync.RWMutex
	stores map[string]*store
	seq    int64

	logMu    sync.Mutex
	requests []Request

	faultMu     sync.Mutex
	faults      []Fault
	rng         *rand.Rand
	windowStart time.Time
	windowCount int

	srv *http.Server
	url string
}

// New builds a sandbox and loads opts.Pages.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	if opts.FailRate < 0 || opts.FailRate > 1 {
		return nil, fmt.Errorf("sandbox: fail rate %v: want 0..1", opts.FailRate)
	}
	switch opts.ProductCatalog {
	case "", "1.0", "2.0":
	default:
		return nil, fmt.Errorf("sandbox: product catalog %q: want 1.0, 2.0 or empty", opts.ProductCatalog)
	}
	s := &Server{opts: opts, stores: map[string]*store{}, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
	for _, e := range Entities {
		s.stores[e] = &store{}
	}
	if opts.Pages != "" {
		if err := s.Load(opts.Pages); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Load appends a folder of list pages (DIR/<entity>/*.json) to the data, as is:
// an id that appears twice is served twice.
func (s *Server) Load(dir string) error {
	objs, err := readPages(dir)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for entity, list := range objs {
		s.stores[entity].add(&s.seq, list)
	}
	return nil
}

// Apply applies a change set (a folder of list pages, like fixtures/chargebee-day2):
// each entry replaces the object with its id, or is added when the id is new.
func (s *Server) Apply(dir string) error {
	objs, err := readPages(dir)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for entity, list := range objs {
		s.stores[entity].upsert(&s.seq, list)
	}
	return nil
}

// Add appends list entries (each the JSON of one entry, e.g. {"customer":{...}}).
func (s *Server) Add(entity string, entries ...[]byte) error {
	return s.put(entity, entries, false)
}

// Update upserts list entries by id, as Apply does.
func (s *Server) Update(entity string, entries ...[]byte) error {
	return s.put(entity, entries, true)
}

func (s *Server) put(entity string, entries [][]byte, upsert bool) error {
	if _, ok := entityKinds[entity]; !ok {
		return fmt.Errorf("sandbox: unknown entity %q", entity)
	}
	objs := make([]*object, 0, len(entries))
	for i, raw := range entries {
		o, err := parseEntry(entity, raw)
		if err != nil {
			return fmt.Errorf("sandbox: %s entry %d: %w", entity, i, err)
		}
		objs = append(objs, o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if upsert {
		s.stores[entity].upsert(&s.seq, objs)
	} else {
		s.stores[entity].add(&s.seq, objs)
	}
	return nil
}

// Counts returns the number of objects per entity, deleted ones included.
func (s *Server) Counts() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{}
	for e, st := range s.stores {
		out[e] = len(st.objs)
	}
	return out
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	s.requests = nil
	s.logMu.Unlock()
}

// Inject forces the next n API requests to answer with f.
func (s *Server) Inject(f Fault, n int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// SetFaults changes the random faults of a running sandbox.
func (s *Server) SetFaults(failRate float64, latency time.Duration, rateLimit int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.opts.FailRate, s.opts.Latency, s.opts.RateLimit = failRate, latency, rateLimit
	s.windowStart, s.windowCount = time.Time{}, 0
}

// Start listens on opts.Addr and serves in the background. It returns the API base
// URL, http://127.0.0.1:PORT/api/v2.
func (s *Server) Start() (string, error) {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String() + "/api/v2"
	go s.srv.Serve(ln)
	return s.url, nil
}

// URL is the API base URL once started.
func (s *Server) URL() string { return s.url }

// Close stops the server.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Shutdown stops the server gracefully.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// Handler serves the API (under /api/v2/) and the admin endpoints (under /admin/):
//
//	POST   /admin/apply?dir=DIR       apply a change-set folder (as Apply)
//	POST   /admin/apply/{entity}      apply one list page sent as the body
//	GET    /admin/requests            the request log as JSON
//	DELETE /admin/requests            empty it
//	POST   /admin/faults?status=503&count=5[&entity=item_prices][&code=lock_timeout][&delay=2s][&reset=true][&truncate=true]   inject faults
//	POST   /admin/catalog?version=1.0  make the site Product Catalog 1.0 (or 2.0, or empty for neither)
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v2/", s.serveAPI)
	mux.HandleFunc("/admin/", s.serveAdmin)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Anything outside /api/v2 is what a wrong site or base URL looks like. It is
		// logged too, so a test can count what a client sent to the wrong place.
		st := writeError(w, http.StatusNotFound, "invalid_request", "site_not_found", "Sorry, we couldn't find the site you are looking for.")
		s.logRequest(Request{Time: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: st})
	})
	return mux
}

// checkAuth accepts Basic base64("key:") and base64("key"), the SDKs' form that
// r.BasicAuth rejects.
func (s *Server) checkAuth(r *http.Request) (ok, sdk bool, code, msg string) {
	h := r.Header.Get("Authorization")
	enc, found := strings.CutPrefix(h, "Basic ")
	if !found {
		return false, false, "api_authentication_failed", "Sorry,authentication failed.The basic authentication header has invalid format."
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return false, false, "api_authentication_failed", "Sorry,authentication failed.The basic authentication header has invalid format."
	}
	key, _, colon := strings.Cut(string(dec), ":")
	switch {
	case key == "":
		return false, false, "api_authentication_failed", "Sorry, authentication failed. The API key is missing."
	case s.opts.APIKey != "" && key != s.opts.APIKey:
		return false, false, "api_authentication_failed", "Sorry, authentication failed. Invalid api key."
	}
	return true, !colon, "", ""
}

func (s *Server) logRequest(rec Request) {
	s.logMu.Lock()
	s.requests = append(s.requests, rec)
	s.logMu.Unlock()
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if s.opts.Hook != nil {
		s.opts.Hook(r)
	}
	rec := Request{Time: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	defer func() { s.logRequest(rec) }()

	entity := strings.TrimPrefix(r.URL.Path, "/api/v2/")
	_, known := entityKinds[entity]
	if known {
		// Logged before auth, so a test can count the refused requests per list.
		rec.Entity = entity
	}
	f := s.nextFault(rec.Entity)
	fault := f.Status
	if d := f.Delay + s.latency(); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			rec.Status = 499 // the client gave up (timeout)
			return
		}
	}
	if f.Reset {
		// Status 0 in the log: no answer was sent. ErrAbortHandler makes the server
		// drop the connection without logging a panic.
		panic(http.ErrAbortHandler)
	}
	var code, msg string
	rec.AuthOK, rec.SDKAuth, code, msg = s.checkAuth(r)
	if !rec.AuthOK {
		rec.Status = writeError(w, http.StatusUnauthorized, "", code, msg)
		return
	}
	if !known {
		rec.Status = writeError(w, http.StatusNotFound, "invalid_request", "resource_not_found", "Sorry, we couldn't find that resource")
		return
	}
	if r.Method != http.MethodGet {
		rec.Status = writeError(w, http.StatusMethodNotAllowed, "invalid_request", "http_method_not_supported", "Sorry, the http method "+r.Method+" is not supported for this url")
		return
	}
	if fault != 0 {
		rec.Status = writeFault(w, fault, f.Code)
		return
	}
	if wait, limited := s.rateLimited(); limited {
		if s.opts.RetryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
		rec.Status = writeFault(w, http.StatusTooManyRequests, "")
		return
	}
	if st := s.randomFailure(); st != 0 {
		rec.Status = writeFault(w, st, "")
		return
	}
	if s.catalogRefuses(entity) {
		rec.Status = writeFault(w, http.StatusBadRequest, "configuration_incompatible")
		return
	}
	body, n, more, err := s.list(entity, r.URL.Query())
	if err != nil {
		var pe *paramError
		if errors.As(err, &pe) {
			rec.Status = writeParamError(w, pe)
			return
		}
		rec.Status = writeError(w, http.StatusInternalServerError, "", "internal_error", err.Error())
		return
	}
	rec.Status, rec.Records, rec.More = http.StatusOK, n, more
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if f.Truncate {
		truncate(w, body)
	}
	w.Write(body)
}

// truncate sends half of body under a Content-Length for all of it, then drops the
// connection: the client sees an unexpected EOF while reading the answer.
func truncate(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}

// nextFault takes the first queued fault meant for this request: one for every
// list, or one aimed at this entity.
func (s *Server) nextFault(entity string) Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, f := range s.faults {
		if f.Entity == "" || f.Entity == entity {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f
		}
	}
	return Fault{}
}

func (s *Server) latency() time.Duration {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.opts.Latency
}

// rateLimited counts the request in a fixed window: like Chargebee, once over the
// limit every request is refused until the window resets.
func (s *Server) rateLimited() (time.Duration, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.opts.RateLimit <= 0 {
		return 0, false
	}
	now := time.Now()
	if now.Sub(s.windowStart) >= s.opts.RateWindow {
		s.windowStart, s.windowCount = now, 0
	}
	s.windowCount++
	if s.windowCount > s.opts.RateLimit {
		return s.windowStart.Add(s.opts.RateWindow).Sub(now), true
	}
	return 0, false
}

var failStatuses = []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadGateway}

func (s *Server) randomFailure() int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.opts.FailRate <= 0 || s.rng.Float64() >= s.opts.FailRate {
		return 0
	}
	return failStatuses[s.rng.IntN(len(failStatuses))]
}

// writeFault answers with a fault status and the body Chargebee (or the proxy in
// front of it) sends with it; code picks the api_error_code where a status has
// several (see Fault.Code).
func writeFault(w http.ResponseWriter, status int, code string) int {
	switch status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		// Gateways answer in HTML, not Chargebee's JSON.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
		return status
	}
	typ, code, msg := errorFor(status, code)
	return writeError(w, status, typ, code, msg)
}

// errorFor gives the type, api_error_code and message of an error answer. The
// codes per status are those the official SDKs declare (chargebee-java 4.0.1,
// com/chargebee/v4/exceptions/codes/<Status>ApiErrorCode.java), the types those of
// apidocs.chargebee.com/docs/api/error-handling (invalid_request for 4xx client
// errors, operation_failed for 429 and 503). The messages are Chargebee's where one
// was found; see each case.
func errorFor(status int, code string) (typ, apiCode, msg string) {
	switch status {
	case http.StatusBadRequest:
		if code == "param_wrong_value" {
			return "invalid_request", code, "The value is invalid"
		}
		// configuration_incompatible: what a site answers for a resource of the other
		// Product Catalog version. The message is the one a PC 2.0 site gave for
		// Plan.list (chargebee-ruby issue #59).
		return "invalid_request", "configuration_incompatible", "This API operation is not enabled for this site. Please contact support@chargebee.com to get this enabled"
	case http.StatusNotFound:
		return "invalid_request", "resource_not_found", "Sorry, we couldn't find that resource"
	case http.StatusTooManyRequests:
		if code == "lock_timeout" {
			// lock_timeout: concurrent requests on one resource (TooManyRequestsApiErrorCode);
			// the message is ours, Chargebee's was not found.
			return "operation_failed", code, "Sorry, the request could not be completed as another request on the same resource is in progress. Please try after some time."
		}
		return "operation_failed", "api_request_limit_exceeded", "Sorry, access has been blocked temporarily due to request count exceeding acceptable limits. Please try after some time."
	case http.StatusServiceUnavailable:
		return "operation_failed", "internal_temporary_error", "Sorry, something went wrong when trying to process the request. Please try again."
	case http.StatusInternalServerError:
		return "", "internal_error", "Sorry, something went wrong when trying to process the request."
	}
	return "", "internal_error", http.StatusText(status)
}

// catalogRefuses tells whether the site's Product Catalog version has no such
// list: a 1.0 site has no item prices or items, a 2.0 site no plans or addons.
func (s *Server) catalogRefuses(entity string) bool {
	s.faultMu.Lock()
	pc := s.opts.ProductCatalog
	s.faultMu.Unlock()
	switch pc {
	case "1.0":
		return entity == "item_prices" || entity == "items"
	case "2.0":
		return entity == "plans" || entity == "addons"
	}
	return false
}

// SetProductCatalog changes the Product Catalog version of a running sandbox
// ("1.0", "2.0" or "" for none; see Options.ProductCatalog).
func (s *Server) SetProductCatalog(version string) error {
	switch version {
	case "", "1.0", "2.0":
	default:
		return fmt.Errorf("sandbox: product catalog %q: want 1.0, 2.0 or empty", version)
	}
	s.faultMu.Lock()
	s.opts.ProductCatalog = version
	s.faultMu.Unlock()
	return nil
}

// writeError writes Chargebee's error body, legacy fields included.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) int {
	body := map[string]any{
		"message":          msg,
		"api_error_code":   code,
		"error_code":       code,
		"error_msg":        msg,
		"http_status_code": status,
	}
	if typ != "" {
		body["type"] = typ
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
	return status
}

type paramError struct{ param, msg string }

func (e *paramError) Error() string { return e.param + ": " + e.msg }

func writeParamError(w http.ResponseWriter, e *paramError) int {
	body := map[string]any{
		"message":          e.param + " : " + e.msg,
		"type":             "invalid_request",
		"api_error_code":   "param_wrong_value",
		"param":            e.param,
		"error_code":       "param_wrong_value",
		"error_msg":        e.param + " : " + e.msg,
		"error_param":      e.param,
		"http_status_code": http.StatusBadRequest,
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(body)
	return http.StatusBadRequest
}

// endpointParams are the parameters a list endpoint accepts besides limit and
// offset, as testdata/chargebee/list-params.tsv records them from the official SDKs
// (chargebee-go ListRequestParams for updated_at and include_deleted, chargebee-java
// <Resource>ListParams.SortByAsc for the sort fields); a test holds this table to
// that file. Anything else is refused, so a client bug shows here first.
type endpointParams struct {
	updated, deleted bool
	sorts            []string
}

var params = map[string]endpointParams{
	"customers":       {true, true, []string{"created_at", "updated_at"}},
	"subscriptions":   {true, true, []string{"created_at", "updated_at"}},
	"invoices":        {true, true, []string{"date", "updated_at"}},
	"credit_notes":    {true, true, []string{"date"}},
	"payment_sources": {true, true, []string{"created_at", "updated_at"}},
	"item_prices":     {true, false, []string{"name", "id", "updated_at"}},
	"items":           {true, false, []string{"name", "id", "updated_at"}},
	"plans":           {true, true, nil},
	"addons":          {true, true, nil},
	"gifts":           {false, false, nil},
}

// newestFirst are the lists Chargebee returns newest first when no sort_by is
// given: item prices are listed by descending created_at (what the API docs'
// list_item_prices sample shows), and items are taken to behave the same. Every
// other list is ascending created_at (date for invoices and credit notes).
var newestFirst = map[string]bool{"item_prices": true, "items": true}

type listQuery struct {
	limit          int
	key            sortKey
	cursor         *cursor
	after, before  *int64
	desc           bool
	includeDeleted bool
}

func parseQuery(entity string, q url.Values) (*listQuery, error) {
	lq := &listQuery{limit: 10, key: sortKeys["created_at"], desc: newestFirst[entity]}
	caps := params[entity]
	var rawOffset string
	for name, vals := range q {
		v := vals[0]
		switch {
		case name == "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				return nil, &paramError{"limit", "The value " + v + " is invalid. It should be between 1 and 100"}
			}
			lq.limit = n
		case name == "offset":
			// Decoded once the order is known: the cursor holds that order's key.
			rawOffset = v
		case name == "include_deleted" && caps.deleted:
			switch v {
			case "true":
				lq.includeDeleted = true
			case "false":
			default:
				return nil, &paramError{"include_deleted", "must be true or false"}
			}
		case strings.HasPrefix(name, "updated_at[") && caps.updated:
			op := strings.TrimSuffix(strings.TrimPrefix(name, "updated_at["), "]")
			switch op {
			case "after", "before":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, &paramError{name, "must be a timestamp in seconds"}
				}
				if op == "after" {
					lq.after = &n
				} else {
					lq.before = &n
				}
			case "between":
				var pair []string
				if err := json.Unmarshal([]byte(v), &pair); err != nil || len(pair) != 2 {
					return nil, &paramError{name, `must be ["from","to"]`}
				}
				a, err1 := strconv.ParseInt(pair[0], 10, 64)
				b, err2 := strconv.ParseInt(pair[1], 10, 64)
				if err1 != nil || err2 != nil {
					return nil, &paramError{name, "must hold timestamps in seconds"}
				}
				// between is inclusive: after a-1 and before b+1.
				a, b = a-1, b+1
				lq.after, lq.before = &a, &b
			default:
				return nil, &paramError{name, "unsupported operator"}
			}
		case (name == "sort_by[asc]" || name == "sort_by[desc]") && len(caps.sorts) > 0:
			if !slices.Contains(caps.sorts, v) {
				return nil, &paramError{name, "cannot sort /" + entity + " by " + v}
			}
			lq.key = sortKeys[v]
			lq.desc = name == "sort_by[desc]"
		default:
			return nil, &paramError{name, "unknown or unsupported parameter for /" + entity}
		}
		if len(vals) > 1 {
			return nil, &paramError{name, "given more than once"}
		}
	}
	if q.Has("sort_by[asc]") && q.Has("sort_by[desc]") {
		return nil, &paramError{"sort_by[desc]", "only one sort order can be given"}
	}
	if rawOffset != "" {
		c, err := decodeOffset(rawOffset, lq.key)
		if err != nil {
			return nil, &paramError{"offset", "invalid offset"}
		}
		lq.cursor = &c
	}
	return lq, nil
}

// Offsets look like Chargebee's: ["<sort key>","<internal id>"], the position after
// the last entry returned, so paging stays correct while data changes. A timestamp
// key is written in milliseconds, as Chargebee's are; an id or name key as is.
const seqBase = 230000000000

func encodeOffset(k sortKey, c cursor) string {
	key := c.str
	if !k.str {
		key = strconv.FormatInt(c.num*1000, 10)
	}
	b, _ := json.Marshal([]string{key, strconv.FormatInt(c.seq+seqBase, 10)})
	return string(b)
}

func decodeOffset(s string, k sortKey) (cursor, error) {
	var parts []string
	if err := json.Unmarshal([]byte(s), &parts); err != nil || len(parts) != 2 {
		return cursor{}, errors.New("bad offset")
	}
	q, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return cursor{}, errors.New("bad offset")
	}
	if k.str {
		return cursor{str: parts[0], seq: q - seqBase}, nil
	}
	n, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || n%1000 != 0 {
		return cursor{}, errors.New("bad offset")
	}
	return cursor{num: n / 1000, seq: q - seqBase}, nil
}

// list answers one list request: a page of up to limit entries after the cursor,
// and next_offset when at least one more entry matches.
func (s *Server) list(entity string, q url.Values) (body []byte, n int, more bool, err error) {
	lq, err := parseQuery(entity, q)
	if err != nil {
		return nil, 0, false, err
	}
	// Views are rebuilt, never changed in place, and objects are immutable: once
	// taken, they need no lock.
	s.mu.Lock()
	view := s.stores[entity].view(lq.key)
	s.mu.Unlock()

	key := lq.key
	match := func(o *object) bool {
		switch {
		case o.deleted && params[entity].deleted && !lq.includeDeleted:
			return false
		case lq.after != nil && o.updatedAt <= *lq.after:
			return false
		case lq.before != nil && o.updatedAt >= *lq.before:
			return false
		}
		return true
	}
	// Walk the view from the cursor in the asked direction.
	start, step := 0, 1
	if lq.desc {
		start, step = len(view)-1, -1
	}
	if lq.cursor != nil {
		c := *lq.cursor
		if lq.desc {
			start = sort.Search(len(view), func(i int) bool { return !key.less(key.of(view[i]), view[i].seq, c, c.seq) }) - 1
		} else {
			start = sort.Search(len(view), func(i int) bool { return key.less(c, c.seq, key.of(view[i]), view[i].seq) })
		}
	}
	if key.name == "updated_at" && !lq.desc && lq.after != nil {
		// The view is in updated_at order: skip what the filter refuses instead of
		// walking it (an incremental read of a large site).
		lo := sort.Search(len(view), func(i int) bool { return view[i].updatedAt > *lq.after })
		start = max(start, lo)
	}
	var idx []int
	var last *object
	for i := start; i >= 0 && i < len(view); i += step {
		o := view[i]
		if !match(o) {
			continue
		}
		if len(idx) == lq.limit {
			more = true
			break
		}
		idx = append(idx, i)
		last = o
	}
	var buf bytes.Buffer
	buf.WriteString(`{"list":[`)
	for j, i := range idx {
		if j > 0 {
			buf.WriteByte(',')
		}
		buf.Write(view[i].raw)
	}
	buf.WriteByte(']')
	if more {
		off, _ := json.Marshal(encodeOffset(key, key.of(last)))
		buf.WriteString(`,"next_offset":`)
		buf.Write(off)
	}
	buf.WriteString("}\n")
	return buf.Bytes(), len(idx), more, nil
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if ok, _, code, msg := s.checkAuth(r); !ok {
		writeError(w, http.StatusUnauthorized, "", code, msg)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/admin/")
	switch {
	case path == "requests" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Requests())
	case path == "requests" && r.Method == http.MethodDelete:
		s.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	case path == "apply" && r.Method == http.MethodPost:
		dir := r.URL.Query().Get("dir")
		if dir == "" {
			writeError(w, http.StatusBadRequest, "invalid_request", "param_wrong_value", "dir is required")
			return
		}
		if err := s.Apply(dir); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "param_wrong_value", err.Error())
			return
		}
		s.writeCounts(w)
	case strings.HasPrefix(path, "apply/") && r.Method == http.MethodPost:
		entity := strings.TrimPrefix(path, "apply/")
		if _, ok := entityKinds[entity]; !ok {
			writeError(w, http.StatusNotFound, "invalid_request", "resource_not_found", "unknown entity "+entity)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err == nil {
			var objs []*object
			if objs, err = parsePage(entity, b); err == nil {
				s.mu.Lock()
				s.stores[entity].upsert(&s.seq, objs)
				s.mu.Unlock()
			}
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "param_wrong_value", err.Error())
			return
		}
		s.writeCounts(w)
	case path == "faults" && r.Method == http.MethodPost:
		q := r.URL.Query()
		status, _ := strconv.Atoi(q.Get("status"))
		count, _ := strconv.Atoi(q.Get("count"))
		delay, _ := time.ParseDuration(q.Get("delay"))
		reset, truncated := q.Get("reset") == "true", q.Get("truncate") == "true"
		entity := q.Get("entity")
		if count < 1 || (status == 0 && delay == 0 && !reset && !truncated) {
			writeError(w, http.StatusBadRequest, "invalid_request", "param_wrong_value", "want status, delay, reset or truncate, and count >= 1")
			return
		}
		if _, ok := entityKinds[entity]; entity != "" && !ok {
			writeError(w, http.StatusBadRequest, "invalid_request", "param_wrong_value", "unknown entity "+entity)
			return
		}
		s.Inject(Fault{Entity: entity, Status: status, Code: q.Get("code"), Delay: delay, Reset: reset, Truncate: truncated}, count)
		w.WriteHeader(http.StatusNoContent)
	case path == "catalog" && r.Method == http.MethodPost:
		if err := s.SetProductCatalog(r.URL.Query().Get("version")); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "param_wrong_value", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound, "invalid_request", "resource_not_found", "unknown admin endpoint")
	}
}

func (s *Server) writeCounts(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.Counts())
}
