package acsandbox

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func importContacts(emails ...string) map[string]any {
	list := make([]any, len(emails))
	for i, e := range emails {
		list[i] = map[string]any{"email": e, "first_name": "N" + fmt.Sprint(i), "subscribe": []any{map[string]any{"listid": 1}}}
	}
	return map[string]any{"contacts": list}
}

// The importer is asynchronous: accepted at once, applied later, its outcome read by
// polling import/info. Failures come back as emails, and success holds only the ids
// of contacts the import created.
func TestBulkImportAsync(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1, FailEmails: []string{"refused@example.com"}})
	c.must(http.StatusCreated, "POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "Renews", "type": "date"}})
	existing := str(c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("old@example.com", map[string]any{"firstName": "Old"})), "contact", "id")

	body := map[string]any{"contacts": []any{
		map[string]any{"email": "new1@example.com", "first_name": "Ann", "fields": []any{map[string]any{"id": 1, "value": "2026-12-01"}},
			"subscribe": []any{map[string]any{"listid": 1}}},
		map[string]any{"email": "OLD@example.com", "last_name": "Timer", "subscribe": []any{map[string]any{"listid": "1"}}},
		map[string]any{"email": "refused@example.com"},
		map[string]any{"email": "nofield@example.com", "fields": []any{map[string]any{"id": 9, "value": "x"}}},
		map[string]any{"email": "nolist@example.com", "subscribe": []any{map[string]any{"listid": 5}}},
		map[string]any{"email": "baddate@example.com", "fields": []any{map[string]any{"id": 1, "value": "01/12/2026"}}},
		map[string]any{"email": "new2@example.com", "exclude_automations": true, "tags": []any{"a"}},
	}}
	acc := c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", body)
	batch := str(acc, "batchId")
	if path(acc, "success") != float64(1) || path(acc, "queued_contacts") != float64(7) || batch == "" {
		t.Fatalf("accepted: %v", acc)
	}
	info := c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+batch, nil)
	if str(info, "status") != "waiting" || len(info["success"].([]any)) != 0 {
		t.Fatalf("before apply: %v", info)
	}
	if n := len(srv.Snapshot().Contacts); n != 1 {
		t.Fatalf("an import applied before its time: %d contacts", n)
	}
	srv.Flush()
	info = c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+batch, nil)
	if str(info, "status") != "completed" {
		t.Fatalf("after apply: %v", info)
	}
	var failed []string
	for _, f := range info["failure"].([]any) {
		failed = append(failed, f.(string))
	}
	sort.Strings(failed)
	if want := []string{"baddate@example.com", "nofield@example.com", "nolist@example.com", "refused@example.com"}; !reflect.DeepEqual(failed, want) {
		t.Fatalf("failure = %v, want %v", failed, want)
	}
	sn := srv.Snapshot()
	if len(info["success"].([]any)) != 2 || len(sn.Contacts) != 3 {
		t.Fatalf("success %v (want the 2 new contacts' ids), contacts %+v", info["success"], sn.Contacts)
	}
	for _, id := range info["success"].([]any) {
		if id == existing {
			t.Fatal("success lists an updated contact; it holds only created ones")
		}
	}
	old, _ := sn.ContactByEmail("old@example.com")
	if old.ID != existing || old.FirstName != "Old" || old.LastName != "Timer" || old.Lists["1"] != 1 {
		t.Fatalf("updated contact: %+v", old)
	}
	if n1, _ := sn.ContactByEmail("new1@example.com"); n1.Fields["1"] != "2026-12-01" || n1.Lists["1"] != 1 || n1.FirstName != "Ann" {
		t.Fatalf("new contact: %+v", n1)
	}
	// The log counts what was queued, by email.
	var imp Request
	for _, r := range srv.Requests() {
		if r.Op == "bulk_import" {
			imp = r
		}
	}
	if imp.Count != 7 || len(imp.Keys) != 7 || imp.Keys[1] != "old@example.com" {
		t.Fatalf("log entry: %+v", imp)
	}

	// An unknown batch id is a 404; no batch id at all is the documented 400.
	if r := c.do("GET", "/api/3/import/info?batchId=nope", nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown batch: %d", r.status)
	}
	r := c.do("GET", "/api/3/import/info", nil)
	if r.status != http.StatusBadRequest {
		t.Fatalf("no batch id: %d", r.status)
	}
	sameJSON(t, r.body, "bulk-import-info.error-400.json")
}

