package cli

// End-to-end tests of which AC contact a change may touch (issue 18, identity):
// email hand-overs, a customer deleted and its address signed up again, swapped
// emails, two Chargebee sites in one account. Each runs the real binary against
// the sandboxes and checks what AC holds.

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/schemas"
)

// day2At is when the day-2 edits happen in Chargebee (after the day-1 fixtures).
const day2At = 1795184600

// idTestEmails: cus_0003's and cus_0004's addresses in fixtures/chargebee.
const (
	elenisEmail = "eleni.papadopoulou@example.com"
	laurasEmail = "laura.martinez@example.org"
)

// cbSignUp adds a new customer with one active subscription to the Chargebee
// sandbox: copies of cus_0003 and sub_0003 under new ids, email and first name.
func cbSignUp(t *testing.T, cb *cbsandbox.Server, customer, sub, email, firstName string) {
	t.Helper()
	ce := fixtureEntry(t, "customers", "cus_0003")
	c := ce["customer"]
	c["id"], c["email"], c["first_name"] = customer, email, firstName
	c["created_at"], c["updated_at"], c["resource_version"] = day2At, day2At, int64(day2At)*1000
	if card := ce["card"]; card != nil {
		card["customer_id"] = customer
	}
	se := fixtureEntry(t, "subscriptions", "sub_0003")
	s := se["subscription"]
	s["id"], s["customer_id"] = sub, customer
	s["created_at"], s["updated_at"], s["resource_version"] = day2At, day2At, int64(day2At)*1000
	if sc := se["customer"]; sc != nil {
		sc["id"], sc["email"], sc["first_name"] = customer, email, firstName
	}
	if card := se["card"]; card != nil {
		card["customer_id"] = customer
	}
	for entity, e := range map[string]map[string]map[string]any{"customers": ce, "subscriptions": se} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := cb.Update(entity, b); err != nil {
			t.Fatal(err)
		}
	}
}

// acIDs reads the ids AC answers with: the list's, and the Chargebee Customer ID
// field's.
func acIDs(t *testing.T, sn acsandbox.Snapshot) (list, customerField string) {
	t.Helper()
	for _, l := range sn.Lists {
		if l.Name == "Customers" {
			list = l.ID
		}
	}
	for _, f := range sn.Fields {
		if f.Title == "Chargebee Customer ID" {
			customerField = f.ID
		}
	}
	if list == "" || customerField == "" {
		t.Fatalf("no Customers list (%q) or Chargebee Customer ID field (%q) in AC", list, customerField)
	}
	return list, customerField
}

// syncedContactIDs reads the AC contact ids of a run's synced snapshot.
func syncedContactIDs(t *testing.T, data, run string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, c := range readTable(t, schemas.Contacts, filepath.Join(stageDir(data, run, "load"), "synced", "contacts.parquet")) {
		if c.ACContactID != nil {
			out[c.CustomerID] = *c.ACContactID
		}
	}
	return out
}

// quietNight runs one more night and asserts it sends nothing.
func quietNight(t *testing.T, ac *acServer, env []string, data, cfg, run string) {
	t.Helper()
	ac.ResetLog()
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", run), 0)
	if n := ac.WriteRequests(); n != 0 {
		t.Errorf("the night after made %d write requests, want 0", n)
	}
}

