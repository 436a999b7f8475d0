package acsandbox

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// exampleUpsert is the documented bulkUpsertRecurringPayments example payload,
// verbatim from reference/ac-recurring-payments.txt.
func exampleUpsert(t *testing.T) string {
	t.Helper()
	return string(sample(t, "bulkUpsertRecurringPayments.example.graphql"))
}

// variant applies one textual change to the example and fails when it does not apply,
// so a variant can never silently test the unchanged example.
func variant(t *testing.T, src, old, new string) string {
	t.Helper()
	if strings.Count(src, old) != 1 {
		t.Fatalf("variant: %q occurs %d times in the example", old, strings.Count(src, old))
	}
	return strings.Replace(src, old, new, 1)
}

func TestDocumentedUpsertExampleAccepted(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	c.addConnections(15) // the example names legacyConnectionId 15
	got := c.gql(exampleUpsert(t), nil)
	if got["errors"] != nil {
		t.Fatalf("the documented example was refused: %v", got)
	}
	if str(got, "data", "bulkUpsertRecurringPayments", "recordId") == "" {
		t.Fatalf("no recordId: %v", got)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Op != "bulkUpsertRecurringPayments" || !last.Write || last.Count != 1 || !reflect.DeepEqual(last.Keys, []string{"abc123"}) {
		t.Fatalf("log entry: %+v", last)
	}
	// Async: nothing is stored until the batch is applied.
	if n := len(srv.Snapshot().RecurringPayments); n != 0 {
		t.Fatalf("%d recurring payments before the batch was applied", n)
	}
	srv.Flush()
	sn := srv.Snapshot()
	rp, ok := sn.RecurringPayment(15, "abc123")
	if !ok || len(sn.RecurringPayments) != 1 {
		t.Fatalf("recurring payment (15, abc123) not stored: %+v", sn.RecurringPayments)
	}
	want := map[string]any{
		"legacyConnectionId": int64(15), "storeRecurringPaymentId": "abc123", "email": "[email\u00a0protected]",
		"normalizedStatus": "PENDING", "storeStatus": "Pending", "billingInterval": "MONTHLY", "billingIntervalCount": int64(1),
		"paymentAmount": "20.00", "discountAmount": "0.00", "taxAmount": "0.00", "shippingAmount": "1.00",
		"lastPaymentStatus": "COMPLETED", "lastPaymentDate": "2024-02-14T10:48:23Z", "startDate": "2024-02-14T10:48:23Z",
		"renewalDate": "2025-02-14T10:48:23Z", "nextPaymentDate": "2024-02-14T10:48:23Z", "anchorDate": "2024-02-14T10:48:23Z",
		"paymentMethodExpiration": "2024-02-14T10:48:23Z", "originOrderId": "123", "storeCreatedDate": "2024-02-14T10:48:23Z",
		"storeModifiedDate": "2024-02-14T10:48:23Z", "isTrial": false, "cancelAtPeriodEnd": false, "totalCycles": int64(12),
		"storeExternalId": "abc123",
		"billingAddress": map[string]any{"firstName": "First", "lastName": "Name", "address1": "123 Recurring St",
			"city": "Chicago", "province": "IL", "postal": "60640", "phone": "555-555-5555"},
		"lineItemBrands": []string{"brand1", "brand2"}, "lineItemCategories": []string{"category1", "category2"},
		"lineItemNames": []string{"name1", "name2"}, "lineItemSkus": []string{"SKU1", "SKU2"},
		"lineItemStorePrimaryIds": []string{"123", "456"},
		"customerData": map[string]any{"firstName": "First", "lastName": "Name", "acceptsMarketing": true,
			"smsMarketingState": "NOT_SUBSCRIBED", "smsOptInLevel": "UNKNOWN"},
	}
	if !reflect.DeepEqual(rp.Fields, want) {
		for k := range union(rp.Fields, want) {
			if !reflect.DeepEqual(rp.Fields[k], want[k]) {
				t.Errorf("%s: stored %#v, want %#v", k, rp.Fields[k], want[k])
			}
		}
	}
	// The example's email is what the docs' web page made of an address (with a
	// no-break space): no contact can be made from it.
	if n := len(sn.Contacts); n != 0 {
		t.Fatalf("contacts made from an invalid email: %+v", sn.Contacts)
	}

	// The documented search example, verbatim too, reads it back.
	found := c.gql(string(sample(t, "searchRecurringPayment.example.graphql")), nil)
	if found["errors"] != nil || str(found, "data", "searchRecurringPayment", 0, "storeRecurringPaymentId") != "abc123" ||
		path(found, "data", "searchRecurringPayment", 0, "paymentAmount") != 20.00 ||
		str(found, "data", "searchRecurringPayment", 0, "billingAddress", "city") != "Chicago" {
		t.Fatalf("search: %v", found)
	}
}

func union(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// The contract's enums, date format and key fields are enforced: each variant of the
// documented example is refused as a whole, with an error naming the field, and
// nothing is queued. A value of the right GraphQL type that AC's own checks refuse
// (content) is answered as AC does: "Validation errors" with the record named in
// extensions by "<index>-storeRecurringPaymentId-<id>" (AC's WooCommerce plugin
// reads that key); a type error stays a GraphQL error of the request.
func TestUpsertExampleVariantsRejected(t *testing.T) {
	ex := func(t *testing.T) string { return exampleUpsert(t) }
	content := map[string]bool{"date without time": true, "date with a space": true, "date that does not exist": true,
		"unix seconds as a date": true, "unknown connection": true, "date with another offset": true}
	cases := []struct {
		name, old, new, field string
	}{
		{"bad normalizedStatus enum", "normalizedStatus: PENDING", "normalizedStatus: SUSPENDED", "normalizedStatus"},
		{"enum sent as a string literal", "normalizedStatus: PENDING", `normalizedStatus: "PENDING"`, "normalizedStatus"},
		{"bad billingInterval enum", "billingInterval: MONTHLY", "billingInterval: MONTH", "billingInterval"},
		{"bad lastPaymentStatus enum", "lastPaymentStatus: COMPLETED", "lastPaymentStatus: PAID", "lastPaymentStatus"},
		{"bad nested enum", "smsOptInLevel: UNKNOWN", "smsOptInLevel: MAYBE", "customerData.smsOptInLevel"},
		{"date without time", `lastPaymentDate: "2024-02-14T10:48:23Z"`, `lastPaymentDate: "2024-02-14"`, "lastPaymentDate"},
		{"date with another offset", `startDate: "2024-02-14T10:48:23Z"`, `startDate: "2024-02-14T10:48:23+02:00"`, "startDate"},
		{"date with a space", `renewalDate: "2025-02-14T10:48:23Z"`, `renewalDate: "2025-02-14 10:48:23"`, "renewalDate"},
		{"date that does not exist", `anchorDate: "2024-02-14T10:48:23Z"`, `anchorDate: "2024-02-30T10:48:23Z"`, "anchorDate"},
		{"unix seconds as a date", `storeCreatedDate: "2024-02-14T10:48:23Z"`, `storeCreatedDate: "1707907703"`, "storeCreatedDate"},
		{"missing storeRecurringPaymentId", `storeRecurringPaymentId: "abc123",`, ``, "storeRecurringPaymentId"},
		{"missing legacyConnectionId", `legacyConnectionId: 15,`, ``, "legacyConnectionId"},
		{"empty storeRecurringPaymentId", `storeRecurringPaymentId: "abc123"`, `storeRecurringPaymentId: ""`, "storeRecurringPaymentId"},
		{"legacyConnectionId as a string", `legacyConnectionId: 15`, `legacyConnectionId: "15"`, "legacyConnectionId"},
		{"unknown connection", `legacyConnectionId: 15`, `legacyConnectionId: 16`, "legacyConnectionId"},
		{"amount that is no number", `paymentAmount: 20.00`, `paymentAmount: "twenty"`, "paymentAmount"},
		{"unknown field", `originOrderId: "123",`, `originOrderId: "123", colour: "red",`, "colour"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTest(t, Options{ApplyDelay: -1})
			c.addConnections(15)
			srv.ResetLog()
			got := c.gql(variant(t, ex(t), tc.old, tc.new), nil)
			errs, _ := got["errors"].([]any)
			if len(errs) == 0 {
				t.Fatalf("accepted: %v", got)
			}
			if path(got, "data", "bulkUpsertRecurringPayments") != nil {
				t.Fatalf("data alongside errors: %v", got)
			}
			if content[tc.name] {
				if str(errs[0], "message") != "Validation errors" {
					t.Fatalf("content error not in AC's shape: %v", got)
				}
				if msg := str(errs[0], "extensions", "0-storeRecurringPaymentId-abc123"); !strings.Contains(msg, tc.field) {
					t.Fatalf("extensions do not name record abc123 and field %s: %v", tc.field, got)
				}
			} else {
				if code := str(errs[0], "extensions", "code"); code != "BAD_USER_INPUT" {
					t.Fatalf("code %q: %v", code, got)
				}
				if f := str(errs[0], "extensions", "field"); f != tc.field {
					t.Fatalf("error names field %q, want %q: %v", f, tc.field, got)
				}
				if !strings.Contains(str(errs[0], "message"), tc.field) {
					t.Fatalf("message does not name %s: %v", tc.field, got)
				}
				if path(errs[0], "extensions", "index") != float64(0) {
					t.Fatalf("error does not point at record 0: %v", got)
				}
			}
			srv.Flush()
			sn := srv.Snapshot()
			if len(sn.RecurringPayments) != 0 || len(sn.RecurringPaymentBatches) != 0 {
				t.Fatalf("a refused batch was queued: %+v", sn.RecurringPaymentBatches)
			}
			if r := srv.Requests()[0]; r.Count != 0 || len(r.Keys) != 0 || !r.Write {
				t.Fatalf("log entry of a refused write: %+v", r)
			}
		})
	}
}

const upsertWithVars = `mutation Up($rps: [RecurringPaymentInput!]!) {
  bulkUpsertRecurringPayments(recurringPayments: $rps) { recordId }
}`

func rpVar(conn int, id, email string, extra map[string]any) map[string]any {
	m := map[string]any{"legacyConnectionId": conn, "storeRecurringPaymentId": id, "email": email}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Variables carry enums as strings; they are checked the same way.
func TestUpsertVariablesChecked(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	c.addConnections(1)
	bad := c.gql(upsertWithVars, map[string]any{"rps": []any{
		rpVar(1, "s1", "a@example.com", map[string]any{"normalizedStatus": "ACTIVE"}),
		rpVar(1, "s2", "b@example.com", map[string]any{"normalizedStatus": "active"}),
		rpVar(1, "s3", "c@example.com", map[string]any{"startDate": "2024-02-14T10:48:23.000Z"}),
		map[string]any{"legacyConnectionId": 1, "email": "d@example.com"},
	}})
	errs, _ := bad["errors"].([]any)
	if len(errs) != 2 {
		t.Fatalf("want one error per bad record (2; a date with milliseconds is accepted), got %v", bad)
	}
	for i, want := range []struct {
		index float64
		field string
	}{{1, "normalizedStatus"}, {3, "storeRecurringPaymentId"}} {
		if path(errs[i], "extensions", "index") != want.index || str(errs[i], "extensions", "field") != want.field {
			t.Fatalf("error %d: %v, want index %v field %s", i, errs[i], want.index, want.field)
		}
	}
	// One bad record rejects the whole request: the good one is not queued either.
	srv.Flush()
	if n := len(srv.Snapshot().RecurringPayments); n != 0 {
		t.Fatalf("%d stored from a rejected request", n)
	}
	ok := c.gql(upsertWithVars, map[string]any{"rps": []any{rpVar(1, "s1", "a@example.com", map[string]any{
		"normalizedStatus": "ACTIVE", "paymentAmount": "9.99", "startDate": "2024-02-14T10:48:23Z"})}})
	if ok["errors"] != nil {
		t.Fatalf("refused: %v", ok)
	}
	// A variable of another declared type is a validation error, not data.
	wrong := c.gql(`mutation($rps: [String]) { bulkUpsertRecurringPayments(recurringPayments: $rps) { recordId } }`, map[string]any{"rps": []any{"x"}})
	if str(wrong, "errors", 0, "extensions", "code") != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("wrong variable type: %v", wrong)
	}
}

// Same (legacyConnectionId, storeRecurringPaymentId) twice is one record, updated in
// place; the same store id under another connection is another record.
func TestCompositeKeyUpsert(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	c.addConnections(2)
	send := func(rps ...map[string]any) {
		t.Helper()
		list := make([]any, len(rps))
		for i, r := range rps {
			list[i] = r
		}
		if got := c.gql(upsertWithVars, map[string]any{"rps": list}); got["errors"] != nil {
			t.Fatalf("refused: %v", got)
		}
	}
	send(rpVar(1, "sub_1", "a@example.com", map[string]any{"normalizedStatus": "ACTIVE", "paymentAmount": "10.00",
		"nextPaymentDate": "2026-12-01T00:00:00Z", "lineItemNames": []any{"basic"}}))
	srv.Flush()
	first, _ := srv.Snapshot().RecurringPayment(1, "sub_1")
	send(rpVar(1, "sub_1", "a@example.com", map[string]any{"normalizedStatus": "CANCELLED", "nextPaymentDate": nil}))
	// Twice in one batch: the later entry wins.
	send(rpVar(1, "sub_2", "b@example.com", map[string]any{"paymentAmount": "1.00"}),
		rpVar(1, "sub_2", "b@example.com", map[string]any{"paymentAmount": "2.00"}))
	send(rpVar(2, "sub_1", "c@example.com", nil))
	srv.Flush()
	sn := srv.Snapshot()
	if len(sn.RecurringPayments) != 3 {
		t.Fatalf("want 3 records (1/sub_1, 1/sub_2, 2/sub_1), got %d: %+v", len(sn.RecurringPayments), sn.RecurringPayments)
	}
	rp, _ := sn.RecurringPayment(1, "sub_1")
	if rp.ID != first.ID || !rp.Created.Equal(first.Created) {
		t.Fatalf("the upsert made a new record: %+v then %+v", first, rp)
	}
	// Present fields overwrite, explicit nulls clear, absent fields stay.
	if rp.Fields["normalizedStatus"] != "CANCELLED" || rp.Fields["paymentAmount"] != "10.00" ||
		rp.Fields["nextPaymentDate"] != nil || !reflect.DeepEqual(rp.Fields["lineItemNames"], []string{"basic"}) {
		t.Fatalf("merged fields: %+v", rp.Fields)
	}
	if v, present := rp.Fields["nextPaymentDate"]; !present || v != nil {
		t.Fatalf("nextPaymentDate should be stored as null after an explicit null: %v %v", v, present)
	}
	if rp2, _ := sn.RecurringPayment(1, "sub_2"); rp2.Fields["paymentAmount"] != "2.00" {
		t.Fatalf("sub_2: %+v", rp2.Fields)
	}
	if other, ok := sn.RecurringPayment(2, "sub_1"); !ok || other.Email != "c@example.com" || other.ID == rp.ID {
		t.Fatalf("connection 2's sub_1: %+v", other)
	}
	// Searching by store id finds both connections' records; adding the connection
	// narrows it to one.
	all := c.gql(`{ searchRecurringPayment(filter: {storeRecurringPaymentId: {value: "sub_1", filterOperator: EQ}}) { legacyConnectionId email } }`, nil)
	if n := len(path(all, "data", "searchRecurringPayment").([]any)); n != 2 {
		t.Fatalf("search by store id: %v", all)
	}
	one := c.gql(`query($id: String!) { searchRecurringPayment(filter: {storeRecurringPaymentId: {value: $id, filterOperator: EQ}, legacyConnectionId: {value: 2, filterOperator: EQ}}) { legacyConnectionId email nextPaymentDate } }`,
		map[string]any{"id": "sub_1"})
	if n := len(path(one, "data", "searchRecurringPayment").([]any)); n != 1 || str(one, "data", "searchRecurringPayment", 0, "email") != "c@example.com" {
		t.Fatalf("search by key: %v", one)
	}
	// The emails made contacts (the contract says a contact is created when none
	// exists), one per email however often it was sent.
	if len(sn.Contacts) != 3 {
		t.Fatalf("contacts from recurring payments: %+v", sn.Contacts)
	}
}

func TestUpsertFailEmails(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1, FailEmails: []string{"Bad@Example.com"}})
	c.addConnections(1)
	got := c.gql(upsertWithVars, map[string]any{"rps": []any{
		rpVar(1, "s1", "good@example.com", nil), rpVar(1, "s2", "bad@example.COM", nil),
	}})
	errs, _ := got["errors"].([]any)
	if len(errs) != 1 || str(errs[0], "message") != "Validation errors" || !strings.Contains(str(errs[0], "extensions", "1-storeRecurringPaymentId-s2"), "email") {
		t.Fatalf("fail-emails: %v", got)
	}
	srv.SetFailEmails(nil)
	if got := c.gql(upsertWithVars, map[string]any{"rps": []any{rpVar(1, "s2", "bad@example.com", nil)}}); got["errors"] != nil {
		t.Fatalf("still failing after SetFailEmails(nil): %v", got)
	}
	srv.Flush()
	if sn := srv.Snapshot(); len(sn.RecurringPayments) != 1 || sn.RecurringPayments[0].StoreRecurringPaymentID != "s2" {
		t.Fatalf("stored: %+v", sn.RecurringPayments)
	}
}

