// Package acsandbox is a local emulator of the ActiveCampaign v3 REST API and of the
// Recurring Payments part of its eComm GraphQL API. It keeps the documented contract
// (token auth, body shapes, error shapes, enums, date formats, unique emails, the
// account rate limit, async bulk work) so the AC client is tested over real HTTP
// without an account. It is not a general AC clone: only the calls cb2ac makes, and
// the ones a test needs to look at what cb2ac did, are served.
//
// Where the reference marks AC behaviour UNVERIFIED, the sandbox picks one plausible
// behaviour and documents it next to the handler, so a client built against the
// sandbox still has to cope with the alternatives the reference lists.
package acsandbox

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultToken is the API token the sandbox accepts when Options.Token is empty.
const DefaultToken = "sandbox-token"

// Defaults, as documented for real AC accounts.
const (
	DefaultApplyDelay          = 100 * time.Millisecond
	DefaultBulkImportPerMinute = 100
	DefaultBulkSinglePerMinute = 20
	maxBodyBytes               = 16 << 20
)

// Options configure a Server. The zero value is a working sandbox with no rate limit,
// no faults, one list named "Customers", in-memory state and the default token.
type Options struct {
	// Token is the only Api-Token accepted (default DefaultToken).
	Token string
	// RateLimit is requests per second for the whole account, shared by REST and
	// GraphQL, counted over a sliding one-second window. 0 turns it off (real AC: 5).
	RateLimit int
	// FailRate is the fraction of requests (0..1) answered 500 or 503 with Retry-After,
	// before any work is done.
	FailRate float64
	// FailEmails are emails (matched case-insensitively) whose records always fail:
	// 422 on REST writes, a per-contact failure in bulk imports, a rejected batch in
	// bulkUpsertRecurringPayments.
	FailEmails []string
	// Latency is added to every request.
	Latency time.Duration
	// StatePath, when set, is the JSON file the state is loaded from at New and saved to
	// after every change, so a sandbox process survives restarts.
	StatePath string
	// Lists are the list names that exist from the start (default "Customers"), ids
	// 1, 2, ... in order. Lists already in the state file keep their ids.
	Lists []string
	// ApplyDelay is how long accepted bulk imports and recurring payment batches wait
	// before they are applied (default DefaultApplyDelay). Negative: only Flush applies
	// them.
	ApplyDelay time.Duration
	// BulkImportPerMinute and BulkSinglePerMinute are the bulk importer's own limits
	// for multi-contact and single-contact requests (defaults 100 and 20; negative
	// turns the limit off).
	BulkImportPerMinute int
	BulkSinglePerMinute int
	// Addr is where Start listens (default 127.0.0.1:0, a free port).
	Addr string
	// Seed makes FailRate's choices repeatable when non-zero.
	Seed uint64
	// Logf receives problems the sandbox cannot answer with (a failed background
	// save). Default: dropped.
	Logf func(format string, args ...any)
	// Hook, when set, sees every request before it is rate limited or served, with
	// Op and Write filled in. It may block: a test stalls a request there to kill the
	// client at an exact point. A request whose client is gone when Hook returns is
	// dropped unserved (logged with status 499), so it never changes the account.
	Hook func(ctx context.Context, r Request)
}

// Request is one entry of the request log.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	// Op names the operation: "contact_sync", "bulk_import", "bulkUpsertRecurringPayments",
	// ... for writes, "GET /lists/{id}" style for reads (see the package README in the
	// report or opNames).
	Op string
	// Count is the number of records the request wrote: contacts queued by a bulk
	// import, recurring payments in an accepted batch, 1 for single-record writes, 0 when
	// the request was refused.
	Count int
	// Keys name the records the request wrote: the lower-cased email of each contact
	// written (sync, create, update, delete, list status, bulk import) and the
	// storeRecurringPaymentId of each recurring payment upserted, one per Count. Empty
	// for refused requests and for setup writes (fields, fieldRels, connections).
	Keys   []string
	Status int
	// Write is true for operations that change state (whatever their outcome).
	Write bool
}

