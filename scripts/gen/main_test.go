package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/cb2ac/cb2ac/pipeline"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/validate"
)

const testCustomers = 500

func mustGenerate(t *testing.T, o options) *result {
	t.Helper()
	if o.customers == 0 {
		o.customers = testCustomers
	}
	if o.seed == 0 {
		o.seed = 7
	}
	if o.pageSize == 0 {
		o.pageSize = 100
	}
	res, err := generate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The pages, read by the extract stage's pages source, and the snapshot hold the
// same records: the two formats are one data set.
func TestPagesAndSnapshotAgree(t *testing.T) {
	dir := t.TempDir()
	pages := filepath.Join(dir, "pages")
	mustGenerate(t, options{format: formatPages, out: pages})
	res := mustGenerate(t, options{format: formatSnapshot, out: filepath.Join(dir, "runs", "20261120T020000Z", "extract")})

	fromPages, err := extract.ReadPages(context.Background(), pages)
	if err != nil {
		t.Fatal(err)
	}
	fromSnap, err := extract.ReadSnapshot(res.extractDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromPages.Customers) < testCustomers || len(fromPages.Subscriptions) < testCustomers || len(fromPages.Invoices) < testCustomers*9/10 {
		t.Fatalf("pages hold %d customers, %d subscriptions, %d invoices; want at least %d, %d, %d",
			len(fromPages.Customers), len(fromPages.Subscriptions), len(fromPages.Invoices), testCustomers, testCustomers, testCustomers*9/10)
	}
	if len(fromPages.Gifts) == 0 || len(fromPages.ItemPrices) != len(catalog) {
		t.Fatalf("pages hold %d gifts and %d item prices; want some and %d", len(fromPages.Gifts), len(fromPages.ItemPrices), len(catalog))
	}
	equal(t, "customers", fromPages.Customers, fromSnap.Customers)
	equal(t, "subscriptions", fromPages.Subscriptions, fromSnap.Subscriptions)
	equal(t, "invoices", fromPages.Invoices, fromSnap.Invoices)
	equal(t, "item_prices", fromPages.ItemPrices, fromSnap.ItemPrices)
	equal(t, "gifts", fromPages.Gifts, fromSnap.Gifts)
	if len(fromPages.PaymentSources) < testCustomers*8/10 || len(fromPages.CreditNotes) == 0 ||
		len(fromPages.Items) == 0 || len(fromPages.Plans) == 0 || len(fromPages.Addons) == 0 {
		t.Fatalf("pages hold %d payment sources, %d credit notes, %d items, %d plans, %d addons; want most customers' and some of each",
			len(fromPages.PaymentSources), len(fromPages.CreditNotes), len(fromPages.Items), len(fromPages.Plans), len(fromPages.Addons))
	}
	equal(t, "payment_sources", fromPages.PaymentSources, fromSnap.PaymentSources)
	equal(t, "credit_notes", fromPages.CreditNotes, fromSnap.CreditNotes)
	equal(t, "items", fromPages.Items, fromSnap.Items)
	equal(t, "plans", fromPages.Plans, fromSnap.Plans)
	equal(t, "addons", fromPages.Addons, fromSnap.Addons)
}

func equal[T any](t *testing.T, entity string, a, b []T) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: pages give %d records, the snapshot %d", entity, len(a), len(b))
		return
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Errorf("%s[%d] differs:\npages    %+v\nsnapshot %+v", entity, i, a[i], b[i])
			return
		}
	}
}

