package cli

// End-to-end tests of `extract --source chargebee` through the built binary,
// against an in-process Chargebee sandbox on 127.0.0.1.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/pipeline"
	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
)

const (
	day1Pages = "fixtures/chargebee"
	day2Pages = "fixtures/chargebee-day2"
	// Overlap in seconds, as the extract applies it to the watermark.
	overlapSec = int64(extract.Overlap / time.Second)
)

// cbSite is a sandbox Chargebee site with its own key, and a data dir to run
// cb2ac against it.
type cbSite struct {
	srv  *cbsandbox.Server
	url  string
	key  string
	data string
	// secrets must appear in no file of data and in no output line.
	secrets []string
}

func newSite(t *testing.T) *cbSite {
	t.Helper()
	s := &cbSite{key: "cbtest_" + randHex(), data: t.TempDir()}
	srv, err := cbsandbox.New(cbsandbox.Options{APIKey: s.key, Pages: day1Pages})
	if err != nil {
		t.Fatal(err)
	}
	if s.url, err = srv.Start(); err != nil {
		t.Fatal(err)
	}
	s.srv = srv
	s.secrets = []string{s.key}
	t.Cleanup(func() {
		srv.Close()
		assertNoSecret(t, s.data, s.secrets)
	})
	return s
}

func randHex() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// cb2acEnv runs the binary with only the given Chargebee/AC environment: nothing
// the developer has set leaks in, so no test can reach a real account.
// run runs cb2ac against the site with its key (or key, when given), and checks
// that no secret shows in the output.
func (s *cbSite) run(t *testing.T, key string, args ...string) result {
	t.Helper()
	if key == "" {
		key = s.key
	}
	env := []string{"CHARGEBEE_API_URL=" + s.url, "CHARGEBEE_API_KEY=" + key}
	r := cb2acEnv(t, env, append([]string{"--data-dir", s.data}, args...)...)
	for _, sec := range append(slices.Clone(s.secrets), key) {
		for _, form := range secretForms(sec) {
			if strings.Contains(r.stdout, form) || strings.Contains(r.stderr, form) {
				t.Errorf("cb2ac %v printed the API key", args)
			}
		}
	}
	return r
}

// extract runs an API extract into runID with the client rate limit off (the
// sandbox has none) and fails the test unless it succeeds.
func (s *cbSite) extract(t *testing.T, runID string, extra ...string) result {
	t.Helper()
	args := append([]string{"extract", "--source", "chargebee", "--rate-limit=-1", "--run-id", runID}, extra...)
	r := s.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("extract %s: exit %d\nstdout:%s\nstderr:%s", runID, r.code, r.stdout, r.stderr)
	}
	return r
}

func (s *cbSite) extractDir(runID string) string {
	return filepath.Join(s.data, "runs", runID, "extract")
}