// With an apply delay the import completes on its own, and the importer never
// re-subscribes a contact who unsubscribed.
func TestBulkImportAppliesAfterDelay(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: 20 * time.Millisecond})
	id := str(c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("gone@example.com", nil)), "contact", "id")
	c.must(http.StatusOK, "POST", "/api/3/contactLists", map[string]any{"contactList": map[string]any{"list": 1, "contact": id, "status": 2}})
	batch := str(c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", importContacts("gone@example.com", "x@example.com")), "batchId")
	eventually(t, "the import to complete", func() bool {
		return str(c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+batch, nil), "status") == "completed"
	})
	if gone, _ := srv.Snapshot().ContactByEmail("gone@example.com"); gone.Lists["1"] != 2 {
		t.Fatalf("the importer re-subscribed an unsubscribed contact: %+v", gone)
	}
	// Jobs are applied in arrival order: a recurring payment batch never overtakes an
	// import sent before it.
	c.addConnections(1)
	c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", importContacts("order@example.com"))
	c.gql(upsertWithVars, map[string]any{"rps": []any{rpVar(1, "s1", "order@example.com", map[string]any{
		"customerData": map[string]any{"firstName": "FromRP"}})}})
	eventually(t, "both jobs", func() bool {
		sn := srv.Snapshot()
		_, ok := sn.RecurringPayment(1, "s1")
		return ok
	})
	if ct, _ := srv.Snapshot().ContactByEmail("order@example.com"); ct.FirstName != "FromRP" {
		t.Fatalf("the recurring payment's customerData was applied before the import: %+v", ct)
	}
}

// The whole request is refused (400, failureReasons by index) when one contact is
// invalid, when there are more than 250 contacts, or more than 400,000 bytes.
func TestBulkImportValidation(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	r := c.do("POST", "/api/3/import/bulk_import", importContacts("a@example.com", "not-an-email", "c@example.com", ""))
	if r.status != http.StatusBadRequest {
		t.Fatalf("invalid email: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if path(m, "success") != float64(0) || path(m, "failureReasons", 0, "contact") != float64(1) ||
		path(m, "failureReasons", 1, "contact") != float64(3) || str(m, "failureReasons", 0, "failureReason") != "Field 'email' incorrect format" {
		t.Fatalf("failure reasons: %s", r.body)
	}
	many := make([]string, 251)
	for i := range many {
		many[i] = fmt.Sprintf("c%d@example.com", i)
	}
	if r := c.do("POST", "/api/3/import/bulk_import", importContacts(many...)); r.status != http.StatusBadRequest {
		t.Fatalf("251 contacts: %d", r.status)
	}
	big := importContacts("big@example.com")
	big["contacts"].([]any)[0].(map[string]any)["first_name"] = strings.Repeat("x", 400_001)
	if r := c.do("POST", "/api/3/import/bulk_import", big); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "400000 bytes") {
		t.Fatalf("over 400,000 bytes: %d %.200s", r.status, r.body)
	}
	if r := c.do("POST", "/api/3/import/bulk_import", map[string]any{"contacts": []any{}}); r.status != http.StatusBadRequest {
		t.Fatalf("no contacts: %d", r.status)
	}
	srv.Flush()
	if sn := srv.Snapshot(); len(sn.Imports) != 0 || len(sn.Contacts) != 0 {
		t.Fatalf("a refused import was queued: %+v", sn.Imports)
	}
	// The documented request is accepted as is (its lists 1-3 and fields 1-2 do not
	// exist here, so the contact fails when applied).
	acc := c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", sample(t, "bulk-import.request.json"))
	srv.Flush()
	info := c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+str(acc, "batchId"), nil)
	if str(info, "failure", 0) != "someone@somewhere.com" {
		t.Fatalf("documented import: %v", info)
	}
}