// The snapshot is accepted by `cb2ac validate --in` (the pipeline's own path: input
// check, manifest, stage), and every rejection code of README "Validation rules" shows up.
func TestSnapshotValidates(t *testing.T) {
	dir := t.TempDir()
	res := mustGenerate(t, options{format: formatSnapshot, out: filepath.Join(dir, "snap")})
	if want := filepath.Join(dir, "snap", "extract"); res.extractDir != want {
		t.Fatalf("extract folder %s, want %s", res.extractDir, want)
	}
	cfg, err := pipeline.LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = filepath.Join(dir, "data")
	p := pipeline.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	run, err := p.Validate(context.Background(), pipeline.StageRequest{In: res.extractDir})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := schemas.ReadCSV[schemas.ValidationError](filepath.Join(run.StageDir(pipeline.StageValidate), validate.ErrorsFile))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	for _, r := range rows {
		codes[r.Code]++
	}
	for _, c := range []string{validate.MissingEmail, validate.InvalidEmail, validate.NoSubscription, validate.DuplicateEmail,
		validate.DuplicateID, validate.UnknownStatus, validate.BadAmount, validate.BadDate, validate.UnknownCurrency} {
		if codes[c] == 0 {
			t.Errorf("no %s error in errors.csv (codes: %v)", c, codes)
		}
	}
	m, err := run.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	counts := m.Stages[pipeline.StageValidate].Counts
	if in, out := counts["customers_in"], counts["customers"]; out >= in || out < in*9/10 {
		t.Errorf("validate kept %d of %d customers; want most, not all", out, in)
	}
}

// Pages look like fixtures/chargebee: what genfixtures writes with encoding/json
// (sorted keys, HTML unescaped, two-space indent) is byte for byte what we write.
func TestPagesLayout(t *testing.T) {
	dir := t.TempDir()
	mustGenerate(t, options{format: formatPages, out: dir, pageSize: 20})
	files, err := filepath.Glob(filepath.Join(dir, "*", "page-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("only %d pages", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Fatalf("%s is not laid out as encoding/json would (keys unsorted?)", f)
		}
		entries := len(v.(map[string]any)["list"].([]any))
		_, more := v.(map[string]any)["next_offset"]
		if entries > 20 || more && entries != 20 {
			t.Fatalf("%s: %d entries, next_offset %v", f, entries, more)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "customers", "page-001.json")); err != nil {
		t.Errorf("pages are not numbered like the fixtures': %v", err)
	}
}

