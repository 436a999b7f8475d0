package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/schemas"
)

// An email change is one request of the minimum; every other changed contact rides
// in a 250-contact import. Writes are what the sandbox marks as writes, polls its
// import_info reads.
func TestCountLoadMinimum(t *testing.T) {
	reqs := []acsandbox.Request{
		{Op: "bulk_import", Write: true, Count: 240},
		{Op: "import_info"}, {Op: "import_info"},
		{Op: "contact_update", Write: true, Count: 1},
		{Op: "GET /contacts"},
		{Op: "bulkUpsertRecurringPayments", Write: true, Count: 100},
		{Op: "bulkUpsertRecurringPayments", Write: true, Count: 30},
	}
	counts := map[string]int64{"contacts_create": 41, "contacts_update": 210, "contacts_delete": 7,
		"recurring_payments_create": 20, "recurring_payments_update": 100, "recurring_payments_delete": 10}
	pt := planTally{EmailChanges: 11}
	lr := countLoad(reqs, counts, pt, options{onDeleted: "keep", rpBatch: 100})
	if lr.Requests != 7 || lr.Writes != 4 || lr.Polls != 2 {
		t.Errorf("requests %d writes %d polls %d, want 7, 4, 2", lr.Requests, lr.Writes, lr.Polls)
	}
	// keep: a deleted customer's contact is left alone, so it is not a change.
	if lr.ChangedContacts != 251 || lr.ChangedRPs != 130 {
		t.Errorf("changed contacts %d payments %d, want 251 and 130", lr.ChangedContacts, lr.ChangedRPs)
	}
	// ⌈(251 − 11)/250⌉ + 11 + ⌈130/100⌉ + 2 polls
	if want := int64(1 + 11 + 2 + 2); lr.Minimum != want {
		t.Errorf("minimum %d, want %d", lr.Minimum, want)
	}
	lr = countLoad(reqs, counts, pt, options{onDeleted: "delete", rpBatch: 100})
	if lr.ChangedContacts != 258 || lr.Minimum != 1+11+2+2 {
		t.Errorf("on_customer_deleted delete: changed %d minimum %d, want 258 and 16", lr.ChangedContacts, lr.Minimum)
	}
}

