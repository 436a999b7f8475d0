package cbsandbox_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
)

const (
	testKey  = "test_sbx_key_5c1e"
	fixtures = "../../fixtures/chargebee"
	day2     = "../../fixtures/chargebee-day2"
)

var kinds = map[string]string{
	"customers": "customer", "subscriptions": "subscription", "invoices": "invoice",
	"credit_notes": "credit_note", "payment_sources": "payment_source",
	"item_prices": "item_price", "items": "item", "plans": "plan", "addons": "addon", "gifts": "gift",
}

// allEntities are the lists the sandbox serves, in the order the tests walk them.
var allEntities = []string{"customers", "subscriptions", "invoices", "credit_notes", "payment_sources", "item_prices", "items", "plans", "addons", "gifts"}

// takesDeleted tells whether a list takes include_deleted (list-params.tsv).
func takesDeleted(t *testing.T, entity string) bool {
	t.Helper()
	for _, p := range readListParams(t) {
		if p.endpoint == entity {
			return p.deleted
		}
	}
	t.Fatalf("%s is not in list-params.tsv", entity)
	return false
}

// inDefaultOrder tells whether entries are in a list's order without sort_by:
// ascending created_at (date), except item prices and items, newest first.
func inDefaultOrder(entity string, got []item) bool {
	if entity == "item_prices" || entity == "items" {
		return slices.IsSortedFunc(got, func(a, b item) int { return cmp.Compare(b.created(), a.created()) })
	}
	return slices.IsSortedFunc(got, func(a, b item) int { return cmp.Compare(a.created(), b.created()) })
}

func start(t *testing.T, opts cbsandbox.Options) (*cbsandbox.Server, string) {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	srv, err := cbsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("sandbox on %s, want 127.0.0.1", base)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, base
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func colonAuth(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}
func sdkAuth(key string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(key)) }

func call(t *testing.T, method, rawURL, auth string) answer {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func get(t *testing.T, base, entity string, q url.Values) answer {
	t.Helper()
	return call(t, http.MethodGet, base+"/"+entity+"?"+q.Encode(), colonAuth(testKey))
}

// item is what the tests check of a list entry.
type item struct {
	ID        string `json:"id"`
	CreatedAt *int64 `json:"created_at"`
	Date      *int64 `json:"date"`
	UpdatedAt int64  `json:"updated_at"`
	Deleted   bool   `json:"deleted"`
	Email     string `json:"email"`
}

func (it item) created() int64 {
	switch {
	case it.CreatedAt != nil:
		return *it.CreatedAt
	case it.Date != nil:
		return *it.Date
	}
	return 0
}

type page struct {
	items []item
	next  string
}

func decode(t *testing.T, entity string, a answer) page {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var env struct {
		List       []map[string]json.RawMessage `json:"list"`
		NextOffset *string                      `json:"next_offset"`
	}
	if err := json.Unmarshal(a.body, &env); err != nil {
		t.Fatalf("not a list page: %v", err)
	}
	var p page
	for _, e := range env.List {
		var it item
		if err := json.Unmarshal(e[kinds[entity]], &it); err != nil {
			t.Fatalf("entry without its %s: %s", kinds[entity], a.body)
		}
		p.items = append(p.items, it)
	}
	if env.NextOffset != nil {
		if *env.NextOffset == "" {
			t.Fatal("next_offset present but empty: Chargebee omits it on the last page")
		}
		p.next = *env.NextOffset
	}
	return p
}

// readAll pages through a list and returns every entry and the page count.
func readAll(t *testing.T, base, entity string, q url.Values) ([]item, int) {
	t.Helper()
	var all []item
	pages := 0
	q = cloneValues(q)
	for {
		p := decode(t, entity, get(t, base, entity, q))
		pages++
		all = append(all, p.items...)
		if p.next == "" {
			return all, pages
		}
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		q.Set("offset", p.next)
	}
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// fixtureItems reads a pages folder the way the sandbox should serve it: every
// entry, in file order.
func fixtureItems(t *testing.T, dir, entity string) []item {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, entity, "*.json"))
	slices.Sort(files)
	var out []item
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, decode(t, entity, answer{status: 200, body: b}).items...)
	}
	return out
}

