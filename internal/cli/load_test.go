package cli

// End-to-end tests of the load through the CLI binary, against in-process
// ActiveCampaign (and, for day 2, Chargebee) sandboxes on 127.0.0.1. They check what
// the account holds afterwards, field by field, and what the client sent, request by
// request, from the sandbox's log.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load"
)

const (
	day1Run = "20261120T020000Z"
	day2Run = "20261121T020000Z"
	cbKey   = "cb-test-key"
)

func randomToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "tok-" + hex.EncodeToString(b)
}

// acServer is an in-process AC sandbox with a random token.
type acServer struct {
	*acsandbox.Server
	url, token string
}

func startAC(t *testing.T, opts acsandbox.Options) *acServer {
	t.Helper()
	if opts.Token == "" {
		opts.Token = randomToken()
	}
	if opts.ApplyDelay == 0 {
		opts.ApplyDelay = 5 * time.Millisecond
	}
	srv, err := acsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &acServer{Server: srv, url: url, token: opts.Token}
}

func (a *acServer) env() []string { return []string{"AC_API_URL=" + a.url, "AC_API_TOKEN=" + a.token} }

// startCB serves fixtures/chargebee; Apply(day 2) changes it between runs.
func startCB(t *testing.T) (*cbsandbox.Server, []string) {
	t.Helper()
	srv, err := cbsandbox.New(cbsandbox.Options{APIKey: cbKey, Pages: "fixtures/chargebee"})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, []string{"CHARGEBEE_API_URL=" + url, "CHARGEBEE_API_KEY=" + cbKey}
}

func mustExit(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// acConfig is the activecampaign section of a test config.
type acConfig struct {
	rule          string  // on_customer_deleted
	rate          float64 // requests/s; 0 = the default (5, AC's limit)
	importBatch   int
	importMin     int
	rpBatch       int
	unthrottled   bool // rate 1000: the sandbox has no limit
	extraYAMLKeys string
}

func writeConfig(t *testing.T, c acConfig) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("chargebee:\n  rate_limit_per_minute: -1\nactivecampaign:\n  import_poll: 10ms\n")
	if c.rule != "" {
		fmt.Fprintf(&b, "  on_customer_deleted: %s\n", c.rule)
	}
	if c.unthrottled {
		c.rate = 1000
	}
	if c.rate > 0 {
		fmt.Fprintf(&b, "  rate_limit: %v\n", c.rate)
	}
	for key, v := range map[string]int{"bulk_import_batch": c.importBatch, "bulk_import_min": c.importMin, "recurring_payment_batch": c.rpBatch} {
		if v > 0 {
			fmt.Fprintf(&b, "  %s: %d\n", key, v)
		}
	}
	b.WriteString(c.extraYAMLKeys) // more activecampaign keys, indented
	path := filepath.Join(t.TempDir(), "cb2ac.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func stageDir(data, runID, stage string) string { return filepath.Join(data, "runs", runID, stage) }

func readTable[T any](t *testing.T, tb *schemas.Table[T], path string) []T {
	t.Helper()
	rows, err := tb.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// expectedRP is a transform row as the recurring payment AC should hold: every
// column with a value, under its AC name, in the Go types the sandbox stores.
func expectedRP(connID int64, rp schemas.RecurringPayment) map[string]any {
	b, _ := json.Marshal(rp)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	dec.Decode(&m)
	delete(m, "deleted")
	delete(m, "row_hash")
	m["legacyConnectionId"] = connID
	for k, v := range m {
		switch x := normJSON(v).(type) {
		case nil:
			delete(m, k)
		case string:
			if x == "" {
				delete(m, k)
			} else {
				m[k] = x
			}
		case []string:
			if len(x) == 0 {
				delete(m, k)
			} else {
				m[k] = x
			}
		default:
			m[k] = x
		}
	}
	if rp.Deleted {
		m["normalizedStatus"], m["storeStatus"] = "CANCELLED", "deleted"
	}
	return m
}

func normJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		i, _ := x.Int64()
		return i
	case []any:
		out := make([]string, len(x))
		for i, it := range x {
			out[i], _ = it.(string)
		}
		return out
	case map[string]any:
		for k, it := range x {
			x[k] = normJSON(it)
		}
	}
	return v
}

func withoutNulls(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

// checkHolds asserts the account holds exactly the transform output in dir: every
// contact (email, names, phone, list membership, each custom field) and every
// recurring payment (each field), and nothing else. before is the account before the
// run: a record deleted in Chargebee is expected only if it was there, treated by
// rule (on_customer_deleted).
func checkHolds(t *testing.T, sn acsandbox.Snapshot, dir, rule string, before acsandbox.Snapshot) {
	t.Helper()
	contacts := readTable(t, schemas.Contacts, filepath.Join(dir, "contacts.parquet"))
	rps := readTable(t, schemas.RecurringPayments, filepath.Join(dir, "recurring_payments.parquet"))
	if len(contacts) == 0 || len(rps) == 0 {
		t.Fatal("empty transform output")
	}
	var listID string
	for _, l := range sn.Lists {
		if l.Name == "Customers" {
			listID = l.ID
		}
	}
	fieldID := map[string]string{}
	for _, f := range sn.Fields {
		fieldID[f.Title] = f.ID
	}
	if len(sn.Connections) != 1 || len(sn.Fields) != len(schemas.DefaultFields) || len(sn.FieldRels) != len(schemas.DefaultFields) {
		t.Fatalf("setup: %d connections, %d fields, %d fieldRels; want 1, %d, %d (created once)",
			len(sn.Connections), len(sn.Fields), len(sn.FieldRels), len(schemas.DefaultFields), len(schemas.DefaultFields))
	}
	connID, _ := strconv.ParseInt(sn.Connections[0].ID, 10, 64)
	deletedCustomers := map[string]bool{}

	// An erased row has no email: its contact is the one AC held for the
	// customer id before (on_customer_erased defaults to delete).
	beforeByID := map[string]acsandbox.Contact{}
	for _, c := range before.Contacts {
		for _, f := range before.Fields {
			if f.Title == "Chargebee Customer ID" && c.Fields[f.ID] != "" {
				beforeByID[c.Fields[f.ID]] = c
			}
		}
	}
	erased := map[string]bool{}
	present := 0
	for _, c := range contacts {
		got, ok := sn.ContactByEmail(c.Email)
		if c.Erased {
			deletedCustomers[c.CustomerID], erased[c.CustomerID] = true, true
			if old, synced := beforeByID[c.CustomerID]; synced {
				if _, still := sn.ContactByEmail(old.Email); still {
					t.Errorf("contact %s (%s) was erased in Chargebee, yet AC still has it", c.CustomerID, old.Email)
				}
			}
			continue
		}
		if c.Deleted {
			deletedCustomers[c.CustomerID] = true
			_, synced := before.ContactByEmail(c.Email)
			switch {
			case !synced || rule == "delete":
				if ok {
					t.Errorf("contact %s (%s, deleted in Chargebee, rule %s) is in AC: %+v", c.CustomerID, c.Email, rule, got)
				}
			case !ok:
				t.Errorf("contact %s (%s, deleted in Chargebee, rule %s) is gone from AC", c.CustomerID, c.Email, rule)
			default:
				present++
				want := map[string]int{listID: 1}
				if rule == "unsubscribe" {
					want[listID] = 2
				}
				if !reflect.DeepEqual(got.Lists, want) {
					t.Errorf("contact %s (deleted, rule %s) lists %v, want %v", c.CustomerID, rule, got.Lists, want)
				}
			}
			continue
		}
		if !ok {
			t.Errorf("contact %s (%s) is not in AC", c.CustomerID, c.Email)
			continue
		}
		present++
		if got.FirstName != c.FirstName || got.LastName != c.LastName || got.Phone != c.Phone || got.OrgName != c.Company || !strings.EqualFold(got.Email, c.Email) {
			t.Errorf("contact %s: AC holds %q %q %q %q %q, transform %q %q %q %q %q", c.CustomerID,
				got.Email, got.FirstName, got.LastName, got.Phone, got.OrgName, c.Email, c.FirstName, c.LastName, c.Phone, c.Company)
		}
		if !reflect.DeepEqual(got.Lists, map[string]int{listID: 1}) {
			t.Errorf("contact %s lists %v, want subscribed to %s only", c.CustomerID, got.Lists, listID)
		}
		// The empty-value rule: an empty value is never sent unless it clears one
		// cb2ac sent before, so AC holds exactly transform's non-empty values (a
		// cleared one as "").
		want, have := map[string]string{}, map[string]string{}
		for _, f := range c.Fields {
			if f.Value != "" {
				want[fieldID[f.Title]] = f.Value
			}
		}
		for id, v := range got.Fields {
			if v != "" {
				have[id] = v
			}
		}
		got.Fields = have
		if !reflect.DeepEqual(got.Fields, want) {
			for id := range want {
				if got.Fields[id] != want[id] {
					t.Errorf("contact %s field %s: AC %q, transform %q", c.CustomerID, id, got.Fields[id], want[id])
				}
			}
			if len(got.Fields) != len(want) {
				t.Errorf("contact %s: AC has %d field values, transform %d", c.CustomerID, len(got.Fields), len(want))
			}
		}
	}
	if len(sn.Contacts) != present {
		t.Errorf("AC holds %d contacts, want %d", len(sn.Contacts), present)
	}

	present = 0
	for _, rp := range rps {
		got, ok := sn.RecurringPayment(connID, rp.StoreRecurringPaymentID)
		if rp.Deleted {
			if _, synced := before.RecurringPayment(connID, rp.StoreRecurringPaymentID); !synced {
				if ok {
					t.Errorf("recurring payment %s was never synced and is deleted, yet AC has it", rp.StoreRecurringPaymentID)
				}
				continue
			}
		}
		if !ok {
			t.Errorf("recurring payment %s is not in AC", rp.StoreRecurringPaymentID)
			continue
		}
		present++
		want, have := expectedRP(connID, rp), withoutNulls(got.Fields)
		if erased[rp.StoreCustomerID] {
			// Sent with the email cleared and no customerData (it writes into a
			// contact): AC keeps the customerData it had, on the deleted contact.
			delete(have, "customerData")
			delete(want, "customerData")
		}
		if rp.Deleted && rule == "delete" && deletedCustomers[rp.StoreCustomerID] && !erased[rp.StoreCustomerID] {
			// Sent without them, so AC keeps what it had (and makes no contact).
			for _, k := range []string{"email", "customerData"} {
				delete(want, k)
				delete(have, k)
			}
		}
		if !reflect.DeepEqual(have, want) {
			for _, k := range slices.Sorted(mapsKeys(want, have)) {
				if !reflect.DeepEqual(have[k], want[k]) {
					t.Errorf("recurring payment %s %s: AC %#v, transform %#v", rp.StoreRecurringPaymentID, k, have[k], want[k])
				}
			}
		}
	}
	if len(sn.RecurringPayments) != present {
		t.Errorf("AC holds %d recurring payments, want %d", len(sn.RecurringPayments), present)
	}
}

func mapsKeys(ms ...map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] && !yield(k) {
					return
				}
				seen[k] = true
			}
		}
	}
}

