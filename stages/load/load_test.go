package load

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

func ptr[T any](v T) *T { return &v }

// transformDir writes a transform folder of n customers, each with one subscription.
func transformDir(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var cs []schemas.Contact
	var rps []schemas.RecurringPayment
	for i := 1; i <= n; i++ {
		id, email := "cus_"+string(rune('0'+i)), "c"+string(rune('0'+i))+"@example.com"
		cs = append(cs, schemas.Contact{CustomerID: id, Email: email, FirstName: "F" + id, ListStatus: "active", RowHash: uint64(i),
			Fields: schemas.FieldValues{{Title: customerIDField, Value: id}}})
		rps = append(rps, schemas.RecurringPayment{StoreRecurringPaymentID: "sub_" + string(rune('0'+i)), Email: email,
			StoreCustomerID: id, NormalizedStatus: "ACTIVE", BillingInterval: "MONTHLY", BillingIntervalCount: 1,
			PaymentAmount: "10.00", Currency: "USD", RowHash: uint64(100 + i)})
	}
	if err := schemas.Contacts.WriteFiles(dir, ContactsFile, cs, false, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
	if err := schemas.RecurringPayments.WriteFiles(dir, RecurringPaymentsFile, rps, false, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sandboxClient(t *testing.T) (*acsandbox.Server, *ac.Client, string) {
	t.Helper()
	srv, err := acsandbox.New(acsandbox.Options{ApplyDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := ac.New(ac.Config{APIURL: url, Token: acsandbox.DefaultToken, RateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, url
}

// A resumed load reports the rejections the killed attempt journaled (without
// sending them again), polls the import AC had queued instead of importing its
// contacts twice, survives a torn last line, and sends only what is left.
func TestResumeFromJournal(t *testing.T) {
	srv, c, url := sandboxClient(t)
	in := transformDir(t, 4)
	out := t.TempDir()
	cfg := Config{APIURL: url, BulkImportMin: 1, ImportPoll: 5 * time.Millisecond}
	ctx := context.Background()

	// The killed attempt: AC queued an import of cus_1 and cus_2, rejected cus_3,
	// and the process died while writing the next line.
	batchID, err := c.BulkImport(ctx, []ac.ImportContact{{Email: "c1@example.com"}, {Email: "c2@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"batch":"0001-sync","entity":"contact","op":"sync","failed":[{"key":"cus_3","code":"ac_rejected","customer_id":"cus_3","email":"c3@example.com","message":"AC said no"}]}`,
		`{"batch":"0002-queued","entity":"contact","op":"queued","import":"` + batchID + `","keys":["cus_1","cus_2"]}`,
		`{"batch":"0003-imp`,
	}
	if err := os.WriteFile(filepath.Join(out, JournalFile), []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.ResetLog()

	res, err := Run(ctx, Options{In: in, RunID: "r1", Resume: true, Client: c}, cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["rejected"] != 2 {
		t.Errorf("rejected = %d, want 2 (cus_3 and its recurring payment)", res.Counts["rejected"])
	}
	var writes []string
	for _, r := range srv.Requests() {
		if r.Write {
			writes = append(writes, r.Op+":"+strings.Join(r.Keys, ","))
		}
	}
	// Setup (connection), cus_4 alone (too few for an import), then the recurring
	// payments of every contact that got through.
	want := []string{"connections_create:", "bulk_import:c4@example.com", "bulkUpsertRecurringPayments:sub_1,sub_2,sub_4"}
	if !reflect.DeepEqual(writes, want) {
		t.Errorf("writes %v, want %v", writes, want)
	}
	rows, err := schemas.ReadCSV[schemas.ValidationError](filepath.Join(out, ErrorsFile))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Entity+" "+r.RecordID+" "+r.Code+" "+r.Email)
	}
	slices.Sort(got)
	if w := []string{"contact cus_3 ac_rejected c3@example.com", "recurring_payment sub_3 contact_not_synced c3@example.com"}; !reflect.DeepEqual(got, w) {
		t.Errorf("errors.csv %v, want %v", got, w)
	}
	synced, err := schemas.Contacts.ReadFile(filepath.Join(out, SyncedDir, ContactsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range synced {
		keys = append(keys, s.CustomerID)
	}
	slices.Sort(keys)
	if !reflect.DeepEqual(keys, []string{"cus_1", "cus_2", "cus_4"}) {
		t.Errorf("synced contacts %v: the rejected cus_3 must stay out so the next run sends it", keys)
	}
	b, _ := os.ReadFile(filepath.Join(out, JournalFile))
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e journalEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("journal line %d does not parse: %q", i+1, line)
		}
	}
}

func TestRPInputClearsAndWithholds(t *testing.T) {
	old := schemas.RecurringPayment{StoreRecurringPaymentID: "sub_1", Email: "a@example.com", NormalizedStatus: "ACTIVE",
		NextPaymentDate: ptr("2026-12-01T00:00:00Z"), LineItemNames: schemas.StringList{"pro"},
		CustomerData: schemas.CustomerData{FirstName: "A"}}
	cur := old
	cur.NormalizedStatus, cur.NextPaymentDate, cur.LineItemNames = "CANCELLED", nil, nil

	in := rpInput(7, rpChange{Key: "sub_1", Op: OpUpdate, Old: &old, New: &cur}, fateLive)
	if v, ok := in["nextPaymentDate"]; !ok || v != nil {
		t.Errorf("a cleared date must go as an explicit null: %v", in)
	}
	if v, ok := in["lineItemNames"]; !ok || v != nil {
		t.Errorf("a list that emptied must go as an explicit null: %v", in)
	}
	if in["normalizedStatus"] != "CANCELLED" || in["legacyConnectionId"] != int64(7) || in["email"] != "a@example.com" {
		t.Errorf("input %v", in)
	}
	if _, ok := rpInput(7, rpChange{Key: "sub_1", Op: OpCreate, New: &cur}, fateLive)["nextPaymentDate"]; ok {
		t.Error("a create has nothing to clear")
	}

	del := rpInput(7, rpChange{Key: "sub_1", Op: OpDelete, Old: &old, New: &old}, fateGone)
	if del["normalizedStatus"] != "CANCELLED" || del["storeStatus"] != "deleted" {
		t.Errorf("delete: %v", del)
	}
	for _, k := range []string{"email", "customerData"} {
		if _, ok := del[k]; ok {
			t.Errorf("a deleted customer's recurring payment must not carry %s (AC would bring the contact back): %v", k, del)
		}
	}
}

// An erased customer's recurring payment clears the email (explicit null) and
// never writes customerData; with on_customer_erased: keep it leaves AC's personal
// fields alone, the addresses transform emptied included.
func TestRPInputOfErasedCustomers(t *testing.T) {
	old := schemas.RecurringPayment{StoreRecurringPaymentID: "sub_1", Email: "a@example.com", NormalizedStatus: "ACTIVE",
		BillingAddress: &schemas.ACAddress{City: "Köln"}, CustomerData: schemas.CustomerData{FirstName: "A"}}
	cur := schemas.RecurringPayment{StoreRecurringPaymentID: "sub_1", NormalizedStatus: "ACTIVE", Deleted: true}
	ch := rpChange{Key: "sub_1", Op: OpDelete, Old: &old, New: &cur}

	in := rpInput(7, ch, fateErased)
	if v, ok := in["email"]; !ok || v != nil {
		t.Errorf("erased: the email must go as an explicit null: %v", in)
	}
	if v, ok := in["billingAddress"]; !ok || v != nil {
		t.Errorf("erased: the address must be cleared: %v", in)
	}
	if _, ok := in["customerData"]; ok {
		t.Errorf("erased: customerData writes into a contact and must stay out: %v", in)
	}
	kept := rpInput(7, ch, fateErasedKept)
	for _, k := range []string{"email", "customerData", "billingAddress", "shippingAddress"} {
		if _, ok := kept[k]; ok {
			t.Errorf("erased, kept: %s must stay out: %v", k, kept)
		}
	}
	if kept["storeStatus"] != "deleted" {
		t.Errorf("erased, kept: %v", kept)
	}
}

// A contact created by contact/sync is subscribed, unless AC had it already and it
// unsubscribed from the list: the same rule the bulk importer keeps.
func TestSyncNeverResubscribes(t *testing.T) {
	srv, c, url := sandboxClient(t)
	ctx := context.Background()
	id, err := c.SyncContact(ctx, ac.Contact{Email: "c1@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetListStatus(ctx, id, "1", ac.Unsubscribed); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := Run(ctx, Options{In: transformDir(t, 2), RunID: "r1", Client: c}, Config{APIURL: url}, out); err != nil {
		t.Fatal(err)
	}
	sn := srv.Snapshot()
	c1, _ := sn.ContactByEmail("c1@example.com")
	c2, _ := sn.ContactByEmail("c2@example.com")
	if c1.Lists["1"] != ac.Unsubscribed || c2.Lists["1"] != ac.Subscribed || c1.FirstName != "Fcus_1" {
		t.Fatalf("c1 %+v (must stay unsubscribed), c2 %+v (must be subscribed)", c1, c2)
	}
}

// Setup creates only the missing fields, matches titles ignoring case, and adopts a
// field someone else created between its read and its create (AC's 422 duplicate).
func TestEnsureSetupAdoptsFields(t *testing.T) {
	var armed atomic.Bool
	armed.Store(true)
	var url string
	srv, err := acsandbox.New(acsandbox.Options{Hook: func(_ context.Context, r acsandbox.Request) {
		if r.Op != "fields_create" || !armed.CompareAndSwap(true, false) {
			return
		}
		// Another integration wins the race for "Plan".
		body := strings.NewReader(`{"field":{"title":"PLAN","type":"text"}}`)
		req, _ := http.NewRequest(http.MethodPost, url+"/api/3/fields", body)
		req.Header.Set("Api-Token", acsandbox.DefaultToken)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if url, err = srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := ac.New(ac.Config{APIURL: url, Token: acsandbox.DefaultToken, RateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CreateField(ctx, ac.Field{Title: "currency", Type: "text"}); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	want := []schemas.ContactField{{Title: "Currency", Type: "text"}, {Title: "Plan", Type: "text"}, {Title: "Renews", Type: "date"}}
	setup, err := EnsureSetup(ctx, c, nil, Config{APIURL: url, List: "Customers"}, want)
	if err != nil {
		t.Fatal(err)
	}
	sn := srv.Snapshot()
	ids := map[string]string{}
	for _, f := range sn.Fields {
		ids[strings.ToLower(f.Title)] = f.ID
	}
	if len(sn.Fields) != 3 || setup.Fields["Currency"] != ids["currency"] || setup.Fields["Plan"] != ids["plan"] || setup.Fields["Renews"] != ids["renews"] {
		t.Fatalf("fields %+v, setup %+v", sn.Fields, setup.Fields)
	}
	if len(sn.FieldRels) != 3 {
		t.Fatalf("every field attached to the list once: %+v", sn.FieldRels)
	}
	var refused int
	for _, r := range srv.Requests() {
		if r.Op == "fields_create" && r.Status == http.StatusUnprocessableEntity {
			refused++
		}
	}
	if refused != 1 {
		t.Fatalf("%d refused creates, want the one lost race", refused)
	}
	// A cached setup that still fits costs the token check only.
	srv.ResetLog()
	again, err := EnsureSetup(ctx, c, setup, Config{APIURL: url, List: "Customers"}, want)
	if err != nil || again != setup || len(srv.Requests()) != 1 {
		t.Fatalf("cached setup: %v, %d requests", err, len(srv.Requests()))
	}
	// A list that does not exist is a clear error, never created.
	if _, err := EnsureSetup(ctx, c, nil, Config{APIURL: url, List: "Nope"}, want); !errors.Is(err, ErrListMissing) || !strings.Contains(err.Error(), "create it in AC") {
		t.Fatalf("missing list: %v", err)
	}
}

// A custom field cached in state.json and deleted in AC since (issue 18 item 7): the
// next load that sends something finds it gone, sets up again (the field is created
// anew and attached) and writes the contacts' values into the new field, instead of
// having every contact that carries it refused, night after night.
func TestCachedFieldDeletedInAC(t *testing.T) {
	srv, c, url := sandboxClient(t)
	ctx := context.Background()
	cfg := Config{APIURL: url, BulkImportMin: 1, ImportPoll: 5 * time.Millisecond, Confirm: "off"}
	in1, out1 := transformDir(t, 2), t.TempDir()
	res1, err := Run(ctx, Options{In: in1, RunID: "r1", Client: c, Fields: schemas.DefaultFields}, cfg, out1)
	if err != nil || res1.Counts["rejected"] != 0 {
		t.Fatalf("first load: %v, %v", err, res1.Counts)
	}
	oldPlan := res1.Setup.Fields["Plan"]
	// Someone deletes "Plan" in AC.
	req, _ := http.NewRequest(http.MethodDelete, url+"/api/3/fields/"+oldPlan, nil)
	req.Header.Set("Api-Token", acsandbox.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("delete field: %v %v", err, resp)
	}
	resp.Body.Close()
	if why, err := res1.Setup.Stale(ctx, c); err != nil || !strings.Contains(why, `"Plan"`) {
		t.Fatalf("Stale = %q, %v; want the Plan field named", why, err)
	}

	// The next night a contact changes and carries a Plan value.
	in2 := transformDir(t, 2)
	cs, err := schemas.Contacts.ReadFile(filepath.Join(in2, ContactsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	cs[0].Fields, cs[0].RowHash = schemas.FieldValues{{Title: "Plan", Value: "Pro"}}, 999
	if err := schemas.Contacts.WriteFiles(in2, ContactsFile, cs, false, schemas.Stamp{}); err != nil {
		t.Fatal(err)
	}
	res2, err := Run(ctx, Options{In: in2, RunID: "r2", Client: c, Fields: schemas.DefaultFields, Setup: res1.Setup,
		Synced: filepath.Join(out1, SyncedDir)}, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if res2.Counts["rejected"] != 0 || res2.Counts["setup_redone"] != 1 || res2.Counts["connection_changed"] != 0 {
		t.Errorf("second load counts %v: want no rejection, the setup redone, the same connection", res2.Counts)
	}
	newPlan := res2.Setup.Fields["Plan"]
	if newPlan == "" || newPlan == oldPlan {
		t.Fatalf("Plan field id %q after the load (was %q)", newPlan, oldPlan)
	}
	srv.Flush()
	got, ok := srv.Snapshot().ContactByEmail(cs[0].Email)
	if !ok || got.Fields[newPlan] != "Pro" {
		t.Errorf("contact %s in AC: %+v; want Plan (field %s) = Pro", cs[0].Email, got, newPlan)
	}
}

// The synced snapshot says which AC connection each recurring payment was sent to
// (transform leaves the column empty: only load knows it), and that id is no
// changed field in the next plan.
func TestSyncedSnapshotNamesTheConnection(t *testing.T) {
	srv, c, url := sandboxClient(t)
	in := transformDir(t, 2)
	out := t.TempDir()
	if _, err := Run(context.Background(), Options{In: in, RunID: "r1", Client: c}, Config{APIURL: url, BulkImportMin: 100}, out); err != nil {
		t.Fatal(err)
	}
	conns := srv.Snapshot().Connections
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	rps, err := schemas.RecurringPayments.ReadFile(filepath.Join(out, SyncedDir, RecurringPaymentsFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range rps {
		if rp.LegacyConnectionID == nil || strconv.FormatInt(*rp.LegacyConnectionID, 10) != conns[0].ID {
			t.Errorf("%s: legacyConnectionId %v, want %s", rp.StoreRecurringPaymentID, rp.LegacyConnectionID, conns[0].ID)
		}
	}
	cur := rps[0]
	cur.LegacyConnectionID, cur.PaymentAmount = nil, "11.00"
	if got := changedFields(schemas.Payload(&rps[0]), schemas.Payload(&cur)); !slices.Equal(got, []string{"paymentAmount"}) {
		t.Errorf("changed fields %v, want [paymentAmount]", got)
	}
}