func ids(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func errorBody(t *testing.T, a answer) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, a.body)
	}
	if got := m["http_status_code"]; got != float64(a.status) {
		t.Errorf("http_status_code %v, status %d", got, a.status)
	}
	if m["message"] == nil || m["message"] == "" || m["error_msg"] != m["message"] {
		t.Errorf("message/error_msg: %s", a.body)
	}
	if m["api_error_code"] == nil || m["error_code"] != m["api_error_code"] {
		t.Errorf("api_error_code/error_code: %s", a.body)
	}
	return m
}

func TestAuth(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures})
	u := base + "/customers?limit=1"
	for name, auth := range map[string]string{"key-colon": colonAuth(testKey), "sdk-no-colon": sdkAuth(testKey)} {
		if a := call(t, http.MethodGet, u, auth); a.status != http.StatusOK {
			t.Errorf("%s: status %d: %s", name, a.status, a.body)
		}
	}
	for name, auth := range map[string]string{
		"wrong key":     colonAuth("not_the_key"),
		"wrong key sdk": sdkAuth("not_the_key"),
		"key as pass":   "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+testKey)),
		"no header":     "",
		"bearer":        "Bearer " + testKey,
		"not base64":    "Basic %%%",
	} {
		a := call(t, http.MethodGet, u, auth)
		if a.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, a.status)
			continue
		}
		m := errorBody(t, a)
		if m["api_error_code"] != "api_authentication_failed" {
			t.Errorf("%s: api_error_code %v", name, m["api_error_code"])
		}
		if !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: content type %q", name, a.header.Get("Content-Type"))
		}
		if strings.Contains(string(a.body), testKey) {
			t.Errorf("%s: the error body echoes the key", name)
		}
	}
	var ok, sdk, refused int
	for _, r := range srv.Requests() {
		switch {
		case r.AuthOK && r.SDKAuth:
			sdk++
		case r.AuthOK:
			ok++
		case r.Status == http.StatusUnauthorized:
			refused++
		}
	}
	if ok != 1 || sdk != 1 || refused != 6 {
		t.Errorf("request log: %d colon, %d sdk-form, %d refused; want 1, 1, 6", ok, sdk, refused)
	}
	b, _ := json.Marshal(srv.Requests())
	if strings.Contains(string(b), testKey) || strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(testKey))) {
		t.Error("the request log holds the key")
	}
}

func TestAnyKeyWhenNoneSet(t *testing.T) {
	srv, err := cbsandbox.New(cbsandbox.Options{Pages: fixtures})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if a := call(t, http.MethodGet, base+"/customers?limit=1", colonAuth("anything")); a.status != 200 {
		t.Errorf("any key: %d", a.status)
	}
	if a := call(t, http.MethodGet, base+"/customers?limit=1", colonAuth("")); a.status != 401 {
		t.Errorf("empty key: %d, want 401", a.status)
	}
}

func TestPagingLimitOffset(t *testing.T) {
	_, base := start(t, cbsandbox.Options{Pages: fixtures})
	for _, entity := range allEntities {
		want := fixtureItems(t, fixtures, entity)
		for _, limit := range []int{1, 7, 100} {
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if takesDeleted(t, entity) {
				q.Set("include_deleted", "true")
			}
			var got []item
			pages := 0
			for {
				p := decode(t, entity, get(t, base, entity, q))
				pages++
				if len(p.items) > limit {
					t.Fatalf("%s limit=%d: page of %d", entity, limit, len(p.items))
				}
				if p.next != "" && len(p.items) < limit {
					t.Errorf("%s limit=%d: short page %d with a next_offset", entity, limit, pages)
				}
				got = append(got, p.items...)
				if p.next == "" {
					break
				}
				q.Set("offset", p.next)
			}
			if len(got) != len(want) {
				t.Fatalf("%s limit=%d: %d entries, want %d", entity, limit, len(got), len(want))
			}
			if wp := (len(want) + limit - 1) / limit; pages != max(wp, 1) {
				t.Errorf("%s limit=%d: %d pages, want %d", entity, limit, pages, wp)
			}
			// Default order: created_at ascending (invoices: date), item prices and
			// items newest first; the internal id breaks ties, so exactly the fixture
			// entries, each once.
			if !inDefaultOrder(entity, got) {
				t.Errorf("%s limit=%d: not in the default order", entity, limit)
			}
			g, w := ids(got), ids(want)
			slices.Sort(g)
			slices.Sort(w)
			if !slices.Equal(g, w) {
				t.Errorf("%s limit=%d: ids differ from the fixtures", entity, limit)
			}
		}
	}
	// The default page size is Chargebee's, 10.
	if p := decode(t, "invoices", get(t, base, "invoices", nil)); len(p.items) != 10 || p.next == "" {
		t.Errorf("no limit: %d entries, next %q; want 10 and more", len(p.items), p.next)
	}
}

