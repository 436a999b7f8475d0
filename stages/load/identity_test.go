package load

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// One connection per Chargebee site: a connection made before cb2ac named every
// site (externalid "chargebee", the site given by CHARGEBEE_SITE or
// CHARGEBEE_API_URL) is adopted by the first site that loads, renamed to its
// name, cached setup or not; another site then gets a connection of its own; and
// a site never gets two.
func TestConnectionPerSite(t *testing.T) {
	srv, c, url := sandboxClient(t)
	ctx := context.Background()
	fields := []schemas.ContactField{{Title: "Plan", Type: "text"}}
	legacy, err := EnsureSetup(ctx, c, nil, Config{APIURL: url, List: "Customers"}, fields)
	if err != nil {
		t.Fatal(err)
	}
	if sn := srv.Snapshot(); len(sn.Connections) != 1 || sn.Connections[0].ExternalID != "chargebee" {
		t.Fatalf("before: %+v; want one connection, externalid chargebee", sn.Connections)
	}
	legacy.ConnectionExternalID = "" // as state.json cached it before the site was kept

	acme := Config{APIURL: url, List: "Customers", Site: "acme"}
	got, err := EnsureSetup(ctx, c, legacy, acme, fields)
	if err != nil {
		t.Fatal(err)
	}
	if got.ConnectionID != legacy.ConnectionID || got.ConnectionExternalID != "acme" {
		t.Errorf("site acme: connection %s (%q); want the old connection %s adopted as acme", got.ConnectionID, got.ConnectionExternalID, legacy.ConnectionID)
	}
	again, err := EnsureSetup(ctx, c, nil, acme, fields)
	if err != nil {
		t.Fatal(err)
	}
	if again.ConnectionID != got.ConnectionID {
		t.Errorf("site acme again: connection %s, want %s", again.ConnectionID, got.ConnectionID)
	}
	beta, err := EnsureSetup(ctx, c, legacy, Config{APIURL: url, List: "Customers", Site: "beta"}, fields)
	if err != nil {
		t.Fatal(err)
	}
	if beta.ConnectionID == got.ConnectionID || beta.ConnectionExternalID != "beta" {
		t.Errorf("site beta: connection %s (%q); want one of its own", beta.ConnectionID, beta.ConnectionExternalID)
	}
	ext := map[string]int{}
	for _, cn := range srv.Snapshot().Connections {
		ext[cn.ExternalID]++
	}
	if len(ext) != 2 || ext["acme"] != 1 || ext["beta"] != 1 {
		t.Errorf("connections by externalid: %v; want acme and beta, one each", ext)
	}
	// A load that knows no site (a backfill from files) keeps the cached connection.
	kept, err := EnsureSetup(ctx, c, beta, Config{APIURL: url, List: "Customers"}, fields)
	if err != nil {
		t.Fatal(err)
	}
	if kept != beta {
		t.Errorf("no site: setup redone (%+v), want the cached one", kept)
	}
}

