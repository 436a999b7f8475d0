package ac

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Issue 18: no redirect carries the Api-Token to another host, and a server that
// echoes the request does not get the token into an error text.

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Api-Token") != "" {
			leaked.Add(1)
		}
		w.Write([]byte(`{"user":{"id":1}}`))
	}))
	defer other.Close()
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	err := c.CheckToken(context.Background())
	var re *RedirectError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err %v, want a refused redirect", err)
	}
	if leaked.Load() != 0 {
		t.Fatal("the Api-Token reached the other host")
	}
	if asked.Load() != 1 {
		t.Errorf("%d requests, want 1: a refused redirect is not retried", asked.Load())
	}
}

// A redirect within the same host is followed, token and all.
func TestRedirectWithinHostIsFollowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/3/users/me" {
			http.Redirect(w, r, "/api/3/users/me2", http.StatusTemporaryRedirect)
			return
		}
		if r.Header.Get("Api-Token") != "tok-secret" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Write([]byte(`{"user":{"id":1}}`))
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	if err := c.CheckToken(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestEchoedTokenIsScrubbed(t *testing.T) {
	bodies := []string{
		`{"errors":[{"title":"bad","detail":"request had Api-Token: tok-secret"}]}`,
		`{"message":"headers {\"Api-Token\":[\"other-value\"]} token tok-secret"}`,
		`{"failureReasons":["api_token=other-value"]}`,
		`not json Api-Token: other-value`,
	}
	for _, body := range bodies {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			w.Write([]byte(body))
		}))
		c, _ := New(fast(srv.URL))
		err := c.CheckToken(context.Background())
		srv.Close()
		if err == nil {
			t.Fatalf("%s: no error", body)
		}
		if msg := err.Error(); strings.Contains(msg, "tok-secret") || strings.Contains(msg, "other-value") || !strings.Contains(msg, "[redacted]") {
			t.Errorf("%s: error text %q", body, msg)
		}
	}
	// GraphQL errors in a 200, named per record (they go to errors.csv).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"errors":[{"message":"Validation errors","extensions":{"storeRecurringPaymentId-sub_1":"bad Api-Token: tok-secret"}}]}`))
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	_, err := c.UpsertRecurringPaymentInputs(context.Background(), []map[string]any{{"storeRecurringPaymentId": "sub_1"}})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v", err)
	}
	if msg := e.RecordErrors()["sub_1"]; strings.Contains(msg, "tok-secret") || !strings.Contains(msg, "[redacted]") {
		t.Errorf("record error %q", msg)
	}
}