// Server is one sandboxed AC account.
type Server struct {
	opts       Options
	failEmails atomic.Pointer[map[string]bool]
	mux        *http.ServeMux
	now        func() time.Time

	mu        sync.Mutex // guards st, jobs, limiters, the timer
	st        *state
	closed    bool
	timer     *time.Timer // applies the earliest pending job when it is due
	timerDue  time.Time   // zero when the timer is not armed
	rate      *window
	bulkMulti *window
	bulkOne   *window

	dirtyGen, savedGen uint64
	saveMu             sync.Mutex // serialises file writes; taken after mu is released

	randMu sync.Mutex
	rnd    *rand.Rand

	faultMu     sync.Mutex
	faults      []Fault
	failImports atomic.Int64
	dropRPs     atomic.Int64

	logMu sync.Mutex
	log   []Request

	httpSrv *http.Server
	ln      net.Listener
}

// New builds a server, loading Options.StatePath when it exists.
func New(opts Options) (*Server, error) {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if len(opts.Lists) == 0 {
		opts.Lists = []string{"Customers"}
	}
	if opts.ApplyDelay == 0 {
		opts.ApplyDelay = DefaultApplyDelay
	}
	if opts.BulkImportPerMinute == 0 {
		opts.BulkImportPerMinute = DefaultBulkImportPerMinute
	}
	if opts.BulkSinglePerMinute == 0 {
		opts.BulkSinglePerMinute = DefaultBulkSinglePerMinute
	}
	if opts.FailRate < 0 || opts.FailRate > 1 {
		return nil, fmt.Errorf("acsandbox: fail rate %v is not between 0 and 1", opts.FailRate)
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	// Wall-clock UTC without the monotonic reading: stamps must compare equal after a
	// round trip through the state file.
	now := func() time.Time { return time.Now().UTC().Round(0) }
	s := &Server{opts: opts, now: now}
	s.SetFailEmails(opts.FailEmails)
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if opts.RateLimit > 0 {
		s.rate = &window{limit: opts.RateLimit, per: time.Second}
	}
	if opts.BulkImportPerMinute > 0 {
		s.bulkMulti = &window{limit: opts.BulkImportPerMinute, per: time.Minute}
	}
	if opts.BulkSinglePerMinute > 0 {
		s.bulkOne = &window{limit: opts.BulkSinglePerMinute, per: time.Minute}
	}

	st := newState()
	if opts.StatePath != "" {
		loaded, err := loadState(opts.StatePath)
		if err != nil {
			return nil, err
		}
		if loaded != nil {
			st = loaded
		}
	}
	s.st = st
	for _, name := range opts.Lists {
		if st.listByName(name) == nil {
			st.addList(name, s.now())
		}
	}
	s.routes()
	// Work accepted before a restart is still owed to the client.
	s.mu.Lock()
	s.armLocked()
	s.dirtyGen++
	s.mu.Unlock()
	if err := s.save(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler is the HTTP handler of the whole API (for httptest.NewServer).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start listens on Options.Addr (default 127.0.0.1:0) and serves in the background.
// The base URL has no /api/3 suffix, like the URL AC shows under Settings → Developer.
func (s *Server) Start() (baseURL string, err error) {
	addr := s.opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("acsandbox: listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logf("acsandbox: serve: %v", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops serving and saves the state. Work still pending stays pending in the
// state file and is applied after the next New.
func (s *Server) Close() error {
	var errs []error
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("acsandbox: shutdown: %w", err))
		}
		cancel()
	}
	s.mu.Lock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.dirtyGen++
	s.mu.Unlock()
	if err := s.save(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Flush applies every pending bulk import and recurring payment batch now.
func (s *Server) Flush() {
	s.mu.Lock()
	s.applyJobsLocked(true)
	s.mu.Unlock()
	if err := s.save(); err != nil {
		s.opts.Logf("acsandbox: %v", err)
	}
}

// SetFailEmails replaces Options.FailEmails while the server runs: a test clears a
// fault to see the client send the failed records again.
func (s *Server) SetFailEmails(emails []string) {
	m := map[string]bool{}
	for _, e := range emails {
		if e = strings.TrimSpace(e); e != "" {
			m[emailKey(e)] = true
		}
	}
	s.failEmails.Store(&m)
}

// SetRateLimit changes Options.RateLimit while the server runs (0 turns it off): a
// test loads an account at full speed, then watches a client under AC's limit.
func (s *Server) SetRateLimit(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.RateLimit = perSecond
	s.rate = nil
	if perSecond > 0 {
		s.rate = &window{limit: perSecond, per: time.Second}
	}
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetLog empties the request log.
func (s *Server) ResetLog() {
	s.logMu.Lock()
	s.log = nil
	s.logMu.Unlock()
}

// WriteRequests counts the logged requests of write operations, whatever their
// status: it answers "how many writes did the client attempt".
func (s *Server) WriteRequests() int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Write {
			n++
		}
	}
	return n
}

// reqInfo travels with a request so handlers can report what they wrote.
type reqInfo struct {
	op    string
	write bool
	count int
	keys  []string
	body  []byte
	gql   *gqlRequest // parsed once, when the path is the GraphQL endpoint
}

// wrote records what a handler wrote, for the request log.
func (ri *reqInfo) wrote(keys ...string) {
	ri.count, ri.keys = len(keys), keys
}

type ctxKey struct{}

func info(r *http.Request) *reqInfo { return r.Context().Value(ctxKey{}).(*reqInfo) }

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// serve is the front door: log, rate limit, latency and faults come before auth, so a
// test can count every request a client made, refused or not.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	_, pattern := s.mux.Handler(r)
	op, write := opFor(pattern)
	ri := &reqInfo{op: op, write: write}
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		s.logMu.Lock()
		s.log = append(s.log, Request{Time: start, Method: r.Method, Path: r.URL.Path, Op: ri.op, Count: ri.count, Keys: ri.keys,
			Status: sw.status, Write: ri.write})
		s.logMu.Unlock()
	}()

	if r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		r.Body.Close()
		if err != nil {
			writeJSON(sw, http.StatusBadRequest, map[string]any{"message": "could not read the request body: " + err.Error()})
			return
		}
		if len(body) > maxBodyBytes {
			writeJSON(sw, http.StatusRequestEntityTooLarge, map[string]any{"message": "request body too large"})
			return
		}
		ri.body = body
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if pattern == "POST /api/3/ecom/graphql" {
		// The log names the GraphQL operation, even for requests refused below.
		ri.gql = parseGQLRequest(ri.body)
		if name := ri.gql.fieldName(); name != "" {
			ri.op = name
			ri.write = name == "bulkUpsertRecurringPayments"
		}
	}

	if s.opts.Hook != nil {
		s.opts.Hook(r.Context(), Request{Time: start, Method: r.Method, Path: r.URL.Path, Op: ri.op, Write: ri.write})
		if r.Context().Err() != nil {
			sw.status = 499
			return
		}
	}
	if f := s.nextFault(ri.op); f != nil {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				sw.status = 499
				return
			}
		}
		switch {
		case f.Reset:
			// Status 0 in the log: no answer was sent.
			panic(http.ErrAbortHandler)
		case f.Status != 0:
			if f.RetryAfter != "" {
				sw.Header().Set("Retry-After", f.RetryAfter)
			}
			var body any = map[string]any{"message": http.StatusText(f.Status) + " (sandbox fault injection)"}
			if f.Body != nil {
				body = f.Body
			}
			writeJSON(sw, f.Status, body)
			return
		case f.Truncate:
			// The rest of serve writes into buf; the log still records what was done.
			buf := &bufferedResponse{header: http.Header{}}
			out := sw.ResponseWriter
			sw.ResponseWriter = buf
			defer buf.sendTruncated(out)
		}
	}
	s.mu.Lock()
	lim := s.rate
	var (
		ok        bool
		wait      time.Duration
		remaining int
	)
	if lim != nil {
		ok, wait = lim.allow(start)
		remaining = lim.remaining(start)
	}
	s.mu.Unlock()
	if lim != nil {
		sw.Header().Set("RateLimit-Limit", strconv.Itoa(lim.limit))
		sw.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
		if !ok {
			sw.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
			writeJSON(sw, http.StatusTooManyRequests, map[string]any{
				"message": fmt.Sprintf("Rate limit exceeded: %d requests per second", lim.limit),
			})
			return
		}
	}
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			sw.status = 499 // client went away; nothing is written back
			return
		}
	}
	if code := s.fault(); code != 0 {
		sw.Header().Set("Retry-After", "1")
		writeJSON(sw, code, map[string]any{"message": http.StatusText(code) + " (sandbox fault injection)"})
		return
	}
	if got := r.Header.Get("Api-Token"); subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) != 1 {
		// AC answers a bad or missing token with 403, not 401. The token is never echoed.
		detail := "The Api-Token header is missing or not valid for this account."
		writeJSON(sw, http.StatusForbidden, map[string]any{
			"errors": []any{map[string]any{"status": 403, "title": "Forbidden", "detail": detail}},
		})
		return
	}
	s.mux.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)))
}

