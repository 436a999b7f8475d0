// Package actest is the contract suite of the ActiveCampaign client: one set of
// checks of every client call, run against every AC the client may meet — the local
// sandbox in `make test`, a real account in `make test-live` — so the sandbox cannot
// drift from the API it stands in for without a test saying so.
//
// On a real account the suite touches only what it creates: a list, a Deep Data
// connection, custom fields and contacts, all named after Target.Prefix, removed
// again at the end (AC has no delete for recurring payments; they go with their
// connection where AC allows it).
package actest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Target is an AC account to check.
type Target struct {
	APIURL string
	Token  string
	// RateLimit for the suite's client: 0 = the client default (5/s, a live account).
	RateLimit float64
	// Prefix names everything the suite creates; default "cb2ac-contract-<random>".
	Prefix string
	// FailEmail, when set, is an address the account fails in bulk imports (the
	// sandbox's --fail-emails), so failure reporting is checked too.
	FailEmail string
	// Flush, when set, applies queued async work at once (the sandbox); otherwise the
	// suite polls until AC has applied it.
	Flush func()
	// AsyncTimeout bounds the wait for async work (default 2 minutes).
	AsyncTimeout time.Duration
}

// Run runs the contract against tg. The subtests share what the earlier ones made,
// in order; a failure stops the rest.
func Run(t *testing.T, tg Target) {
	if tg.Prefix == "" {
		b := make([]byte, 4)
		rand.Read(b)
		tg.Prefix = "cb2ac-contract-" + hex.EncodeToString(b)
	}
	if tg.AsyncTimeout <= 0 {
		tg.AsyncTimeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s := &suite{tg: tg, c: tg.client(t, tg.Token)}
	t.Cleanup(func() { s.cleanup(t) })

	for _, step := range []struct {
		name string
		fn   func(context.Context, *testing.T)
	}{
		{"CheckToken", s.checkToken},
		{"FindList", s.checkFindList},
		{"EnsureConnection", s.checkEnsureConnection},
		{"Fields", s.checkFields},
		{"Contacts", s.checkContacts},
		{"SetListStatus", s.checkListStatus},
		{"BulkImport", s.checkBulkImport},
		{"RecurringPayments", s.checkRecurringPayments},
		{"DeleteContact", s.checkDeleteContact},
	} {
		if !t.Run(step.name, func(t *testing.T) { step.fn(ctx, t) }) {
			return
		}
	}
}

func (tg Target) client(t *testing.T, token string) *ac.Client {
	t.Helper()
	c, err := ac.New(ac.Config{APIURL: tg.APIURL, Token: token, RateLimit: tg.RateLimit, BaseBackoff: 200 * time.Millisecond, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// suite carries what the steps make, for the later steps and the cleanup.
type suite struct {
	tg       Target
	c        *ac.Client
	list     *ac.List
	conn     *ac.Connection
	connID   int64
	fields   []ac.Field
	contacts map[string]ac.ID // email → id, every contact to remove
}

func (s *suite) email(n string) string {
	return strings.ToLower(s.tg.Prefix) + "-" + n + "@example.com"
}

// checkToken: the token works; a wrong one is a 403 (AC's answer, not a 401) that
// is not retried and names no token.
func (s *suite) checkToken(ctx context.Context, t *testing.T) {
	if err := s.c.CheckToken(ctx); err != nil {
		t.Fatalf("CheckToken: %v", err)
	}
	bad := "cb2ac-contract-wrong-token-" + strings.Repeat("x", 8)
	wrong := s.tg.client(t, bad)
	err := wrong.CheckToken(ctx)
	var e *ac.Error
	if !errors.As(err, &e) || e.Status != http.StatusForbidden {
		t.Fatalf("wrong token: got %v, want a 403 *ac.Error", err)
	}
	if ac.Rejected(err) {
		t.Error("a 403 is not a rejected record: splitting a batch will not help")
	}
	if st := wrong.Stats(); st.Retries != 0 {
		t.Errorf("a 403 was retried %d times", st.Retries)
	}
	if msg := err.Error(); strings.Contains(msg, bad) || strings.Contains(msg, s.tg.Token) || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("403 message must be one line naming no token: %q", msg)
	}
}

// findList: cb2ac never creates the list, so the suite makes its own over plain
// REST, then finds it by name, id, stringid and name in another case.
func (s *suite) checkFindList(ctx context.Context, t *testing.T) {
	name := s.tg.Prefix + " List"
	var out struct {
		List ac.List `json:"list"`
	}
	status, body := s.raw(ctx, t, http.MethodPost, "/lists", map[string]any{"list": map[string]any{
		"name": name, "stringid": strings.ToLower(s.tg.Prefix) + "-list", "sender_url": "https://example.com",
		"sender_reminder": "You signed up for the cb2ac contract test.",
	}}, &out)
	if status/100 != 2 || out.List.ID == "" {
		t.Fatalf("create list: %d %s", status, body)
	}
	s.list = &out.List
	for _, q := range []string{name, string(out.List.ID), out.List.StringID, strings.ToUpper(name)} {
		got, err := s.c.FindList(ctx, q)
		if err != nil {
			t.Fatalf("FindList(%q): %v", q, err)
		}
		if got == nil || got.ID != out.List.ID {
			t.Errorf("FindList(%q) = %+v, want list %s", q, got, out.List.ID)
		}
	}
	for _, q := range []string{s.tg.Prefix + " No Such List", "987654321"} {
		got, err := s.c.FindList(ctx, q)
		if err != nil || got != nil {
			t.Errorf("FindList(%q) = %+v, %v; want nil, nil", q, got, err)
		}
	}
}

// ensureConnection: created once, found (not duplicated) after.
func (s *suite) checkEnsureConnection(ctx context.Context, t *testing.T) {
	want := ac.Connection{Service: "cb2ac-contract", ExternalID: s.tg.Prefix, Name: s.tg.Prefix,
		LogoURL: "https://example.com/logo.png", LinkURL: "https://example.com/", ListID: string(s.list.ID)}
	first, err := s.c.EnsureConnection(ctx, want)
	if err != nil {
		t.Fatalf("EnsureConnection: %v", err)
	}
	s.conn = first
	if s.connID, err = first.ID.Int(); err != nil {
		t.Fatalf("connection id %q is not an integer (it is the legacyConnectionId)", first.ID)
	}
	again, err := s.c.EnsureConnection(ctx, want)
	if err != nil || again.ID != first.ID {
		t.Fatalf("second EnsureConnection = %+v, %v; want the same connection %s", again, err, first.ID)
	}
}

// fields: create, the 422 on a duplicate title (whatever its case) that load answers
// by re-reading and adopting the field, and the link to the list.
func (s *suite) checkFields(ctx context.Context, t *testing.T) {
	title := s.tg.Prefix + " Plan"
	plan, err := s.c.CreateField(ctx, ac.Field{Title: title, Type: "text", Descript: "cb2ac contract test"})
	if err != nil {
		t.Fatalf("CreateField: %v", err)
	}
	s.fields = append(s.fields, *plan)
	renews, err := s.c.CreateField(ctx, ac.Field{Title: s.tg.Prefix + " Renews", Type: "date"})
	if err != nil {
		t.Fatalf("CreateField date: %v", err)
	}
	s.fields = append(s.fields, *renews)

	_, err = s.c.CreateField(ctx, ac.Field{Title: strings.ToUpper(title), Type: "text"})
	var e *ac.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || !(e.HasCode("duplicate") || e.HasCode("field_invalid")) {
		t.Fatalf("duplicate title: got %v, want a 422 with code duplicate", err)
	}
	if !ac.Rejected(err) {
		t.Error("a 422 must count as rejected")
	}
	all, _, err := s.c.Fields(ctx)
	if err != nil {
		t.Fatalf("Fields: %v", err)
	}
	adopted := 0
	for _, f := range all {
		if strings.EqualFold(f.Title, title) {
			adopted++
			if f.ID != plan.ID {
				t.Errorf("field titled %q has id %s, created as %s", f.Title, f.ID, plan.ID)
			}
		}
	}
	if adopted != 1 {
		t.Fatalf("%d fields titled %q after the duplicate; want the one to adopt", adopted, title)
	}

	for _, f := range s.fields {
		if err := s.c.AttachField(ctx, f.ID, s.list.ID); err != nil {
			t.Fatalf("AttachField %s: %v", f.ID, err)
		}
	}
	_, rels, err := s.c.Fields(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.fields {
		found := false
		for _, r := range rels {
			found = found || (r.Field == f.ID && r.Relid == s.list.ID)
		}
		if !found {
			t.Errorf("field %s is not attached to list %s: %+v", f.ID, s.list.ID, rels)
		}
	}
}

func (s *suite) remember(email string, id ac.ID) {
	if s.contacts == nil {
		s.contacts = map[string]ac.ID{}
	}
	s.contacts[strings.ToLower(email)] = id
}

// contacts: sync creates then updates by email (ignoring case), field values by
// id, find by email, an email change by id that leaves one contact, and a bad email
// rejected with a typed 422.
func (s *suite) checkContacts(ctx context.Context, t *testing.T) {
	email := s.email("one")
	id, err := s.c.SyncContact(ctx, ac.Contact{Email: email, FirstName: "Ada", LastName: "One", Phone: "+1 555 0100",
		FieldValues: []ac.FieldValue{{Field: s.fields[0].ID, Value: "pro"}, {Field: s.fields[1].ID, Value: "2026-12-01"}}})
	if err != nil || id == "" {
		t.Fatalf("SyncContact: %q, %v", id, err)
	}
	s.remember(email, id)
	again, err := s.c.SyncContact(ctx, ac.Contact{Email: strings.ToUpper(email), FirstName: "Ada", LastName: "Two", Phone: "+1 555 0100",
		FieldValues: []ac.FieldValue{{Field: s.fields[0].ID, Value: "basic"}}})
	if err != nil || again != id {
		t.Fatalf("SyncContact again = %q, %v; want the same contact %s", again, err, id)
	}
	found, err := s.c.FindContact(ctx, email)
	if err != nil || found == nil || found.ID != id || found.LastName != "Two" || found.Phone != "+1 555 0100" {
		t.Fatalf("FindContact = %+v, %v", found, err)
	}
	vals := s.fieldValues(ctx, t, id)
	if vals[string(s.fields[0].ID)] != "basic" || vals[string(s.fields[1].ID)] != "2026-12-01" {
		t.Errorf("field values %v", vals)
	}
	if none, err := s.c.FindContact(ctx, s.email("nobody")); err != nil || none != nil {
		t.Errorf("FindContact of an unknown email = %+v, %v", none, err)
	}

	moved := s.email("moved")
	if err := s.c.UpdateContact(ctx, id, ac.Contact{Email: moved, FirstName: "Ada", LastName: "Moved"}); err != nil {
		t.Fatalf("UpdateContact: %v", err)
	}
	s.remember(moved, id)
	if old, err := s.c.FindContact(ctx, email); err != nil || old != nil {
		t.Errorf("old email still finds %+v (%v): the change must not leave a second contact", old, err)
	}
	if got, err := s.c.FindContact(ctx, moved); err != nil || got == nil || got.ID != id {
		t.Errorf("new email finds %+v, %v; want contact %s", got, err, id)
	}

	_, err = s.c.SyncContact(ctx, ac.Contact{Email: "not-an-email"})
	var e *ac.Error
	if !errors.As(err, &e) || e.Status/100 != 4 || !ac.Rejected(err) {
		t.Errorf("bad email: got %v, want a rejected 4xx", err)
	}
	err = s.c.UpdateContact(ctx, "987654321", ac.Contact{Email: s.email("ghost")})
	if !ac.IsNotFound(err) {
		t.Errorf("UpdateContact of an unknown id: got %v, want a 404", err)
	}
}

// listStatus: subscribe (1) and unsubscribe (2), read back; 0 before the contact
// is on the list.
func (s *suite) checkListStatus(ctx context.Context, t *testing.T) {
	id := s.contacts[s.email("moved")]
	if st, err := s.c.ListStatus(ctx, id, s.list.ID); err != nil || st != ac.NotOnList {
		t.Fatalf("ListStatus before any subscription = %d, %v; want 0", st, err)
	}
	for _, st := range []int{ac.Subscribed, ac.Unsubscribed, ac.Subscribed} {
		if err := s.c.SetListStatus(ctx, id, s.list.ID, st); err != nil {
			t.Fatalf("SetListStatus %d: %v", st, err)
		}
		if got := s.listStatusOf(ctx, t, id); got != st {
			t.Fatalf("status %d after setting %d", got, st)
		}
		if got, err := s.c.ListStatus(ctx, id, s.list.ID); err != nil || got != st {
			t.Fatalf("ListStatus = %d, %v after setting %d", got, err, st)
		}
	}
	err := s.c.SetListStatus(ctx, id, "987654321", ac.Subscribed)
	if err == nil || !ac.Rejected(err) {
		t.Errorf("unknown list: got %v, want a rejected 4xx", err)
	}
}

// bulkImport: queued, polled to completion; created ids reported, updates not;
// failures reported by email; one invalid email rejects the whole request (400).
func (s *suite) checkBulkImport(ctx context.Context, t *testing.T) {
	moved := s.email("moved")
	contacts := []ac.ImportContact{
		{Email: s.email("bulk1"), FirstName: "Bea", LastName: "Bulk", ExcludeAutomations: true,
			Fields:    []ac.ImportField{{ID: json.Number(s.fields[0].ID), Value: "team"}},
			Subscribe: []ac.ImportList{{ListID: json.Number(s.list.ID)}}},
		{Email: s.email("bulk2"), FirstName: "Cy", ExcludeAutomations: true, Subscribe: []ac.ImportList{{ListID: json.Number(s.list.ID)}}},
		{Email: moved, LastName: "Imported", ExcludeAutomations: true},
	}
	if s.tg.FailEmail != "" {
		contacts = append(contacts, ac.ImportContact{Email: s.tg.FailEmail, ExcludeAutomations: true})
	}
	batch, err := s.c.BulkImport(ctx, contacts)
	if err != nil || batch == "" {
		t.Fatalf("BulkImport: %q, %v", batch, err)
	}
	if s.tg.Flush != nil {
		s.tg.Flush()
	}
	wctx, cancel := context.WithTimeout(ctx, s.tg.AsyncTimeout)
	defer cancel()
	res, err := s.c.WaitImport(wctx, batch, 200*time.Millisecond, 0)
	if err != nil {
		t.Fatalf("WaitImport: %v", err)
	}
	for _, e := range []string{s.email("bulk1"), s.email("bulk2")} {
		c, err := s.c.FindContact(ctx, e)
		if err != nil || c == nil {
			t.Fatalf("imported %s not found: %v", e, err)
		}
		s.remember(e, c.ID)
		if !contains(res.Created, string(c.ID)) {
			t.Errorf("created ids %v lack %s (%s)", res.Created, c.ID, e)
		}
	}
	if contains(res.Created, string(s.contacts[moved])) {
		t.Errorf("created ids %v list the updated contact %s", res.Created, s.contacts[moved])
	}
	if s.tg.FailEmail != "" && (len(res.Failed) != 1 || !strings.EqualFold(res.Failed[0], s.tg.FailEmail)) {
		t.Errorf("failed = %v, want [%s]", res.Failed, s.tg.FailEmail)
	} else if s.tg.FailEmail == "" && len(res.Failed) != 0 {
		t.Errorf("failed = %v, want none", res.Failed)
	}
	got := s.fieldValues(ctx, t, s.contacts[s.email("bulk1")])
	if got[string(s.fields[0].ID)] != "team" {
		t.Errorf("imported field values %v", got)
	}
	if st := s.listStatusOf(ctx, t, s.contacts[s.email("bulk1")]); st != ac.Subscribed {
		t.Errorf("imported contact's list status %d, want subscribed", st)
	}

	_, err = s.c.BulkImport(ctx, []ac.ImportContact{{Email: s.email("bulk3")}, {Email: "not an email"}})
	var e *ac.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || len(e.FailureReasons) == 0 || !ac.Rejected(err) {
		t.Errorf("invalid email in an import: got %v, want a rejected 400 with failureReasons", err)
	} else if _, ok := e.ImportFailures()[1]; !ok {
		// AC's reference: failureReasons[].contact is the index of the bad contact.
		t.Errorf("invalid email in an import: failureReasons %s do not name contact 1", e.FailureReasons)
	}
	if c, _ := s.c.FindContact(ctx, s.email("bulk3")); c != nil {
		s.remember(s.email("bulk3"), c.ID)
		t.Error("a rejected import created a contact")
	}
}

// recurringPayments: an upsert is found by search with the fields sent; the same
// composite key again updates that record; an explicit null clears a field; a bad
// enum rejects the batch with a GraphQL error.
func (s *suite) checkRecurringPayments(ctx context.Context, t *testing.T) {
	storeID := s.tg.Prefix + "-sub1"
	email := s.email("rp")
	rp := schemas.RecurringPayment{
		StoreRecurringPaymentID: storeID, Email: email, NormalizedStatus: "ACTIVE", StoreStatus: "active",
		StoreCustomerID: s.tg.Prefix + "-cus1", BillingInterval: "MONTHLY", BillingIntervalCount: 1,
		PaymentAmount: "20.00", TaxAmount: ptr("1.50"), LastPaymentStatus: ptr("COMPLETED"),
		LastPaymentDate: ptr("2026-11-08T10:17:24Z"), StartDate: ptr("2024-01-08T10:12:00Z"),
		NextPaymentDate: ptr("2026-12-08T10:12:00Z"), Currency: "USD", TotalCycles: 12,
		CustomerData:  schemas.CustomerData{FirstName: "Rae", LastName: "Payer"},
		LineItemNames: schemas.StringList{"Pro"},
	}
	if _, err := s.c.UpsertRecurringPayments(ctx, s.connID, []schemas.RecurringPayment{rp}); err != nil {
		t.Fatalf("UpsertRecurringPayments: %v", err)
	}
	got := s.awaitRP(ctx, t, storeID, func(m ac.RecurringPayment) bool { return m != nil })
	for field, want := range map[string]string{"email": email, "normalizedStatus": "ACTIVE", "billingInterval": "MONTHLY",
		"paymentAmount": "20", "taxAmount": "1.5", "nextPaymentDate": "2026-12-08T10:12:00Z", "totalCycles": "12",
		"legacyConnectionId": fmt.Sprint(s.connID), "currency": "USD"} {
		if !same(got[field], want) {
			t.Errorf("%s = %v, want %s", field, got[field], want)
		}
	}

	in := ac.RecurringPaymentInput(s.connID, &rp)
	in["normalizedStatus"], in["storeStatus"], in["nextPaymentDate"] = "CANCELLED", "cancelled", nil
	if _, err := s.c.UpsertRecurringPaymentInputs(ctx, []map[string]any{in}); err != nil {
		t.Fatalf("second upsert: %v", err)
	}
	s.awaitRP(ctx, t, storeID, func(m ac.RecurringPayment) bool {
		return m["normalizedStatus"] == "CANCELLED" && m["nextPaymentDate"] == nil
	})
	all, err := s.c.SearchRecurringPayments(ctx, 0, storeID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range all {
		if same(m["legacyConnectionId"], fmt.Sprint(s.connID)) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d records for one composite key, want 1: %v", n, all)
	}

	bad := rp
	bad.StoreRecurringPaymentID, bad.NormalizedStatus = s.tg.Prefix+"-sub2", "SUSPENDED"
	_, err = s.c.UpsertRecurringPayments(ctx, s.connID, []schemas.RecurringPayment{bad})
	var e *ac.Error
	if !errors.As(err, &e) || !ac.Rejected(err) || len(e.Errors) == 0 {
		t.Errorf("bad enum: got %v, want a rejected GraphQL error", err)
	}

	// A value AC's own checks refuse (a date not in its format) in a batch of two:
	// AC answers "Validation errors" naming the record in extensions (the shape AC's
	// WooCommerce plugin reads).
	good, worse := rp, rp
	good.StoreRecurringPaymentID, worse.StoreRecurringPaymentID = s.tg.Prefix+"-sub3", s.tg.Prefix+"-sub4"
	worse.StartDate = ptr("2024-02-14")
	_, err = s.c.UpsertRecurringPayments(ctx, s.connID, []schemas.RecurringPayment{good, worse})
	if !errors.As(err, &e) || !ac.Rejected(err) {
		t.Errorf("bad date: got %v, want a rejected batch", err)
	} else if named := e.RecordErrors(); named[worse.StoreRecurringPaymentID] == "" || named[good.StoreRecurringPaymentID] != "" {
		t.Errorf("bad date: \"Validation errors\" should name %s only, got %v (%v)", worse.StoreRecurringPaymentID, named, err)
	}

	// What AC accepts beyond the reference's example: dates as AC's plugin sends
	// them (+00:00) and with milliseconds, suppressAutomations (the plugin's
	// historical sync), and the reference's other fields.
	more := ac.RecurringPaymentInput(s.connID, &rp)
	more["startDate"], more["renewalDate"] = "2024-01-08T10:12:00+00:00", "2026-12-08T10:12:00.000Z"
	more["suppressAutomations"], more["shippingAmount"], more["storeExternalId"] = true, "1.00", "ext-1"
	more["lineItemBrands"], more["lineItemTags"], more["notes"] = []string{"Acme"}, []string{"gold"}, []string{"a note"}
	more["customerData"] = map[string]any{"firstName": "Rae", "smsMarketingState": "NOT_SUBSCRIBED", "smsOptInLevel": "UNKNOWN"}
	if _, err := s.c.UpsertRecurringPaymentInputs(ctx, []map[string]any{more}); err != nil {
		t.Errorf("reference fields, +00:00 and millisecond dates, suppressAutomations: %v", err)
	} else {
		s.awaitRP(ctx, t, storeID, func(m ac.RecurringPayment) bool { return same(m["storeExternalId"], "ext-1") })
	}
	// Fields the issue lists as accepted that AC's reference page does not show
	// (UNVERIFIED until this passes on a live account): name, address3, the
	// address's email.
	issue := ac.RecurringPaymentInput(s.connID, &rp)
	issue["name"] = "Pro plan"
	issue["billingAddress"] = map[string]any{"address1": "1 Main St", "address3": "Floor 3", "email": email}
	if _, err := s.c.UpsertRecurringPaymentInputs(ctx, []map[string]any{issue}); err != nil {
		t.Errorf("name, address3, address email: %v", err)
	}
	// The sandbox applies that upsert later; applied after the cleanup deleted
	// the contact, it would make it again.
	if s.tg.Flush != nil {
		s.tg.Flush()
	}
	if c, _ := s.c.FindContact(ctx, email); c != nil {
		s.remember(email, c.ID) // AC makes a contact for the recurring payment's email
	}
}

// deleteContact: gone after, and deleting again is no error.
func (s *suite) checkDeleteContact(ctx context.Context, t *testing.T) {
	email := s.email("bulk2")
	id := s.contacts[email]
	if err := s.c.DeleteContact(ctx, id); err != nil {
		t.Fatalf("DeleteContact: %v", err)
	}
	delete(s.contacts, email)
	if c, err := s.c.FindContact(ctx, email); err != nil || c != nil {
		t.Errorf("deleted contact still found: %+v, %v", c, err)
	}
	if err := s.c.DeleteContact(ctx, id); err != nil {
		t.Errorf("second DeleteContact: %v", err)
	}
}

func (s *suite) awaitRP(ctx context.Context, t *testing.T, storeID string, ok func(ac.RecurringPayment) bool) ac.RecurringPayment {
	t.Helper()
	deadline := time.Now().Add(s.tg.AsyncTimeout)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		if s.tg.Flush != nil {
			s.tg.Flush()
		}
		found, err := s.c.SearchRecurringPayments(ctx, s.connID, storeID)
		if err != nil {
			t.Fatalf("SearchRecurringPayments: %v", err)
		}
		var mine ac.RecurringPayment
		for _, m := range found {
			if same(m["legacyConnectionId"], fmt.Sprint(s.connID)) {
				mine = m
			}
		}
		if ok(mine) {
			return mine
		}
		if time.Now().After(deadline) {
			t.Fatalf("recurring payment %s not as expected after %v: %v", storeID, s.tg.AsyncTimeout, mine)
		}
		time.Sleep(wait)
	}
}

func (s *suite) fieldValues(ctx context.Context, t *testing.T, id ac.ID) map[string]string {
	t.Helper()
	var out struct {
		FieldValues []struct {
			Field ac.ID  `json:"field"`
			Value string `json:"value"`
		} `json:"fieldValues"`
	}
	if status, body := s.raw(ctx, t, http.MethodGet, "/contacts/"+string(id)+"/fieldValues", nil, &out); status != http.StatusOK {
		t.Fatalf("fieldValues of %s: %d %s", id, status, body)
	}
	m := map[string]string{}
	for _, fv := range out.FieldValues {
		m[string(fv.Field)] = fv.Value
	}
	return m
}

func (s *suite) listStatusOf(ctx context.Context, t *testing.T, id ac.ID) int {
	t.Helper()
	var out struct {
		ContactLists []struct {
			List   ac.ID `json:"list"`
			Status ac.ID `json:"status"`
		} `json:"contactLists"`
	}
	if status, body := s.raw(ctx, t, http.MethodGet, "/contacts/"+string(id)+"/contactLists", nil, &out); status != http.StatusOK {
		t.Fatalf("contactLists of %s: %d %s", id, status, body)
	}
	for _, cl := range out.ContactLists {
		if cl.List == s.list.ID {
			n, _ := cl.Status.Int()
			return int(n)
		}
	}
	return 0
}

// raw is a plain REST call for what the client has no method for: the suite's own
// list, read-backs and the cleanup.
func (s *suite) raw(ctx context.Context, t *testing.T, method, path string, in, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	base := strings.TrimSuffix(strings.TrimRight(s.tg.APIURL, "/"), "/api/3")
	req, err := http.NewRequestWithContext(ctx, method, base+"/api/3"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Api-Token", s.tg.Token)
	req.Header.Set("Content-Type", "application/json")
	for attempt := 0; ; attempt++ {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 5 {
			time.Sleep(time.Second) // the suite's own calls share the account's limit
			if in != nil {
				bb, _ := json.Marshal(in)
				req.Body = io.NopCloser(bytes.NewReader(bb))
			}
			continue
		}
		if out != nil && resp.StatusCode/100 == 2 {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode, b
	}
}

// cleanup removes what the suite made, whatever step it stopped at.
func (s *suite) cleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for email, id := range s.contacts {
		if err := s.c.DeleteContact(ctx, id); err != nil {
			t.Errorf("cleanup: contact %s: %v", email, err)
		}
	}
	if s.conn != nil {
		s.del(ctx, t, "/connections/"+url.PathEscape(string(s.conn.ID)))
	}
	for _, f := range s.fields {
		s.del(ctx, t, "/fields/"+url.PathEscape(string(f.ID)))
	}
	if s.list != nil {
		s.del(ctx, t, "/lists/"+url.PathEscape(string(s.list.ID)))
	}
}

func (s *suite) del(ctx context.Context, t *testing.T, path string) {
	if status, body := s.raw(ctx, t, http.MethodDelete, path, nil, nil); status/100 != 2 && status != http.StatusNotFound {
		t.Errorf("cleanup: DELETE %s: %d %s", path, status, body)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// same compares a value AC returned with the text sent: numbers may come back as
// numbers or strings, decimals with another scale.
func same(got any, want string) bool {
	g := fmt.Sprint(got)
	if g == want {
		return true
	}
	a, errA := strconv.ParseFloat(g, 64)
	b, errB := strconv.ParseFloat(want, 64)
	return errA == nil && errB == nil && a == b
}

func ptr[T any](v T) *T { return &v }
