package chargebee_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee/chargebeetest"
)

const testKey = "test_cb2ac_client_key_9f3a"

func sandbox(t *testing.T, opts cbsandbox.Options) (*cbsandbox.Server, string) {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	srv, err := cbsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

func client(t *testing.T, url string, mod func(*chargebee.Config)) *chargebee.Client {
	t.Helper()
	cfg := chargebee.Config{BaseURL: url, APIKey: testKey, RatePerMinute: -1, BackoffBase: 2 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := chargebee.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The contract suite against the sandbox serving the fixtures (make test), as the
// site of each Product Catalog version: the other version's lists answer 400
// configuration_incompatible and are skipped.
func TestContractSandbox(t *testing.T) {
	for _, site := range []struct {
		name, pages, catalog string
		hasDeleted           bool
	}{
		{"pc2", "../../../fixtures/chargebee", "2.0", true},
		{"pc1", "../../../fixtures/chargebee-pc1", "1.0", false},
	} {
		t.Run(site.name, func(t *testing.T) {
			_, url := sandbox(t, cbsandbox.Options{Pages: site.pages, ProductCatalog: site.catalog})
			chargebeetest.Run(t, chargebeetest.Target{BaseURL: url, APIKey: testKey, RatePerMinute: -1, HasDeleted: site.hasDeleted, Lists: cbsandbox.Entities})
		})
	}
}

// The same suite against a real Chargebee test site: `make test-live` with
// CHARGEBEE_SITE (or CHARGEBEE_API_URL) and CHARGEBEE_API_KEY. Read-only; never in CI.
func TestContractLive(t *testing.T) {
	if os.Getenv("CB2AC_LIVE") != "1" {
		t.Skip("live Chargebee contract: run `make test-live` with CHARGEBEE_SITE and CHARGEBEE_API_KEY set")
	}
	if os.Getenv("CI") != "" {
		t.Skip("the live contract never runs in CI")
	}
	key, site, url := os.Getenv("CHARGEBEE_API_KEY"), os.Getenv("CHARGEBEE_SITE"), os.Getenv("CHARGEBEE_API_URL")
	if key == "" || (site == "" && url == "") {
		t.Skip("set CHARGEBEE_SITE (or CHARGEBEE_API_URL) and CHARGEBEE_API_KEY")
	}
	if url == "" {
		url = chargebee.DefaultBaseURL(site)
	}
	chargebeetest.Run(t, chargebeetest.Target{BaseURL: url, APIKey: chargebee.Secret(key)})
}

// fixtureIDs returns the ids of one list of a fixtures folder (DIR/<entity>/*.json,
// one list page a file), in page order; kind names the entry's resource.
func fixtureIDs(t *testing.T, dir, entity, kind string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, entity, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var ids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			List []map[string]struct {
				ID string `json:"id"`
			} `json:"list"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range page.List {
			ids = append(ids, e[kind].ID)
		}
	}
	return ids
}

// Every invoice (deleted ones included), each once, in the fixtures' order (date
// ascending, the API's default), on pages of 7 with no empty page at the end.
func TestListPagesEverythingInOrder(t *testing.T) {
	const fixtures = "../../../fixtures/chargebee"
	want := fixtureIDs(t, fixtures, "invoices", "invoice")
	if len(want) < 8 {
		t.Fatalf("%d invoices in the fixtures: too few for pages of 7", len(want))
	}
	_, url := sandbox(t, cbsandbox.Options{Pages: fixtures})
	c := client(t, url, nil)
	var ids []string
	err := c.List(context.Background(), "invoices", chargebee.ListQuery{Limit: 7, IncludeDeleted: true}, func(p *chargebee.Page) error {
		for _, e := range p.List {
			ids = append(ids, e.Invoice.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("read %d invoices %v\nwant the fixtures' %d %v", len(ids), ids, len(want), want)
	}
	pages := int64((len(want) + 6) / 7)
	st := c.Stats("invoices")
	if st.Requests != pages || st.Pages != pages || st.Records != int64(len(want)) || st.Retries != 0 {
		t.Errorf("stats %+v, want %d requests/pages (%d/7), %d records", st, pages, len(want), len(want))
	}
}

func TestQueryValues(t *testing.T) {
	after := int64(1700000000)
	got := chargebee.ListQuery{Limit: 500, Offset: `["1","2"]`, UpdatedAfter: &after, SortByUpdated: true, IncludeDeleted: true}.Values().Encode()
	want := "include_deleted=true&limit=100&offset=%5B%221%22%2C%222%22%5D&sort_by%5Basc%5D=updated_at&updated_at%5Bafter%5D=1700000000"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := (chargebee.ListQuery{}).Values().Encode(); got != "limit=100" {
		t.Errorf("a full read sends only the limit, got %s", got)
	}
}

func TestRetriesBurstsOfErrors(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{Pages: "../../../fixtures/chargebee"})
	srv.Inject(cbsandbox.Fault{Status: 503}, 2)
	srv.Inject(cbsandbox.Fault{Status: 502}, 1) // an HTML body from a gateway
	srv.Inject(cbsandbox.Fault{Status: 429}, 2)
	srv.Inject(cbsandbox.Fault{Status: 500}, 1)
	var logs bytes.Buffer
	c := client(t, url, func(c *chargebee.Config) { c.Log = slog.New(slog.NewTextHandler(&logs, nil)) })
	p, err := c.ListPage(context.Background(), "customers", chargebee.ListQuery{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.List) != 5 {
		t.Errorf("got %d entries", len(p.List))
	}
	if st := c.Stats("customers"); st.Requests != 7 || st.Retries != 6 {
		t.Errorf("stats %+v, want 7 requests, 6 retries", st)
	}
	if strings.Contains(logs.String(), testKey) {
		t.Error("the key is in the retry log")
	}
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{})
	srv.Inject(cbsandbox.Fault{Status: 503}, 10)
	c := client(t, url, func(c *chargebee.Config) { c.MaxRetries = 3 })
	_, err := c.ListPage(context.Background(), "customers", chargebee.ListQuery{})
	if !chargebee.IsStatus(err, 503) || !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Fatalf("got %v", err)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"blocked","api_error_code":"api_request_limit_exceeded","type":"operation_failed"}`)
			return
		}
		fmt.Fprint(w, `{"list":[]}`)
	}))
	defer ts.Close()
	c := client(t, ts.URL, nil)
	t0 := time.Now()
	if _, err := c.ListPage(context.Background(), "customers", chargebee.ListQuery{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < time.Second {
		t.Errorf("retried after %s; Retry-After said 1s", d)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{Pages: "../../../fixtures/chargebee"})
	srv.Inject(cbsandbox.Fault{Delay: 2 * time.Second}, 1)
	c := client(t, url, func(c *chargebee.Config) { c.Timeout = 200 * time.Millisecond })
	if _, err := c.ListPage(context.Background(), "customers", chargebee.ListQuery{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats("customers"); st.Requests != 2 {
		t.Errorf("stats %+v, want the hung request retried once", st)
	}
}

func TestRateLimiterSpacesRequests(t *testing.T) {
	_, url := sandbox(t, cbsandbox.Options{Pages: "../../../fixtures/chargebee"})
	c := client(t, url, func(c *chargebee.Config) { c.RatePerMinute = 1200 }) // 20/s
	t0 := time.Now()
	for range 6 {
		if _, err := c.ListPage(context.Background(), "customers", chargebee.ListQuery{Limit: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(t0); d < 240*time.Millisecond {
		t.Errorf("6 requests at 20/s took %s, want >= 250ms", d)
	}
}

func TestErrorsAreOneLineAndNameTheFix(t *testing.T) {
	_, url := sandbox(t, cbsandbox.Options{})
	ctx := context.Background()

	_, err := client(t, url, func(c *chargebee.Config) { c.APIKey = "wrong_key_123" }).ListPage(ctx, "customers", chargebee.ListQuery{})
	if !chargebee.IsAuth(err) || !strings.Contains(err.Error(), "CHARGEBEE_API_KEY") || strings.Contains(err.Error(), "wrong_key_123") {
		t.Errorf("bad key: %v", err)
	}
	// A wrong base URL is what a wrong site looks like.
	_, err = client(t, strings.Replace(url, "/api/v2", "/api/v1", 1), nil).ListPage(ctx, "customers", chargebee.ListQuery{})
	if !chargebee.IsNotFound(err) || !strings.Contains(err.Error(), "CHARGEBEE_SITE") {
		t.Errorf("bad site: %v", err)
	}
	for _, err := range []error{err} {
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("not one line: %q", err)
		}
	}
}

func TestKeyEchoedByServerIsScrubbed(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"message": "bad request\nfor key " + testKey, "api_error_code": "param_wrong_value"})
	}))
	defer ts.Close()
	_, err := client(t, ts.URL, nil).ListPage(context.Background(), "customers", chargebee.ListQuery{})
	if err == nil || strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %q", err)
	}
}

