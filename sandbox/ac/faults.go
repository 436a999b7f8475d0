package acsandbox

import (
	"bytes"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Fault is an answer forced on requests (see Inject): what a client meets on a bad
// day, beyond the steady FailRate and Latency.
type Fault struct {
	// Op limits the fault to requests of one operation ("bulk_import",
	// "bulkUpsertRecurringPayments", "import_info", "GET /lists", ... as in the
	// request log); "" matches any request.
	Op string
	// Status answers with this status (429, 500, 502, 503, ...) before any work.
	Status int
	// RetryAfter is the Retry-After header sent with Status ("" sends none).
	RetryAfter string
	// Body, when set, is the JSON answered with Status instead of the sandbox's
	// own message (an answer in a shape AC documents, e.g. the importer's 400
	// "Rate limit exceeded.").
	Body any
	// Delay holds the request before it is served (or answered with Status). A
	// client that gives up meanwhile gets nothing, and nothing is written.
	Delay time.Duration
	// Reset closes the connection without an answer; nothing is written.
	Reset bool
	// Truncate serves the request, so its writes happen, then cuts the answer's
	// body half way and closes the connection: the client cannot tell that AC did
	// the work.
	Truncate bool
}

// Inject queues n copies of f. Each request spends the first queued fault whose Op
// matches it, after Hook has seen the request: a Hook may Inject for the request it
// is looking at.
func (s *Server) Inject(f Fault, n int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// FailImports makes the next n bulk imports that AC accepts end "failed" when they
// are applied, writing none of their contacts: an import that fails asynchronously,
// after the client was told it was queued.
func (s *Server) FailImports(n int) {
	s.failImports.Add(int64(n))
}

// DropRecurringPaymentBatches makes the next n batches of recurring payments that
// AC accepts write nothing when they are applied: the client got a recordId, and
// searchRecurringPayment never shows the records (AC documents no status query for
// such a batch).
func (s *Server) DropRecurringPaymentBatches(n int) {
	s.dropRPs.Add(int64(n))
}

// nextFault takes the first queued fault for op, if any.
func (s *Server) nextFault(op string) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, f := range s.faults {
		if f.Op == "" || f.Op == op {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return &f
		}
	}
	return nil
}

// takeImportFailure reports whether the import being queued is to fail.
func (s *Server) takeImportFailure() bool { return take(&s.failImports) }

// takeRPBatchDrop reports whether the recurring payment batch being queued is to
// be dropped.
func (s *Server) takeRPBatchDrop() bool { return take(&s.dropRPs) }

func take(n *atomic.Int64) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// bufferedResponse holds an answer so a Truncate fault can send part of it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// sendTruncated writes the headers with the full Content-Length, half the body, and
// drops the connection (ErrAbortHandler: the server closes it without logging).
func (b *bufferedResponse) sendTruncated(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	body := b.body.Bytes()
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(b.status)
	w.Write(body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}