// Data writes name records in the log; setup writes (fields, connections) do not.
var contactOps = map[string]bool{"contact_sync": true, "contact_create": true, "contact_update": true,
	"contact_delete": true, "contactLists": true, "bulk_import": true}

// sent collects the records the client got AC to accept: contact emails and
// recurring payment keys, and how often each (operation, record) was accepted.
type sent struct {
	contacts, rps map[string]bool
	times         map[string]int // op/key → accepted requests
	setupWrites   int
}

func sentRecords(reqs []acsandbox.Request) sent {
	s := sent{contacts: map[string]bool{}, rps: map[string]bool{}, times: map[string]int{}}
	for _, r := range reqs {
		if !r.Write || r.Status < 200 || r.Status > 299 {
			continue
		}
		switch {
		case contactOps[r.Op]:
			for _, k := range r.Keys {
				s.contacts[k] = true
				s.times[r.Op+"/"+k]++
			}
		case r.Op == "bulkUpsertRecurringPayments":
			for _, k := range r.Keys {
				s.rps[k] = true
				s.times[r.Op+"/"+k]++
			}
		default:
			s.setupWrites++
		}
	}
	return s
}

// twice lists every record AC accepted more than once under one operation.
func (s sent) twice() []string {
	var out []string
	for k, n := range s.times {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	sort.Strings(out)
	return out
}

func setOf(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkNoToken greps every file under data and every output line for the token.
func checkNoToken(t *testing.T, token, data string, outputs ...result) {
	t.Helper()
	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(token)) {
			t.Errorf("the AC token is in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range outputs {
		if strings.Contains(r.stdout, token) || strings.Contains(r.stderr, token) {
			t.Errorf("the AC token is in the output of command %d", i)
		}
	}
}

// Run 1 leaves the account holding exactly the transform output; run 2 on the same
// input sends nothing; the token is in no file and no output.
func TestLoadSandboxRunTwice(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	r1 := cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "--log-format", "json", "--log-level", "debug",
		"run", "--in", "fixtures/chargebee", "--run-id", day1Run)
	mustExit(t, r1, 0)
	ac.Flush()
	checkHolds(t, ac.Snapshot(), stageDir(data, day1Run, "transform"), "keep", acsandbox.Snapshot{})

	// Every request the client sent kept the contract: none was refused.
	for _, q := range ac.Requests() {
		if q.Status < 200 || q.Status > 299 {
			t.Errorf("the sandbox refused %s %s (%s): %d", q.Method, q.Path, q.Op, q.Status)
		}
	}
	plan := readTable(t, schemas.Plans, filepath.Join(stageDir(data, day1Run, "load"), "plan.parquet"))
	s1 := sentRecords(ac.Requests())
	creates := map[string]int{}
	for _, e := range plan {
		if e.Op != "create" {
			t.Fatalf("run 1 plans %s for %s/%s; a first sync only creates", e.Op, e.Entity, e.Key)
		}
		creates[e.Entity]++
	}
	if len(s1.contacts) != creates["contact"] || len(s1.rps) != creates["recurring_payment"] {
		t.Errorf("run 1 sent %d contacts and %d recurring payments; the plan creates %d and %d",
			len(s1.contacts), len(s1.rps), creates["contact"], creates["recurring_payment"])
	}
	if tw := s1.twice(); len(tw) > 0 {
		t.Errorf("records sent twice: %v", tw)
	}

	// A first sync keeps automations quiet (suppress_automations unset).
	for _, rp := range ac.Snapshot().RecurringPayments {
		if !rp.SuppressAutomations {
			t.Errorf("first sync sent %s without suppressAutomations", rp.StoreRecurringPaymentID)
			break
		}
	}

	ac.ResetLog()
	r2 := cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day2Run)
	mustExit(t, r2, 0)
	if n := ac.WriteRequests(); n != 0 {
		t.Errorf("run 2 on the same input made %d write requests, want 0: %+v", n, ac.Requests())
	}
	// A clean day costs run's set-up check (token, list, fields) and load's token
	// check only: nothing sent, nothing to confirm.
	var ops []string
	for _, q := range ac.Requests() {
		ops = append(ops, q.Op)
	}
	if want := []string{"GET /users/me", "GET /lists", "GET /fields", "GET /users/me"}; !slices.Equal(ops, want) {
		t.Errorf("run 2 on the same input made %v, want %v (the check, then load's token check)", ops, want)
	}
	if !strings.Contains(r2.stdout, "writes=0") || !regexp.MustCompile(`contacts create=0 update=0 delete=0 unchanged=\d+`).MatchString(r2.stdout) {
		t.Errorf("run 2 summary:\n%s", r2.stdout)
	}
	checkHolds(t, ac.Snapshot(), stageDir(data, day2Run, "transform"), "keep", acsandbox.Snapshot{})

	// verify reads every synced recurring payment back and finds AC in agreement.
	rv := cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "verify", "--sample", "0")
	mustExit(t, rv, 0)
	if !strings.Contains(rv.stdout, "80 recurring payments checked, 0 differences") {
		t.Errorf("verify: %s", rv.stdout)
	}
	checkNoToken(t, ac.token, data, r1, r2, rv)

	// A wrong token: a 403 error naming neither token, exit 1.
	bad, data3 := randomToken(), t.TempDir()
	r3 := cb2acEnv(t, []string{"AC_API_URL=" + ac.url, "AC_API_TOKEN=" + bad}, "--data-dir", data3, "--config", cfg, "--log-format", "json",
		"run", "--in", "fixtures/chargebee")
	mustExit(t, r3, 1)
	if !strings.Contains(r3.stderr, "403") {
		t.Errorf("wrong token: stderr %s", r3.stderr)
	}
	checkNoToken(t, bad, data3, r3)
	checkNoToken(t, ac.token, data3, r3)
}