// Two customers swap emails, with a synced snapshot that has no contact ids (as
// written before cb2ac kept them): both contacts are adopted by email (journaled),
// one steps aside to a temporary address, and the load stops there (AC fails the
// next PUT past max_attempts). The resumed load addresses the same contacts by the
// journaled ids and finishes the swap: each customer on its own contact, none
// left at the temporary address, both ids in the synced snapshot.
func TestEmailSwapStoppedHalfWayResumes(t *testing.T) {
	var srv *acsandbox.Server
	var puts atomic.Int32
	srv, err := acsandbox.New(acsandbox.Options{ApplyDelay: time.Millisecond, Hook: func(_ context.Context, r acsandbox.Request) {
		if r.Op == "contact_update" && puts.Add(1) == 2 {
			srv.Inject(acsandbox.Fault{Op: "contact_update", Status: http.StatusServiceUnavailable}, 2)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := ac.New(ac.Config{APIURL: url, Token: acsandbox.DefaultToken, RateLimit: 1000, MaxAttempts: 2, BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := Config{APIURL: url, BulkImportMin: 100, ImportPoll: 5 * time.Millisecond}
	fields := schemas.DefaultFields[:1]
	in := transformDir(t, 2)
	out1 := t.TempDir()
	res, err := Run(ctx, Options{In: in, RunID: "n1", Client: c, Fields: fields}, cfg, out1)
	if err != nil {
		t.Fatal(err)
	}
	synced := filepath.Join(out1, SyncedDir)
	rewrite(t, synced, func(cs []schemas.Contact) {
		for i := range cs {
			cs[i].ACContactID = nil
		}
	})
	sn := srv.Snapshot()
	c1, _ := sn.ContactByEmail("c1@example.com")
	c2, _ := sn.ContactByEmail("c2@example.com")

	rewrite(t, in, func(cs []schemas.Contact) {
		cs[0].Email, cs[1].Email = cs[1].Email, cs[0].Email
		cs[0].RowHash, cs[1].RowHash = cs[0].RowHash+1000, cs[1].RowHash+1000
	})
	out2 := t.TempDir()
	opts := Options{In: in, Synced: synced, RunID: "n2", Client: c, Fields: fields, Setup: res.Setup}
	if _, err := Run(ctx, opts, cfg, out2); err == nil {
		t.Fatal("night 2: the load went through although AC failed the second PUT")
	}
	aside := 0
	for _, ct := range srv.Snapshot().Contacts {
		if strings.Contains(ct.Email, "+cb2ac-swap") {
			aside++
		}
	}
	if aside != 1 {
		t.Fatalf("after the stop: %d contacts at a temporary address, want 1", aside)
	}

	opts.Resume = true
	if _, err := Run(ctx, opts, cfg, out2); err != nil {
		t.Fatalf("resume: %v", err)
	}
	sn = srv.Snapshot()
	if len(sn.Contacts) != 2 {
		t.Errorf("%d contacts in AC, want 2", len(sn.Contacts))
	}
	field := res.Setup.Fields[customerIDField]
	if got, _ := sn.ContactByEmail("c2@example.com"); got.ID != c1.ID || got.Fields[field] != "cus_1" {
		t.Errorf("c2@example.com: %+v; want cus_1's contact %s", got, c1.ID)
	}
	if got, _ := sn.ContactByEmail("c1@example.com"); got.ID != c2.ID || got.Fields[field] != "cus_2" {
		t.Errorf("c1@example.com: %+v; want cus_2's contact %s", got, c2.ID)
	}
	rows, err := schemas.Contacts.ReadFile(filepath.Join(out2, SyncedDir, ContactsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cus_1": c1.ID, "cus_2": c2.ID}
	for _, r := range rows {
		if r.ACContactID == nil || strconv.FormatInt(*r.ACContactID, 10) != want[r.CustomerID] {
			t.Errorf("synced %s: acContactId %v, want %s", r.CustomerID, r.ACContactID, want[r.CustomerID])
		}
	}
}

// A customer's email change is refused (a lead holds the new address) while a new
// customer signs up with the address it could not leave: the new customer is not
// written into the old holder's contact by email; it waits (email_held), with its
// recurring payments, and the old holder's contact keeps its data.
func TestCreateWaitsForHolderThatCannotLeave(t *testing.T) {
	srv, c, url := sandboxClient(t)
	ctx := context.Background()
	cfg := Config{APIURL: url, BulkImportMin: 100, ImportPoll: 5 * time.Millisecond}
	fields := schemas.DefaultFields[:1]
	out1 := t.TempDir()
	res, err := Run(ctx, Options{In: transformDir(t, 2), RunID: "n1", Client: c, Fields: fields}, cfg, out1)
	if err != nil {
		t.Fatal(err)
	}
	const lead = "lead@example.org"
	if _, err := c.SyncContact(ctx, ac.Contact{Email: lead, FirstName: "Lead"}); err != nil {
		t.Fatal(err)
	}
	in := transformDir(t, 3)
	rewrite(t, in, func(cs []schemas.Contact) {
		cs[0].Email, cs[0].RowHash = lead, cs[0].RowHash+1000
		cs[2].Email = "c1@example.com"
	})
	out2 := t.TempDir()
	opts := Options{In: in, Synced: filepath.Join(out1, SyncedDir), RunID: "n2", Client: c, Fields: fields, Setup: res.Setup}
	if _, err := Run(ctx, opts, cfg, out2); err != nil {
		t.Fatal(err)
	}
	rows, err := schemas.ReadCSV[schemas.ValidationError](filepath.Join(out2, ErrorsFile))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, r := range rows {
		codes[r.RecordID] = r.Code
	}
	if codes["cus_1"] != CodeEmailTaken || codes["cus_3"] != "email_held" || codes["sub_3"] != CodeContactFailed {
		t.Errorf("error rows by record: %v; want cus_1 email_taken, cus_3 email_held, sub_3 contact_not_synced", codes)
	}
	got, _ := srv.Snapshot().ContactByEmail("c1@example.com")
	if f := got.Fields[res.Setup.Fields[customerIDField]]; f != "cus_1" || got.FirstName != "Fcus_1" {
		t.Errorf("c1@example.com: %+v; want cus_1's contact untouched", got)
	}
}

// A customer whose email change AC refuses as taken starts a new subscription the
// same night: the new recurring payment (a create, read from the transform file as
// it is sent) goes under the email AC holds, and its synced row says so (that
// email, a hash no transform row has), so it is sent again once the change goes
// through, though its row was dropped after sending and read again for the
// snapshot.
func TestNewRecurringPaymentUnderRefusedEmail(t *testing.T) {
	srv, c, url := sandboxClient(t)
	ctx := context.Background()
	cfg := Config{APIURL: url, BulkImportMin: 100, ImportPoll: 5 * time.Millisecond, Confirm: "off"}
	fields := schemas.DefaultFields[:1]
	out1 := t.TempDir()
	res, err := Run(ctx, Options{In: transformDir(t, 2), RunID: "n1", Client: c, Fields: fields}, cfg, out1)
	if err != nil {
		t.Fatal(err)
	}
	const lead = "lead@example.org"
	if _, err := c.SyncContact(ctx, ac.Contact{Email: lead, FirstName: "Lead"}); err != nil {
		t.Fatal(err)
	}
	in := transformDir(t, 2)
	rewrite(t, in, func(cs []schemas.Contact) { cs[0].Email, cs[0].RowHash = lead, cs[0].RowHash+1000 })
	rps, err := schemas.RecurringPayments.ReadFile(filepath.Join(in, RecurringPaymentsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	added := rps[0] // cus_1's
	added.StoreRecurringPaymentID, added.Email, added.RowHash = "sub_9", lead, 999
	if err := schemas.RecurringPayments.WriteFiles(in, RecurringPaymentsFile, append(rps, added), false, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	opts := Options{In: in, Synced: filepath.Join(out1, SyncedDir), RunID: "n2", Client: c, Fields: fields, Setup: res.Setup}
	if _, err := Run(ctx, opts, cfg, out2); err != nil {
		t.Fatal(err)
	}
	srv.Flush()
	sent := ""
	for _, rp := range srv.Snapshot().RecurringPayments {
		if rp.StoreRecurringPaymentID == "sub_9" {
			sent = rp.Email
		}
	}
	if sent != "c1@example.com" {
		t.Errorf("sub_9 sent under %q, want the email AC holds, c1@example.com", sent)
	}
	synced, err := schemas.RecurringPayments.ReadFile(filepath.Join(out2, SyncedDir, RecurringPaymentsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range synced {
		if r.StoreRecurringPaymentID == "sub_9" {
			found = true
			if r.Email != "c1@example.com" || r.RowHash == 999 {
				t.Errorf("synced sub_9: email %q hash %d; want c1@example.com and a hash no transform row has", r.Email, r.RowHash)
			}
		}
	}
	if !found {
		t.Error("sub_9 missing from the synced snapshot")
	}
}