func TestBadParameters(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures})
	cases := []struct {
		entity string
		q      url.Values
		param  string
	}{
		{"customers", url.Values{"limit": {"0"}}, "limit"},
		{"customers", url.Values{"limit": {"101"}}, "limit"},
		{"customers", url.Values{"offset": {"garbage"}}, "offset"},
		{"customers", url.Values{"updated_at[after]": {"yesterday"}}, "updated_at[after]"},
		{"customers", url.Values{"updated_at[around]": {"1"}}, "updated_at[around]"},
		{"customers", url.Values{"sort_by[asc]": {"email"}}, "sort_by[asc]"},
		{"customers", url.Values{"include_deleted": {"yes"}}, "include_deleted"},
		{"customers", url.Values{"limit": {"1", "2"}}, "limit"},
		{"customers", url.Values{"email[is]": {"a@b.c"}}, "email[is]"},
		// What each endpoint does not document is refused, so a client that sends it
		// fails here before it fails on a live site.
		{"item_prices", url.Values{"include_deleted": {"true"}}, "include_deleted"},
		{"gifts", url.Values{"updated_at[after]": {"1"}}, "updated_at[after]"},
		{"gifts", url.Values{"sort_by[asc]": {"updated_at"}}, "sort_by[asc]"},
	}
	for _, c := range cases {
		a := get(t, base, c.entity, c.q)
		if a.status != http.StatusBadRequest {
			t.Errorf("%s?%s: status %d, want 400", c.entity, c.q.Encode(), a.status)
			continue
		}
		m := errorBody(t, a)
		if m["api_error_code"] != "param_wrong_value" || m["type"] != "invalid_request" || m["param"] != c.param {
			t.Errorf("%s?%s: %s", c.entity, c.q.Encode(), a.body)
		}
	}
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/api/v2/no_such_list", 404, "resource_not_found"},
		{http.MethodGet, "/api/v1/customers", 404, "site_not_found"},
		{http.MethodPost, "/api/v2/customers", 405, "http_method_not_supported"},
	} {
		a := call(t, c.method, strings.TrimSuffix(base, "/api/v2")+c.path, colonAuth(testKey))
		if a.status != c.status || errorBody(t, a)["api_error_code"] != c.code {
			t.Errorf("%s %s: %d %s", c.method, c.path, a.status, a.body)
		}
	}
	// Requests to the wrong place are logged too: a test can count them.
	reqs := srv.Requests()
	if last := reqs[len(reqs)-2]; last.Path != "/api/v1/customers" || last.Status != 404 || last.Entity != "" {
		t.Errorf("wrong-site request logged as %+v", last)
	}
}

func TestUpdatedAtFilterAndSort(t *testing.T) {
	_, base := start(t, cbsandbox.Options{Pages: fixtures})
	all := fixtureItems(t, fixtures, "subscriptions")
	upd := make([]int64, len(all))
	for i, it := range all {
		upd[i] = it.UpdatedAt
	}
	slices.Sort(upd)
	after := upd[len(upd)/2]
	want := 0
	for _, u := range upd {
		if u > after {
			want++
		}
	}

	q := url.Values{"limit": {"4"}, "updated_at[after]": {strconv.FormatInt(after, 10)}, "sort_by[asc]": {"updated_at"}, "include_deleted": {"true"}}
	got, pages := readAll(t, base, "subscriptions", q)
	if len(got) != want || pages != (want+3)/4 {
		t.Errorf("updated_at[after]=%d: %d entries on %d pages, want %d on %d", after, len(got), pages, want, (want+3)/4)
	}
	for i, it := range got {
		if it.UpdatedAt <= after {
			t.Errorf("%s updated_at %d not after %d", it.ID, it.UpdatedAt, after)
		}
		if i > 0 && it.UpdatedAt < got[i-1].UpdatedAt {
			t.Errorf("%s: sort_by[asc]=updated_at broken at entry %d", it.ID, i)
		}
	}

	// desc, before and between.
	q = url.Values{"limit": {"5"}, "sort_by[desc]": {"updated_at"}, "include_deleted": {"true"}}
	desc, _ := readAll(t, base, "subscriptions", q)
	if len(desc) != len(all) || !slices.IsSortedFunc(desc, func(a, b item) int { return int(b.UpdatedAt - a.UpdatedAt) }) {
		t.Errorf("sort_by[desc]: %d entries, sorted=%v", len(desc), slices.IsSortedFunc(desc, func(a, b item) int { return int(b.UpdatedAt - a.UpdatedAt) }))
	}
	before, _ := readAll(t, base, "subscriptions", url.Values{"limit": {"100"}, "include_deleted": {"true"}, "updated_at[before]": {strconv.FormatInt(after, 10)}})
	for _, it := range before {
		if it.UpdatedAt >= after {
			t.Errorf("updated_at[before]: %s at %d", it.ID, it.UpdatedAt)
		}
	}
	lo, hi := upd[10], upd[20]
	btw, _ := readAll(t, base, "subscriptions", url.Values{"limit": {"100"}, "include_deleted": {"true"}, "updated_at[between]": {fmt.Sprintf(`["%d","%d"]`, lo, hi)}})
	n := 0
	for _, u := range upd {
		if u >= lo && u <= hi {
			n++
		}
	}
	if len(btw) != n {
		t.Errorf("updated_at[between]: %d entries, want %d (inclusive)", len(btw), n)
	}
}