// Day 2 (fixtures/chargebee-day2, an incremental change set read through the
// Chargebee sandbox) sends exactly the changed records, under each
// on_customer_deleted rule; the email change leaves one contact.
func TestLoadSandboxDay2DeleteRules(t *testing.T) {
	for _, rule := range []string{"keep", "unsubscribe", "delete"} {
		t.Run(rule, func(t *testing.T) {
			t.Parallel()
			ac := startAC(t, acsandbox.Options{})
			cb, cbEnv := startCB(t)
			env := append(ac.env(), cbEnv...)
			data := t.TempDir()
			cfg := writeConfig(t, acConfig{rule: rule, unthrottled: true})

			mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
			ac.Flush()
			before := ac.Snapshot()
			checkHolds(t, before, stageDir(data, day1Run, "transform"), rule, acsandbox.Snapshot{})

			if err := cb.Apply("fixtures/chargebee-day2"); err != nil {
				t.Fatal(err)
			}
			ac.ResetLog()
			r := cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run)
			mustExit(t, r, 0)
			ac.Flush()
			after := ac.Snapshot()
			transform := stageDir(data, day2Run, "transform")
			checkHolds(t, after, transform, rule, before)
			if rv := cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "verify", "--sample", "0"); rv.code != 0 || !strings.Contains(rv.stdout, " 0 differences") {
				t.Errorf("verify after day 2: exit %d\n%s%s", rv.code, rv.stdout, rv.stderr)
			}

			// Exactly the changed records were sent, once each.
			contacts, day1Email := map[string]schemas.Contact{}, map[string]string{}
			for _, c := range readTable(t, schemas.Contacts, filepath.Join(transform, "contacts.parquet")) {
				contacts[c.CustomerID] = c
			}
			for _, c := range readTable(t, schemas.Contacts, filepath.Join(stageDir(data, day1Run, "transform"), "contacts.parquet")) {
				day1Email[c.CustomerID] = c.Email
			}
			wantContacts, wantRPs := map[string]bool{}, map[string]bool{}
			counts := map[string]int{}
			for _, e := range readTable(t, schemas.Plans, filepath.Join(stageDir(data, day2Run, "load"), "plan.parquet")) {
				counts[e.Entity+"_"+e.Op]++
				switch {
				case e.Op == "unchanged":
				case e.Entity == "recurring_payment":
					wantRPs[e.Key] = true
				case e.Op == "delete" && contacts[e.Key].Erased:
					// on_customer_erased (default delete), found by its old email
					wantContacts[day1Email[e.Key]] = true
				case e.Op == "delete" && rule == "keep":
					// nothing to tell AC
				default:
					wantContacts[contacts[e.Key].Email] = true
				}
			}
			// The fixtures' change set (fixtures/README.md): a new customer, four
			// changed ones, an email change, a deleted customer with its subscription,
			// an erased customer with its subscription, a card change only (the
			// customer's two subscriptions' paymentMethodExpiration), a refund by
			// credit note only (one lastPaymentStatus).
			wantCounts := map[string]int{"contact_create": 1, "contact_update": 5, "contact_delete": 2,
				"recurring_payment_create": 1, "recurring_payment_update": 8, "recurring_payment_delete": 2}
			for k, n := range wantCounts {
				if counts[k] != n {
					t.Errorf("plan %s = %d, want %d (all counts %v)", k, counts[k], n, counts)
				}
			}
			if rule == "keep" {
				checkPlanValues(t, data)
			}
			s := sentRecords(ac.Requests())
			if !reflect.DeepEqual(s.contacts, wantContacts) {
				t.Errorf("contacts sent %v, want the changed ones %v", sortedSet(s.contacts), sortedSet(wantContacts))
			}
			if !reflect.DeepEqual(s.rps, wantRPs) {
				t.Errorf("recurring payments sent %v, want the changed ones %v", sortedSet(s.rps), sortedSet(wantRPs))
			}
			if tw := s.twice(); len(tw) > 0 {
				t.Errorf("records sent twice: %v", tw)
			}
			if s.setupWrites != 0 {
				t.Errorf("day 2 made %d setup writes; the setup is cached in state.json", s.setupWrites)
			}
			wantSent := counts["contact_create"] + counts["contact_update"] + 1 // the erasure
			if rule != "keep" {
				wantSent += counts["contact_delete"] - 1
			}
			if len(s.contacts) != wantSent || len(s.rps) != counts["recurring_payment_create"]+counts["recurring_payment_update"]+counts["recurring_payment_delete"] {
				t.Errorf("sent %d contacts, %d recurring payments; the plan says %d, %d", len(s.contacts), len(s.rps), wantSent, len(wantRPs))
			}

			// The email change moved the contact: one contact for cus_0039, under the
			// new email, with the id it had.
			old, _ := before.ContactByEmail("hannah.weber@example.com")
			moved, ok := after.ContactByEmail("h.weber@example.net")
			if _, still := after.ContactByEmail("hannah.weber@example.com"); still || !ok || moved.ID != old.ID {
				t.Errorf("email change: old contact %+v, new %+v (found %v), old email still there %v", old, moved, ok, still)
			}
			idField := ""
			for _, f := range after.Fields {
				if f.Title == "Chargebee Customer ID" {
					idField = f.ID
				}
			}
			n := 0
			for _, c := range after.Contacts {
				if c.Fields[idField] == "cus_0039" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d contacts for cus_0039, want 1", n)
			}
		})
	}
}

