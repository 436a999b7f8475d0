package acsandbox

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	srv, c := newTest(t, Options{Token: "s3cret"})
	me := c.must(http.StatusOK, "GET", "/api/3/users/me", nil)
	if str(me, "user", "id") != "1" || str(me, "user", "username") != "admin" {
		t.Fatalf("users/me: %v", me)
	}
	for _, tok := range []string{"", "wrong"} {
		c.token = tok
		r := c.do("GET", "/api/3/lists", nil)
		if r.status != http.StatusForbidden {
			t.Fatalf("token %q: status %d, want 403", tok, r.status)
		}
		m := r.json(t)
		if path(m, "errors", 0, "status") != float64(403) || str(m, "errors", 0, "title") != "Forbidden" || str(m, "errors", 0, "detail") == "" {
			t.Fatalf("403 body: %s", r.body)
		}
		if strings.Contains(string(r.body), "s3cret") {
			t.Fatal("the 403 answer leaks the token")
		}
	}
	// Refused requests are logged too, under their operation.
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[1].Op != "GET /lists" || reqs[1].Status != 403 {
		t.Fatalf("log: %+v", reqs)
	}
}

func TestRateLimit(t *testing.T) {
	srv, c := newTest(t, Options{RateLimit: 5})
	start := time.Now()
	for i := 0; i < 5; i++ {
		c.must(http.StatusOK, "GET", "/api/3/lists", nil)
	}
	// GraphQL shares the account's budget with REST.
	r := c.do("POST", "/api/3/ecom/graphql", map[string]any{"query": `{ searchRecurringPayment { id } }`})
	if time.Since(start) >= time.Second {
		t.Skip("machine too slow to fit 6 requests in one second")
	}
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("6th request: status %d, want 429: %s", r.status, r.body)
	}
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Fatalf("Retry-After %q is not a positive integer", r.header.Get("Retry-After"))
	}
	if r.header.Get("RateLimit-Limit") != "5" {
		t.Fatalf("RateLimit-Limit = %q", r.header.Get("RateLimit-Limit"))
	}
	// A wrong token does not escape the limit: the check comes first.
	c.token = "bad"
	if r := c.do("GET", "/api/3/lists", nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("over the limit with a bad token: %d, want 429", r.status)
	}
	c.token = DefaultToken
	time.Sleep(time.Duration(ra) * time.Second) // what a client honouring Retry-After does
	c.must(http.StatusOK, "GET", "/api/3/lists", nil)

	reqs := srv.Requests()
	if len(reqs) != 8 || reqs[5].Op != "searchRecurringPayment" || reqs[5].Status != 429 || reqs[6].Status != 429 {
		t.Fatalf("log: %+v", reqs)
	}
}

func TestSlidingWindow(t *testing.T) {
	w := &window{limit: 2, per: time.Second}
	t0 := time.Unix(1000, 0)
	for i, tc := range []struct {
		at   time.Duration
		ok   bool
		wait time.Duration
	}{
		{0, true, 0}, {100 * time.Millisecond, true, 0}, {500 * time.Millisecond, false, 500 * time.Millisecond},
		{time.Second, true, 0}, {1050 * time.Millisecond, false, 50 * time.Millisecond}, {1100 * time.Millisecond, true, 0},
	} {
		ok, wait := w.allow(t0.Add(tc.at))
		if ok != tc.ok || wait != tc.wait {
			t.Fatalf("step %d: allow = %v, %v; want %v, %v", i, ok, wait, tc.ok, tc.wait)
		}
	}
}

func TestFaultsAndLatency(t *testing.T) {
	srv, c := newTest(t, Options{FailRate: 1, Seed: 7})
	seen := map[int]bool{}
	for i := 0; i < 20; i++ {
		r := c.do("POST", "/api/3/contact/sync", map[string]any{"contact": map[string]any{"email": "a@example.com"}})
		if r.status != 500 && r.status != 503 {
			t.Fatalf("status %d, want 500 or 503", r.status)
		}
		if r.header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		seen[r.status] = true
	}
	if !seen[500] || !seen[503] {
		t.Fatalf("want both 500 and 503, saw %v", seen)
	}
	if n := len(srv.Snapshot().Contacts); n != 0 {
		t.Fatalf("faulted requests wrote %d contacts", n)
	}
	if srv.WriteRequests() != 20 {
		t.Fatalf("WriteRequests = %d, want 20 attempts", srv.WriteRequests())
	}

	_, c2 := newTest(t, Options{Latency: 150 * time.Millisecond})
	start := time.Now()
	c2.must(http.StatusOK, "GET", "/api/3/users/me", nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("request took %v, want at least the latency", d)
	}
	if _, err := New(Options{FailRate: 2}); err == nil {
		t.Fatal("fail rate 2 accepted")
	}
}