// Case 1: cus_0003 changes its email and a new customer signs up with the old
// address the same night. The old holder moves first (by its id), so the new
// customer gets a contact of its own, with its fields and on the list; the moved
// contact keeps cus_0003's data. Before, the new customer was upserted into
// cus_0003's contact, which the email change then renamed back to cus_0003.
func TestLoadSandboxEmailHandOver(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	env := append(ac.env(), cbEnv...)
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
	ac.Flush()
	eleni, ok := ac.Snapshot().ContactByEmail(elenisEmail)
	if !ok {
		t.Fatalf("day 1: no contact for %s", elenisEmail)
	}

	const moved = "eleni.p@example.net"
	cbUpdate(t, cb, "customers", "cus_0003", day2At, func(o map[string]any) { o["email"] = moved })
	cbSignUp(t, cb, "cus_0900", "sub_0900", elenisEmail, "Bruno")
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run), 0)

	ac.Flush()
	sn := ac.Snapshot()
	list, cf := acIDs(t, sn)
	a, ok := sn.ContactByEmail(moved)
	if !ok || a.ID != eleni.ID || a.Fields[cf] != "cus_0003" || a.FirstName != eleni.FirstName {
		t.Errorf("cus_0003 under %s: %+v (found %v); want its day-1 contact %s with its own data", moved, a, ok, eleni.ID)
	}
	b, ok := sn.ContactByEmail(elenisEmail)
	if !ok || b.ID == eleni.ID || b.Fields[cf] != "cus_0900" || b.FirstName != "Bruno" || b.Lists[list] != 1 {
		t.Errorf("cus_0900 under %s: %+v (found %v); want a contact of its own (not %s), its fields, subscribed", elenisEmail, b, ok, eleni.ID)
	}
	if rp := findRP(t, sn, "sub_0900"); !strings.EqualFold(rp.Email, elenisEmail) {
		t.Errorf("sub_0900 under %q, want %s", rp.Email, elenisEmail)
	}
	ids := syncedContactIDs(t, data, day2Run)
	if got := ids["cus_0003"]; a.ID == "" || got == 0 || a.ID != itoa(got) {
		t.Errorf("synced acContactId of cus_0003 = %d, want %s", got, a.ID)
	}
	if got := ids["cus_0900"]; b.ID == "" || b.ID != itoa(got) {
		t.Errorf("synced acContactId of cus_0900 = %d, want %s", got, b.ID)
	}
	quietNight(t, ac, env, data, cfg, "20261122T020000Z")
}

// Case 2: cus_0003 is deleted in Chargebee and a new customer signs up with its
// address the same night. Under on_customer_deleted: delete, the leaving contact
// goes first and the new customer gets a new one; under unsubscribe, the new
// customer takes the contact over (AC keys contacts by email), and the unsubscribe
// is refused because the contact's Chargebee Customer ID field names the new
// customer: one row saying so, not retried. Before, the delete found the contact
// by email and deleted (or unsubscribed) the new, active customer's contact.
func TestLoadSandboxDeletedThenSignedUpAgain(t *testing.T) {
	for _, rule := range []string{"delete", "unsubscribe"} {
		t.Run(rule, func(t *testing.T) {
			ac := startAC(t, acsandbox.Options{})
			cb, cbEnv := startCB(t)
			env := append(ac.env(), cbEnv...)
			data := t.TempDir()
			cfg := writeConfig(t, acConfig{unthrottled: true, rule: rule})
			mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
			ac.Flush()
			eleni, _ := ac.Snapshot().ContactByEmail(elenisEmail)

			cbUpdate(t, cb, "customers", "cus_0003", day2At, func(o map[string]any) { o["deleted"] = true })
			cbUpdate(t, cb, "subscriptions", "sub_0003", day2At, func(o map[string]any) { o["deleted"] = true })
			cbSignUp(t, cb, "cus_0900", "sub_0900", elenisEmail, "Bruno")
			want := 0
			if rule == "unsubscribe" {
				want = 2 // the row saying the unsubscribe was not applied
			}
			mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run), want)

			ac.Flush()
			sn := ac.Snapshot()
			list, cf := acIDs(t, sn)
			b, ok := sn.ContactByEmail(elenisEmail)
			if !ok || b.Fields[cf] != "cus_0900" || b.FirstName != "Bruno" || b.Lists[list] != 1 {
				t.Fatalf("cus_0900 under %s: %+v (found %v); want its contact, its fields, subscribed", elenisEmail, b, ok)
			}
			rows, err := schemas.ReadCSV[schemas.ValidationError](filepath.Join(stageDir(data, day2Run, "load"), "errors.csv"))
			if err != nil {
				t.Fatal(err)
			}
			switch rule {
			case "delete":
				if b.ID == eleni.ID {
					t.Errorf("cus_0900 is in cus_0003's deleted contact %s", eleni.ID)
				}
				if len(rows) != 0 {
					t.Errorf("load errors: %+v", rows)
				}
			case "unsubscribe":
				if len(rows) != 1 || rows[0].RecordID != "cus_0003" || rows[0].Code != "contact_not_this_customer" ||
					!strings.Contains(rows[0].Message, `says "cus_0900"`) || !strings.Contains(rows[0].Message, "not tried again") {
					t.Errorf("load errors: %+v; want one contact_not_this_customer row for cus_0003", rows)
				}
			}
			// cus_0003's cancelled payment does not write cus_0003's name into it.
			if rp := findRP(t, sn, "sub_0003"); rp.Fields["normalizedStatus"] != "CANCELLED" {
				t.Errorf("sub_0003: %v, want CANCELLED", rp.Fields["normalizedStatus"])
			}
			quietNight(t, ac, env, data, cfg, "20261122T020000Z")
			ac.Flush()
			if b2, _ := ac.Snapshot().ContactByEmail(elenisEmail); b2.Fields[cf] != "cus_0900" || b2.FirstName != "Bruno" || b2.Lists[list] != 1 {
				t.Errorf("cus_0900 after the next night: %+v", b2)
			}
		})
	}
}