// The importer's own per-minute limits: 100 multi-contact and 20 single-contact
// requests, answered as AC's reference sample bulk-import.error-400.json does: HTTP
// 400 "Rate limit exceeded." (no Retry-After).
func TestBulkImportPerMinuteLimit(t *testing.T) {
	_, c := newTest(t, Options{ApplyDelay: -1, BulkImportPerMinute: 2, BulkSinglePerMinute: 1})
	c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", importContacts("a@example.com", "b@example.com"))
	c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", importContacts("c@example.com", "d@example.com"))
	r := c.do("POST", "/api/3/import/bulk_import", importContacts("e@example.com", "f@example.com"))
	if r.status != http.StatusBadRequest || str(r.json(t), "message") != "Rate limit exceeded." || str(r.json(t), "failureReasons", 0) == "" {
		t.Fatalf("third multi-contact import: %d %s", r.status, r.body)
	}
	// Single-contact requests have their own budget.
	c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", importContacts("g@example.com"))
	if r := c.do("POST", "/api/3/import/bulk_import", importContacts("h@example.com")); r.status != http.StatusBadRequest {
		t.Fatalf("second single-contact import: %d", r.status)
	}
}

// Hook sees each request before it is served; a request whose client gave up while
// the hook held it is dropped, so a test can kill a client at an exact point without
// a half-applied write.
func TestHookStallsAndDrops(t *testing.T) {
	stalled := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	srv, c := newTest(t, Options{ApplyDelay: -1, Hook: func(ctx context.Context, r Request) {
		mu.Lock()
		seen = append(seen, r.Op)
		mu.Unlock()
		if r.Op == "bulk_import" {
			close(stalled)
			<-ctx.Done()
		}
	}})
	c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("a@example.com", nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", c.base+"/api/3/import/bulk_import",
			strings.NewReader(`{"contacts":[{"email":"b@example.com"},{"email":"c@example.com"}]}`))
		req.Header.Set("Api-Token", DefaultToken)
		_, err := http.DefaultClient.Do(req)
		done <- err
	}()
	<-stalled
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the stalled request was answered")
	}
	eventually(t, "the dropped request in the log", func() bool { return len(srv.Requests()) == 2 })
	srv.Flush()
	reqs := srv.Requests()
	if reqs[1].Op != "bulk_import" || reqs[1].Status != 499 || reqs[1].Count != 0 {
		t.Fatalf("dropped request: %+v", reqs[1])
	}
	if sn := srv.Snapshot(); len(sn.Contacts) != 1 || len(sn.Imports) != 0 {
		t.Fatalf("the dropped request changed the account: %+v", sn)
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(seen, []string{"contact_sync", "bulk_import"}) {
		t.Fatalf("hook saw %v", seen)
	}
}

// import/info answers status false for a moment after queuing, as AC's status
// reference says, then the statuses AC documents.
func TestImportInfoFalseAtFirst(t *testing.T) {
	_, c := newTest(t, Options{ApplyDelay: 400 * time.Millisecond})
	acc := c.must(http.StatusOK, "POST", "/api/3/import/bulk_import", importContacts("a@example.com", "b@example.com"))
	info := c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+str(acc, "batchId"), nil)
	if info["status"] != false {
		t.Fatalf("status right after queuing: %v, want false", info["status"])
	}
	time.Sleep(250 * time.Millisecond)
	if info := c.must(http.StatusOK, "GET", "/api/3/import/info?batchId="+str(acc, "batchId"), nil); info["status"] != "waiting" {
		t.Fatalf("status later: %v, want waiting", info["status"])
	}
}