// The same flags give the same bytes, in every format; another seed gives others.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []options{
		{format: formatPages},
		{format: formatPages, compact: true, day2: 0.05},
		{format: formatSnapshot},
		{format: formatSnapshot, day2: 0.05},
	} {
		a, b := o, o
		a.out, b.out = filepath.Join(dir, "a"), filepath.Join(dir, "b")
		mustGenerate(t, a)
		mustGenerate(t, b)
		ha, hb := hashTree(t, a.out), hashTree(t, b.out)
		if len(ha) == 0 || !sameFiles(ha, hb) {
			t.Errorf("%+v: two runs differ:\n%v\n%v", o, ha, hb)
		}
		c := o
		c.out, c.seed = filepath.Join(dir, "c"), 8
		mustGenerate(t, c)
		if hc := hashTree(t, c.out); sameFiles(ha, hc) {
			t.Errorf("%+v: seeds 7 and 8 give the same files", o)
		}
		for _, d := range []string{a.out, b.out, c.out} {
			if err := os.RemoveAll(d); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func sameFiles(a, b map[string][32]byte) bool { return reflect.DeepEqual(a, b) }

func hashTree(t *testing.T, root string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Day 2: day 1's pages with the change set applied by id (what the Chargebee
// sandbox serves after Apply, and what an incremental extract merges to) are the
// day-2 snapshot; the change set is in updated_at order and about the asked
// fraction of the site.
func TestDay2(t *testing.T) {
	const n, frac = 2000, 0.05
	dir := t.TempDir()
	mustGenerate(t, options{customers: n, format: formatPages, out: filepath.Join(dir, "day1")})
	mustGenerate(t, options{customers: n, format: formatPages, out: filepath.Join(dir, "day2"), day2: frac})
	res := mustGenerate(t, options{customers: n, format: formatSnapshot, out: filepath.Join(dir, "snap2"), day2: frac})

	d1, err := extract.ReadPages(context.Background(), filepath.Join(dir, "day1"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := extract.ReadPages(context.Background(), filepath.Join(dir, "day2"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := extract.ReadSnapshot(res.extractDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.ItemPrices) != 0 || len(cs.Gifts) != 0 {
		t.Errorf("change set holds %d item prices and %d gifts; want none", len(cs.ItemPrices), len(cs.Gifts))
	}
	id := func(c *schemas.Customer) string { return c.ID }
	merged(t, "customers", d1.Customers, cs.Customers, s2.Customers, id)
	merged(t, "subscriptions", d1.Subscriptions, cs.Subscriptions, s2.Subscriptions, func(s *schemas.Subscription) string { return s.ID })
	merged(t, "invoices", d1.Invoices, cs.Invoices, s2.Invoices, func(v *schemas.Invoice) string { return v.ID })

	changed := func(k int, want float64) {
		if lo, hi := want*0.6, want*1.6+10; float64(k) < lo || float64(k) > hi {
			t.Errorf("%d changed, want about %.0f", k, want)
		}
	}
	changed(len(cs.Customers), frac*n*1.1)
	changed(len(cs.Subscriptions), frac*float64(len(d1.Subscriptions))*1.1)
	for i := 1; i < len(cs.Customers); i++ {
		if *cs.Customers[i].UpdatedAt < *cs.Customers[i-1].UpdatedAt {
			t.Fatalf("change set not in updated_at order at customer %d", i)
		}
	}
	var deleted, emails int
	old := map[string]string{}
	for _, c := range d1.Customers {
		old[c.ID] = c.Email
	}
	for _, c := range cs.Customers {
		if *c.UpdatedAt <= day1Now || c.ResourceVersion <= *c.UpdatedAt*1000 {
			t.Errorf("customer %s: updated_at %d / resource_version %d not on day 2", c.ID, *c.UpdatedAt, c.ResourceVersion)
		}
		if c.Deleted {
			deleted++
		}
		if e, ok := old[c.ID]; ok && e != c.Email {
			emails++
		}
	}
	if deleted == 0 || emails == 0 || len(cs.Customers) <= deleted+emails {
		t.Errorf("change set: %d customers, %d deleted, %d email changes; want some of each and other edits", len(cs.Customers), deleted, emails)
	}
}

// merged applies the change set to day 1 by id and compares with day 2's snapshot.
func merged[T any](t *testing.T, entity string, day1, changes, day2 []T, id func(*T) string) {
	t.Helper()
	want := map[string][]T{}
	for i := range day1 {
		want[id(&day1[i])] = append(want[id(&day1[i])], day1[i])
	}
	var added int
	for i := range changes {
		if _, ok := want[id(&changes[i])]; !ok {
			added++
		}
		want[id(&changes[i])] = []T{changes[i]}
	}
	got := map[string][]T{}
	for i := range day2 {
		got[id(&day2[i])] = append(got[id(&day2[i])], day2[i])
	}
	if len(got) != len(want) {
		t.Errorf("%s: day 1 + changes has %d ids, the day-2 snapshot %d", entity, len(want), len(got))
	}
	if added == 0 {
		t.Errorf("%s: the change set adds nothing new", entity)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		if !reflect.DeepEqual(want[k], got[k]) {
			t.Errorf("%s %s: day 1 + changes\n%+v\nday-2 snapshot\n%+v", entity, k, want[k], got[k])
			return
		}
	}
}

func TestDay2Flag(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		err  bool
	}{{"true", 0.01, false}, {"0.05", 0.05, false}, {"false", 0, false}, {"0", 0, true}, {"2", 0, true}, {"x", 0, true}} {
		var d day2Flag
		err := d.Set(c.in)
		if (err != nil) != c.err || err == nil && d.f != c.want {
			t.Errorf("Set(%q) = %v, %v; want %v (error %v)", c.in, d.f, err, c.want, c.err)
		}
	}
}