func (s *Server) fault() int {
	if s.opts.FailRate <= 0 {
		return 0
	}
	s.randMu.Lock()
	defer s.randMu.Unlock()
	if s.rnd.Float64() >= s.opts.FailRate {
		return 0
	}
	if s.rnd.IntN(2) == 0 {
		return http.StatusInternalServerError
	}
	return http.StatusServiceUnavailable
}

func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// response is what an API handler answers; the wrapper saves state before writing it,
// so an acknowledged write is on disk.
type response struct {
	status int
	body   any
	header map[string]string
}

func reply(status int, body any) response { return response{status: status, body: body} }

type apiFunc func(r *http.Request, ri *reqInfo) response

func (s *Server) api(fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		resp := fn(r, ri)
		if err := s.save(); err != nil {
			ri.wrote()
			writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "sandbox: " + err.Error()})
			return
		}
		for k, v := range resp.header {
			w.Header().Set(k, v)
		}
		writeJSON(w, resp.status, resp.body)
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"sandbox: could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// window is a sliding-window limiter: at most limit admitted requests in any span of
// per. Refused requests do not count, so a client that waits Retry-After gets in.
type window struct {
	limit int
	per   time.Duration
	hits  []time.Time
}

func (w *window) prune(now time.Time) {
	cutoff := now.Add(-w.per)
	i := 0
	for i < len(w.hits) && !w.hits[i].After(cutoff) {
		i++
	}
	if i > 0 {
		w.hits = append(w.hits[:0], w.hits[i:]...)
	}
}