func TestIncludeDeleted(t *testing.T) {
	_, base := start(t, cbsandbox.Options{Pages: fixtures})
	for _, entity := range []string{"customers", "subscriptions", "invoices"} {
		var deleted int
		for _, it := range fixtureItems(t, fixtures, entity) {
			if it.Deleted {
				deleted++
			}
		}
		without, _ := readAll(t, base, entity, url.Values{"limit": {"100"}})
		with, _ := readAll(t, base, entity, url.Values{"limit": {"100"}, "include_deleted": {"true"}})
		for _, it := range without {
			if it.Deleted {
				t.Errorf("%s: deleted %s listed without include_deleted", entity, it.ID)
			}
		}
		if len(with)-len(without) != deleted {
			t.Errorf("%s: include_deleted adds %d entries, the fixtures have %d deleted", entity, len(with)-len(without), deleted)
		}
		if entity == "customers" && deleted == 0 {
			t.Error("the fixtures should hold a deleted customer")
		}
	}
}

func TestRateLimit(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures, RateLimit: 2, RateWindow: 300 * time.Millisecond, RetryAfter: true})
	q := url.Values{"limit": {"1"}}
	for i := range 2 {
		if a := get(t, base, "customers", q); a.status != 200 {
			t.Fatalf("request %d: %d", i+1, a.status)
		}
	}
	// Over the limit, every request is refused until the window ends.
	for i := range 3 {
		a := get(t, base, "customers", q)
		if a.status != http.StatusTooManyRequests {
			t.Fatalf("request %d over the limit: %d", i+3, a.status)
		}
		m := errorBody(t, a)
		if m["type"] != "operation_failed" || m["api_error_code"] != "api_request_limit_exceeded" ||
			!strings.Contains(m["message"].(string), "request count exceeding acceptable limits") {
			t.Errorf("429 body: %s", a.body)
		}
		if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After %q", a.header.Get("Retry-After"))
		}
	}
	time.Sleep(350 * time.Millisecond)
	if a := get(t, base, "customers", q); a.status != 200 {
		t.Errorf("after the window: %d", a.status)
	}

	// SetFaults changes the limit of a running sandbox and starts a new window.
	srv.SetFaults(0, 0, 1)
	if a := get(t, base, "customers", q); a.status != 200 {
		t.Errorf("first request of a new window: %d", a.status)
	}
	if a := get(t, base, "customers", q); a.status != 429 {
		t.Errorf("limit 1, second request: %d", a.status)
	}
	srv.SetFaults(0, 0, 0)
	if a := get(t, base, "customers", q); a.status != 200 {
		t.Errorf("limit off: %d", a.status)
	}

	// No Retry-After unless asked: Chargebee does not document one.
	_, base2 := start(t, cbsandbox.Options{Pages: fixtures, RateLimit: 1})
	get(t, base2, "customers", q)
	if a := get(t, base2, "customers", q); a.status != 429 || a.header.Get("Retry-After") != "" {
		t.Errorf("default: status %d, Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
}

func statuses(srv *cbsandbox.Server) []int {
	var out []int
	for _, r := range srv.Requests() {
		out = append(out, r.Status)
	}
	return out
}

func TestFailRate(t *testing.T) {
	_, base := start(t, cbsandbox.Options{Pages: fixtures, FailRate: 1})
	seen := map[int]bool{}
	for range 40 {
		a := get(t, base, "customers", url.Values{"limit": {"1"}})
		seen[a.status] = true
		if a.status == http.StatusBadGateway && !strings.Contains(a.header.Get("Content-Type"), "text/html") {
			t.Error("a 502 comes from a gateway, as HTML")
		}
	}
	if len(seen) != 3 || !seen[500] || !seen[502] || !seen[503] {
		t.Errorf("fail rate 1: statuses %v, want 500, 502 and 503", seen)
	}

	// The same seed fails the same requests.
	run := func() []int {
		srv, base := start(t, cbsandbox.Options{Pages: fixtures, FailRate: 0.3, Seed: 7})
		for range 40 {
			get(t, base, "customers", url.Values{"limit": {"1"}})
		}
		return statuses(srv)
	}
	a, b := run(), run()
	fails := 0
	for _, s := range a {
		if s != 200 {
			fails++
		}
	}
	if !slices.Equal(a, b) || fails == 0 || fails == 40 {
		t.Errorf("seeded fail rate 0.3: %v vs %v", a, b)
	}
	if _, err := cbsandbox.New(cbsandbox.Options{FailRate: 1.5}); err == nil {
		t.Error("fail rate 1.5 accepted")
	}
}

func TestLatencyAndHungRequests(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures, Latency: 150 * time.Millisecond})
	t0 := time.Now()
	get(t, base, "customers", url.Values{"limit": {"1"}})
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Errorf("latency 150ms, answered in %s", d)
	}
	srv.SetFaults(0, 0, 0)
	srv.Inject(cbsandbox.Fault{Delay: 5 * time.Second}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/customers?limit=1", nil)
	req.Header.Set("Authorization", colonAuth(testKey))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("hung request answered")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		reqs := srv.Requests()
		if len(reqs) == 2 && reqs[1].Status == 499 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request log %+v: want the abandoned request as 499", reqs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInject(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures})
	srv.Inject(cbsandbox.Fault{Status: 429}, 2)
	srv.Inject(cbsandbox.Fault{Status: 503}, 1)
	for _, want := range []int{429, 429, 503, 200} {
		a := get(t, base, "customers", url.Values{"limit": {"1"}})
		if a.status != want {
			t.Fatalf("status %d, want %d", a.status, want)
		}
		if want == 429 && errorBody(t, a)["api_error_code"] != "api_request_limit_exceeded" {
			t.Errorf("429 body %s", a.body)
		}
	}
	// A bad key is refused before a fault is spent on it.
	srv.Inject(cbsandbox.Fault{Status: 503}, 1)
	if a := call(t, http.MethodGet, base+"/customers", colonAuth("wrong")); a.status != 401 {
		t.Errorf("bad key with a fault queued: %d", a.status)
	}
}

