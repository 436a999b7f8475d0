package ac

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fast(url string) Config {
	return Config{APIURL: url, Token: "tok-secret", RateLimit: 1000, BaseBackoff: time.Millisecond, MaxAttempts: 4, Timeout: time.Second}
}

func TestRetriesThenSucceeds(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Api-Token") != "tok-secret" {
			t.Errorf("token header %q", r.Header.Get("Api-Token"))
		}
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		case 2:
			w.Write([]byte(`{"user":{"id":`)) // truncated body
		default:
			w.Write([]byte(`{"user":{"id":1}}`))
		}
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	if err := c.CheckToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 || c.Stats().Retries != 2 {
		t.Fatalf("%d attempts, %d retries; want 3, 2", n.Load(), c.Stats().Retries)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var first time.Time
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if since := time.Since(first); since < 950*time.Millisecond {
			t.Errorf("retried after %v, before Retry-After", since)
		}
		w.Write([]byte(`{"user":{"id":"1"}}`))
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	if err := c.CheckToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Stats().Throttle != 1 {
		t.Errorf("throttle count %d", c.Stats().Throttle)
	}
}

func TestErrorsAreTypedAndNotRetried(t *testing.T) {
	cases := []struct {
		status   int
		body     string
		rejected bool
		want     string
	}{
		{403, `{"errors":[{"status":403,"title":"Forbidden","detail":"You do not have permission"}]}`, false, "token was refused"},
		{422, `{"errors":[{"title":"There is already a field with this title","detail":"","code":"duplicate"}]}`, true, "(duplicate)"},
		{404, `{"message":"No Result found for _List with id 7"}`, true, "No Result found"},
		{400, `{"success":0,"message":"JSON payload did not pass validation","failureReasons":[{"contact":3,"failureReason":"Field 'email' incorrect format"}]}`, true, "incorrect format"},
	}
	for _, tc := range cases {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		}))
		c, _ := New(fast(srv.URL))
		var err error
		if tc.status == 403 {
			err = c.CheckToken(context.Background())
		} else {
			_, err = c.CreateField(context.Background(), Field{Title: "x", Type: "text"})
		}
		srv.Close()
		var e *Error
		if !errors.As(err, &e) || e.Status != tc.status || Rejected(err) != tc.rejected || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d: err %v (rejected=%v), want %q rejected=%v", tc.status, err, Rejected(err), tc.want, tc.rejected)
		}
		if n.Load() != 1 {
			t.Errorf("%d: %d attempts, a 4xx must not be retried", tc.status, n.Load())
		}
		if strings.Contains(err.Error(), "tok-secret") {
			t.Errorf("token in error text: %v", err)
		}
	}
}

func TestGraphQLErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/3/ecom/graphql" {
			t.Errorf("path %s", r.URL.Path)
		}
		var body struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		if !strings.Contains(body.Query, "bulkUpsertRecurringPayments") {
			t.Errorf("query %q", body.Query)
		}
		w.Write([]byte(`{"data":null,"errors":[{"message":"normalizedStatus: bad enum LIVE","path":["bulkUpsertRecurringPayments"],"extensions":{"index":0}}]}`))
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL + "/api/3/"))
	_, err := c.UpsertRecurringPayments(context.Background(), 1, nil)
	if !Rejected(err) || !strings.Contains(err.Error(), "bad enum LIVE") {
		t.Fatalf("err = %v", err)
	}
}

func TestIDStringOrNumber(t *testing.T) {
	var v struct{ A, B, C ID }
	if err := json.Unmarshal([]byte(`{"A":"10","B":10,"C":null}`), &v); err != nil || v.A != "10" || v.B != "10" || v.C != "" {
		t.Fatalf("%+v %v", v, err)
	}
}