// checkPlanValues holds day 2's plan to testdata/golden/plan-day2.csv (its changes,
// with their old and new values), and checks that the fields named from the field
// hashes are the ones the full rows differ in (day 1's synced rows against day 2's
// transform rows).
func checkPlanValues(t *testing.T, data string) {
	t.Helper()
	entries := readTable(t, schemas.Plans, filepath.Join(stageDir(data, day2Run, "load"), "plan.parquet"))
	var changed []schemas.PlanEntry
	for _, e := range entries {
		if e.Op != load.OpUnchanged {
			changed = append(changed, e)
		}
	}
	var b bytes.Buffer
	if err := schemas.WriteCSVTo(&b, changed); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-day2.csv", b.Bytes())

	synced := filepath.Join(stageDir(data, day1Run, "load"), load.SyncedDir)
	transform := stageDir(data, day2Run, "transform")
	payloads := func(tb func(string) map[string]map[string]string, dir, name string) map[string]map[string]string {
		return tb(filepath.Join(dir, name+".parquet"))
	}
	contacts := func(path string) map[string]map[string]string {
		m := map[string]map[string]string{}
		for _, c := range readTable(t, schemas.Contacts, path) {
			if len(c.FieldHashes) == 0 {
				t.Errorf("%s: contact %s has no field hashes", path, c.CustomerID)
			}
			m[c.CustomerID] = schemas.Payload(&c)
		}
		return m
	}
	rps := func(path string) map[string]map[string]string {
		m := map[string]map[string]string{}
		for _, r := range readTable(t, schemas.RecurringPayments, path) {
			if len(r.FieldHashes) == 0 {
				t.Errorf("%s: recurring payment %s has no field hashes", path, r.StoreRecurringPaymentID)
			}
			m[r.StoreRecurringPaymentID] = schemas.Payload(&r)
		}
		return m
	}
	old := map[string]map[string]map[string]string{
		load.EntityContact:          payloads(contacts, synced, load.ContactsFile),
		load.EntityRecurringPayment: payloads(rps, synced, load.RecurringPaymentsFile)}
	cur := map[string]map[string]map[string]string{
		load.EntityContact:          payloads(contacts, transform, load.ContactsFile),
		load.EntityRecurringPayment: payloads(rps, transform, load.RecurringPaymentsFile)}
	updates := 0
	for _, e := range changed {
		if e.Op != load.OpUpdate {
			continue
		}
		updates++
		o, n := old[e.Entity][e.Key], cur[e.Entity][e.Key]
		var want []string
		for _, k := range slices.Sorted(maps.Keys(n)) {
			if o[k] != n[k] {
				want = append(want, k)
			}
		}
		for k := range o {
			if _, ok := n[k]; !ok {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		if !slices.Equal([]string(e.ChangedFields), want) {
			t.Errorf("%s %s: fields %v from the field hashes, %v from the full rows", e.Entity, e.Key, e.ChangedFields, want)
		}
		if len(e.Changes) != len(e.ChangedFields) {
			t.Errorf("%s %s: %d changes for %d changed fields", e.Entity, e.Key, len(e.Changes), len(e.ChangedFields))
		}
		for _, c := range e.Changes {
			if c.Old != schemas.DisplayValue(o[c.Field]) || c.New != schemas.DisplayValue(n[c.Field]) {
				t.Errorf("%s %s %s: %q → %q, the rows hold %s → %s", e.Entity, e.Key, c.Field, c.Old, c.New, o[c.Field], n[c.Field])
			}
		}
	}
	if updates == 0 {
		t.Error("day 2 plans no update")
	}
}

// --fail-emails: those records land in load/errors.csv (their recurring payments
// held back), exit 2; the next run sends those records and only those.
func TestLoadSandboxFailEmails(t *testing.T) {
	failing := []string{"emily.carter@example.com", "eleni.papadopoulou@example.com"}
	ac := startAC(t, acsandbox.Options{FailEmails: failing})
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	r1 := cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day1Run)
	mustExit(t, r1, 2)
	errPath := filepath.Join(stageDir(data, day1Run, "load"), "errors.csv")
	if !strings.Contains(r1.stdout+r1.stderr, errPath) {
		t.Errorf("the output does not point at %s:\n%s\n%s", errPath, r1.stdout, r1.stderr)
	}
	rows, err := schemas.ReadCSV[schemas.ValidationError](errPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rows {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", e.Stage, e.Entity, e.RecordID, e.Email, e.Code))
		if e.RunID != day1Run || e.Message == "" || e.CustomerID == "" {
			t.Errorf("error row %+v", e)
		}
	}
	sort.Strings(got)
	want := []string{
		"load contact cus_0003 eleni.papadopoulou@example.com ac_import_failed",
		"load contact cus_0012 emily.carter@example.com ac_import_failed",
		"load recurring_payment sub_0003 eleni.papadopoulou@example.com contact_not_synced",
		"load recurring_payment sub_0012 emily.carter@example.com contact_not_synced",
		"load recurring_payment sub_0016 emily.carter@example.com contact_not_synced",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors.csv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ac.Flush()
	sn := ac.Snapshot()
	for _, e := range failing {
		if c, ok := sn.ContactByEmail(e); ok {
			t.Errorf("failed contact %s is in AC: %+v", e, c)
		}
	}

	ac.SetFailEmails(nil)
	ac.ResetLog()
	r2 := cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day2Run)
	mustExit(t, r2, 0)
	s := sentRecords(ac.Requests())
	if !reflect.DeepEqual(s.contacts, setOf(failing...)) || !reflect.DeepEqual(s.rps, setOf("sub_0003", "sub_0012", "sub_0016")) {
		t.Errorf("run 2 sent contacts %v and recurring payments %v; want only the failed ones", sortedSet(s.contacts), sortedSet(s.rps))
	}
	if tw := s.twice(); len(tw) > 0 {
		t.Errorf("records sent twice: %v", tw)
	}
	ac.Flush()
	checkHolds(t, ac.Snapshot(), stageDir(data, day2Run, "transform"), "keep", acsandbox.Snapshot{})
	if rows, _ := schemas.ReadCSV[schemas.ValidationError](filepath.Join(stageDir(data, day2Run, "load"), "errors.csv")); len(rows) != 0 {
		t.Errorf("run 2 errors.csv: %+v", rows)
	}
}

// normalized is an account's content without its ids and times, to compare two
// accounts that took different paths to the same state.
type normalized struct {
	Contacts map[string]string // email → names, phone, lists, fields by title
	RPs      map[string]string // store id → fields
	Setup    string
}

func normalize(sn acsandbox.Snapshot) normalized {
	title := map[string]string{}
	for _, f := range sn.Fields {
		title[f.ID] = f.Title
	}
	list := map[string]string{}
	for _, l := range sn.Lists {
		list[l.ID] = l.Name
	}
	n := normalized{Contacts: map[string]string{}, RPs: map[string]string{}}
	for _, c := range sn.Contacts {
		fields, lists := map[string]string{}, map[string]int{}
		for id, v := range c.Fields {
			fields[title[id]] = v
		}
		for id, st := range c.Lists {
			lists[list[id]] = st
		}
		b, _ := json.Marshal([]any{c.FirstName, c.LastName, c.Phone, c.OrgName, lists, fields})
		n.Contacts[strings.ToLower(c.Email)] = string(b)
	}
	for _, rp := range sn.RecurringPayments {
		b, _ := json.Marshal(withoutNulls(rp.Fields))
		n.RPs[rp.StoreRecurringPaymentID] = string(b)
	}
	n.Setup = fmt.Sprintf("connections=%d fields=%d fieldRels=%d lists=%d", len(sn.Connections), len(sn.Fields), len(sn.FieldRels), len(sn.Lists))
	return n
}

// A load killed after K acknowledged batches, for several K, finishes with --resume:
// no record is sent twice, and the account ends as a clean run leaves it.
func TestLoadSandboxCrashResume(t *testing.T) {
	// Small batches: 3 bulk imports of up to 25 contacts, 4 recurring payment batches of up to 25.
	cfg := writeConfig(t, acConfig{unthrottled: true, importBatch: 25, importMin: 1, rpBatch: 25})
	dataWrite := func(op string) bool { return contactOps[op] || op == "bulkUpsertRecurringPayments" }

	clean := startAC(t, acsandbox.Options{})
	mustExit(t, cb2acEnv(t, clean.env(), "--data-dir", t.TempDir(), "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day1Run), 0)
	clean.Flush()
	want := normalize(clean.Snapshot())
	if w := sentRecords(clean.Requests()); len(w.times) != 74+80 {
		t.Fatalf("the clean run sent %d records, want 154 in 8 batches", len(w.times))
	}

	cases := []struct {
		name string
		// stall says whether to hold this request and kill the client there; n
		// counts data writes before it, imports the bulk imports.
		stall  func(r acsandbox.Request, n, imports int) bool
		resume []string
	}{
		{"K=0 before any batch", func(r acsandbox.Request, n, _ int) bool { return dataWrite(r.Op) && n == 0 },
			[]string{"run", "--resume"}},
		{"K=2 between imports", func(r acsandbox.Request, n, _ int) bool { return dataWrite(r.Op) && n == 2 },
			[]string{"load", "--resume", "--run-id", day1Run}},
		{"K=3 between contacts and recurring payments", func(r acsandbox.Request, n, _ int) bool { return dataWrite(r.Op) && n == 3 },
			[]string{"load", "--resume", "--run-id", day1Run}},
		{"K=5 before the last batch", func(r acsandbox.Request, n, _ int) bool { return dataWrite(r.Op) && n == 5 },
			[]string{"run", "--resume", "--run-id", day1Run}},
		{"import queued, not yet reported", func(r acsandbox.Request, _, imports int) bool { return r.Op == "import_info" && imports == 2 },
			[]string{"load", "--resume"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				armed   atomic.Bool
				mu      sync.Mutex
				writes  int
				imports int
			)
			stalled, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			defer close(release)
			ac := startAC(t, acsandbox.Options{Hook: func(ctx context.Context, r acsandbox.Request) {
				if !armed.Load() {
					return
				}
				mu.Lock()
				hit := tc.stall(r, writes, imports)
				if dataWrite(r.Op) {
					writes++
				}
				if r.Op == "bulk_import" {
					imports++
				}
				mu.Unlock()
				if hit {
					armed.Store(false)
					once.Do(func() { close(stalled) })
					select {
					case <-ctx.Done():
					case <-release:
					}
				}
			}})
			armed.Store(true)
			data := t.TempDir()
			cmd, out, errb := cliCommand(ac.env(), "--data-dir", data, "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day1Run)
			killAtStall(t, cmd, out, errb, stalled, 0, 30*time.Second)

			r := cb2acEnv(t, ac.env(), append([]string{"--data-dir", data, "--config", cfg}, tc.resume...)...)
			mustExit(t, r, 0)
			ac.Flush()
			if tw := sentRecords(ac.Requests()).twice(); len(tw) > 0 {
				t.Errorf("records sent twice: %v", tw)
			}
			got := normalize(ac.Snapshot())
			if got.Setup != want.Setup {
				t.Errorf("setup after resume: %s, clean run: %s", got.Setup, want.Setup)
			}
			if !reflect.DeepEqual(got, want) {
				for _, k := range sortedSet(union(got.Contacts, want.Contacts)) {
					if got.Contacts[k] != want.Contacts[k] {
						t.Errorf("contact %s: resumed %s, clean %s", k, got.Contacts[k], want.Contacts[k])
					}
				}
				for _, k := range sortedSet(union(got.RPs, want.RPs)) {
					if got.RPs[k] != want.RPs[k] {
						t.Errorf("recurring payment %s: resumed %s, clean %s", k, got.RPs[k], want.RPs[k])
					}
				}
			}
			checkHolds(t, ac.Snapshot(), stageDir(data, day1Run, "transform"), "keep", acsandbox.Snapshot{})
			// Nothing is left for a plain next run to send.
			ac.ResetLog()
			mustExit(t, cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day2Run), 0)
			if n := ac.WriteRequests(); n != 0 {
				t.Errorf("the run after the resumed load made %d writes", n)
			}
		})
	}
}

// The apply step reads the rows it sends from the transform file by row number, so a
// resumed load must read the very file the plan and the journal came from: a
// transform file replaced between a killed load and its --resume is refused, and
// nothing more is sent.
func TestLoadResumeRefusesReplacedTransform(t *testing.T) {
	cfg := writeConfig(t, acConfig{unthrottled: true, importBatch: 25, importMin: 1, rpBatch: 25})
	var armed atomic.Bool
	stalled, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	ac := startAC(t, acsandbox.Options{Hook: func(ctx context.Context, r acsandbox.Request) {
		if contactOps[r.Op] && armed.CompareAndSwap(true, false) {
			close(stalled)
			select {
			case <-ctx.Done():
			case <-release:
			}
		}
	}})
	armed.Store(true)
	data := t.TempDir()
	cmd, out, errb := cliCommand(ac.env(), "--data-dir", data, "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day1Run)
	killAtStall(t, cmd, out, errb, stalled, 0, 30*time.Second)
	// Another valid contacts file in its place: the first rows only, rewritten.
	path := filepath.Join(stageDir(data, day1Run, "transform"), "contacts.parquet")
	rows := readTable(t, schemas.Contacts, path)
	if err := schemas.Contacts.WriteFile(path, rows[:len(rows)/2]); err != nil {
		t.Fatal(err)
	}
	ac.ResetLog()
	r := cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "load", "--resume", "--run-id", day1Run)
	if r.code == 0 || !strings.Contains(r.stderr, "contacts.parquet is not the file the transform stage wrote") {
		t.Errorf("resume over a replaced transform file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := ac.WriteRequests(); n != 0 {
		t.Errorf("the refused resume made %d writes", n)
	}
}

func union(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// At AC's limit (5 requests/s), the client never sends more than 5 in any one-second
// window, and when another integration on the account eats the budget, the 429's
// Retry-After is waited out: a retry or two, not a storm.
func TestLoadSandboxRateLimit(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	data := t.TempDir()
	mustExit(t, cb2acEnv(t, ac.env(), "--data-dir", data, "--config", writeConfig(t, acConfig{unthrottled: true}),
		"run", "--in", "fixtures/chargebee", "--run-id", day1Run), 0)
	ac.Flush()

	// The neighbour: another integration on the same account, bursting once the
	// load is under way (its third bulk import).
	const neighbourPath = "/api/3/import/bulk_import"
	ac.SetRateLimit(5)
	ac.ResetLog()
	loadDone, neighbourDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(neighbourDone)
		for {
			n := 0
			for _, r := range ac.Requests() {
				if r.Op == "bulk_import" {
					n++
				}
			}
			if n >= 3 {
				break
			}
			select {
			case <-loadDone:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		// The client alone fills the budget, so the neighbour keeps asking and takes
		// each slot the moment it frees, for a little over half a second.
		for start := time.Now(); time.Since(start) < 600*time.Millisecond; time.Sleep(2 * time.Millisecond) {
			req, _ := http.NewRequest(http.MethodGet, ac.url+neighbourPath, nil)
			req.Header.Set("Api-Token", ac.token)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}()
	// confirm_recurring_payments: batch (the default), one confirming search per
	// batch, keeps this test at the pace it had; "all" would add a search per
	// recurring payment at 5 requests a second.
	cfg := writeConfig(t, acConfig{importBatch: 10, importMin: 1, rpBatch: 25})
	r := cb2acEnv(t, ac.env(), "--data-dir", data, "--config", cfg, "run", "--in", "fixtures/chargebee", "--run-id", day2Run, "--full-load")
	close(loadDone)
	<-neighbourDone
	mustExit(t, r, 0)

	var client []acsandbox.Request
	for _, q := range ac.Requests() {
		if !(q.Method == http.MethodGet && q.Path == neighbourPath) {
			client = append(client, q)
		}
	}
	if len(client) < 15 {
		t.Fatalf("only %d client requests: the test needs a load long enough to measure", len(client))
	}
	for i := range client {
		n := 0
		for j := i; j < len(client) && client[j].Time.Sub(client[i].Time) < time.Second; j++ {
			n++
		}
		if n > 5 {
			t.Errorf("%d client requests in the second from %s", n, client[i].Time.Format("15:04:05.000"))
		}
	}
	throttled := 0
	for i, q := range client {
		if q.Status != http.StatusTooManyRequests {
			continue
		}
		throttled++
		if i+1 < len(client) && client[i+1].Time.Sub(q.Time) < time.Second {
			t.Errorf("after a 429 at %s the client came back after %v, before Retry-After (≥ 1s)",
				q.Time.Format("15:04:05.000"), client[i+1].Time.Sub(q.Time))
		}
	}
	if throttled == 0 || throttled > 3 {
		for _, q := range client {
			t.Logf("%s %s %d %s", q.Time.Format("05.000"), q.Path, q.Status, q.Op)
		}
		t.Errorf("the client got %d 429s; want 1 to 3 (the neighbour's burst, then Retry-After honoured)", throttled)
	}
	m := regexp.MustCompile(`retries=(\d+)`).FindStringSubmatch(r.stdout)
	if retries, _ := strconv.Atoi(m[1]); m == nil || retries != throttled {
		t.Errorf("load summary retries %v, want %d (one per 429)\n%s", m, throttled, r.stdout)
	}
	ac.Flush()
	checkHolds(t, ac.Snapshot(), stageDir(data, day2Run, "transform"), "keep", acsandbox.Snapshot{})
}

// suppress_automations through the CLI: a nightly change fires automations (no
// suppressAutomations), a backfill (load --in another run's transform) does not.
func TestLoadSandboxAutomationsNightlyAndBackfill(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	env := append(ac.env(), cbEnv...)
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
	ac.Flush()
	if err := cb.Apply("fixtures/chargebee-day2"); err != nil {
		t.Fatal(err)
	}
	ac.ResetLog()
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run), 0)
	ac.Flush()
	sent := sentRecords(ac.Requests()).rps
	if len(sent) == 0 {
		t.Fatal("day 2 sent no recurring payment")
	}
	for _, rp := range ac.Snapshot().RecurringPayments {
		if sent[rp.StoreRecurringPaymentID] && rp.SuppressAutomations {
			t.Errorf("nightly change %s sent with suppressAutomations", rp.StoreRecurringPaymentID)
		}
	}
	// The backfill sends day 1's rows back, automations kept quiet.
	ac.ResetLog()
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "load", "--in", stageDir(data, day1Run, "transform"), "--run-id", "20261125T020000Z", "--yes"), 0)
	ac.Flush()
	back := sentRecords(ac.Requests()).rps
	if len(back) == 0 {
		t.Fatal("the backfill sent no recurring payment")
	}
	for _, rp := range ac.Snapshot().RecurringPayments {
		if back[rp.StoreRecurringPaymentID] && !rp.SuppressAutomations {
			t.Errorf("backfill sent %s without suppressAutomations", rp.StoreRecurringPaymentID)
		}
	}
}

// A customer whose only subscription is deleted in Chargebee (issue 18 item 12): the
// customer is not a no_subscription error, nor its subscription customer_rejected; the
// cancellation reaches AC (CANCELLED, storeStatus deleted) and the run exits 0.
func TestLoadSandboxOnlySubscriptionDeleted(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	env := append(ac.env(), cbEnv...)
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
	ac.Flush()
	rpBefore := findRP(t, ac.Snapshot(), "sub_0003")
	if got := rpBefore.Fields["normalizedStatus"]; got != "ACTIVE" {
		t.Fatalf("day 1: sub_0003 normalizedStatus %v, want ACTIVE", got)
	}

	// cus_0003 has one subscription, sub_0003: delete it in Chargebee.
	raw, err := os.ReadFile("fixtures/chargebee/subscriptions/page-001.json")
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ List []map[string]map[string]any }
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	var entry map[string]map[string]any
	for _, e := range page.List {
		if e["subscription"]["id"] == "sub_0003" {
			entry = e
		}
	}
	if entry == nil {
		t.Fatal("sub_0003 not in fixtures/chargebee/subscriptions/page-001.json")
	}
	entry["subscription"]["deleted"] = true
	entry["subscription"]["updated_at"] = 1795184600
	entry["subscription"]["resource_version"] = int64(1795184600000)
	b, err := json.Marshal(entry)
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.Update("subscriptions", b); err != nil {
		t.Fatal(err)
	}

	r := cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run)
	mustExit(t, r, 0)
	if errs, err := os.ReadFile(filepath.Join(stageDir(data, day2Run, "validate"), "errors.csv")); err == nil && bytes.Contains(errs, []byte("cus_0003")) {
		t.Errorf("validate rejected cus_0003 or its subscription:\n%s", errs)
	}
	var planned string
	for _, e := range readTable(t, schemas.Plans, filepath.Join(stageDir(data, day2Run, "load"), "plan.parquet")) {
		if e.Entity == "recurring_payment" && e.Key == "sub_0003" {
			planned = e.Op
		}
	}
	if planned != "delete" {
		t.Errorf("sub_0003 planned %q, want delete (sent as cancelled)", planned)
	}
	ac.Flush()
	rp := findRP(t, ac.Snapshot(), "sub_0003")
	if rp.Fields["normalizedStatus"] != "CANCELLED" || rp.Fields["storeStatus"] != "deleted" {
		t.Errorf("sub_0003 in AC: normalizedStatus %v, storeStatus %v; want CANCELLED, deleted", rp.Fields["normalizedStatus"], rp.Fields["storeStatus"])
	}
}

// findRP finds a recurring payment in AC by its Chargebee subscription id.
func findRP(t *testing.T, sn acsandbox.Snapshot, sub string) acsandbox.RecurringPayment {
	t.Helper()
	for _, rp := range sn.RecurringPayments {
		if rp.StoreRecurringPaymentID == sub {
			return rp
		}
	}
	t.Fatalf("recurring payment %s is not in AC", sub)
	return acsandbox.RecurringPayment{}
}

// acDelete sends DELETE /api/3/<path> to the AC sandbox, as someone in AC's UI would.
func acDelete(t *testing.T, a *acServer, path string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, a.url+"/api/3/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Api-Token", a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %s", path, resp.Status)
	}
}