// A server (or proxy) that echoes the credentials in an error body: neither the key
// nor its Basic-auth base64 forms ("key:" as sent, "key" as the SDKs' no-colon
// form, padded or not) reach the error that goes to stderr, logs and manifest.json.
func TestAuthorizationEchoedByServerIsScrubbed(t *testing.T) {
	for _, key := range []string{testKey, testKey + "x", testKey + "xy"} { // every base64 padding
		forms := map[string]string{
			"key":             key,
			"base64 key:":     base64.StdEncoding.EncodeToString([]byte(key + ":")),
			"base64 key":      base64.StdEncoding.EncodeToString([]byte(key)),
			"raw base64 key:": base64.RawStdEncoding.EncodeToString([]byte(key + ":")),
			"raw base64 key":  base64.RawStdEncoding.EncodeToString([]byte(key)),
			"url base64 key:": base64.URLEncoding.EncodeToString([]byte(key + ":")),
			"url base64 key":  base64.URLEncoding.EncodeToString([]byte(key)),
		}
		bodies := map[string]func(r *http.Request) (int, string){
			"401 JSON message echoes the header": func(r *http.Request) (int, string) {
				b, _ := json.Marshal(map[string]string{"message": "bad credentials: " + r.Header.Get("Authorization"), "api_error_code": "api_authentication_failed"})
				return http.StatusUnauthorized, string(b)
			},
			"400 plain text echoes every form": func(r *http.Request) (int, string) {
				var b strings.Builder
				b.WriteString("you sent " + r.Header.Get("Authorization"))
				for _, f := range forms {
					b.WriteString(" [" + f + "]")
				}
				return http.StatusBadRequest, b.String()
			},
			"400 JSON code and type echo it": func(r *http.Request) (int, string) {
				b, _ := json.Marshal(map[string]string{"message": "no", "api_error_code": r.Header.Get("Authorization"),
					"type": forms["base64 key"]})
				return http.StatusBadRequest, string(b)
			},
		}
		for name, body := range bodies {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				status, b := body(r)
				w.WriteHeader(status)
				w.Write([]byte(b))
			}))
			_, err := client(t, ts.URL, func(c *chargebee.Config) { c.APIKey = chargebee.Secret(key) }).ListPage(context.Background(), "customers", chargebee.ListQuery{})
			ts.Close()
			if err == nil {
				t.Fatalf("%s: no error", name)
			}
			var apiErr *chargebee.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("%s: %T %v", name, err, err)
			}
			// The error string, and the fields a caller could print one by one.
			for _, out := range []string{err.Error(), apiErr.Message, apiErr.Code, apiErr.Type, fmt.Sprintf("%+v", apiErr)} {
				for fname, f := range forms {
					if strings.Contains(out, f) {
						t.Errorf("key %q, %s: the %s form %q is in %q", key, name, fname, f, out)
					}
				}
			}
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("key %q, %s: nothing redacted in %q", key, name, err)
			}
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := chargebee.Secret(testKey)
	cfg := chargebee.Config{BaseURL: "http://127.0.0.1:1/api/v2", APIKey: s}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %s %+v %#v %q", s, s, cfg, cfg, s)
	b, _ := json.Marshal(cfg)
	buf.Write(b)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "key", s, "cfg", cfg)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", s)
	if strings.Contains(buf.String(), testKey) {
		t.Errorf("key printed: %s", buf.String())
	}
	if s.Reveal() != testKey {
		t.Error("Reveal")
	}
}