func TestRequestLog(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures})
	q := url.Values{"limit": {"100"}, "updated_at[after]": {"1700000000"}, "sort_by[asc]": {"updated_at"}, "include_deleted": {"true"}}
	_, pages := readAll(t, base, "invoices", q)
	reqs := srv.Requests()
	if len(reqs) != pages || pages != 2 {
		t.Fatalf("%d requests logged for %d pages (want 2)", len(reqs), pages)
	}
	r := reqs[0]
	if r.Method != "GET" || r.Path != "/api/v2/invoices" || r.Entity != "invoices" || r.Status != 200 ||
		r.Records != 100 || !r.More || !r.AuthOK || r.SDKAuth || r.Time.IsZero() {
		t.Errorf("first request %+v", r)
	}
	if r.Query.Get("updated_at[after]") != "1700000000" || r.Query.Get("sort_by[asc]") != "updated_at" || r.Query.Get("offset") != "" {
		t.Errorf("first query %v", r.Query)
	}
	// Every fixture invoice was updated after 1700000000 (2023-11-14): the second
	// page holds the rest.
	if rest := len(fixtureItems(t, fixtures, "invoices")) - 100; reqs[1].Query.Get("offset") == "" || reqs[1].More || reqs[1].Records != rest {
		t.Errorf("second request %+v", reqs[1])
	}
	srv.ResetRequests()
	if len(srv.Requests()) != 0 {
		t.Error("ResetRequests")
	}

	// The log over HTTP, behind the same auth.
	admin := strings.TrimSuffix(base, "/api/v2") + "/admin/requests"
	get(t, base, "gifts", nil)
	if a := call(t, http.MethodGet, admin, colonAuth("wrong")); a.status != 401 {
		t.Errorf("admin without the key: %d", a.status)
	}
	a := call(t, http.MethodGet, admin, sdkAuth(testKey))
	var logged []cbsandbox.Request
	if err := json.Unmarshal(a.body, &logged); err != nil || len(logged) != 1 || logged[0].Entity != "gifts" {
		t.Errorf("GET /admin/requests: %d %s", a.status, a.body)
	}
	if a := call(t, http.MethodDelete, admin, colonAuth(testKey)); a.status != 204 || len(srv.Requests()) != 0 {
		t.Errorf("DELETE /admin/requests: %d, %d left", a.status, len(srv.Requests()))
	}
	faults := strings.TrimSuffix(base, "/api/v2") + "/admin/faults?status=503&count=2"
	if a := call(t, http.MethodPost, faults, colonAuth(testKey)); a.status != 204 {
		t.Errorf("POST /admin/faults: %d %s", a.status, a.body)
	}
	if s := get(t, base, "customers", nil).status; s != 503 {
		t.Errorf("after /admin/faults: %d", s)
	}
}