func (w *window) allow(now time.Time) (bool, time.Duration) {
	w.prune(now)
	if len(w.hits) < w.limit {
		w.hits = append(w.hits, now)
		return true, 0
	}
	return false, w.hits[0].Add(w.per).Sub(now)
}

func (w *window) remaining(now time.Time) int {
	w.prune(now)
	return max(0, w.limit-len(w.hits))
}

// Routes, and the names the request log gives them. Reads are named after their
// route; writes get a name of their own so tests can count them.
var opNames = map[string]string{
	"POST /api/3/connections":               "connections_create",
	"PUT /api/3/connections/{id}":           "connection_update",
	"DELETE /api/3/connections/{id}":        "connection_delete",
	"POST /api/3/lists":                     "lists_create",
	"DELETE /api/3/lists/{id}":              "list_delete",
	"POST /api/3/fields":                    "fields_create",
	"DELETE /api/3/fields/{id}":             "field_delete",
	"POST /api/3/fieldRels":                 "fieldRels_create",
	"POST /api/3/contact/sync":              "contact_sync",
	"POST /api/3/contacts":                  "contact_create",
	"PUT /api/3/contacts/{id}":              "contact_update",
	"DELETE /api/3/contacts/{id}":           "contact_delete",
	"POST /api/3/contactLists":              "contactLists",
	"POST /api/3/import/bulk_import":        "bulk_import",
	"GET /api/3/import/info":                "import_info",
	"POST /api/3/ecom/graphql":              "graphql",
	"GET /api/3/import/bulk_import":         "GET /import/bulk_import",
	"GET /api/3/users/me":                   "GET /users/me",
	"GET /api/3/lists":                      "GET /lists",
	"GET /api/3/lists/{id}":                 "GET /lists/{id}",
	"GET /api/3/connections":                "GET /connections",
	"GET /api/3/connections/{id}":           "GET /connections/{id}",
	"GET /api/3/fields":                     "GET /fields",
	"GET /api/3/fields/{id}":                "GET /fields/{id}",
	"GET /api/3/contacts":                   "GET /contacts",
	"GET /api/3/contacts/{id}":              "GET /contacts/{id}",
	"GET /api/3/contacts/{id}/fieldValues":  "GET /contacts/{id}/fieldValues",
	"GET /api/3/contacts/{id}/contactLists": "GET /contacts/{id}/contactLists",
}

