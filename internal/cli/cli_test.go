package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/pipeline"
	"github.com/cb2ac/cb2ac/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// binary is the cb2ac built once for the end-to-end tests: they run the real CLI.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	// The end-to-end tests run the CLI as a user does, from the repository root:
	// fixtures/, testdata/ and scripts/ are found where the README says.
	if err := os.Chdir("../.."); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "cb2ac-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cb2ac")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// cb2ac runs the built binary with the test process's environment minus any AC,
// Chargebee or cb2ac setting of the developer's, so no test reaches a real account.
func cb2ac(t *testing.T, args ...string) result {
	t.Helper()
	return cb2acEnv(t, nil, args...)
}

// cb2acEnv is cb2ac with env added to the cleaned environment.
func cb2acEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd, out, errb := cliCommand(env, args...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// cliCommand builds a cb2ac process whose environment holds no AC or Chargebee setting
// of the developer's, only env; for tests that start, signal or wait on it themselves.
func cliCommand(env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AC_") && !strings.HasPrefix(kv, "CHARGEBEE_") && !strings.HasPrefix(kv, "CB2AC_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

const fixedRun = "20261120T020000Z"

func readManifest(t *testing.T, runDir string) *pipeline.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pipeline.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestRunFixturesEndToEnd(t *testing.T) {
	data := t.TempDir()
	r := cb2ac(t, "--data-dir", data, "--log-format", "json", "run", "--in", "fixtures/chargebee", "--run-id", fixedRun, "--csv")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:%s\nstderr:%s", r.code, r.stdout, r.stderr)
	}
	runDir := filepath.Join(data, "runs", fixedRun)
	m := readManifest(t, runDir)
	if m.RunID != fixedRun {
		t.Errorf("manifest run id %q", m.RunID)
	}
	tables := map[string]func(string) (int, error){
		"customers.parquet":          count(schemas.Customers),
		"subscriptions.parquet":      count(schemas.Subscriptions),
		"invoices.parquet":           count(schemas.Invoices),
		"item_prices.parquet":        count(schemas.ItemPrices),
		"gifts.parquet":              count(schemas.Gifts),
		"contacts.parquet":           count(schemas.Contacts),
		"recurring_payments.parquet": count(schemas.RecurringPayments),
	}
	for _, stage := range []string{"extract", "validate", "transform"} {
		rec := m.Stages[stage]
		if rec == nil || rec.Status != pipeline.StatusSucceeded || rec.EndedAt == nil || rec.ConfigHash == "" {
			t.Fatalf("stage %s: %+v", stage, rec)
		}
		if len(rec.Files) == 0 {
			t.Fatalf("stage %s lists no files", stage)
		}
		for _, f := range rec.Files {
			path := filepath.Join(runDir, stage, f.Name)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
				t.Errorf("%s: manifest sha256/size do not match the file", path)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v, want 0600", path, st.Mode().Perm())
			}
			if open, ok := tables[f.Name]; ok {
				n, err := open(path)
				if err != nil {
					t.Errorf("%s does not open with its schema: %v", path, err)
				}
				if int64(n) != f.Rows {
					t.Errorf("%s: %d rows, manifest says %d", path, n, f.Rows)
				}
			}
			if strings.HasSuffix(f.Name, ".parquet") {
				if _, err := os.Stat(strings.TrimSuffix(path, ".parquet") + ".csv"); err != nil {
					t.Errorf("--csv: no CSV twin of %s", path)
				}
			}
		}
	}
	if st, _ := os.Stat(runDir); st.Mode().Perm() != 0o700 {
		t.Errorf("run folder mode %v, want 0700", st.Mode().Perm())
	}
	// Row counts in the manifest agree with the stage reports.
	if got := m.Stages["transform"].Counts["recurring_payments"]; got != fileRows(m, "transform", "recurring_payments.parquet") {
		t.Errorf("transform count %d differs from file rows", got)
	}
	if m.Stages["validate"].Inputs[0].Dir != filepath.Join(runDir, "extract") {
		t.Errorf("validate input = %+v", m.Stages["validate"].Inputs)
	}

	contacts, err := schemas.Contacts.ReadFile(filepath.Join(runDir, "transform", "contacts.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	rps, err := schemas.RecurringPayments.ReadFile(filepath.Join(runDir, "transform", "recurring_payments.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "contacts.json", jsonBytes(t, contacts))
	golden(t, "recurring_payments.json", jsonBytes(t, rps))
	errs, err := os.ReadFile(filepath.Join(runDir, "validate", "errors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "errors.csv", errs)

	checkACContract(t, rps)
	if !strings.Contains(r.stdout, "rejected=") || !strings.Contains(r.stdout, "errors.csv") {
		t.Errorf("no error summary on stdout:\n%s", r.stdout)
	}
	// --log-format json: every stderr line is a JSON object with run_id and stage.
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["run_id"] != fixedRun || rec["stage"] == nil {
			t.Errorf("log line is not JSON with run_id and stage: %s", line)
		}
	}
}

func count[T any](tb *schemas.Table[T]) func(string) (int, error) {
	return func(p string) (int, error) {
		recs, err := tb.ReadFile(p)
		return len(recs), err
	}
}

func fileRows(m *pipeline.Manifest, stage, name string) int64 {
	for _, f := range m.Stages[stage].Files {
		if f.Name == name {
			return f.Rows
		}
	}
	return -1
}

var (
	acDate    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	acDecimal = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
)

// checkACContract holds every recurring payment to reference/ac-recurring-payments.txt.
func checkACContract(t *testing.T, rps []schemas.RecurringPayment) {
	t.Helper()
	enum := func(v string, allowed ...string) bool {
		for _, a := range allowed {
			if v == a {
				return true
			}
		}
		return false
	}
	if _, ok := schemas.RecurringPayments.Schema().FieldsByName("legacyConnectionId"); !ok {
		t.Error("no legacyConnectionId column")
	}
	for _, rp := range rps {
		id := rp.StoreRecurringPaymentID
		if id == "" {
			t.Errorf("recurring payment without storeRecurringPaymentId: %+v", rp)
		}
		if !enum(rp.NormalizedStatus, "ACTIVE", "CANCELLED", "EXPIRED", "PAYMENT_FAILED", "PAUSED", "PENDING") {
			t.Errorf("%s: normalizedStatus %q", id, rp.NormalizedStatus)
		}
		if !enum(rp.BillingInterval, "DAILY", "WEEKLY", "MONTHLY", "YEARLY") {
			t.Errorf("%s: billingInterval %q", id, rp.BillingInterval)
		}
		if rp.LastPaymentStatus != nil && !enum(*rp.LastPaymentStatus, "COMPLETED", "DECLINED", "PARTIALLY_REFUNDED", "PENDING", "REFUNDED") {
			t.Errorf("%s: lastPaymentStatus %q", id, *rp.LastPaymentStatus)
		}
		for name, d := range map[string]*string{
			"lastPaymentDate": rp.LastPaymentDate, "startDate": rp.StartDate, "renewalDate": rp.RenewalDate,
			"nextPaymentDate": rp.NextPaymentDate, "anchorDate": rp.AnchorDate, "cancelledDate": rp.CancelledDate,
			"paymentMethodExpiration": rp.PaymentMethodExpiration, "storeCreatedDate": rp.StoreCreatedDate,
			"storeModifiedDate": rp.StoreModifiedDate,
		} {
			if d != nil && !acDate.MatchString(*d) {
				t.Errorf("%s: %s %q is not in AC's date format", id, name, *d)
			}
		}
		for name, a := range map[string]*string{"paymentAmount": &rp.PaymentAmount, "discountAmount": rp.DiscountAmount, "taxAmount": rp.TaxAmount} {
			if a != nil && !acDecimal.MatchString(*a) {
				t.Errorf("%s: %s %q is not a decimal string", id, name, *a)
			}
		}
		// An erased customer's recurring payments carry no email (and are deleted).
		if (rp.Email == "" && !rp.Deleted) || rp.StoreCustomerID == "" || rp.RowHash == 0 || rp.BillingIntervalCount < 1 {
			t.Errorf("%s: email/storeCustomerId/row_hash/billingIntervalCount missing: %+v", id, rp)
		}
	}
}

func jsonBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./internal/cli -run %s -update and review the diff", path, t.Name())
	}
}

