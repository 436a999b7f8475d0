package acsandbox

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func contactBody(email string, extra map[string]any) map[string]any {
	c := map[string]any{"email": email}
	for k, v := range extra {
		c[k] = v
	}
	return map[string]any{"contact": c}
}

// Email is the unique contact key: sync matches it ignoring case, create refuses a
// taken one with the documented 422, and an update by id moves the email without a
// second contact.
func TestUniqueEmails(t *testing.T) {
	srv, c := newTest(t, Options{})
	created := c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("Ann@Example.com", map[string]any{"firstName": "Ann"}))
	id := str(created, "contact", "id")
	again := c.must(http.StatusOK, "POST", "/api/3/contact/sync", contactBody("ann@example.COM", map[string]any{"lastName": "Lee"}))
	if str(again, "contact", "id") != id || str(again, "contact", "firstName") != "Ann" || str(again, "contact", "lastName") != "Lee" {
		t.Fatalf("sync by email in another case: %v", again)
	}
	r := c.do("POST", "/api/3/contacts", contactBody("ANN@example.com", nil))
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("create with a taken email: %d %s", r.status, r.body)
	}
	sameJSON(t, r.body, "contact-create.error-422-duplicate-email.json")

	other := c.must(http.StatusCreated, "POST", "/api/3/contacts", contactBody("bob@example.com", nil))
	bobID := str(other, "contact", "id")
	// Moving Bob onto Ann's email is refused; onto a free one moves him.
	r = c.do("PUT", "/api/3/contacts/"+bobID, contactBody("ann@example.com", nil))
	if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "duplicate" {
		t.Fatalf("update onto a taken email: %d %s", r.status, r.body)
	}
	moved := c.must(http.StatusOK, "PUT", "/api/3/contacts/"+bobID, contactBody("robert@example.com", map[string]any{"firstName": "Robert"}))
	if str(moved, "contact", "id") != bobID || str(moved, "contact", "email") != "robert@example.com" {
		t.Fatalf("moved: %v", moved)
	}
	if got := c.must(http.StatusOK, "GET", "/api/3/contacts?email=bob@example.com", nil); str(got, "meta", "total") != "0" {
		t.Fatalf("old email still found: %v", got)
	}
	if got := c.must(http.StatusOK, "GET", "/api/3/contacts?email=ROBERT@example.com", nil); str(got, "contacts", 0, "id") != bobID {
		t.Fatalf("new email not found: %v", got)
	}
	// The old email is free again.
	c.must(http.StatusCreated, "POST", "/api/3/contacts", contactBody("bob@example.com", nil))
	if n := len(srv.Snapshot().Contacts); n != 3 {
		t.Fatalf("%d contacts, want 3", n)
	}
	for _, bad := range []map[string]any{contactBody("", nil), contactBody("not-an-email", nil), {"contact": map[string]any{"firstName": "x"}}} {
		if r := c.do("POST", "/api/3/contact/sync", bad); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%v: %d %s", bad, r.status, r.body)
		}
	}
	// Log keys name the contact each write touched, by its (new) email.
	var keys []string
	for _, r := range srv.Requests() {
		if r.Write && r.Status < 300 {
			keys = append(keys, r.Op+":"+strings.Join(r.Keys, ","))
		}
	}
	want := []string{"contact_sync:ann@example.com", "contact_sync:ann@example.com", "contact_create:bob@example.com",
		"contact_update:robert@example.com", "contact_create:bob@example.com"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("log keys %v, want %v", keys, want)
	}
}