// Case 3: cus_0003 and cus_0004 swap emails. One contact steps aside to a
// temporary address, the other takes its address, then the first takes the
// other's: one run, exit 0, each customer still on its own contact. Before, both
// PUTs failed as duplicates every night (exit 2), promising a retry.
func TestLoadSandboxEmailSwap(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	env := append(ac.env(), cbEnv...)
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
	ac.Flush()
	sn := ac.Snapshot()
	eleni, _ := sn.ContactByEmail(elenisEmail)
	laura, _ := sn.ContactByEmail(laurasEmail)

	cbUpdate(t, cb, "customers", "cus_0003", day2At, func(o map[string]any) { o["email"] = laurasEmail })
	cbUpdate(t, cb, "customers", "cus_0004", day2At, func(o map[string]any) { o["email"] = elenisEmail })
	r := cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run)
	mustExit(t, r, 0)

	ac.Flush()
	sn = ac.Snapshot()
	_, cf := acIDs(t, sn)
	if c, ok := sn.ContactByEmail(laurasEmail); !ok || c.ID != eleni.ID || c.Fields[cf] != "cus_0003" {
		t.Errorf("%s: %+v; want cus_0003's contact %s", laurasEmail, c, eleni.ID)
	}
	if c, ok := sn.ContactByEmail(elenisEmail); !ok || c.ID != laura.ID || c.Fields[cf] != "cus_0004" {
		t.Errorf("%s: %+v; want cus_0004's contact %s", elenisEmail, c, laura.ID)
	}
	for _, c := range sn.Contacts {
		if strings.Contains(c.Email, "+cb2ac-swap") {
			t.Errorf("a contact was left at the temporary address %s", c.Email)
		}
	}
	if rp := findRP(t, sn, "sub_0003"); !strings.EqualFold(rp.Email, laurasEmail) {
		t.Errorf("sub_0003 under %q, want %s", rp.Email, laurasEmail)
	}
	quietNight(t, ac, env, data, cfg, "20261122T020000Z")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Case 4: two Chargebee sites, given by CHARGEBEE_API_URL alone, synced into one
// AC account: each gets a connection of its own (externalid: the site), so the
// same subscription id on both sites is two recurring payments, and site B's
// cancellation leaves site A's subscription active. Before, both shared the
// connection "chargebee" and site B overwrote site A's record.
func TestLoadSandboxTwoSitesOneAccount(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	_, envA := startCB(t)
	cbB, envB := startCB(t)
	cfg := writeConfig(t, acConfig{unthrottled: true})
	dataA, dataB := t.TempDir(), t.TempDir()
	mustExit(t, cb2acEnv(t, append(ac.env(), envA...), "--data-dir", dataA, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
	cbUpdate(t, cbB, "subscriptions", "sub_0003", day2At, func(o map[string]any) { o["status"] = "cancelled"; o["cancelled_at"] = day2At })
	mustExit(t, cb2acEnv(t, append(ac.env(), envB...), "--data-dir", dataB, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)

	ac.Flush()
	sn := ac.Snapshot()
	if len(sn.Connections) != 2 || sn.Connections[0].ExternalID == sn.Connections[1].ExternalID {
		t.Fatalf("connections: %+v; want two, one per site", sn.Connections)
	}
	status := map[string]any{}
	for _, cn := range sn.Connections {
		id, _ := strconv.ParseInt(cn.ID, 10, 64)
		rp, ok := sn.RecurringPayment(id, "sub_0003")
		if !ok {
			t.Fatalf("sub_0003 is not in connection %s (%s)", cn.ID, cn.ExternalID)
		}
		status[cn.ExternalID] = rp.Fields["normalizedStatus"]
	}
	if a, b := status[strings.TrimPrefix(envA[0], "CHARGEBEE_API_URL=")], status[strings.TrimPrefix(envB[0], "CHARGEBEE_API_URL=")]; a != "ACTIVE" || b != "CANCELLED" {
		t.Errorf("sub_0003 by connection: %v; want ACTIVE on site A, CANCELLED on site B", status)
	}
}
