package load

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Tests of issue 18: a write counts only when AC's answer says so.

// A GraphQL 200 whose bulkUpsertRecurringPayments is null (or without a recordId)
// is not an acknowledgement: the batch's records are error rows, stay out of the
// synced snapshot and go again next run, even with confirm_recurring_payments: off.
func TestRPNullResultIsNotAcknowledged(t *testing.T) {
	for _, body := range []map[string]any{
		{"data": map[string]any{"bulkUpsertRecurringPayments": nil}},
		{"data": map[string]any{"bulkUpsertRecurringPayments": map[string]any{"recordId": nil}}},
		{"data": nil},
	} {
		for _, confirm := range []string{"off", "batch"} {
			srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
			srv.Inject(acsandbox.Fault{Op: "bulkUpsertRecurringPayments", Status: http.StatusOK, Body: body}, 1)
			out := t.TempDir()
			cfg := cfgFor(url, func(c *Config) { c.Confirm = confirm; c.ConfirmTimeout = 100 * time.Millisecond })
			res, err := Run(context.Background(), Options{In: transformDir(t, 2), RunID: "r1", Client: c}, cfg, out)
			if err != nil {
				t.Fatalf("%v %s: %v", body, confirm, err)
			}
			rows := errorRows(t, out)
			for _, k := range []string{"sub_1", "sub_2"} {
				if r := rows[k]; r[0] != CodeNotAcknowledged || !strings.Contains(r[1], "not acknowledged") {
					t.Errorf("%v %s: %s row %v, want %s", body, confirm, k, r, CodeNotAcknowledged)
				}
			}
			if k := syncedKeys(t, out); len(k) != 0 {
				t.Errorf("%v %s: synced %v though AC acknowledged nothing", body, confirm, k)
			}
			if res.Counts["rejected"] != 2 {
				t.Errorf("%v %s: rejected %d, want 2", body, confirm, res.Counts["rejected"])
			}
		}
	}
}

// The client itself refuses to return a batch id it did not get.
func TestUpsertWithoutRecordIDIsAnError(t *testing.T) {
	srv, c, _ := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	srv.Inject(acsandbox.Fault{Op: "bulkUpsertRecurringPayments", Status: http.StatusOK,
		Body: map[string]any{"data": map[string]any{"bulkUpsertRecurringPayments": nil}}}, 1)
	id, err := c.UpsertRecurringPaymentInputs(context.Background(), []map[string]any{{"legacyConnectionId": 1, "storeRecurringPaymentId": "sub_1"}})
	var na *ac.NotAcknowledgedError
	if !errors.As(err, &na) || id != "" {
		t.Fatalf("id %q, err %v; want a NotAcknowledgedError", id, err)
	}
	if ac.Rejected(err) {
		t.Error("a missing acknowledgement is not a rejection of the records")
	}
}

func internalServerError() map[string]any {
	return map[string]any{"data": nil, "errors": []any{map[string]any{
		"message": "Internal server error", "extensions": map[string]any{"code": "INTERNAL_SERVER_ERROR"}}}}
}

// A GraphQL INTERNAL_SERVER_ERROR in a 200 is the server failing, not the records:
// retried with backoff like a 5xx, never halved into per-record rejections.
func TestGraphQLInternalErrorIsRetried(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	srv.Inject(acsandbox.Fault{Op: "bulkUpsertRecurringPayments", Status: http.StatusOK, Body: internalServerError()}, 2)
	out := t.TempDir()
	res, err := Run(context.Background(), Options{In: transformDir(t, 4), RunID: "r1", Client: c}, cfgFor(url, nil), out)
	if err != nil {
		t.Fatal(err)
	}
	if n := countOps(srv, "bulkUpsertRecurringPayments"); n != 3 {
		t.Errorf("%d bulkUpsertRecurringPayments requests, want 3 (two server errors, then the same batch)", n)
	}
	if rows := errorRows(t, out); len(rows) != 0 || res.Counts["rejected"] != 0 {
		t.Errorf("error rows %v, rejected %d; want none", rows, res.Counts["rejected"])
	}
	if k := syncedKeys(t, out); len(k) != 4 {
		t.Errorf("synced %v, want all 4", k)
	}
}

// When the server errors persist, the load fails (exit 1, sent again next run)
// with the batch as it was: no halving, no record blamed.
func TestGraphQLInternalErrorPersistingFailsTheLoad(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{MaxAttempts: 3})
	srv.Inject(acsandbox.Fault{Op: "bulkUpsertRecurringPayments", Status: http.StatusOK, Body: internalServerError()}, 100)
	out := t.TempDir()
	_, err := Run(context.Background(), Options{In: transformDir(t, 4), RunID: "r1", Client: c}, cfgFor(url, nil), out)
	if err == nil || !strings.Contains(err.Error(), "Internal server error") {
		t.Fatalf("err %v, want the server error", err)
	}
	if ac.Rejected(err) {
		t.Error("a server-side GraphQL error counted as a rejection")
	}
	if n := countOps(srv, "bulkUpsertRecurringPayments"); n != 3 {
		t.Errorf("%d bulkUpsertRecurringPayments requests, want 3 (MaxAttempts, no halving)", n)
	}
	for k, r := range errorRows(t, out) {
		if strings.HasPrefix(k, "sub_") {
			t.Errorf("%s blamed: %v", k, r)
		}
	}
}

// Only server-side codes are transient: a validation error stays a rejection.
func TestGraphQLErrorCodes(t *testing.T) {
	for code, rejected := range map[string]bool{
		"INTERNAL_SERVER_ERROR": false, "SERVICE_UNAVAILABLE": false,
		"BAD_USER_INPUT": true, "GRAPHQL_VALIDATION_FAILED": true, "": true,
	} {
		e := &ac.Error{Op: "x", Errors: []ac.ErrorItem{{Message: "m", Extensions: []byte(`{"code":"` + code + `"}`)}}}
		if got := ac.Rejected(e); got != rejected {
			t.Errorf("code %q: Rejected %v, want %v", code, got, rejected)
		}
	}
}

// A server that echoes the token back in its refusal: neither load/errors.csv nor
// journal.jsonl gets it.
func TestEchoedTokenNeverWritten(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	srv.Inject(acsandbox.Fault{Op: "bulkUpsertRecurringPayments", Status: http.StatusOK, Body: map[string]any{"errors": []any{map[string]any{
		"message":    "Validation errors",
		"extensions": map[string]any{"storeRecurringPaymentId-sub_1": "refused; you sent Api-Token: " + acsandbox.DefaultToken},
	}}}}, 1)
	out := t.TempDir()
	if _, err := Run(context.Background(), Options{In: transformDir(t, 2), RunID: "r1", Client: c}, cfgFor(url, nil), out); err != nil {
		t.Fatal(err)
	}
	if r := errorRows(t, out)["sub_1"]; r[0] != CodeRejected || !strings.Contains(r[1], "[redacted]") {
		t.Errorf("sub_1 row %v", r)
	}
	for _, f := range []string{ErrorsFile, JournalFile} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), acsandbox.DefaultToken) {
			t.Errorf("%s holds the AC token:\n%s", f, b)
		}
	}
}