// overlay is the state after a change set: each entry replaces every copy of its id,
// or is added.
func overlay(base, changes []item) []item {
	out := slices.Clone(base)
	for _, c := range changes {
		i := slices.IndexFunc(out, func(x item) bool { return x.ID == c.ID })
		if i < 0 {
			out = append(out, c)
			continue
		}
		out[i] = c
		out = append(out[:i+1], slices.DeleteFunc(out[i+1:], func(x item) bool { return x.ID == c.ID })...)
	}
	return out
}

func TestApplyDay2(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures})
	before := srv.Counts()
	if err := srv.Apply(day2); err != nil {
		t.Fatal(err)
	}
	for _, entity := range allEntities {
		day1, changes := fixtureItems(t, fixtures, entity), fixtureItems(t, day2, entity)
		want := overlay(day1, changes)
		q := url.Values{"limit": {"100"}}
		if takesDeleted(t, entity) {
			q.Set("include_deleted", "true")
		}
		got, _ := readAll(t, base, entity, q)
		if len(got) != len(want) || srv.Counts()[entity] != len(want) {
			t.Errorf("%s: %d served, %d counted, want %d (day 1 had %d)", entity, len(got), srv.Counts()[entity], len(want), before[entity])
			continue
		}
		byID := map[string]item{}
		for _, it := range got {
			byID[it.ID] = it
		}
		for _, c := range changes {
			if g := byID[c.ID]; g.ID != c.ID || g.UpdatedAt != c.UpdatedAt || g.Email != c.Email || g.Deleted != c.Deleted {
				t.Errorf("%s %s: served %+v, day 2 says %+v", entity, c.ID, g, c)
			}
		}
		// An update keeps the object's place in the default order.
		if !inDefaultOrder(entity, got) {
			t.Errorf("%s: not in the default order after the update", entity)
		}
	}
	// What changed on day 2 is exactly what updated_at[after] the day-1 maximum returns.
	var day1Max int64
	changed := []string{"customers", "subscriptions", "invoices", "credit_notes", "payment_sources"}
	for _, entity := range changed {
		for _, it := range fixtureItems(t, fixtures, entity) {
			day1Max = max(day1Max, it.UpdatedAt)
		}
	}
	for _, entity := range changed {
		q := url.Values{"limit": {"100"}, "include_deleted": {"true"}, "updated_at[after]": {strconv.FormatInt(day1Max, 10)}}
		if entity != "credit_notes" { // credit notes sort by date only
			q.Set("sort_by[asc]", "updated_at")
		}
		got, _ := readAll(t, base, entity, q)
		g, w := ids(got), ids(fixtureItems(t, day2, entity))
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s changed after day 1: %v, want %v", entity, g, w)
		}
	}

	// The same over HTTP, and a change set that is not a folder.
	srv2, base2 := start(t, cbsandbox.Options{Pages: fixtures})
	admin := strings.TrimSuffix(base2, "/api/v2") + "/admin/apply?dir=" + url.QueryEscape(day2)
	if a := call(t, http.MethodPost, admin, colonAuth(testKey)); a.status != 200 {
		t.Fatalf("POST /admin/apply: %d %s", a.status, a.body)
	}
	if !maps(srv.Counts(), srv2.Counts()) {
		t.Errorf("admin apply counts %v, Apply %v", srv2.Counts(), srv.Counts())
	}
	if err := srv.Apply(filepath.Join(day2, "customers", "page-001.json")); err == nil {
		t.Error("Apply of a file accepted")
	}
	if err := srv.Apply("no/such/dir"); err == nil {
		t.Error("Apply of a missing folder accepted")
	}
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAddUpdateDuplicates(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{})
	entry := func(id string, created, updated int64) []byte {
		return fmt.Appendf(nil, `{"customer": {"id": %q, "created_at": %d, "updated_at": %d, "email": "%s@example.com"}}`, id, created, updated, id)
	}
	// An id added twice is served twice (a fixture may hold a duplicate); an
	// update replaces both copies with one.
	if err := srv.Add("customers", entry("a", 10, 10), entry("b", 20, 20), entry("a", 30, 30), entry("c", 40, 40), entry("b", 50, 50)); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, base, "customers", url.Values{"limit": {"2"}})
	if g := ids(got); !slices.Equal(g, []string{"a", "b", "a", "c", "b"}) {
		t.Fatalf("served %v", g)
	}
	if err := srv.Update("customers", entry("a", 10, 60), entry("d", 5, 70)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Update("customers", entry("b", 20, 80)); err != nil {
		t.Fatal(err)
	}
	got, _ = readAll(t, base, "customers", url.Values{"limit": {"2"}})
	if g := ids(got); !slices.Equal(g, []string{"d", "a", "b", "c"}) {
		t.Errorf("after updates: %v, want d a b c", g)
	}
	byUpd, _ := readAll(t, base, "customers", url.Values{"limit": {"1"}, "sort_by[asc]": {"updated_at"}, "updated_at[after]": {"40"}})
	if g := ids(byUpd); !slices.Equal(g, []string{"a", "d", "b"}) {
		t.Errorf("updated after 40: %v, want a d b", g)
	}
	if err := srv.Add("customers", []byte(`{"subscription":{"id":"x"}}`)); err == nil {
		t.Error("an entry without its customer accepted")
	}
	if err := srv.Add("customers", []byte(`{"customer":{"email":"x"}}`)); err == nil {
		t.Error("an entry without an id accepted")
	}
	if err := srv.Add("plans", entry("z", 1, 1)); err == nil {
		t.Error("an unknown entity accepted")
	}
}