// Lists and fields must exist before a contact write can name them.
func TestListAndFieldExistence(t *testing.T) {
	srv, c := newTest(t, Options{Lists: []string{"Customers"}})
	c.must(http.StatusCreated, "POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "Plan", "type": "text"}})
	c.must(http.StatusCreated, "POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "Renews", "type": "date"}})
	ct := c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("a@example.com", map[string]any{
		"fieldValues": []any{map[string]any{"field": "1", "value": "pro"}, map[string]any{"field": 2, "value": "2026-12-01"}}}))
	id := str(ct, "contact", "id")
	if str(ct, "fieldValues", 1, "value") != "2026-12-01" {
		t.Fatalf("field values: %v", ct)
	}
	for name, fv := range map[string]map[string]any{
		"unknown field":    {"field": "9", "value": "x"},
		"date not Y-M-D":   {"field": "2", "value": "12/01/2026"},
		"date with a time": {"field": "2", "value": "2026-12-01T00:00:00Z"},
	} {
		r := c.do("POST", "/api/3/contact/sync", contactBody("a@example.com", map[string]any{"fieldValues": []any{fv}}))
		if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "field_invalid" {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
	}
	// A refused write changes nothing.
	if sn := srv.Snapshot(); sn.Contacts[0].Fields["1"] != "pro" || sn.Contacts[0].Fields["2"] != "2026-12-01" {
		t.Fatalf("fields after refused writes: %v", sn.Contacts[0].Fields)
	}

	sub := c.must(http.StatusOK, "POST", "/api/3/contactLists", map[string]any{"contactList": map[string]any{"list": 1, "contact": id, "status": 1}})
	if path(sub, "contactList", "status") != float64(1) {
		t.Fatalf("subscribe: %v", sub)
	}
	for name, body := range map[string]map[string]any{
		"unknown list":    {"list": 7, "contact": id, "status": 1},
		"unknown contact": {"list": 1, "contact": 99, "status": 1},
	} {
		r := c.do("POST", "/api/3/contactLists", map[string]any{"contactList": body})
		if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "related_missing" {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
	}
	// AC's statuses 0 (unconfirmed) to 3 (bounced) are all accepted; 4 is not.
	for _, st := range []int{0, 3} {
		c.must(http.StatusOK, "POST", "/api/3/contactLists", map[string]any{"contactList": map[string]any{"list": 1, "contact": id, "status": st}})
	}
	if r := c.do("POST", "/api/3/contactLists", map[string]any{"contactList": map[string]any{"list": 1, "contact": id, "status": 4}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status 4: %d", r.status)
	}
	c.must(http.StatusOK, "POST", "/api/3/contactLists", map[string]any{"contactList": map[string]any{"list": "1", "contact": id, "status": "2"}})
	lists := c.must(http.StatusOK, "GET", "/api/3/contacts/"+id+"/contactLists", nil)
	if str(lists, "contactLists", 0, "status") != "2" || str(lists, "contactLists", 0, "list") != "1" {
		t.Fatalf("contactLists: %v", lists)
	}
	if sn := srv.Snapshot(); !reflect.DeepEqual(sn.Contacts[0].Lists, map[string]int{"1": 2}) {
		t.Fatalf("lists: %v", sn.Contacts[0].Lists)
	}
}

func TestContactFailEmails(t *testing.T) {
	srv, c := newTest(t, Options{FailEmails: []string{" Bad@example.com ", ""}})
	c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("ok@example.com", nil))
	r := c.do("POST", "/api/3/contact/sync", contactBody("bad@EXAMPLE.com", nil))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "fail-emails") {
		t.Fatalf("sync of a fail email: %d %s", r.status, r.body)
	}
	srv.SetFailEmails(nil)
	bad := c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("bad@example.com", nil))
	id := str(bad, "contact", "id")
	srv.SetFailEmails([]string{"bad@example.com"})
	for _, tc := range []struct{ method, path string }{
		{"PUT", "/api/3/contacts/" + id},
		{"POST", "/api/3/contactLists"},
		{"DELETE", "/api/3/contacts/" + id},
	} {
		var body any
		switch tc.method {
		case "PUT":
			body = contactBody("bad@example.com", map[string]any{"firstName": "X"})
		case "POST":
			body = map[string]any{"contactList": map[string]any{"list": 1, "contact": id, "status": 1}}
		}
		if r := c.do(tc.method, tc.path, body); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s %s of a fail email: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
	if n := len(srv.Snapshot().Contacts); n != 2 {
		t.Fatalf("%d contacts, want 2 (the delete must have failed)", n)
	}
}

func TestContactDeleteAndGet(t *testing.T) {
	_, c := newTest(t, Options{})
	// The documented request names fields 1 and 6 (6 a date): refused until they
	// exist, then accepted as is.
	if r := c.do("POST", "/api/3/contact/sync", sample(t, "contact-sync.request.json")); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("sample with unknown fields: %d %s", r.status, r.body)
	}
	for i := 1; i <= 6; i++ {
		typ := "text"
		if i == 6 {
			typ = "date"
		}
		c.must(http.StatusCreated, "POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "F" + string(rune('0'+i)), "type": typ}})
	}
	doc := c.must(http.StatusCreated, "POST", "/api/3/contact/sync", sample(t, "contact-sync.request.json"))
	if str(doc, "contact", "email") != "jondoe@example.com" || len(doc["fieldValues"].([]any)) != 2 {
		t.Fatalf("documented sync: %v", doc)
	}
	ct := c.must(http.StatusCreated, "POST", "/api/3/contact/sync", contactBody("jane@example.com", map[string]any{"phone": "123"}))
	jid := str(ct, "contact", "id")
	got := c.must(http.StatusOK, "GET", "/api/3/contacts/"+jid, nil)
	if str(got, "contact", "phone") != "123" || got["contactLists"] == nil {
		t.Fatalf("get: %v", got)
	}
	r := c.do("DELETE", "/api/3/contacts/"+jid, nil)
	if r.status != http.StatusOK {
		t.Fatalf("delete: %d", r.status)
	}
	sameJSON(t, r.body, "contact-delete.response-200.json")
	r = c.do("DELETE", "/api/3/contacts/"+jid, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("second delete: %d", r.status)
	}
	var m map[string]any
	json.Unmarshal(r.body, &m)
	if !strings.HasPrefix(str(m, "message"), "No result found for contact") {
		t.Fatalf("404 body: %s", r.body)
	}
}
