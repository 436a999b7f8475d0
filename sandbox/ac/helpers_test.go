package acsandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tc is a tiny HTTP client for the tests: real requests to a real listener.
type tc struct {
	t     *testing.T
	base  string
	token string
}

func newTest(t *testing.T, opts Options) (*Server, *tc) {
	t.Helper()
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	tok := opts.Token
	if tok == "" {
		tok = DefaultToken
	}
	return srv, &tc{t: t, base: hs.URL, token: tok}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (c *tc) do(method, path string, body any) resp {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Api-Token", c.token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// must sends a request and fails the test unless the status is want.
func (c *tc) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.status != want {
		c.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, want, r.body)
	}
	return r.json(c.t)
}

func (c *tc) gql(query string, vars map[string]any) map[string]any {
	c.t.Helper()
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	return c.must(http.StatusOK, "POST", "/api/3/ecom/graphql", body)
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameJSON compares a body with a sample file, ignoring formatting.
func sameJSON(t *testing.T, got []byte, sampleName string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(sample(t, sampleName), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("answer differs from %s:\n got %s\nwant %s", sampleName, got, sample(t, sampleName))
	}
}

func path(m any, keys ...any) any {
	for _, k := range keys {
		switch x := k.(type) {
		case string:
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[x]
		case int:
			l, ok := m.([]any)
			if !ok || x >= len(l) {
				return nil
			}
			m = l[x]
		}
	}
	return m
}

func str(m any, keys ...any) string {
	s, _ := path(m, keys...).(string)
	return s
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func ops(reqs []Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Op)
	}
	return out
}

// addConnections creates n connections so ids up to n exist.
func (c *tc) addConnections(n int) {
	c.t.Helper()
	for i := 0; i < n; i++ {
		c.must(http.StatusOK, "POST", "/api/3/connections", map[string]any{"connection": map[string]any{
			"service": "chargebee", "externalid": "site" + string(rune('a'+i%26)), "name": "Chargebee",
			"logoUrl": "https://example.com/logo.png", "linkUrl": "https://example.com/",
		}})
	}
}