// Paging by updated_at while objects change, as a nightly read meets it on a live
// site: an object updated after its page was read moves to the end and is read
// again; nothing is skipped.
func TestPagingWhileDataChanges(t *testing.T) {
	var mu sync.Mutex
	var srv *cbsandbox.Server
	calls := 0
	var changed string
	hook := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/customers") {
			return
		}
		calls++
		if calls != 2 || changed == "" {
			return
		}
		// Between page 1 and page 2: the first customer of page 1 changes.
		if err := srv.Update("customers", fmt.Appendf(nil, `{"customer":{"id":%q,"created_at":1,"updated_at":%d,"email":"moved@example.com"}}`, changed, time.Now().Unix())); err != nil {
			panic(err)
		}
	}
	srv, base := start(t, cbsandbox.Options{Pages: fixtures, Hook: hook})
	q := url.Values{"limit": {"10"}, "sort_by[asc]": {"updated_at"}, "include_deleted": {"true"}}
	first := decode(t, "customers", get(t, base, "customers", q))
	mu.Lock()
	changed = first.items[0].ID
	mu.Unlock()
	q.Set("offset", first.next)
	rest, _ := readAll(t, base, "customers", q)
	all := append(first.items, rest...)
	want := fixtureItems(t, fixtures, "customers")
	if len(all) != len(want)+1 {
		t.Errorf("read %d entries, want %d plus the moved one", len(all), len(want))
	}
	if last := all[len(all)-1]; last.ID != changed || last.Email != "moved@example.com" {
		t.Errorf("last entry %+v, want the updated %s", last, changed)
	}
	seen := map[string]bool{}
	for _, it := range all {
		seen[it.ID] = true
	}
	for _, it := range want {
		if !seen[it.ID] {
			t.Errorf("%s skipped while paging", it.ID)
		}
	}
}