func TestStagesOneByOneAndBackfill(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"extract", "--in", "fixtures/chargebee", "--run-id", fixedRun},
		{"validate"}, // the latest run with a finished extract
		{"transform", "--run-id", fixedRun},
	} {
		if r := cb2ac(t, append([]string{"--data-dir", data, "--log-level", "warn"}, args...)...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	first := filepath.Join(data, "runs", fixedRun)
	// Backfill: a new run from the old extract gives the same transform output.
	const backfill = "20261121T020000Z"
	r := cb2ac(t, "--data-dir", data, "--log-level", "warn", "run", "--source", "snapshot", "--in", filepath.Join(first, "extract"), "--run-id", backfill)
	if r.code != 0 {
		t.Fatalf("backfill: exit %d: %s", r.code, r.stderr)
	}
	// The same records; the files say which run wrote them, and that their data is as
	// old as the extract the backfill started from.
	if a, b := readTable(t, schemas.RecurringPayments, filepath.Join(first, "transform", "recurring_payments.parquet")),
		readTable(t, schemas.RecurringPayments, filepath.Join(data, "runs", backfill, "transform", "recurring_payments.parquet")); len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Error("backfill recurring payments differ from the original run")
	}
	if a, b := readTable(t, schemas.Contacts, filepath.Join(first, "transform", "contacts.parquet")),
		readTable(t, schemas.Contacts, filepath.Join(data, "runs", backfill, "transform", "contacts.parquet")); len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Error("backfill contacts differ from the original run")
	}
	for stage, name := range map[string]string{"extract": "customers.parquet", "transform": "contacts.parquet"} {
		orig, err := schemas.ReadStamp(filepath.Join(first, stage, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := schemas.ReadStamp(filepath.Join(data, "runs", backfill, stage, name))
		if err != nil {
			t.Fatal(err)
		}
		if orig.RunID != fixedRun || got.RunID != backfill || orig.ExtractedAt.IsZero() || !got.ExtractedAt.Equal(orig.ExtractedAt) {
			t.Errorf("%s stamps: original %+v, backfill %+v; want the backfill's run id and the original's extracted_at", stage, orig, got)
		}
	}
	m := readManifest(t, filepath.Join(data, "runs", backfill))
	if in := m.Stages["extract"].Inputs; len(in) != 1 || in[0].RunID != fixedRun {
		t.Errorf("backfill extract inputs = %+v", in)
	}
	// validate --in another run's extract writes a new run and leaves the old one alone.
	before := readManifest(t, first).Stages["validate"].EndedAt
	r = cb2ac(t, "--data-dir", data, "--log-level", "warn", "validate", "--in", filepath.Join(first, "extract"), "--run-id", "20261122T020000Z")
	if r.code != 0 {
		t.Fatalf("validate --in: %s", r.stderr)
	}
	if after := readManifest(t, first).Stages["validate"].EndedAt; !after.Equal(*before) {
		t.Error("validate --in rewrote the input run")
	}
}

func TestLimit(t *testing.T) {
	data := t.TempDir()
	r := cb2ac(t, "--data-dir", data, "--log-level", "warn", "extract", "--in", "fixtures/chargebee", "--limit", "10", "--run-id", fixedRun)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	dir := filepath.Join(data, "runs", fixedRun, "extract")
	custs, _ := schemas.Customers.ReadFile(filepath.Join(dir, "customers.parquet"))
	subs, _ := schemas.Subscriptions.ReadFile(filepath.Join(dir, "subscriptions.parquet"))
	if len(custs) != 10 {
		t.Fatalf("%d customers, want 10", len(custs))
	}
	ids := map[string]bool{}
	var oldestKept int64 = 1 << 62
	for _, c := range custs {
		ids[c.ID] = true
		oldestKept = min(oldestKept, *c.CreatedAt)
	}
	for _, s := range subs {
		if !ids[s.CustomerID] {
			t.Errorf("subscription %s of a customer not kept", s.ID)
		}
	}
	// Nobody left out is newer than the oldest kept.
	r = cb2ac(t, "--data-dir", data, "--log-level", "warn", "extract", "--in", "fixtures/chargebee", "--run-id", "20261121T020000Z")
	full, _ := schemas.Customers.ReadFile(filepath.Join(data, "runs", "20261121T020000Z", "extract", "customers.parquet"))
	for _, c := range full {
		if !ids[c.ID] && c.CreatedAt != nil && *c.CreatedAt > oldestKept {
			t.Errorf("customer %s (created %d) is newer than a kept one but was left out", c.ID, *c.CreatedAt)
		}
	}
}

func TestOnErrorFail(t *testing.T) {
	data := t.TempDir()
	r := cb2ac(t, "--data-dir", data, "--log-level", "warn", "run", "--in", "fixtures/chargebee", "--on-error", "fail", "--run-id", fixedRun)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "errors.csv") {
		t.Errorf("stderr does not point at errors.csv: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "runs", fixedRun, "validate", "errors.csv")); err != nil {
		t.Error("errors.csv not written in strict mode")
	}
	r = cb2ac(t, "--data-dir", data, "transform", "--run-id", fixedRun)
	if r.code != 1 || !strings.Contains(r.stderr, "did not succeed") {
		t.Errorf("transform after a failed validate: exit %d, %s", r.code, r.stderr)
	}
}

func TestBadInput(t *testing.T) {
	pages := func(t *testing.T, edit func(dir string)) string {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS("fixtures/chargebee")); err != nil {
			t.Fatal(err)
		}
		edit(dir)
		return dir
	}
	truncated := pages(t, func(dir string) {
		p := filepath.Join(dir, "subscriptions", "page-002.json")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)/2], 0o644)
	})
	notList := pages(t, func(dir string) {
		os.WriteFile(filepath.Join(dir, "invoices", "page-003.json"), []byte(`{"invoices":[{"id":"x"}]}`), 0o644)
	})
	array := pages(t, func(dir string) {
		os.WriteFile(filepath.Join(dir, "customers", "page-001.json"), []byte(`[{"customer":{"id":"x"}}]`), 0o644)
	})
	cases := []struct {
		name, in, want string
	}{
		{"truncated page", truncated, filepath.Join(truncated, "subscriptions", "page-002.json") + ": truncated JSON"},
		{"not a list envelope", notList, filepath.Join(notList, "invoices", "page-003.json") + `: not a Chargebee list page: no "list" array`},
		{"array document", array, filepath.Join(array, "customers", "page-001.json") + ": not a Chargebee list page"},
		{"missing folder", "/nonexistent/pages", "/nonexistent/pages"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			r := cb2ac(t, "--data-dir", data, "--log-level", "error", "run", "--in", tc.in, "--run-id", fixedRun)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			last := lastLine(r.stderr)
			if !strings.Contains(last, tc.want) || !strings.HasPrefix(last, "cb2ac: ") {
				t.Errorf("error line %q does not contain %q", last, tc.want)
			}
			// Nothing a later stage would read: the manifest (if any) says failed.
			if m, err := os.ReadFile(filepath.Join(data, "runs", fixedRun, "manifest.json")); err == nil && !bytes.Contains(m, []byte(`"status": "failed"`)) {
				t.Errorf("manifest after failure: %s", m)
			}
			if r := cb2ac(t, "--data-dir", data, "validate", "--run-id", fixedRun); r.code == 0 {
				t.Error("validate accepted the failed extract")
			}
		})
	}

	t.Run("corrupted parquet input", func(t *testing.T) {
		data := t.TempDir()
		if r := cb2ac(t, "--data-dir", data, "--log-level", "error", "extract", "--in", "fixtures/chargebee", "--run-id", fixedRun); r.code != 0 {
			t.Fatal(r.stderr)
		}
		p := filepath.Join(data, "runs", fixedRun, "extract", "subscriptions.parquet")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-100], 0o600)
		r := cb2ac(t, "--data-dir", data, "--log-level", "error", "validate", "--run-id", fixedRun)
		if last := lastLine(r.stderr); r.code != 1 || !strings.HasPrefix(last, "cb2ac: ") || !strings.Contains(last, p) {
			t.Fatalf("exit %d, stderr %q: want exit 1 and an error line naming %s", r.code, r.stderr, p)
		}
		if r := cb2ac(t, "--data-dir", data, "transform", "--run-id", fixedRun); r.code != 1 {
			t.Error("transform ran on a failed validate")
		}
	})

	t.Run("wrong schema as input", func(t *testing.T) {
		data := t.TempDir()
		if r := cb2ac(t, "--data-dir", data, "--log-level", "error", "extract", "--in", "fixtures/chargebee", "--run-id", fixedRun); r.code != 0 {
			t.Fatal(r.stderr)
		}
		dir := filepath.Join(data, "runs", fixedRun, "extract")
		b, _ := os.ReadFile(filepath.Join(dir, "invoices.parquet"))
		os.WriteFile(filepath.Join(dir, "customers.parquet"), b, 0o600)
		r := cb2ac(t, "--data-dir", data, "--log-level", "error", "validate", "--run-id", fixedRun)
		if r.code != 1 || !strings.Contains(r.stderr, "customers.parquet is not the file the extract stage wrote") {
			t.Fatalf("replaced file: exit %d: %s", r.code, r.stderr)
		}
		// A manifest rewritten to match (its checksums agree) still meets the
		// readers' own schema check.
		mp := filepath.Join(data, "runs", fixedRun, "manifest.json")
		var m pipeline.Manifest
		if b, err := os.ReadFile(mp); err != nil || json.Unmarshal(b, &m) != nil {
			t.Fatalf("manifest: %v", err)
		}
		files, err := pipeline.DescribeFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		m.Stages[pipeline.StageExtract].Files = files
		mb, _ := json.Marshal(&m)
		os.WriteFile(mp, mb, 0o600)
		r = cb2ac(t, "--data-dir", data, "--log-level", "error", "validate", "--run-id", fixedRun)
		if r.code != 1 || !strings.Contains(r.stderr, `customers.parquet: holds schema "invoice", want "customer"`) {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
}

func TestInspectCommand(t *testing.T) {
	data := t.TempDir()
	if r := cb2ac(t, "--data-dir", data, "--log-level", "warn", "run", "--in", "fixtures/chargebee", "--run-id", fixedRun); r.code != 0 {
		t.Fatal(r.stderr)
	}
	p := filepath.Join(data, "runs", fixedRun, "transform", "recurring_payments.parquet")
	// The README's order: flags after the file.
	r := cb2ac(t, "inspect", p, "--format", "json", "--limit", "2")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	var doc struct {
		Schema struct {
			Name    string `json:"name"`
			Version int    `json:"version"`
		} `json:"schema"`
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if doc.Schema.Name != "recurring_payment" || len(doc.Rows) != 2 || doc.Rows[0]["storeRecurringPaymentId"] == nil {
		t.Errorf("inspect json: %+v", doc)
	}
	if r := cb2ac(t, "inspect", p, "-n", "1", "--format=csv"); r.code != 0 || strings.Count(strings.TrimSpace(r.stdout), "\n") != 1 {
		t.Errorf("inspect FILE -n 1 --format=csv: exit %d, want a header and one row:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cb2ac(t, "inspect", filepath.Join(data, "nope.parquet")); r.code != 1 || !strings.Contains(r.stderr, "nope.parquet") {
		t.Errorf("inspect of a missing file: exit %d %s", r.code, r.stderr)
	}
}

// lastLine is the error line main prints last; log lines (if any) come before it.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// killAtStall starts cmd and SIGKILLs it once stalled closes (a sandbox hook holds
// the process at its kill point), after settle; the command ending first, or no kill
// point within limit, fails t.
func killAtStall(t *testing.T, cmd *exec.Cmd, out, errb *bytes.Buffer, stalled <-chan struct{}, settle, limit time.Duration) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-stalled:
		time.Sleep(settle)
		cmd.Process.Kill()
		<-exited
	case err := <-exited:
		t.Fatalf("the command ended (%v) before the kill point\n%s\n%s", err, out, errb)
	case <-time.After(limit):
		cmd.Process.Kill()
		t.Fatal("the kill point never came")
	}
}