func TestGraphQLRequestErrors(t *testing.T) {
	_, c := newTest(t, Options{})
	if r := c.do("POST", "/api/3/ecom/graphql", `{"variables":{}}`); r.status != http.StatusBadRequest {
		t.Fatalf("no query: %d", r.status)
	}
	if got := c.gql(`mutation { bulkUpsertRecurringPayments(recurringPayments: [{}]) { recordId `, nil); str(got, "errors", 0, "extensions", "code") != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("parse error: %v", got)
	}
	if got := c.gql(`mutation { bulkUpsertRecurringPayments(recurringPayments: []) { id } }`, nil); str(got, "errors", 0, "extensions", "code") != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("unknown selection: %v", got)
	}
	if got := c.gql(`{ searchRecurringPayment(filter: {normalizedStatus: {value: "ACTIVE", filterOperator: EQ}}) { id } }`, nil); got["errors"] == nil {
		t.Fatalf("a filter the sandbox cannot apply must be refused, not ignored: %v", got)
	}
}

// What AC accepts and the sandbox used to refuse: dates with +00:00 (AC's
// WooCommerce plugin sends PHP DATE_ATOM) or milliseconds, suppressAutomations
// (the plugin's historical sync), name, address3 and the address's email, the SMS
// consent fields and the list fields of the reference.
func TestUpsertAcceptsWhatACAccepts(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	c.addConnections(1)
	got := c.gql(upsertWithVars, map[string]any{"rps": []any{
		rpVar(1, "s1", "a@example.com", map[string]any{
			"startDate": "2024-02-14T10:48:23+00:00", "renewalDate": "2025-02-14T10:48:23.123Z",
			"suppressAutomations": true, "name": "Pro plan", "shippingAmount": "1.00", "storeExternalId": "ext-1",
			"notes": []string{"a note"}, "lineItemBrands": []string{"Acme"}, "lineItemTags": []string{"gold"},
			"billingAddress": map[string]any{"address1": "1 Main St", "address2": "Unit 2", "address3": "Floor 3", "email": "a@example.com"},
			"customerData":   map[string]any{"firstName": "A", "smsMarketingState": "SUBSCRIBED", "smsOptInLevel": "SINGLE_OPT_IN", "smsConsentUpdatedDate": "2024-02-14T10:48:23Z"},
		}),
	}})
	if got["errors"] != nil {
		t.Fatalf("refused: %v", got)
	}
	srv.Flush()
	sn := srv.Snapshot()
	if len(sn.RecurringPayments) != 1 || !sn.RecurringPayments[0].SuppressAutomations {
		t.Fatalf("stored: %+v", sn.RecurringPayments)
	}
	found := c.gql(`query { searchRecurringPayment(filter: {storeRecurringPaymentId: {value: "s1", filterOperator: EQ}}) { storeRecurringPaymentId shippingAmount lineItemBrands billingAddress { address3 email } } }`, nil)
	if str(found, "data", "searchRecurringPayment", 0, "billingAddress", "address3") != "Floor 3" || str(found, "data", "searchRecurringPayment", 0, "lineItemBrands", 0) != "Acme" {
		t.Fatalf("search: %v", found)
	}
	if bad := c.gql(`query { searchRecurringPayment(filter: {storeRecurringPaymentId: {value: "s1"}}) { suppressAutomations } }`, nil); bad["errors"] == nil {
		t.Fatalf("suppressAutomations is an input flag, not a RecurringPayment field: %v", bad)
	}
}

