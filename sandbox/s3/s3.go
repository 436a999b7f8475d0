// Package s3 serves an S3 API on 127.0.0.1 for tests: gofakes3 over memory, the
// maintained in-process fake that implements the conditional writes (If-Match,
// If-None-Match) the lock and state.json depend on.
package s3

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is an S3 API in this process.
type Server struct {
	ts      *httptest.Server
	backend *s3mem.Backend
}

// Start serves an empty S3 API on a free port of 127.0.0.1.
func Start() *Server { return StartHooked(nil) }

// StartHooked is Start with hook called on every request before it is served
// (a test kills a client half way through an upload from it).
func StartHooked(hook func(*http.Request)) *Server {
	be := s3mem.New()
	h := gofakes3.New(be, gofakes3.WithAutoBucket(true)).Server()
	if hook != nil {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hook(r)
			inner.ServeHTTP(w, r)
		})
	}
	return &Server{ts: httptest.NewServer(h), backend: be}
}

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

// Endpoint is the server's base URL.
func (s *Server) Endpoint() string { return s.ts.URL }

// DataURL is a --data-dir URL for prefix in bucket on this server, in the form
// gocloud.dev's s3blob driver takes an endpoint.
func (s *Server) DataURL(bucket, prefix string) string {
	q := url.Values{"endpoint": {s.ts.URL}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	return fmt.Sprintf("s3://%s/%s?%s", bucket, prefix, q.Encode())
}

// Env is what a process needs to talk to the server: dummy credentials (the
// server checks none) and no instance-metadata lookups.
func Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=cb2ac-test", "AWS_SECRET_ACCESS_KEY=cb2ac-test", "AWS_SESSION_TOKEN=",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}
