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

// Issue 18: an endless answer is read up to a cap, then a clear error, not retried.
func TestEndlessBodyIsCapped(t *testing.T) {
	old := maxResponseBytes
	maxResponseBytes = 1 << 20
	defer func() { maxResponseBytes = old }()
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Write([]byte(`{"user":{"id":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	err := c.CheckToken(context.Background())
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("err %v, want a TooLargeError", err)
	}
	if asked.Load() != 1 {
		t.Errorf("%d requests, want 1 (not retried)", asked.Load())
	}
}

// An answer of exactly the cap is read whole.
func TestBodyAtCapIsRead(t *testing.T) {
	old := maxResponseBytes
	body := `{"user":{"id":1}}`
	maxResponseBytes = int64(len(body))
	defer func() { maxResponseBytes = old }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	defer srv.Close()
	c, _ := New(fast(srv.URL))
	if err := c.CheckToken(context.Background()); err != nil {
		t.Fatal(err)
	}
}