func TestNewClientRefusesKeyInURL(t *testing.T) {
	if _, err := chargebee.NewClient(chargebee.Config{BaseURL: "https://k@acme.chargebee.com/api/v2", APIKey: "k"}); err == nil || strings.Contains(err.Error(), "k@") {
		t.Errorf("got %v", err)
	}
	if _, err := chargebee.NewClient(chargebee.Config{BaseURL: "https://acme.chargebee.com/api/v2"}); err == nil {
		t.Error("no key accepted")
	}
}

// A 429 lock_timeout (concurrent requests on one resource, chargebee.md "Errors")
// is retried with backoff like a rate limit, never a failure of the run.
func TestLockTimeoutIsRetried(t *testing.T) {
	srv, url := sandbox(t, cbsandbox.Options{})
	if err := srv.Add("customers", []byte(`{"customer":{"id":"c1","created_at":1,"updated_at":1}}`)); err != nil {
		t.Fatal(err)
	}
	srv.Inject(cbsandbox.Fault{Entity: "customers", Status: http.StatusTooManyRequests, Code: "lock_timeout"}, 3)
	c := client(t, url, nil)
	p, err := c.ListPage(context.Background(), "customers", chargebee.ListQuery{})
	if err != nil {
		t.Fatalf("lock_timeout failed the read: %v", err)
	}
	var got []int
	for _, r := range srv.Requests() {
		got = append(got, r.Status)
	}
	if len(p.List) != 1 || !slices.Equal(got, []int{429, 429, 429, 200}) {
		t.Errorf("%d entries after answers %v, want 1 after three 429s and a 200", len(p.List), got)
	}
	if st := c.Stats("customers"); st.Retries != 3 {
		t.Errorf("stats %+v, want 3 retries", st)
	}
}