func (s *cbSite) state(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(pipeline.StatePath(s.data))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

func (s *cbSite) watermark(t *testing.T) pipeline.ExtractState {
	t.Helper()
	st, err := pipeline.LoadState(s.data)
	if err != nil {
		t.Fatal(err)
	}
	return st.Extract
}

// secretForms are the ways a key could leak: as is, and as the Basic auth header
// carries it (base64 of "key:" and of "key").
func secretForms(key string) []string {
	return []string{
		key,
		base64.StdEncoding.EncodeToString([]byte(key + ":")),
		base64.StdEncoding.EncodeToString([]byte(key)),
	}
}

// assertNoSecret greps every file under dir.
func assertNoSecret(t *testing.T, dir string, secrets []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, sec := range secrets {
			for _, form := range secretForms(sec) {
				if bytes.Contains(b, []byte(form)) {
					t.Errorf("%s holds the API key", path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if files == 0 && !t.Failed() {
		t.Errorf("no file under %s to grep", dir)
	}
}

// sameSnapshot compares two extract folders file for file and row for row.
func sameSnapshot(t *testing.T, gotDir, wantDir string) {
	t.Helper()
	names := func(dir string) []string {
		m, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	if g, w := names(gotDir), names(wantDir); !slices.Equal(g, w) || len(g) != 10 {
		t.Fatalf("parquet files %v, want %v (10)", g, w)
	}
	compareFile(t, gotDir, wantDir, "customers.parquet", schemas.Customers, func(r schemas.Customer) string { return r.ID })
	compareFile(t, gotDir, wantDir, "subscriptions.parquet", schemas.Subscriptions, func(r schemas.Subscription) string { return r.ID })
	compareFile(t, gotDir, wantDir, "invoices.parquet", schemas.Invoices, func(r schemas.Invoice) string { return r.ID })
	// A pages folder is read in its files' order: the API's default order, newest
	// first for item prices and items, where an API read writes canonical order.
	compareSorted(t, gotDir, wantDir, "item_prices.parquet", schemas.ItemPrices, func(r schemas.ItemPrice) string { return r.ID })
	compareFile(t, gotDir, wantDir, "gifts.parquet", schemas.Gifts, func(r schemas.Gift) string { return r.ID })
	// The lists the fixtures may lack (read since format 2).
	compareFiles(t, gotDir, wantDir, "credit_notes.parquet", schemas.CreditNotes, func(r schemas.CreditNote) string { return r.ID }, true)
	compareFiles(t, gotDir, wantDir, "payment_sources.parquet", schemas.PaymentSources, func(r schemas.PaymentSource) string { return r.ID }, true)
	compareSorted(t, gotDir, wantDir, "items.parquet", schemas.CatalogItems, func(r schemas.CatalogItem) string { return r.ID })
	compareFiles(t, gotDir, wantDir, "plans.parquet", schemas.CatalogPlans, func(r schemas.CatalogPlan) string { return r.ID }, true)
	compareFiles(t, gotDir, wantDir, "addons.parquet", schemas.CatalogAddons, func(r schemas.CatalogPlan) string { return r.ID }, true)
}

func compareFile[T any](t *testing.T, gotDir, wantDir, name string, tb *schemas.Table[T], id func(T) string) {
	t.Helper()
	compareFiles(t, gotDir, wantDir, name, tb, id, false)
}

// compareSorted is compareFile with both files' rows put in id order first.
func compareSorted[T any](t *testing.T, gotDir, wantDir, name string, tb *schemas.Table[T], id func(T) string) {
	t.Helper()
	sorted := t.TempDir()
	for _, d := range []struct{ from, to string }{{gotDir, filepath.Join(sorted, "got")}, {wantDir, filepath.Join(sorted, "want")}} {
		rows, err := tb.ReadFile(filepath.Join(d.from, name))
		if err != nil {
			t.Fatal(err)
		}
		slices.SortStableFunc(rows, func(a, b T) int { return strings.Compare(id(a), id(b)) })
		if err := os.MkdirAll(d.to, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := tb.WriteFile(filepath.Join(d.to, name), rows); err != nil {
			t.Fatal(err)
		}
	}
	compareFiles(t, filepath.Join(sorted, "got"), filepath.Join(sorted, "want"), name, tb, id, false)
}

// compareFiles is compareFile; mayBeEmpty accepts an empty reference (a list the
// fixtures may not have: the other product catalog's, say).
func compareFiles[T any](t *testing.T, gotDir, wantDir, name string, tb *schemas.Table[T], id func(T) string, mayBeEmpty bool) {
	t.Helper()
	got, err := tb.ReadFile(filepath.Join(gotDir, name))
	if err != nil {
		t.Fatal(err)
	}
	want, err := tb.ReadFile(filepath.Join(wantDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 && !mayBeEmpty {
		t.Fatalf("%s: the reference snapshot is empty", name)
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", name, len(got), len(want))
	}
	diffs := 0
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			if diffs++; diffs <= 3 {
				t.Errorf("%s row %d: %s differs from %s\n got: %s\nwant: %s", name, i, id(got[i]), id(want[i]), asJSON(got[i]), asJSON(want[i]))
			}
		}
	}
	if diffs > 3 {
		t.Errorf("%s: %d rows differ", name, diffs)
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// fixtureObject is what the request-count checks need of a list entry.
type fixtureObject struct {
	ID        string `json:"id"`
	UpdatedAt int64  `json:"updated_at"`
	Deleted   bool   `json:"deleted"`
}

var entryKind = map[string]string{
	"customers": "customer", "subscriptions": "subscription", "invoices": "invoice",
	"item_prices": "item_price", "gifts": "gift", "credit_notes": "credit_note",
	"payment_sources": "payment_source", "items": "item", "plans": "plan", "addons": "addon",
}

// siteState reads the objects of pages folders, each laid over the previous by id:
// what the sandbox holds after Apply, computed without it.
func siteState(t *testing.T, dirs ...string) map[string][]fixtureObject {
	t.Helper()
	out := map[string][]fixtureObject{}
	for entity, kind := range entryKind {
		var objs []fixtureObject
		for _, dir := range dirs {
			files, _ := filepath.Glob(filepath.Join(dir, entity, "*.json"))
			slices.Sort(files)
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var page struct {
					List []map[string]fixtureObject `json:"list"`
				}
				if err := json.Unmarshal(b, &page); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				for _, e := range page.List {
					o := e[kind]
					if i := slices.IndexFunc(objs, func(x fixtureObject) bool { return x.ID == o.ID }); i >= 0 && dir != dirs[0] {
						objs[i] = o
						objs = append(objs[:i+1], slices.DeleteFunc(objs[i+1:], func(x fixtureObject) bool { return x.ID == o.ID })...)
						continue
					}
					objs = append(objs, o)
				}
			}
		}
		out[entity] = objs
	}
	return out
}

func maxUpdated(state map[string][]fixtureObject) int64 {
	var m int64
	for _, objs := range state {
		for _, o := range objs {
			m = max(m, o.UpdatedAt)
		}
	}
	return m
}

// pagesOf is the number of list requests a read of n entries takes at 100 a page
// (an empty list is one request).
func pagesOf(n int) int { return max(1, (n+99)/100) }

// endpoints the extract reads, and what each accepts (chargebee.Endpoints).
var endpoints = []struct {
	entity          string
	updatedAtFilter bool
	includeDeleted  bool
	sortByUpdated   bool
}{
	{"customers", true, true, true},
	{"subscriptions", true, true, true},
	{"invoices", true, true, true},
	{"credit_notes", true, true, false},
	{"payment_sources", true, true, true},
	{"item_prices", true, false, true},
	{"items", true, false, true},
	{"plans", true, true, false},
	{"addons", true, true, false},
	{"gifts", false, false, false},
}

// withoutCheck drops the first request, which must be the set-up check's probe that
// `run` sends before its extract (customers, limit=1), and returns the extract's.
func withoutCheck(t *testing.T, reqs []cbsandbox.Request) []cbsandbox.Request {
	t.Helper()
	if len(reqs) == 0 || reqs[0].Entity != "customers" || reqs[0].Query.Encode() != "limit=1" {
		t.Errorf("run's first Chargebee request is not the check's probe (customers?limit=1): %+v", reqs[:min(1, len(reqs))])
		return reqs
	}
	return reqs[1:]
}

func byEntity(reqs []cbsandbox.Request) map[string][]cbsandbox.Request {
	out := map[string][]cbsandbox.Request{}
	for _, r := range reqs {
		out[r.Entity] = append(out[r.Entity], r)
	}
	return out
}

// assertFullRead checks that every list was read in full: no updated_at filter
// and no updated_at sort at all (a "full" read with updated_at[after]=0 is
// what lost a peer's connector records), every page once.
func assertFullRead(t *testing.T, reqs []cbsandbox.Request, state map[string][]fixtureObject) {
	t.Helper()
	got := byEntity(reqs)
	for _, ep := range endpoints {
		rs := got[ep.entity]
		if len(rs) != pagesOf(len(state[ep.entity])) {
			t.Errorf("%s: %d requests for %d objects, want %d", ep.entity, len(rs), len(state[ep.entity]), pagesOf(len(state[ep.entity])))
		}
		records := 0
		for _, r := range rs {
			for name := range r.Query {
				if strings.HasPrefix(name, "updated_at") || strings.HasPrefix(name, "sort_by") {
					t.Errorf("%s: full read sent %s=%s", ep.entity, name, r.Query.Get(name))
				}
			}
			if r.Query.Get("limit") != "100" || (r.Query.Get("include_deleted") == "true") != ep.includeDeleted {
				t.Errorf("%s: query %v", ep.entity, r.Query)
			}
			records += r.Records
		}
		if records != len(state[ep.entity]) {
			t.Errorf("%s: %d records served, the site has %d", ep.entity, records, len(state[ep.entity]))
		}
	}
}

func TestExtractChargebeeMatchesPages(t *testing.T) {
	s := newSite(t)
	const apiRun, pagesRun = "20261120T020000Z", "20261120T020001Z"
	r := s.extract(t, apiRun, "--csv")

	// A first read of a site is a full one: nothing to merge into.
	assertFullRead(t, s.srv.Requests(), siteState(t, day1Pages))

	if r := cb2ac(t, "--data-dir", s.data, "--log-level", "warn", "extract", "--source", "pages", "--in", day1Pages, "--run-id", pagesRun); r.code != 0 {
		t.Fatalf("pages extract: exit %d: %s", r.code, r.stderr)
	}
	sameSnapshot(t, s.extractDir(apiRun), s.extractDir(pagesRun))

	// One summary line per list, on stdout; no live progress in a pipe.
	for _, ep := range endpoints {
		n := len(byEntity(s.srv.Requests())[ep.entity])
		want := fmt.Sprintf("chargebee %-15s requests=%d pages=%d", ep.entity, n, n)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout has no summary line %q:\n%s", want, r.stdout)
		}
	}
	if strings.ContainsAny(r.stderr, "\r\x1b") {
		t.Errorf("live progress written to a pipe: %q", r.stderr)
	}

	m := readManifest(t, filepath.Join(s.data, "runs", apiRun))
	rec := m.Stages["extract"]
	if rec.Status != pipeline.StatusSucceeded || len(rec.Inputs) != 1 || rec.Inputs[0].Dir != s.url {
		t.Errorf("manifest extract: %+v", rec)
	}
	if rec.Counts["api.requests"] != int64(len(s.srv.Requests())) || rec.Counts[extract.CountIncremental] != 0 {
		t.Errorf("manifest counts %v; the sandbox saw %d requests", rec.Counts, len(s.srv.Requests()))
	}
	// An extract alone is not a whole run: the watermark stays where it was.
	if st := s.state(t); st != nil {
		t.Errorf("extract alone wrote state.json: %s", st)
	}
}

func TestExtractChargebeeIncremental(t *testing.T) {
	s := newSite(t)
	// The key from a file this time (CHARGEBEE_API_KEY_FILE).
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(s.key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runWithKeyFile := func(args ...string) result {
		t.Helper()
		env := []string{"CHARGEBEE_API_URL=" + s.url, "CHARGEBEE_API_KEY_FILE=" + keyFile}
		r := cb2acEnv(t, env, append([]string{"--data-dir", s.data, "--log-level", "debug"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\nstdout:%s\nstderr:%s", args, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, s.key) {
			t.Errorf("%v printed the key", args)
		}
		return r
	}

	// Night 1: a whole run (no AC configured: it ends after transform) advances
	// the watermark to the largest updated_at read.
	day1 := siteState(t, day1Pages)
	const run1, run2, full2, since2 = "20261120T020000Z", "20261121T020000Z", "20261121T030000Z", "20261121T040000Z"
	r := runWithKeyFile("run", "--source", "chargebee", "--rate-limit=-1", "--run-id", run1)
	if !strings.Contains(r.stdout, "load      skip") {
		t.Fatalf("run without AC should skip the load:\n%s", r.stdout)
	}
	assertFullRead(t, withoutCheck(t, s.srv.Requests()), day1)
	wm1 := s.watermark(t)
	if wm1.RunID != run1 || wm1.Watermark != maxUpdated(day1) || wm1.Site != s.url {
		t.Fatalf("state after night 1: %+v, want run %s watermark %d site %s", wm1, run1, maxUpdated(day1), s.url)
	}

	// Day 2 changes on the site; night 2 reads only what changed.
	if err := s.srv.Apply(day2Pages); err != nil {
		t.Fatal(err)
	}
	s.srv.ResetRequests()
	r = runWithKeyFile("run", "--source", "chargebee", "--rate-limit=-1", "--run-id", run2)
	state2 := siteState(t, day1Pages, day2Pages)
	reqs := byEntity(withoutCheck(t, s.srv.Requests()))
	total := 0
	for _, ep := range endpoints {
		rs := reqs[ep.entity]
		total += len(rs)
		// Each list from its own watermark; gifts (no updated_at filter, the API
		// documents none) and lists without a watermark (read empty) are read whole.
		wm, ok := wm1.Lists[ep.entity]
		if !ep.updatedAtFilter || !ok {
			if len(rs) != pagesOf(len(state2[ep.entity])) || len(rs) > 0 && rs[0].Query.Has("updated_at[after]") {
				t.Errorf("%s: %d requests %v", ep.entity, len(rs), rs)
			}
			continue
		}
		after := wm - overlapSec
		changed := 0
		for _, o := range state2[ep.entity] {
			if o.UpdatedAt > after {
				changed++
			}
		}
		records := 0
		for _, req := range rs {
			if req.Query.Get("updated_at[after]") != strconv.FormatInt(after, 10) || (req.Query.Get("sort_by[asc]") == "updated_at") != ep.sortByUpdated ||
				(req.Query.Get("include_deleted") == "true") != ep.includeDeleted {
				t.Errorf("%s: incremental query %v, want updated_at[after]=%d, sorted by updated_at: %v", ep.entity, req.Query, after, ep.sortByUpdated)
			}
			records += req.Records
		}
		if len(rs) != pagesOf(changed) || records != changed {
			t.Errorf("%s: %d requests, %d records; want %d requests for the %d objects changed after %d", ep.entity, len(rs), records, pagesOf(changed), changed, after)
		}
		if len(state2[ep.entity]) > 100 && len(rs) >= pagesOf(len(state2[ep.entity])) {
			t.Errorf("%s: the incremental read took as many pages as a full one", ep.entity)
		}
	}
	if r := s.watermark(t); r.RunID != run2 || r.Watermark != maxUpdated(state2) {
		t.Errorf("state after night 2: %+v, want run %s watermark %d", r, run2, maxUpdated(state2))
	}
	if m := readManifest(t, filepath.Join(s.data, "runs", run2)).Stages["extract"]; m.Counts[extract.CountIncremental] != 1 || m.Counts["api.requests"] != int64(total) {
		t.Errorf("night 2 manifest counts %v", m.Counts)
	}

	// The merged snapshot is what a full read of the day-2 state gives, row for row.
	stateBefore := s.state(t)
	s.srv.ResetRequests()
	s.extract(t, full2, "--full")
	assertFullRead(t, s.srv.Requests(), state2)
	sameSnapshot(t, s.extractDir(run2), s.extractDir(full2))
	if !bytes.Equal(s.state(t), stateBefore) {
		t.Error("an extract alone moved the watermark")
	}
	custs, err := schemas.Customers.ReadFile(filepath.Join(s.extractDir(run2), "customers.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var sawDeleted, sawEmail bool
	for _, c := range custs {
		sawDeleted = sawDeleted || (c.ID == "cus_0005" && c.Deleted)
		sawEmail = sawEmail || (c.ID == "cus_0039" && c.Email == "h.weber@example.net")
	}
	if !sawDeleted || !sawEmail {
		t.Errorf("merged snapshot lacks day 2: cus_0005 deleted=%v, cus_0039 new email=%v", sawDeleted, sawEmail)
	}

	// --since replaces the watermark of every list that has one (less the same
	// overlap); the merge base is still the last successful run's extract. Gifts
	// and the lists without a watermark (read empty) are read whole.
	s.srv.ResetRequests()
	since := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	lists := s.watermark(t).Lists
	s.extract(t, since2, "--since", since.Format(time.RFC3339))
	for _, req := range s.srv.Requests() {
		if _, ok := lists[req.Entity]; !ok {
			if req.Query.Has("updated_at[after]") {
				t.Errorf("--since: %s has no watermark but asked %v", req.Entity, req.Query)
			}
			continue
		}
		if got := req.Query.Get("updated_at[after]"); got != strconv.FormatInt(since.Unix()-overlapSec, 10) {
			t.Errorf("--since: %s asked updated_at[after]=%q, want %d", req.Entity, got, since.Unix()-overlapSec)
		}
	}
	if in := readManifest(t, filepath.Join(s.data, "runs", since2)).Stages["extract"].Inputs; len(in) != 2 || in[1].RunID != run2 {
		t.Errorf("--since extract inputs %+v, want the API and run %s's extract", in, run2)
	}
	sameSnapshot(t, s.extractDir(since2), s.extractDir(full2))
}

func TestExtractChargebeeSurvivesFaults(t *testing.T) {
	s := newSite(t)
	const clean, stormy = "20261120T020000Z", "20261120T030000Z"
	s.extract(t, clean)

	// A 429 storm that hits every list at once (the block is site-wide), then a
	// burst of 5xx on the retries: 502 from a gateway is HTML, not JSON.
	s.srv.ResetRequests()
	s.srv.Inject(cbsandbox.Fault{Status: http.StatusTooManyRequests}, 5)
	for _, st := range []int{503, 502, 500, 503} {
		s.srv.Inject(cbsandbox.Fault{Status: st}, 1)
	}
	r := s.extract(t, stormy, "--full")
	sameSnapshot(t, s.extractDir(stormy), s.extractDir(clean))

	count := map[int]int{}
	for _, req := range s.srv.Requests() {
		count[req.Status]++
	}
	ok := len(s.srv.Requests()) - 9
	if count[429] != 5 || count[503] != 2 || count[502] != 1 || count[500] != 1 || count[200] != ok {
		t.Errorf("statuses %v: want 5×429, 2×503, 502, 500, the rest 200", count)
	}
	m := readManifest(t, filepath.Join(s.data, "runs", stormy)).Stages["extract"]
	var retries int64
	for _, ep := range endpoints {
		retries += m.Counts["api."+ep.entity+".retries"]
	}
	if retries != 9 {
		t.Errorf("manifest counts %d retries, want 9", retries)
	}
	if !strings.Contains(r.stderr, "retrying") {
		t.Errorf("retries are not logged:\n%s", r.stderr)
	}
}

func TestExtractChargebeeBadKey(t *testing.T) {
	s := newSite(t)
	const good, bad, badExtract = "20261120T020000Z", "20261121T020000Z", "20261121T030000Z"
	if r := s.run(t, "", "run", "--source", "chargebee", "--rate-limit=-1", "--run-id", good); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	state := s.state(t)
	if len(state) == 0 {
		t.Fatal("no state.json after a successful run")
	}
	wrong := "cbwrong_" + randHex()
	s.secrets = append(s.secrets, wrong)

	for _, tc := range []struct {
		runID string
		args  []string
	}{
		{bad, []string{"run", "--source", "chargebee", "--rate-limit=-1"}},
		{badExtract, []string{"extract", "--source", "chargebee", "--full", "--rate-limit=-1"}},
	} {
		s.srv.ResetRequests()
		r := s.run(t, wrong, append(tc.args, "--run-id", tc.runID)...)
		if r.code != 1 {
			t.Fatalf("%s with a wrong key: exit %d, want 1\n%s", tc.args[0], r.code, r.stderr)
		}
		// One error line; everything else on stderr is a log record.
		var errLines []string
		for _, line := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
			if !strings.HasPrefix(line, "time=") {
				errLines = append(errLines, line)
			}
		}
		if len(errLines) != 1 || !strings.HasPrefix(errLines[0], "cb2ac: ") ||
			!strings.Contains(errLines[0], "401") || !strings.Contains(errLines[0], "CHARGEBEE_API_KEY") {
			t.Errorf("%s: want one error line naming the 401 and CHARGEBEE_API_KEY, got %q", tc.args[0], errLines)
		}
		if strings.Contains(r.stdout, "extract   ok") {
			t.Errorf("%s: stdout claims success: %s", tc.args[0], r.stdout)
		}
		// A 401 is not retried: one request per list at most.
		for entity, rs := range byEntity(s.srv.Requests()) {
			if len(rs) > 1 {
				t.Errorf("%s: %d requests after a 401", entity, len(rs))
			}
			for _, req := range rs {
				if req.Status == 200 {
					t.Errorf("%s: a wrong key was served", entity)
				}
			}
		}
		// No new snapshot, no watermark change.
		if files, _ := filepath.Glob(filepath.Join(s.extractDir(tc.runID), "*")); len(files) != 0 {
			t.Errorf("%s: the failed extract left %v", tc.args[0], files)
		}
		if tc.args[0] == "run" {
			// run's check found the key wrong before the extract started: no run
			// folder, and the check's one request.
			if _, err := os.Stat(filepath.Join(s.data, "runs", tc.runID)); err == nil {
				t.Errorf("run: a run folder was made although the check failed")
			}
			if n := len(s.srv.Requests()); n != 1 || !strings.HasPrefix(errLines[0], "cb2ac: check chargebee: ") {
				t.Errorf("run: %d requests, %q; want the check's one request and line", n, errLines[0])
			}
			if !bytes.Equal(s.state(t), state) {
				t.Errorf("run: state.json changed:\n%s", s.state(t))
			}
			continue
		}
		if m := readManifest(t, filepath.Join(s.data, "runs", tc.runID)).Stages["extract"]; m == nil || m.Status != pipeline.StatusFailed {
			t.Errorf("%s: manifest extract %+v, want failed", tc.args[0], m)
		}
		if !bytes.Equal(s.state(t), state) {
			t.Errorf("%s: state.json changed:\n%s", tc.args[0], s.state(t))
		}
	}

	// The next good run is still incremental from the last good one: every list
	// with a watermark (gifts have none, and a list read empty has none either).
	lists := s.watermark(t).Lists
	s.srv.ResetRequests()
	if r := s.run(t, "", "run", "--source", "chargebee", "--rate-limit=-1", "--run-id", "20261122T020000Z"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, req := range withoutCheck(t, s.srv.Requests()) {
		if _, ok := lists[req.Entity]; ok != req.Query.Has("updated_at[after]") {
			t.Errorf("%s after a failed run: incremental %v, watermark %v (%v)", req.Entity, !ok, ok, req.Query)
		}
	}

	// A wrong site: one line that names the setting to fix, and no retries.
	s.srv.ResetRequests()
	wrongSite := strings.TrimSuffix(s.url, "/api/v2") + "/other-site/api/v2"
	r := cb2acEnv(t, []string{"CHARGEBEE_API_URL=" + wrongSite, "CHARGEBEE_API_KEY=" + s.key}, "--data-dir", s.data, "--log-level", "error", "extract", "--source", "chargebee", "--rate-limit=-1", "--run-id", "20261122T030000Z")
	if last := lastLine(r.stderr); r.code != 1 || !strings.Contains(last, "site_not_found") || !strings.Contains(last, "CHARGEBEE_API_URL") || strings.Contains(r.stderr, s.key) {
		t.Errorf("wrong site: exit %d, %q", r.code, last)
	}
	if n := len(s.srv.Requests()); n == 0 || n > len(endpoints) {
		t.Errorf("wrong site: %d requests, want one per list at most (a 404 is not retried)", n)
	}

	// No key at all: a clear error before any request.
	s.srv.ResetRequests()
	r = cb2acEnv(t, []string{"CHARGEBEE_API_URL=" + s.url}, "--data-dir", s.data, "extract", "--source", "chargebee", "--run-id", "20261123T020000Z")
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "CHARGEBEE_API_KEY") || len(s.srv.Requests()) != 0 {
		t.Errorf("no key: exit %d, %q, %d requests", r.code, lastLine(r.stderr), len(s.srv.Requests()))
	}
}