func TestRequestLog(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	c.must(http.StatusOK, "GET", "/api/3/lists?filters[name]=Customers", nil)
	c.must(http.StatusCreated, "POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "Plan", "type": "text"}})
	c.must(http.StatusCreated, "POST", "/api/3/contact/sync", map[string]any{"contact": map[string]any{"email": "a@example.com"}})
	c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", map[string]any{"contacts": []any{
		map[string]any{"email": "b@example.com"}, map[string]any{"email": "c@example.com"}, map[string]any{"email": "d@example.com"},
	}})
	c.do("GET", "/api/3/nowhere", nil)
	want := []string{"GET /lists", "fields_create", "contact_sync", "bulk_import", "unknown"}
	reqs := srv.Requests()
	if got := ops(reqs); !reflect.DeepEqual(got, want) {
		t.Fatalf("ops = %v, want %v", got, want)
	}
	if reqs[3].Count != 3 || reqs[2].Count != 1 || reqs[0].Count != 0 || reqs[4].Status != 404 {
		t.Fatalf("log: %+v", reqs)
	}
	if reqs[0].Path != "/api/3/lists" || reqs[0].Method != "GET" || reqs[0].Time.IsZero() {
		t.Fatalf("log entry: %+v", reqs[0])
	}
	if srv.WriteRequests() != 3 {
		t.Fatalf("WriteRequests = %d, want 3", srv.WriteRequests())
	}
	srv.ResetLog()
	if len(srv.Requests()) != 0 || srv.WriteRequests() != 0 {
		t.Fatal("ResetLog left entries")
	}
}

func TestStartAndClose(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, "/api/3") {
		t.Fatalf("base URL %q", base)
	}
	req, _ := http.NewRequest("GET", base+"/api/3/users/me", nil)
	req.Header.Set("Api-Token", DefaultToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "ac-state.json")
	opts := Options{StatePath: file, ApplyDelay: -1, Lists: []string{"Customers", "Trials"}}
	srv, c := newTest(t, opts)
	c.addConnections(1)
	field := c.must(http.StatusCreated, "POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "Plan", "type": "text"}})
	fid := str(field, "field", "id")
	ct := c.must(http.StatusCreated, "POST", "/api/3/contact/sync", map[string]any{"contact": map[string]any{
		"email": "ann@example.com", "firstName": "Ann", "fieldValues": []any{map[string]any{"field": fid, "value": "gold"}}}})
	c.must(http.StatusOK, "POST", "/api/3/contactLists", map[string]any{"contactList": map[string]any{"list": 2, "contact": str(ct, "contact", "id"), "status": 1}})
	c.gql(`mutation { bulkUpsertRecurringPayments(recurringPayments: [{legacyConnectionId: 1, storeRecurringPaymentId: "sub_1", email: "ann@example.com", paymentAmount: 9.90, billingIntervalCount: 3, lineItemNames: ["Gold"]}]) { recordId } }`, nil)
	srv.Flush()
	// Work accepted but not applied must survive the restart too.
	imp := c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", map[string]any{"contacts": []any{
		map[string]any{"email": "bob@example.com"}, map[string]any{"email": "cy@example.com"}}})
	before := srv.Snapshot()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, want 0600", fi.Mode().Perm())
	}

	srv2, c2 := newTest(t, opts)
	after := srv2.Snapshot()
	if !reflect.DeepEqual(before.Lists, after.Lists) || len(after.Lists) != 2 {
		t.Fatalf("lists changed: %+v → %+v", before.Lists, after.Lists)
	}
	ann, ok := after.ContactByEmail("ANN@example.com")
	if !ok || ann.FirstName != "Ann" || ann.Fields[fid] != "gold" || ann.Lists["2"] != 1 {
		t.Fatalf("contact after restart: %+v", ann)
	}
	rp, ok := after.RecurringPayment(1, "sub_1")
	if !ok || rp.Fields["paymentAmount"] != "9.90" || rp.Fields["billingIntervalCount"] != int64(3) ||
		!reflect.DeepEqual(rp.Fields["lineItemNames"], []string{"Gold"}) {
		t.Fatalf("recurring payment after restart: %+v", rp)
	}
	if len(after.Connections) != 1 || len(after.Fields) != 1 {
		t.Fatalf("connections/fields after restart: %+v %+v", after.Connections, after.Fields)
	}
	info := c2.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+str(imp, "batchId"), nil)
	if info["status"] != "waiting" {
		t.Fatalf("pending import after restart: %v", info)
	}
	srv2.Flush()
	info = c2.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+str(imp, "batchId"), nil)
	if info["status"] != "completed" || len(info["success"].([]any)) != 2 {
		t.Fatalf("import after flush: %v", info)
	}
	// Ids keep counting: nothing is reused after a restart.
	dan := c2.must(http.StatusCreated, "POST", "/api/3/contact/sync", map[string]any{"contact": map[string]any{"email": "dan@example.com"}})
	if str(dan, "contact", "id") != "4" {
		t.Fatalf("new contact id %q, want 4", str(dan, "contact", "id"))
	}
	// The search still works on the reloaded types.
	res := c2.gql(`{ searchRecurringPayment(filter: {legacyConnectionId: {value: 1, filterOperator: EQ}}) { storeRecurringPaymentId paymentAmount billingIntervalCount } }`, nil)
	if got := path(res, "data", "searchRecurringPayment", 0, "billingIntervalCount"); got != float64(3) {
		t.Fatalf("search after restart: %v", res)
	}
}

func TestCorruptStateRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	os.WriteFile(file, []byte("{not json"), 0o600)
	if _, err := New(Options{StatePath: file}); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("err = %v, want one naming the file", err)
	}
	os.WriteFile(file, []byte(`{"version":99}`), 0o600)
	if _, err := New(Options{StatePath: file}); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("err = %v, want a version error", err)
	}
}