// An optional list is skipped when the site does not have it (400
// configuration_incompatible: the other product catalog; a 404 for the list),
// never when the site itself is wrong (404 site_not_found) or the key is (401,
// 403), nor on a server error.
func TestNotOnSite(t *testing.T) {
	for _, c := range []struct {
		status int
		code   string
		want   bool
	}{
		{400, "configuration_incompatible", true},
		{400, "param_wrong_value", false}, // a parameter we should not have sent: our bug, never a missing list
		{404, "resource_not_found", true},
		{404, "site_not_found", false},
		{401, "api_authentication_failed", false},
		{403, "api_authorization_failed", false},
		{500, "internal_error", false},
		{429, "lock_timeout", false},
	} {
		if got := chargebee.NotOnSite(&chargebee.APIError{Status: c.status, Code: c.code}); got != c.want {
			t.Errorf("%d %s: NotOnSite %v, want %v", c.status, c.code, got, c.want)
		}
	}
	if chargebee.NotOnSite(fmt.Errorf("dial tcp: connection refused")) {
		t.Error("a transport error taken for a missing list")
	}
}

// Endpoints match testdata/chargebee/list-params.tsv (the SDKs' list parameters),
// list for list: the updated_at filter where the endpoint has it, sort by
// updated_at only where updated_at is a sort field, include_deleted only where
// listed; and the queries built from them send nothing else.
func TestEndpointsMatchListParams(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/chargebee/list-params.tsv")
	if err != nil {
		t.Fatal(err)
	}
	type params struct{ filter, deleted, sortUpdated bool }
	want := map[string]params{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "endpoint\t") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 4 {
			t.Fatalf("bad line %q", line)
		}
		yes := func(s string) bool {
			if s != "yes" && s != "no" {
				t.Fatalf("%q: want yes or no", line)
			}
			return s == "yes"
		}
		sortUpdated := false
		for _, f := range strings.Split(c[3], ",") {
			sortUpdated = sortUpdated || f == "updated_at"
		}
		want[c[0]] = params{yes(c[1]), yes(c[2]), sortUpdated}
	}
	after := int64(1795137688)
	for _, ep := range chargebee.Endpoints {
		w, ok := want[ep.Entity]
		if !ok {
			t.Errorf("%s: not in list-params.tsv", ep.Entity)
			continue
		}
		delete(want, ep.Entity)
		if got := (params{ep.UpdatedAtFilter, ep.IncludeDeleted, ep.SortByUpdatedAt}); got != w {
			t.Errorf("%s: endpoint %+v, list-params.tsv says %+v", ep.Entity, got, w)
		}
		for _, q := range []chargebee.ListQuery{ep.Query(0, nil), ep.Query(0, &after)} {
			v := q.Values()
			if v.Has("updated_at[after]") && !w.filter || v.Has("sort_by[asc]") && !w.sortUpdated || v.Has("include_deleted") && !w.deleted {
				t.Errorf("%s: sends %s", ep.Entity, v.Encode())
			}
		}
		inc := ep.Query(0, &after).Values()
		if w.filter && inc.Get("updated_at[after]") != "1795137688" || w.sortUpdated && inc.Get("sort_by[asc]") != "updated_at" {
			t.Errorf("%s: incremental query %s", ep.Entity, inc.Encode())
		}
	}
	for entity := range want {
		t.Errorf("%s: in list-params.tsv but not read", entity)
	}
}