// The Deep Data connection cached in state.json is deleted in AC, and its recurring
// payments with it (issue 18 item 7): the next night with changes finds the cached id
// gone, sets up again (a new connection) and sends every recurring payment again,
// exit 0, instead of exit 2 every night with nothing sent.
func TestLoadSandboxConnectionDeletedInAC(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	env := append(ac.env(), cbEnv...)
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)
	ac.Flush()
	sn := ac.Snapshot()
	if len(sn.Connections) != 1 || len(sn.RecurringPayments) == 0 {
		t.Fatalf("day 1: %d connections, %d recurring payments", len(sn.Connections), len(sn.RecurringPayments))
	}
	oldConn := sn.Connections[0].ID
	acDelete(t, ac, "connections/"+oldConn)
	ac.Flush()
	before := ac.Snapshot()
	if len(before.RecurringPayments) != 0 {
		t.Fatalf("the sandbox kept %d recurring payments of the deleted connection", len(before.RecurringPayments))
	}

	if err := cb.Apply("fixtures/chargebee-day2"); err != nil {
		t.Fatal(err)
	}
	r := cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run)
	mustExit(t, r, 0)
	ac.Flush()
	after := ac.Snapshot()
	if len(after.Connections) != 1 || after.Connections[0].ID == oldConn {
		t.Fatalf("after day 2: connections %+v; want one new connection (the deleted one was %s)", after.Connections, oldConn)
	}
	checkHolds(t, after, stageDir(data, day2Run, "transform"), "keep", before)
	m := readManifest(t, filepath.Join(data, "runs", day2Run)).Stages["load"]
	if m.Counts["setup_redone"] != 1 || m.Counts["connection_changed"] != 1 {
		t.Errorf("load counts %v: want setup_redone and connection_changed", m.Counts)
	}
	// The night after: the new connection is cached and nothing is sent again.
	ac.ResetLog()
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", "20261122T020000Z"), 0)
	if n := ac.WriteRequests(); n != 0 {
		t.Errorf("day 3 made %d write requests, want 0", n)
	}
}

