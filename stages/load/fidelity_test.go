package load

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Tests of issue 13: AC's answers as AC sends them (sources named in each test).

func sandboxWith(t *testing.T, opts acsandbox.Options, cc ac.Config) (*acsandbox.Server, *ac.Client, string) {
	t.Helper()
	srv, err := acsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cc.APIURL, cc.Token, cc.RateLimit = url, acsandbox.DefaultToken, 1000
	if cc.BaseBackoff == 0 {
		cc.BaseBackoff = time.Millisecond
	}
	c, err := ac.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, url
}

func rewriteRPs(t *testing.T, dir string, fn func(rps []schemas.RecurringPayment)) {
	t.Helper()
	path := filepath.Join(dir, RecurringPaymentsFile+".parquet")
	rps, err := schemas.RecurringPayments.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fn(rps)
	if err := schemas.RecurringPayments.WriteFiles(dir, RecurringPaymentsFile, rps, false, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
}

// errorRows reads load/errors.csv: record id → code and message.
func errorRows(t *testing.T, out string) map[string][2]string {
	t.Helper()
	f, err := os.Open(filepath.Join(out, ErrorsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	m := map[string][2]string{}
	for _, r := range rows[1:] {
		m[r[col["record_id"]]] = [2]string{r[col["code"]], r[col["message"]]}
	}
	return m
}

func countOps(srv *acsandbox.Server, op string) (n int) {
	for _, r := range srv.Requests() {
		if r.Op == op {
			n++
		}
	}
	return n
}

func syncedKeys(t *testing.T, out string) map[string]bool {
	t.Helper()
	rps, err := schemas.RecurringPayments.ReadFile(filepath.Join(out, SyncedDir, RecurringPaymentsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, rp := range rps {
		m[rp.StoreRecurringPaymentID] = true
	}
	return m
}

var fast = Config{BulkImportMin: 1, ImportPoll: 5 * time.Millisecond, ConfirmTimeout: 2 * time.Second}

func cfgFor(url string, edit func(*Config)) Config {
	c := fast
	c.APIURL = url
	if edit != nil {
		edit(&c)
	}
	return c
}

// AC refuses a batch with "Validation errors" and names the records in extensions
// (keys containing storeRecurringPaymentId-<id>, as AC's WooCommerce plugin reads
// them): the named record is an error row with AC's message and the others go again
// in one request, instead of halving the batch down to the bad record.
func TestRPValidationErrorsNamedNotHalved(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	in := transformDir(t, 8)
	rewriteRPs(t, in, func(rps []schemas.RecurringPayment) {
		rps[5].StartDate = ptr("2024-02-14") // not AC's date format
	})
	out := t.TempDir()
	res, err := Run(context.Background(), Options{In: in, RunID: "r1", Client: c}, cfgFor(url, nil), out)
	if err != nil {
		t.Fatal(err)
	}
	if n := countOps(srv, "bulkUpsertRecurringPayments"); n != 2 {
		t.Errorf("%d bulkUpsertRecurringPayments requests, want 2 (the batch, then the batch without the named record)", n)
	}
	rows := errorRows(t, out)
	if r := rows["sub_6"]; r[0] != CodeRejected || !strings.Contains(r[1], "Validation errors") || !strings.Contains(r[1], "startDate") {
		t.Errorf("sub_6 error row %v", r)
	}
	if res.Counts["rejected"] != 1 {
		t.Errorf("rejected = %d, want 1", res.Counts["rejected"])
	}
	if k := syncedKeys(t, out); len(k) != 7 || k["sub_6"] {
		t.Errorf("synced %v, want every subscription but sub_6", k)
	}
}

// A recurring payment counts as synced only when AC shows it: AC answers the
// mutation with the recordId of an asynchronous batch (BulkAsync) and documents no
// status query for it. Here the sandbox never applies the batch.
func TestRPNotConfirmedIsNotSynced(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: -1}, ac.Config{})
	in := transformDir(t, 2)
	out := t.TempDir()
	cfg := cfgFor(url, func(c *Config) { c.BulkImportMin = 10; c.ConfirmTimeout = 60 * time.Millisecond })
	if _, err := Run(context.Background(), Options{In: in, RunID: "r1", Client: c}, cfg, out); err != nil {
		t.Fatal(err)
	}
	rows := errorRows(t, out)
	for _, k := range []string{"sub_1", "sub_2"} {
		if rows[k][0] != CodeNotConfirmed {
			t.Errorf("%s: %v, want %s", k, rows[k], CodeNotConfirmed)
		}
	}
	if k := syncedKeys(t, out); len(k) != 0 {
		t.Errorf("synced %v before AC showed them", k)
	}
	if countOps(srv, "searchRecurringPayment") == 0 {
		t.Error("no searchRecurringPayment to confirm")
	}

	// Once AC has them, the same load confirms them; "all" searches each record.
	srv.Flush()
	srv.ResetLog()
	out2 := t.TempDir()
	cfg.Confirm = "all"
	if _, err := Run(context.Background(), Options{In: in, RunID: "r2", Client: c}, cfg, out2); err != nil {
		t.Fatal(err)
	}
	srv.Flush()
	if k := syncedKeys(t, out2); !k["sub_1"] || !k["sub_2"] {
		t.Errorf("synced %v", k)
	}
}

// The importer's own rate limit is HTTP 400 "Rate limit exceeded." (AC reference
// sample bulk-import.error-400.json): waited out and sent again, never halved, never
// an error row.
func TestImportRateLimitIsRetriedNotRejected(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{ImportRateWait: 20 * time.Millisecond})
	srv.Inject(acsandbox.Fault{Op: "bulk_import", Status: http.StatusBadRequest, Body: map[string]any{
		"success": 0, "message": "Rate limit exceeded.",
		"failureReasons": []string{"Up to 100 imports may be requested per minute.Please batch contacts into larger requests, or retry this request in a minute."}}}, 1)
	out := t.TempDir()
	res, err := Run(context.Background(), Options{In: transformDir(t, 4), RunID: "r1", Client: c}, cfgFor(url, nil), out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["rejected"] != 0 || len(errorRows(t, out)) != 0 {
		t.Fatalf("rejected %d: %v", res.Counts["rejected"], errorRows(t, out))
	}
	if n := countOps(srv, "bulk_import"); n != 2 {
		t.Errorf("%d bulk_import requests, want 2 (the limited one, then the same again)", n)
	}
	if len(srv.Snapshot().Contacts) != 4 {
		t.Errorf("contacts %d, want 4", len(srv.Snapshot().Contacts))
	}
}

// A refused import names its bad contacts in failureReasons[].contact (an index):
// that contact is an error row, the others are imported in one more request.
func TestImportFailureReasonsNamed(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	in := transformDir(t, 6)
	rewrite(t, in, func(cs []schemas.Contact) { cs[3].Email = "not an email" })
	out := t.TempDir()
	if _, err := Run(context.Background(), Options{In: in, RunID: "r1", Client: c}, cfgFor(url, nil), out); err != nil {
		t.Fatal(err)
	}
	if n := countOps(srv, "bulk_import"); n != 2 {
		t.Errorf("%d bulk_import requests, want 2", n)
	}
	if r := errorRows(t, out)["cus_4"]; r[0] != CodeRejected || !strings.Contains(r[1], "incorrect format") {
		t.Errorf("cus_4 row %v", r)
	}
	if len(srv.Snapshot().Contacts) < 5 {
		t.Errorf("contacts %d, want the 5 good ones", len(srv.Snapshot().Contacts))
	}
}

// An import that does not complete within import_timeout is left to the next run:
// error rows with a clear message, not in the synced snapshot, its recurring
// payments held back with it.
func TestImportTimeoutLeavesBatch(t *testing.T) {
	_, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: -1}, ac.Config{})
	out := t.TempDir()
	cfg := cfgFor(url, func(c *Config) { c.ImportTimeout = 50 * time.Millisecond })
	if _, err := Run(context.Background(), Options{In: transformDir(t, 2), RunID: "r1", Client: c}, cfg, out); err != nil {
		t.Fatal(err)
	}
	rows := errorRows(t, out)
	if r := rows["cus_1"]; r[0] != CodeImportTimeout || !strings.Contains(r[1], "import_timeout") {
		t.Errorf("cus_1 row %v", r)
	}
	if rows["sub_1"][0] != CodeContactFailed {
		t.Errorf("sub_1 row %v, want held back", rows["sub_1"])
	}
	if k := syncedKeys(t, out); len(k) != 0 {
		t.Errorf("synced %v", k)
	}
}

// One empty-value rule on every path: a value cb2ac never had is not sent (AC keeps
// what it holds), a value it sent and Chargebee removed is cleared through
// contact/sync, and company goes on contact/sync too (orgname).
func TestEmptyValueRule(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	ctx := context.Background()
	// AC knows c1 from a form: its first name is not cb2ac's to blank.
	if _, err := c.SyncContact(ctx, ac.Contact{Email: "c1@example.com", FirstName: "Form", LastName: "Filled"}); err != nil {
		t.Fatal(err)
	}
	in := transformDir(t, 2)
	rewrite(t, in, func(cs []schemas.Contact) {
		for i := range cs {
			cs[i].Phone, cs[i].Company = "+1 555", "Acme"
			cs[i].Fields = schemas.FieldValues{{Title: "Plan", Value: "pro"}, {Title: "Cancel Reason", Value: ""}}
		}
		cs[0].FirstName = ""
	})
	fields := []schemas.ContactField{{Title: "Plan", Type: "text"}, {Title: "Cancel Reason", Type: "text"}}
	out1 := t.TempDir()
	res, err := Run(ctx, Options{In: in, RunID: "r1", Client: c, Fields: fields}, cfgFor(url, func(c *Config) { c.BulkImportMin = 10 }), out1)
	if err != nil {
		t.Fatal(err)
	}
	sn := srv.Snapshot()
	c1, _ := sn.ContactByEmail("c1@example.com")
	if c1.FirstName != "Form" || c1.LastName != "Filled" || c1.OrgName != "Acme" || c1.Phone != "+1 555" {
		t.Fatalf("c1 after create: %+v", c1)
	}
	if len(c1.Fields) != 1 {
		t.Fatalf("an empty field was sent on create: %v", c1.Fields)
	}

	// Day 2, through the importer (bulk_import_min 1): c2 loses phone, company and
	// plan; c1 changes its phone only.
	in2 := transformDir(t, 2)
	rewrite(t, in2, func(cs []schemas.Contact) {
		for i := range cs {
			cs[i].Phone, cs[i].Company = "+1 555", "Acme"
			cs[i].Fields = schemas.FieldValues{{Title: "Plan", Value: "pro"}, {Title: "Cancel Reason", Value: ""}}
			cs[i].RowHash += 1000
		}
		cs[0].FirstName, cs[0].Phone = "", "+1 777"
		cs[1].Phone, cs[1].Company, cs[1].Fields[0].Value = "", "", ""
	})
	srv.ResetLog()
	out2 := t.TempDir()
	if _, err := Run(ctx, Options{In: in2, RunID: "r2", Client: c, Fields: fields, Setup: res.Setup, Synced: filepath.Join(out1, SyncedDir)},
		cfgFor(url, nil), out2); err != nil {
		t.Fatal(err)
	}
	sn = srv.Snapshot()
	c1, _ = sn.ContactByEmail("c1@example.com")
	c2, _ := sn.ContactByEmail("c2@example.com")
	if c1.FirstName != "Form" || c1.Phone != "+1 777" {
		t.Errorf("c1 day 2: %+v", c1)
	}
	if c2.Phone != "" || c2.OrgName != "" || c2.Fields[res.Setup.Fields["Plan"]] != "" || c2.FirstName != "Fcus_2" {
		t.Errorf("c2 day 2: values removed in Chargebee still in AC: %+v", c2)
	}
	var syncs []string
	for _, r := range srv.Requests() {
		// c2 has an AC id in the synced snapshot (contact/sync named it): a PUT.
		if r.Op == "contact_sync" || r.Op == "contact_update" {
			syncs = append(syncs, r.Op+" "+strings.Join(r.Keys, ","))
		}
	}
	if len(syncs) != 1 || syncs[0] != "contact_update c2@example.com" {
		t.Errorf("contact writes %v, want the clearing update only, by id", syncs)
	}
}

// POST /connections and POST /fields are not idempotent: after an answer lost on the
// way (the write happened), cb2ac looks again and adopts what AC made.
func TestCreatesLookBeforeRetrying(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	srv.Inject(acsandbox.Fault{Op: "connections_create", Truncate: true}, 1)
	srv.Inject(acsandbox.Fault{Op: "fields_create", Truncate: true}, 1)
	fields := []schemas.ContactField{{Title: "Plan", Type: "text"}}
	if _, err := EnsureSetup(context.Background(), c, nil, Config{APIURL: url, List: "Customers"}, fields); err != nil {
		t.Fatal(err)
	}
	sn := srv.Snapshot()
	if len(sn.Connections) != 1 || len(sn.Fields) != 1 {
		t.Fatalf("%d connections, %d fields: a lost answer made a duplicate", len(sn.Connections), len(sn.Fields))
	}
	if countOps(srv, "connections_create") != 1 || countOps(srv, "fields_create") != 1 {
		t.Fatalf("creates sent again: %d connections, %d fields", countOps(srv, "connections_create"), countOps(srv, "fields_create"))
	}
}

// A field is adopted only when its type fits; a dropdown titled like one of cb2ac's
// fields is a setup error naming it; field_prefix gives cb2ac titles of its own.
func TestFieldAdoptionByType(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	ctx := context.Background()
	if _, err := c.CreateField(ctx, ac.Field{Title: "Plan", Type: "dropdown"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateField(ctx, ac.Field{Title: "Notes", Type: "textarea"}); err != nil {
		t.Fatal(err)
	}
	fields := []schemas.ContactField{{Title: "Plan", Type: "text"}, {Title: "Notes", Type: "text"}}
	_, err := EnsureSetup(ctx, c, nil, Config{APIURL: url, List: "Customers"}, fields[:1])
	if !errors.Is(err, ErrFieldType) || !strings.Contains(err.Error(), `"Plan"`) || !strings.Contains(err.Error(), "dropdown") {
		t.Fatalf("dropdown Plan: %v", err)
	}
	if _, err := EnsureSetup(ctx, c, nil, Config{APIURL: url, List: "Customers"}, fields[1:]); err != nil {
		t.Fatalf("text into a textarea fits: %v", err)
	}
	s, err := EnsureSetup(ctx, c, nil, Config{APIURL: url, List: "Customers", FieldPrefix: "CB "}, fields)
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	for _, f := range srv.Snapshot().Fields {
		titles[f.ID] = f.Title
	}
	if titles[s.Fields["Plan"]] != "CB Plan" || titles[s.Fields["Notes"]] != "CB Notes" {
		t.Fatalf("prefixed fields: %v / %v", s.Fields, titles)
	}
}

// Consent: a contact already on the list keeps its status, 0 (unconfirmed) and 3
// (bounced) included; only one never on the list is subscribed.
func TestSubscribeKeepsEveryStatus(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	ctx := context.Background()
	for email, st := range map[string]int{"c1@example.com": ac.Unconfirmed, "c2@example.com": ac.Bounced} {
		id, err := c.SyncContact(ctx, ac.Contact{Email: email})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetListStatus(ctx, id, "1", st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(ctx, Options{In: transformDir(t, 3), RunID: "r1", Client: c}, cfgFor(url, func(c *Config) { c.BulkImportMin = 10 }), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	sn := srv.Snapshot()
	for email, want := range map[string]int{"c1@example.com": 0, "c2@example.com": 3, "c3@example.com": 1} {
		if got, _ := sn.ContactByEmail(email); got.Lists["1"] != want {
			t.Errorf("%s list status %v, want %d", email, got.Lists, want)
		}
	}
}

// suppress_automations: on for a first sync (suppressAutomations on every recurring
// payment, as AC's WooCommerce plugin sends on its historical sync; exclude_automations
// on imports), off for the nightly changes after it, forced by the config key.
func TestSuppressAutomations(t *testing.T) {
	srv, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	ctx := context.Background()
	in := transformDir(t, 2)
	out1 := t.TempDir()
	res, err := Run(ctx, Options{In: in, RunID: "r1", Client: c}, cfgFor(url, nil), out1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["automations_suppressed"] != 1 {
		t.Errorf("first sync: automations not suppressed")
	}
	for _, rp := range srv.Snapshot().RecurringPayments {
		if !rp.SuppressAutomations {
			t.Errorf("first sync: %s sent without suppressAutomations", rp.StoreRecurringPaymentID)
		}
	}
	in2 := transformDir(t, 2)
	rewriteRPs(t, in2, func(rps []schemas.RecurringPayment) { rps[0].PaymentAmount, rps[0].RowHash = "12.00", 999 })
	res, err = Run(ctx, Options{In: in2, RunID: "r2", Client: c, Setup: res.Setup, Synced: filepath.Join(out1, SyncedDir)}, cfgFor(url, nil), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if rp, _ := srv.Snapshot().RecurringPayment(mustConn(t, res.Setup), "sub_1"); rp.SuppressAutomations || res.Counts["automations_suppressed"] != 0 {
		t.Errorf("nightly change: automations suppressed")
	}
	// A backfill (the same change, from another run's transform) suppresses them.
	res, err = Run(ctx, Options{In: in2, RunID: "r3", Client: c, Setup: res.Setup, Synced: filepath.Join(out1, SyncedDir), Backfill: true}, cfgFor(url, nil), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if rp, _ := srv.Snapshot().RecurringPayment(mustConn(t, res.Setup), "sub_1"); !rp.SuppressAutomations {
		t.Errorf("backfill: automations not suppressed")
	}
}

func mustConn(t *testing.T, s *Setup) int64 {
	t.Helper()
	n, err := ac.ID(s.ConnectionID).Int()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// verify searches by connection and reports a field AC still holds that the synced
// row cleared.
func TestVerifyClearedFieldsAndConnection(t *testing.T) {
	_, c, url := sandboxWith(t, acsandbox.Options{ApplyDelay: time.Millisecond}, ac.Config{})
	ctx := context.Background()
	out := t.TempDir()
	res, err := Run(ctx, Options{In: transformDir(t, 1), RunID: "r1", Client: c}, cfgFor(url, nil), out)
	if err != nil {
		t.Fatal(err)
	}
	conn := mustConn(t, res.Setup)
	// Someone sets a field cb2ac does not send.
	if _, err := c.UpsertRecurringPaymentInputs(ctx, []map[string]any{{"legacyConnectionId": conn, "storeRecurringPaymentId": "sub_1", "storeExternalId": "stale"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	_, diffs, err := Verify(ctx, c, filepath.Join(out, SyncedDir), conn, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Field != "storeExternalId" || diffs[0].AC != "stale" {
		t.Fatalf("diffs %+v, want storeExternalId only", diffs)
	}
	// Another connection's record with the same id is not ours.
	other, err := c.EnsureConnection(ctx, ac.Connection{Service: "other", ExternalID: "x", Name: "x", LogoURL: "https://x", LinkURL: "https://x"})
	if err != nil {
		t.Fatal(err)
	}
	otherID, _ := other.ID.Int()
	_, diffs, err = Verify(ctx, c, filepath.Join(out, SyncedDir), otherID, 0, 1)
	if err != nil || len(diffs) != 1 || diffs[0].Field != "(missing)" {
		t.Fatalf("verify under another connection: %+v, %v", diffs, err)
	}
}