// A watermark of 0 (a list never read, an empty first run) or less is a full
// read: no negative updated_at[after] is ever sent.
func TestQueryNeverNegative(t *testing.T) {
	ep, _ := chargebee.EndpointFor("customers")
	for _, after := range []int64{0, -300} {
		if v := ep.Query(100, &after).Values(); v.Has("updated_at[after]") || v.Has("sort_by[asc]") {
			t.Errorf("after %d: %s", after, v.Encode())
		}
	}
}

func TestDefaultRateLeavesHeadroom(t *testing.T) {
	// 150/min is the limit of Starter and of every test site, shared with the
	// merchant's own API traffic.
	if chargebee.DefaultRatePerMinute > 100 {
		t.Errorf("default rate %d/min leaves the merchant no headroom under the 150/min limit", chargebee.DefaultRatePerMinute)
	}
}

// endless serves a list whose next_offset never repeats and never ends: one new
// record a page (none when empty is set).
func endless(t *testing.T, empty bool) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if empty {
			fmt.Fprintf(w, `{"list":[],"next_offset":"o%d"}`, i)
			return
		}
		fmt.Fprintf(w, `{"list":[{"customer":{"id":"c%d","updated_at":1,"resource_version":1}}],"next_offset":"o%d"}`, i, i)
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

// A next_offset that never repeats and never ends stops at the page limit (the
// client's, or a smaller one of the query's), with an error naming the list.
func TestListStopsPagingWithoutEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ts, n := endless(t, false)
	c := client(t, ts.URL, func(cfg *chargebee.Config) { cfg.MaxPages = 50 })
	err := c.List(ctx, "customers", chargebee.ListQuery{}, func(*chargebee.Page) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "/customers: still more after 50 pages") || n.Load() != 50 {
		t.Fatalf("endless list: %v after %d requests; want a stop after 50 pages naming the list", err, n.Load())
	}
	n.Store(0)
	err = c.List(ctx, "customers", chargebee.ListQuery{MaxPages: 7}, func(*chargebee.Page) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "still more after 7 pages") || n.Load() != 7 {
		t.Fatalf("query limit 7: %v after %d requests", err, n.Load())
	}
	// Empty pages that still name a next page stop sooner.
	ts, n = endless(t, true)
	c = client(t, ts.URL, nil)
	err = c.List(ctx, "customers", chargebee.ListQuery{}, func(*chargebee.Page) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "empty pages in a row") || n.Load() != 3 {
		t.Fatalf("endless empty pages: %v after %d requests", err, n.Load())
	}
}
