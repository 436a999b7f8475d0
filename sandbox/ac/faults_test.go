package acsandbox

import (
	"net/http"
	"testing"
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