// The document is validated against the schema (acschema/schema.graphql) by
// gqlparser: errors name the field and its line and column; fragments, aliases and
// @skip/@include are standard GraphQL and work. A bad literal value names its
// record, field and location.
func TestGraphQLValidatedAgainstSchema(t *testing.T) {
	_, c := newTest(t, Options{ApplyDelay: -1})
	c.addConnections(1)
	got := c.gql("query {\n  searchRecurringPayment {\n    storeRecurringPaymentId\n    emial\n  }\n}", nil)
	if str(got, "errors", 0, "extensions", "code") != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(str(got, "errors", 0, "message"), `"emial"`) ||
		path(got, "errors", 0, "locations", 0, "line") != float64(4) || path(got, "errors", 0, "locations", 0, "column") != float64(5) {
		t.Fatalf("misspelt field: %v", got)
	}
	if got := c.gql("query {\n  searchRecurringPayment { id ", nil); path(got, "errors", 0, "locations", 0, "line") != float64(2) {
		t.Fatalf("syntax error without its line: %v", got)
	}
	bad := c.gql("mutation {\n  bulkUpsertRecurringPayments(recurringPayments: [{legacyConnectionId: 1, storeRecurringPaymentId: \"s1\",\n    billingInterval: MONTH}]) { recordId }\n}", nil)
	if str(bad, "errors", 0, "extensions", "field") != "billingInterval" || path(bad, "errors", 0, "locations", 0, "line") != float64(3) ||
		path(bad, "errors", 0, "locations", 0, "column") != float64(22) {
		t.Fatalf("bad enum literal: %v", bad)
	}
	ok := c.gql(`mutation Up { a: bulkUpsertRecurringPayments(recurringPayments: {legacyConnectionId: 1, storeRecurringPaymentId: "s1"}) { ...Rec t: __typename @skip(if: true) } }
fragment Rec on BulkAsync { recordId }`, nil)
	if ok["errors"] != nil || str(ok, "data", "a", "recordId") == "" || path(ok, "data", "a", "t") != nil {
		t.Fatalf("fragment, alias, @skip: %v", ok)
	}
}