// fixtureEntry returns the list entry of fixtures/chargebee/<entity> whose object has
// this id, decoded.
func fixtureEntry(t *testing.T, entity, id string) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("fixtures/chargebee", entity, "*.json"))
	obj := strings.TrimSuffix(entity, "s")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var page struct{ List []map[string]map[string]any }
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.List {
			if e[obj]["id"] == id {
				return e
			}
		}
	}
	t.Fatalf("%s %s not in the fixtures", entity, id)
	return nil
}

// cbUpdate changes one Chargebee object in the sandbox, with a later updated_at.
func cbUpdate(t *testing.T, cb *cbsandbox.Server, entity, id string, at int64, edit func(o map[string]any)) {
	t.Helper()
	e := fixtureEntry(t, entity, id)
	obj := e[strings.TrimSuffix(entity, "s")]
	edit(obj)
	obj["updated_at"], obj["resource_version"] = at, at*1000
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.Update(entity, b); err != nil {
		t.Fatal(err)
	}
}

// An email change to an address AC already holds under another contact (a lead not
// from Chargebee), issue 18 item 13: the contact's error row says email_taken and
// what to do; the customer's recurring payments are not held back but sent to its
// contact under the old email (a cancellation arrives); once the other contact is
// gone the change goes through and the payments carry the new email.
func TestLoadSandboxEmailTakenByLead(t *testing.T) {
	ac := startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	env := append(ac.env(), cbEnv...)
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day1Run), 0)

	const oldEmail, lead = "eleni.papadopoulou@example.com", "lead@example.org"
	req, _ := http.NewRequest(http.MethodPost, ac.url+"/api/3/contacts", strings.NewReader(`{"contact":{"email":"`+lead+`","firstName":"Lead"}}`))
	req.Header.Set("Api-Token", ac.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("create the lead: %v %v", err, resp)
	}
	var created struct{ Contact struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()

	// cus_0003 takes the lead's address and cancels sub_0003 the same day.
	cbUpdate(t, cb, "customers", "cus_0003", 1795184600, func(o map[string]any) { o["email"] = lead })
	cbUpdate(t, cb, "subscriptions", "sub_0003", 1795184600, func(o map[string]any) { o["status"] = "cancelled"; o["cancelled_at"] = 1795184600 })
	r := cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", day2Run)
	mustExit(t, r, 2)
	rows, err := schemas.ReadCSV[schemas.ValidationError](filepath.Join(stageDir(data, day2Run, "load"), "errors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].RecordID != "cus_0003" || rows[0].Code != "email_taken" ||
		!strings.Contains(rows[0].Message, "merge or delete that other contact in AC, or change the email in Chargebee") ||
		!strings.Contains(rows[0].Message, "refused on every run") {
		t.Fatalf("load errors.csv: %+v; want one email_taken row for cus_0003 saying what to do", rows)
	}
	ac.Flush()
	sn := ac.Snapshot()
	rp := findRP(t, sn, "sub_0003")
	if rp.Fields["normalizedStatus"] != "CANCELLED" || !strings.EqualFold(rp.Email, oldEmail) {
		t.Errorf("sub_0003 in AC: status %v, email %q; want CANCELLED under %s", rp.Fields["normalizedStatus"], rp.Email, oldEmail)
	}
	if c, ok := sn.ContactByEmail(lead); !ok || c.ID != created.Contact.ID || c.FirstName != "Lead" {
		t.Errorf("the lead's contact: %+v, %v; want it untouched", c, ok)
	}
	if _, ok := sn.ContactByEmail(oldEmail); !ok {
		t.Errorf("cus_0003's contact is gone from under %s", oldEmail)
	}

	// Someone deletes the lead in AC: the next run moves the contact and the payment.
	acDelete(t, ac, "contacts/"+created.Contact.ID)
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", "20261122T020000Z"), 0)
	ac.Flush()
	sn = ac.Snapshot()
	if _, ok := sn.ContactByEmail(lead); !ok {
		t.Errorf("cus_0003's contact did not move to %s", lead)
	}
	if rp := findRP(t, sn, "sub_0003"); !strings.EqualFold(rp.Email, lead) || rp.Fields["normalizedStatus"] != "CANCELLED" {
		t.Errorf("sub_0003 after the move: email %q, status %v", rp.Email, rp.Fields["normalizedStatus"])
	}
	// And the night after, nothing more to send.
	ac.ResetLog()
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "run", "--source", "chargebee", "--run-id", "20261123T020000Z"), 0)
	if n := ac.WriteRequests(); n != 0 {
		t.Errorf("the night after made %d write requests, want 0", n)
	}
}
