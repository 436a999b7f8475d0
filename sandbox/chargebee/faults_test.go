package cbsandbox_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
)

// Transport faults: a reset connection gives the client no answer at all, a
// truncated one a 200 whose body ends early. Either way the next request is served.
func TestInjectResetAndTruncate(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures})
	// A fresh connection per request: the transport would otherwise replay a GET
	// that failed on a reused connection, hiding the reset from the caller.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	fetch := func() (*http.Response, []byte, error) {
		req, _ := http.NewRequest(http.MethodGet, base+"/customers?limit=100", nil)
		req.Header.Set("Authorization", colonAuth(testKey))
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	srv.Inject(cbsandbox.Fault{Reset: true}, 1)
	if resp, _, err := fetch(); err == nil {
		t.Fatalf("reset: got an answer %d", resp.StatusCode)
	}

	srv.Inject(cbsandbox.Fault{Truncate: true}, 1)
	resp, body, err := fetch()
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncate: err %v, want an unexpected EOF in the body", err)
	}
	if resp.StatusCode != http.StatusOK || resp.ContentLength <= int64(len(body)) || len(body) == 0 {
		t.Errorf("truncate: status %d, Content-Length %d, %d bytes read; want 200 and a body cut short", resp.StatusCode, resp.ContentLength, len(body))
	}

	resp, body, err = fetch()
	if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(body) {
		t.Fatalf("after the faults: %v %v", resp, err)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[0].Status != 0 || reqs[1].Status != http.StatusOK || reqs[2].Status != http.StatusOK {
		t.Errorf("request log %+v: want the reset with status 0, then two 200s", reqs)
	}
}