// DropRecurringPaymentBatches: AC accepts the batch (a recordId), then it never
// shows; the batch after it is applied as usual.
func TestDropRecurringPaymentBatches(t *testing.T) {
	srv, c := newTest(t, Options{ApplyDelay: -1})
	c.addConnections(1)
	srv.DropRecurringPaymentBatches(1)
	for _, id := range []string{"s1", "s2"} {
		got := c.gql(upsertWithVars, map[string]any{"rps": []any{rpVar(1, id, id+"@example.com", nil)}})
		if got["errors"] != nil || str(got, "data", "bulkUpsertRecurringPayments", "recordId") == "" {
			t.Fatalf("%s: %v", id, got)
		}
	}
	srv.Flush()
	search := func(id string) int {
		got := c.gql(`query($id: String!) { searchRecurringPayment(filter: {storeRecurringPaymentId: {value: $id, filterOperator: EQ}}) { storeRecurringPaymentId } }`,
			map[string]any{"id": id})
		return len(path(got, "data", "searchRecurringPayment").([]any))
	}
	if n := search("s1"); n != 0 {
		t.Errorf("the dropped batch shows %d records", n)
	}
	if n := search("s2"); n != 1 {
		t.Errorf("the batch after the dropped one shows %d records, want 1", n)
	}
}