func opFor(pattern string) (op string, write bool) {
	name, ok := opNames[pattern]
	if !ok {
		return "unknown", false
	}
	// An unparsable GraphQL body is no write; a parsed one is renamed after its field.
	return name, !strings.HasPrefix(name, "GET ") && name != "import_info" && name != "graphql"
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/3/users/me", s.api(s.usersMe))
	m.HandleFunc("GET /api/3/lists", s.api(s.listLists))
	m.HandleFunc("GET /api/3/lists/{id}", s.api(s.getList))
	m.HandleFunc("POST /api/3/lists", s.api(s.createList))
	m.HandleFunc("DELETE /api/3/lists/{id}", s.api(s.deleteList))
	m.HandleFunc("GET /api/3/connections", s.api(s.listConnections))
	m.HandleFunc("GET /api/3/connections/{id}", s.api(s.getConnection))
	m.HandleFunc("POST /api/3/connections", s.api(s.createConnection))
	m.HandleFunc("PUT /api/3/connections/{id}", s.api(s.updateConnection))
	m.HandleFunc("DELETE /api/3/connections/{id}", s.api(s.deleteConnection))
	m.HandleFunc("GET /api/3/fields", s.api(s.listFields))
	m.HandleFunc("GET /api/3/fields/{id}", s.api(s.getField))
	m.HandleFunc("POST /api/3/fields", s.api(s.createField))
	m.HandleFunc("DELETE /api/3/fields/{id}", s.api(s.deleteField))
	m.HandleFunc("POST /api/3/fieldRels", s.api(s.createFieldRel))
	m.HandleFunc("POST /api/3/contact/sync", s.api(s.syncContact))
	m.HandleFunc("POST /api/3/contacts", s.api(s.createContact))
	m.HandleFunc("GET /api/3/contacts", s.api(s.listContacts))
	m.HandleFunc("GET /api/3/contacts/{id}", s.api(s.getContact))
	m.HandleFunc("GET /api/3/contacts/{id}/fieldValues", s.api(s.getContactFieldValues))
	m.HandleFunc("GET /api/3/contacts/{id}/contactLists", s.api(s.getContactLists))
	m.HandleFunc("PUT /api/3/contacts/{id}", s.api(s.updateContact))
	m.HandleFunc("DELETE /api/3/contacts/{id}", s.api(s.deleteContact))
	m.HandleFunc("POST /api/3/contactLists", s.api(s.setContactList))
	m.HandleFunc("POST /api/3/import/bulk_import", s.api(s.bulkImport))
	m.HandleFunc("GET /api/3/import/bulk_import", s.api(s.bulkImportList))
	m.HandleFunc("GET /api/3/import/info", s.api(s.importInfo))
	m.HandleFunc("POST /api/3/ecom/graphql", s.api(s.graphql))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": fmt.Sprintf("No route for %s %s in the sandbox", r.Method, r.URL.Path)})
	})
	s.mux = m
}

func (s *Server) usersMe(*http.Request, *reqInfo) response {
	return reply(http.StatusOK, map[string]any{"user": map[string]any{
		"id": "1", "username": "admin", "firstName": "Sandbox", "lastName": "Admin",
		"email": "admin@sandbox.invalid", "phone": "", "signature": nil,
		"links": map[string]any{"lists": "/api/3/users/1/lists"},
	}})
}
