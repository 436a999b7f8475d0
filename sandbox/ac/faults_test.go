package acsandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Faults can be changed while the server runs: a test loads at full speed, then
// turns the account's limit on, or clears a failing email to see it sent again.
func TestSetRateLimitAtRuntime(t *testing.T) {
	srv, c := newTest(t, Options{})
	for i := 0; i < 10; i++ {
		c.must(http.StatusOK, "GET", "/api/3/users/me", nil)
	}
	srv.SetRateLimit(2)
	c.must(http.StatusOK, "GET", "/api/3/users/me", nil)
	r := c.do("GET", "/api/3/users/me", nil)
	if r.header.Get("RateLimit-Limit") != "2" {
		t.Fatalf("RateLimit-Limit %q", r.header.Get("RateLimit-Limit"))
	}
	if r = c.do("GET", "/api/3/users/me", nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("third request in a second at limit 2: %d", r.status)
	}
	srv.SetRateLimit(0)
	for i := 0; i < 5; i++ {
		c.must(http.StatusOK, "GET", "/api/3/users/me", nil)
	}
}

// Injected faults hit only their operation, in order: throttling with and without
// Retry-After, a reset that writes nothing, a truncated answer whose write did
// happen, and a bulk import that fails after it was accepted.
func TestInjectFaults(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	srv.Inject(Fault{Op: "GET /users/me", Status: http.StatusTooManyRequests, RetryAfter: "2"}, 1)
	srv.Inject(Fault{Op: "GET /users/me", Status: http.StatusBadGateway}, 1)
	// Another operation passes the queued faults by.
	c.must(http.StatusOK, "GET", "/api/3/lists", nil)
	r := c.do("GET", "/api/3/users/me", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Fatalf("first fault: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if r = c.do("GET", "/api/3/users/me", nil); r.status != http.StatusBadGateway || r.header.Get("Retry-After") != "" {
		t.Fatalf("second fault: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	c.must(http.StatusOK, "GET", "/api/3/users/me", nil)

	raw := func(method, p string, body string) (int, []byte, error) {
		req, _ := http.NewRequest(method, c.base+p, strings.NewReader(body))
		req.Header.Set("Api-Token", c.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, err
	}
	syncBody := func(email string) string {
		return `{"contact":{"email":"` + email + `"}}`
	}
	srv.Inject(Fault{Op: "contact_sync", Reset: true}, 1)
	if st, _, err := raw("POST", "/api/3/contact/sync", syncBody("reset@example.com")); err == nil {
		t.Fatalf("reset: got an answer %d", st)
	}
	if _, ok := srv.Snapshot().ContactByEmail("reset@example.com"); ok {
		t.Error("a reset request was served")
	}
	srv.Inject(Fault{Op: "contact_sync", Truncate: true}, 1)
	if st, b, err := raw("POST", "/api/3/contact/sync", syncBody("cut@example.com")); !errors.Is(err, io.ErrUnexpectedEOF) || st != http.StatusCreated || json.Valid(b) {
		t.Fatalf("truncate: %d %q %v, want 201 with a body cut short", st, b, err)
	}
	if _, ok := srv.Snapshot().ContactByEmail("cut@example.com"); !ok {
		t.Error("a truncated answer's write did not happen")
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-2:]
	if last[0].Status != 0 || last[0].Count != 0 || last[1].Status != http.StatusCreated || !slices.Equal(last[1].Keys, []string{"cut@example.com"}) {
		t.Errorf("request log %+v: want the reset unserved, the truncated one written", last)
	}

	// Delay past the client's patience: the client gives up, nothing is written.
	srv.Inject(Fault{Op: "contact_sync", Delay: time.Second}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, "POST", c.base+"/api/3/contact/sync", strings.NewReader(syncBody("late@example.com")))
	req.Header.Set("Api-Token", c.token)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a delayed request answered before the client's timeout")
	}
	cancel()
	eventually(t, "the abandoned request logged as 499", func() bool {
		reqs := srv.Requests()
		return reqs[len(reqs)-1].Status == 499
	})
	if _, ok := srv.Snapshot().ContactByEmail("late@example.com"); ok {
		t.Error("an abandoned request was served")
	}

	// The next import is accepted, then ends "failed" with nothing written; the
	// one after it is applied as usual.
	srv.FailImports(1)
	imp := func(email string) string {
		acc := c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", map[string]any{"contacts": []any{
			map[string]any{"email": email}, map[string]any{"email": "x" + email}}})
		return str(acc, "batchId")
	}
	failed, ok := imp("async@example.com"), imp("fine@example.com")
	srv.Flush()
	if st := str(c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+failed, nil), "status"); st != "failed" {
		t.Errorf("failed import: status %q", st)
	}
	if st := str(c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+ok, nil), "status"); st != "completed" {
		t.Errorf("next import: status %q", st)
	}
	sn := srv.Snapshot()
	if _, found := sn.ContactByEmail("async@example.com"); found {
		t.Error("a failed import wrote a contact")
	}
	if _, found := sn.ContactByEmail("fine@example.com"); !found {
		t.Error("the import after the failed one was not applied")
	}
}
