package cli

// The bad-input corpus (testdata/badinput): malformed and hostile Chargebee pages and
// records, each run through the real path (`cb2ac run --source pages`, the built
// binary: extract → validate → transform). Every case must end in the error rows or
// the mapping its want.json names, or, for a page that cannot be read, in exit 1 with
// a one-line message naming the file; never in a panic or a record dropped without a
// row saying why.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/pipeline"
	"github.com/cb2ac/cb2ac/schemas"
)

const badinputDir = "testdata/badinput"

// badinputWant is a case's want.json.
type badinputWant struct {
	Why    string   `json:"why"`
	Exit   int      `json:"exit"`
	Stderr []string `json:"stderr"` // substrings of the `cb2ac: ...` line (exit 1)
	// Errors is every row of validate/errors.csv as "entity/record_id code field".
	Errors []string `json:"errors"`
	// Messages: record id → a substring of its first error row's message.
	Messages map[string]string `json:"messages"`
	// Contacts and RecurringPayments list exactly the transform rows, by key, with
	// the columns that must hold the given JSON value (custom fields as
	// "fields.<title>"; null = absent).
	Contacts          map[string]map[string]any `json:"contacts"`
	RecurringPayments map[string]map[string]any `json:"recurring_payments"`
	// CustomFields: customer id → extract custom_fields.
	CustomFields map[string]string `json:"custom_fields"`
}

func TestBadInputCorpus(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(badinputDir, "*", "want.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 30 {
		t.Fatalf("%d cases under %s, want at least 30", len(dirs), badinputDir)
	}
	for _, w := range dirs {
		dir := filepath.Dir(w)
		var want badinputWant
		b, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			badinputCheck(t, dir, want)
		})
	}
	// Too big to commit: 256 KiB strings in every text column a contact carries.
	t.Run("generated-huge-strings", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		huge := strings.Repeat("x", 256<<10)
		cust := map[string]any{"id": "cus_1", "email": "big@example.com", "first_name": huge, "last_name": huge,
			"company": huge, "phone": huge, "created_at": 1700000000, "updated_at": 1700000100, "cf_notes": huge,
			"billing_address": map[string]any{"city": huge, "line1": huge}}
		sub := map[string]any{"id": "sub_1", "customer_id": "cus_1", "status": "active", "currency_code": "USD",
			"billing_period": 1, "billing_period_unit": "month", "created_at": 1700000000, "cancel_reason": huge,
			"subscription_items": []any{map[string]any{"item_price_id": huge, "item_type": "plan", "quantity": 1, "amount": 100}}}
		badinputWritePage(t, filepath.Join(dir, "customers", "page-1.json"), "customer", cust)
		badinputWritePage(t, filepath.Join(dir, "subscriptions", "page-1.json"), "subscription", sub)
		badinputCheck(t, dir, badinputWant{
			Contacts: map[string]map[string]any{"cus_1": {"firstName": huge, "orgname": huge, "fields.Plan": huge, "fields.Cancel Reason": huge}},
			RecurringPayments: map[string]map[string]any{"sub_1": {"paymentAmount": "1.00", "lineItemSkus": []any{huge},
				"billingAddress": map[string]any{"city": huge, "address1": huge}}},
		})
	})
}