func TestRateLimitSpacing(t *testing.T) {
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		times = append(times, time.Now())
		w.Write([]byte(`{"user":{"id":"1"}}`))
	}))
	defer srv.Close()
	cfg := fast(srv.URL)
	cfg.RateLimit = 20
	c, _ := New(cfg)
	for i := 0; i < 25; i++ {
		c.CheckToken(context.Background())
	}
	// No one-second window may hold more than 20 requests.
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Second; j++ {
			n++
		}
		if n > 20 {
			t.Fatalf("%d requests within one second from request %d", n, i)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Token: "t"}, {APIURL: "https://x"}, {APIURL: "acme.api-us1.com", Token: "t"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// AC's "Validation errors" answer names the refused records in errors[0].extensions,
// one key per record containing storeRecurringPaymentId-<id> (AC's WooCommerce
// plugin splits the key on "-" and takes what follows storeRecurringPaymentId); an
// id with dashes of its own is kept whole.
func TestRecordErrorsFromExtensions(t *testing.T) {
	body := `{"errors":[{"message":"Validation errors","extensions":{
		"recurringPayments-storeRecurringPaymentId-sub_1":"email: not a valid email",
		"0-storeRecurringPaymentId-AzZ-123-x":["startDate: bad format"],
		"classification":"ValidationError"}}],"data":null}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	_, err := c.UpsertRecurringPaymentInputs(context.Background(), []map[string]any{{"storeRecurringPaymentId": "sub_1"}})
	var e *Error
	if !errors.As(err, &e) || !Rejected(err) {
		t.Fatalf("err %v", err)
	}
	got := e.RecordErrors()
	if len(got) != 2 || got["sub_1"] != "email: not a valid email" || !strings.Contains(got["AzZ-123-x"], "startDate") {
		t.Fatalf("record errors %v", got)
	}
	// A GraphQL error that is not AC's "Validation errors" names nothing.
	other := &Error{Errors: []ErrorItem{{Message: "Cannot query field", Extensions: json.RawMessage(`{"x-storeRecurringPaymentId-a":"b"}`)}}}
	if other.RecordErrors() != nil {
		t.Fatal("names records outside a Validation errors answer")
	}
}

// The importer's 400: failureReasons as {contact: index, failureReason} name the
// contacts; its "Rate limit exceeded." is throttling (retried after ImportRateWait,
// never Rejected). Both shapes from AC's sample bulk-import.error-400.json.
func TestBulkImport400Shapes(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		if n.Add(1) == 1 {
			w.Write([]byte(`{"success":0,"message":"Rate limit exceeded.","failureReasons":["Up to 100 imports may be requested per minute.Please batch contacts into larger requests, or retry this request in a minute."]}`))
			return
		}
		w.Write([]byte(`{"success":0,"message":"JSON payload did not pass validation. Please fix failure Reasons and retry. The import was not queued for processing.","failureReasons":[{"contact":1,"failureReason":"Field 'email' incorrect format"}]}`))
	}))
	defer srv.Close()
	cfg := fast(srv.URL)
	cfg.ImportRateWait = 30 * time.Millisecond
	c, _ := New(cfg)
	start := time.Now()
	_, err := c.BulkImport(context.Background(), []ImportContact{{Email: "a@example.com"}, {Email: "bad"}})
	if n.Load() != 2 || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("%d attempts after %v: the rate limit was not waited out", n.Load(), time.Since(start))
	}
	var e *Error
	if !errors.As(err, &e) || !Rejected(err) || IsRateLimited(err) {
		t.Fatalf("err %v", err)
	}
	if got := e.ImportFailures(); len(got) != 1 || got[1] != "Field 'email' incorrect format" {
		t.Fatalf("import failures %v", got)
	}
	limited := &Error{Status: http.StatusBadRequest, Message: "Rate limit exceeded."}
	if Rejected(limited) || !IsRateLimited(limited) || limited.ImportFailures() != nil {
		t.Fatal("the importer's rate limit counted as a rejection")
	}
}

// import/info: status false at first (AC's status reference), a deadline, and a
// batch id AC refuses.
func TestWaitImportDeadlineAndUnknown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("batchId") == "nope" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"success":0,"message":"'batchId' is a required field."}`))
			return
		}
		w.Write([]byte(`{"status":false,"success":[],"failure":[]}`))
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	_, err := c.WaitImport(context.Background(), "b1", 5*time.Millisecond, 40*time.Millisecond)
	var late *ImportTimeoutError
	if !errors.As(err, &late) || !strings.Contains(err.Error(), "import_timeout") {
		t.Fatalf("deadline: %v", err)
	}
	if _, err := c.WaitImport(context.Background(), "nope", time.Millisecond, 0); !IsImportUnknown(err) {
		t.Fatalf("unknown batch: %v", err)
	}
}

// A create is not replayed blind after a lost answer: the caller gets an
// AmbiguousError and looks first.
func TestCreateConnectionLooksBeforeRetry(t *testing.T) {
	var posts, gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
			w.WriteHeader(http.StatusBadGateway) // AC made it; the proxy lost the answer
			return
		}
		if gets.Add(1) == 1 {
			w.Write([]byte(`{"connections":[],"meta":{"total":"0"}}`))
			return
		}
		w.Write([]byte(`{"connections":[{"id":"7","service":"cb2ac","externalid":"site"}],"meta":{"total":"1"}}`))
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	got, err := c.EnsureConnection(context.Background(), Connection{Service: "cb2ac", ExternalID: "site"})
	if err != nil || got.ID != "7" || posts.Load() != 1 {
		t.Fatalf("connection %+v, %v, %d POSTs (want 1, then adopted)", got, err, posts.Load())
	}
}

// A GraphQL query (searchRecurringPayment) is a POST that writes nothing: it is
// not counted as a write request in the load summary.
func TestSearchIsNoWrite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":{"searchRecurringPayment":[]}}`))
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	if _, err := c.SearchRecurringPayments(context.Background(), 1, "sub_1"); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Requests != 1 || st.Writes != 0 {
		t.Fatalf("stats %+v", st)
	}
}