// A plan file's contact updates sorted as the apply step sorts them: an email
// change (case aside) first, else an update that clears a value it sends alone.
func TestReadPlan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.parquet")
	ch := func(f, o, n string) schemas.PlanChange { return schemas.PlanChange{Field: f, Old: o, New: n} }
	err := schemas.Plans.WriteFile(path, []schemas.PlanEntry{
		{Entity: "contact", Key: "a", Op: "update", Changes: schemas.PlanChanges{ch("email", "a@x.com", "b@x.com"), ch("phone", "1", "")}},
		{Entity: "contact", Key: "b", Op: "update", Changes: schemas.PlanChanges{ch("phone", "1", "2")}},
		{Entity: "contact", Key: "c", Op: "create"},
		{Entity: "contact", Key: "d", Op: "update", Changes: schemas.PlanChanges{ch("email", "A@x.com", "a@X.com"), ch("fields.Next Billing Date", "2026-12-01", "")}},
		{Entity: "contact", Key: "e", Op: "update", Changes: schemas.PlanChanges{ch("fields.Cancel Reason", "", "not_paid"), ch("orgname", "Acme", ""), ch("fields.Next Billing Date", "2026-12-01", "")}},
		{Entity: "contact", Key: "f", Op: "update", Changes: schemas.PlanChanges{ch("line1", "Main St", "")}},
		{Entity: "recurring_payment", Key: "g", Op: "update", Changes: schemas.PlanChanges{ch("email", "a@x.com", "b@x.com")}},
		{Entity: "contact", Key: "h", Op: "unchanged"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := readPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	want := planTally{EmailChanges: 1, Clears: 2, Cleared: map[string]int64{"fields.Next Billing Date": 2, "orgname": 1}}
	if !reflect.DeepEqual(pt, want) {
		t.Errorf("readPlan = %+v, want %+v", pt, want)
	}
	if _, err := readPlan(filepath.Join(t.TempDir(), "missing.parquet")); err == nil {
		t.Error("a missing plan file gave no error")
	}
}

func TestTargetsVerdicts(t *testing.T) {
	stage := func(run, name string, wall time.Duration, rss int64) stageRun {
		return stageRun{Run: run, Stage: name, P: proc{Wall: wall, User: wall, MaxRSS: rss}}
	}
	big := &sizeResult{N: 1000000, Stages: []stageRun{
		stage("A", "plan", 9*time.Second, 900<<20),
		stage("C", "validate", 6*time.Second, 500<<20),
		stage("C", "transform", 8*time.Second, 1100<<20),
		stage("C", "plan", 5*time.Second, 300<<20),
	}, Duck: &duckResult{QueryMS: 5000, P: proc{Wall: 5500 * time.Millisecond, MaxRSS: 300 << 20}}}
	r := &results{Sizes: []*sizeResult{big}}
	got := map[string]string{}
	for _, v := range r.targets() {
		got[v.Target] = v.Met
	}
	want := map[string]string{
		"1M customers: nightly validate + transform + plan ≤ 20 s wall in total":                           "met",
		"1M customers: plan ≤ 1.0× DuckDB's wall time for the same diff (DuckDB writing the changed rows)": "met",
		"1M customers, first sync: plan ≤ 10 s and ≤ 1 GiB peak RSS":                                       "met",
		"Every stage of every run ≤ 1 GiB peak RSS, with the default memory limit":                         "**NOT met**",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%q: %q, want %q", k, got[k], w)
		}
	}
	// One second more in validate, and plan slower than DuckDB.
	big.Stages[1].P.Wall += 2 * time.Second
	big.Duck.QueryMS = 4000
	for _, v := range r.targets() {
		if strings.HasPrefix(v.Target, "1M customers: nightly") || strings.HasPrefix(v.Target, "1M customers: plan") {
			if v.Met != "**NOT met**" || v.Cause == "" {
				t.Errorf("%q: %q (cause %q), want NOT met with a cause", v.Target, v.Met, v.Cause)
			}
		}
	}
}

const cumTop = `Type: cpu
Duration: 538.17ms, Total samples = 420ms (78.04%)
Showing nodes accounting for 120ms, 28.57% of 420ms total
      flat  flat%   sum%        cum   cum%
         0     0%     0%      400ms 95.24%  github.com/cb2ac/cb2ac/stages/validate.Run
         0     0%     0%      130ms 30.95%  github.com/cb2ac/cb2ac/stages/validate.check
      50ms 11.90% 11.90%       70ms 16.67%  github.com/cb2ac/cb2ac/schemas.(*Table[...]).EachColumns
      10ms  2.38% 14.28%       10ms  2.38%  github.com/cb2ac/cb2ac/internal/strmap.(*Map[...]).Put (inline)`

// The causes quote cb2ac's functions by cumulative share, without the entry points
// that hold nearly every sample.
func TestTopFuncs(t *testing.T) {
	got := topFuncs(strings.Split(cumTop, "\n"), 2, 4)
	want := "stages/validate.check 30.95%, schemas.(*Table[...]).EachColumns 16.67%"
	if got != want {
		t.Errorf("topFuncs = %q, want %q", got, want)
	}
	if got := topFuncs(strings.Split(cumTop, "\n"), 9, 4); !strings.HasSuffix(got, "internal/strmap.(*Map[...]).Put (inline) 2.38%") {
		t.Errorf("topFuncs = %q, want the inline function last", got)
	}
	if got, want := topFuncs(strings.Split(cumTop, "\n"), 1, 1), "schemas.(*Table[...]).EachColumns 11.90%"; got != want {
		t.Errorf("flat: topFuncs = %q, want %q", got, want)
	}
}

func TestShortShapes(t *testing.T) {
	for in, want := range map[string]string{
		`x stages/validate.(*fileSource[go.shape.68ef,go.shape.struct { ID string "parquet:\"id\""; Tags []string }]).each`: "x stages/validate.(*fileSource[...]).each",
		`a.each[go.shape.int] b.f[go.shape.struct { X [2]int }]`:                                                            "a.each[...] b.f[...]",
		`no shapes here[0]`:          `no shapes here[0]`,
		`unclosed[go.shape.struct {`: `unclosed[go.shape.struct {`,
	} {
		if got := shortShapes(in); got != want {
			t.Errorf("shortShapes(%q) = %q, want %q", in, got, want)
		}
	}
}