func badinputWritePage(t *testing.T, path, key string, rec any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"list": []any{map[string]any{key: rec}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func badinputCheck(t *testing.T, pages string, want badinputWant) {
	data := t.TempDir()
	r := cb2acEnv(t, nil, "--data-dir", data, "--log-format", "json", "--csv", "run", "--in", pages, "--run-id", fixedRun)
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("panicked:\n%s", r.stderr)
	}
	if r.code != want.Exit {
		t.Fatalf("exit %d, want %d (%s)\nstdout:%s\nstderr:%s", r.code, want.Exit, want.Why, r.stdout, r.stderr)
	}
	runDir := filepath.Join(data, "runs", fixedRun)
	m := readManifest(t, runDir)
	if want.Exit != 0 {
		badinputUnreadable(t, data, runDir, m, r, want)
		return
	}
	for _, st := range []string{pipeline.StageExtract, pipeline.StageValidate, pipeline.StageTransform} {
		if rec := m.Stages[st]; rec == nil || rec.Status != pipeline.StatusSucceeded {
			t.Fatalf("stage %s: %+v", st, rec)
		}
	}

	errRows, err := schemas.ReadCSV[schemas.ValidationError](filepath.Join(runDir, "validate", "errors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range errRows {
		got = append(got, fmt.Sprintf("%s/%s %s %s", e.Entity, e.RecordID, e.Code, e.Field))
		if e.Message == "" {
			t.Errorf("error row %+v has no message", e)
		}
	}
	slices.Sort(got)
	wantErrs := slices.Sorted(slices.Values(want.Errors))
	if !slices.Equal(got, wantErrs) {
		t.Errorf("error rows (%s):\n got  %q\n want %q", want.Why, got, wantErrs)
	}
	for id, sub := range want.Messages {
		i := slices.IndexFunc(errRows, func(e schemas.ValidationError) bool { return e.RecordID == id })
		if i < 0 || !strings.Contains(errRows[i].Message, sub) {
			t.Errorf("%s: want a message containing %q, rows %+v", id, sub, errRows)
		}
	}

	contacts := readTable(t, schemas.Contacts, filepath.Join(runDir, "transform", "contacts.parquet"))
	rps := readTable(t, schemas.RecurringPayments, filepath.Join(runDir, "transform", "recurring_payments.parquet"))
	badinputRows(t, "contact", contacts, func(c schemas.Contact) string { return c.CustomerID }, want.Contacts)
	badinputRows(t, "recurring payment", rps, func(rp schemas.RecurringPayment) string { return rp.StoreRecurringPaymentID }, want.RecurringPayments)
	for _, rp := range rps {
		if strings.HasPrefix(rp.PaymentAmount, "-") {
			t.Errorf("recurring payment %s: negative paymentAmount %s", rp.StoreRecurringPaymentID, rp.PaymentAmount)
		}
	}
	// The CSV twins hold the same rows, however odd the values.
	if cs, err := schemas.ReadCSV[schemas.Contact](filepath.Join(runDir, "transform", "contacts.csv")); err != nil || len(cs) != len(contacts) {
		t.Errorf("contacts.csv: %d rows, %v; parquet has %d", len(cs), err, len(contacts))
	}

	ext := filepath.Join(runDir, "extract")
	customers := readTable(t, schemas.Customers, filepath.Join(ext, "customers.parquet"))
	for id, cf := range want.CustomFields {
		i := slices.IndexFunc(customers, func(c schemas.Customer) bool { return c.ID == id })
		if i < 0 || customers[i].CustomFields != cf {
			t.Errorf("customer %s custom_fields: want %s, extract has %+v", id, cf, customers)
		}
	}
	// No record is dropped without a reason: each extracted record reaches the
	// validate snapshot or has an error row.
	val := filepath.Join(runDir, "validate")
	badinputAccount(t, "customer", errRows, customers, readTable(t, schemas.Customers, filepath.Join(val, "customers.parquet")), func(c schemas.Customer) string { return c.ID })
	badinputAccount(t, "subscription", errRows, readTable(t, schemas.Subscriptions, filepath.Join(ext, "subscriptions.parquet")),
		readTable(t, schemas.Subscriptions, filepath.Join(val, "subscriptions.parquet")), func(s schemas.Subscription) string { return s.ID })
	badinputAccount(t, "invoice", errRows, readTable(t, schemas.Invoices, filepath.Join(ext, "invoices.parquet")),
		readTable(t, schemas.Invoices, filepath.Join(val, "invoices.parquet")), func(v schemas.Invoice) string { return v.ID })
}

// badinputUnreadable checks a run stopped by a page it cannot read: one clear line,
// the extract marked failed with no snapshot file, nothing after it, no state.
func badinputUnreadable(t *testing.T, data, runDir string, m *pipeline.Manifest, r result, want badinputWant) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "cb2ac: ") {
		t.Errorf("last stderr line %q, want `cb2ac: ...`", last)
	}
	for _, s := range want.Stderr {
		if !strings.Contains(last, s) {
			t.Errorf("error line %q does not say %q", last, s)
		}
	}
	if rec := m.Stages[pipeline.StageExtract]; rec == nil || rec.Status != pipeline.StatusFailed || rec.Error == "" {
		t.Errorf("extract in the manifest: %+v, want failed with the error", rec)
	}
	if len(m.Stages) != 1 {
		t.Errorf("stages after a failed extract: %v", m.Stages)
	}
	if files, _ := filepath.Glob(filepath.Join(runDir, "extract", "*")); len(files) != 0 {
		t.Errorf("a failed extract left files: %v", files)
	}
	if _, err := os.Stat(pipeline.StatePath(data)); !os.IsNotExist(err) {
		t.Errorf("state.json after a failed first run: %v", err)
	}
}

// badinputRows checks that rows are exactly the wanted keys, and the wanted columns.
func badinputRows[T any](t *testing.T, kind string, rows []T, key func(T) string, want map[string]map[string]any) {
	t.Helper()
	var keys []string
	for _, r := range rows {
		k := key(r)
		keys = append(keys, k)
		cols, ok := want[k]
		if !ok {
			continue
		}
		flat := badinputFlatten(t, r)
		for col, v := range cols {
			if got := flat[col]; !reflect.DeepEqual(got, v) {
				t.Errorf("%s %s: %s = %.200v, want %.200v", kind, k, col, got, v)
			}
		}
	}
	slices.Sort(keys)
	wantKeys := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("%ss: got %v, want %v", kind, keys, wantKeys)
	}
}

// badinputFlatten turns a row into its JSON columns, custom fields as fields.<title>.
func badinputFlatten(t *testing.T, row any) map[string]any {
	t.Helper()
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if fs, ok := m["fields"].([]any); ok {
		for _, f := range fs {
			f := f.(map[string]any)
			m["fields."+f["title"].(string)] = f["value"]
		}
	}
	return m
}

// badinputAccount checks that every extracted record of an entity is either in the
// validate snapshot or named by an error row (a record without an id by a
// missing_id row each).
func badinputAccount[T any](t *testing.T, entity string, errs []schemas.ValidationError, in, out []T, id func(T) string) {
	t.Helper()
	kept := map[string]bool{}
	for _, r := range out {
		kept[id(r)] = true
	}
	reported := map[string]int{}
	for _, e := range errs {
		if e.Entity == entity {
			reported[e.RecordID]++
		}
	}
	noID := 0
	for _, r := range in {
		switch k := id(r); {
		case k == "":
			noID++
		case !kept[k] && reported[k] == 0:
			t.Errorf("%s %s was dropped without an error row", entity, k)
		}
	}
	if noID > 0 && reported[""] != noID {
		t.Errorf("%d %ss without an id, %d error rows for them", noID, entity, reported[""])
	}
}
