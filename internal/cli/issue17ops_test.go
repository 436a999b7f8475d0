package cli

// Issue 17's operational points, end to end through the CLI: the synced snapshot in
// the manifest, status marks, backfill warnings, the past-date API extract, schema
// drift.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/pipeline"
	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/schemas"
)

// The load's synced snapshot is in the manifest with rows and sha256, and a synced
// file replaced or truncated after the load is refused when the next load would diff
// against it (before: not listed, and read as if nothing had happened).
func TestSyncedFilesInManifestAndChecked(t *testing.T) {
	data := t.TempDir()
	ac := newOpsAC(t, acsandbox.Options{}, "")
	mustExit(t, ac.run(t, "--data-dir", data, "--run-id", fixedRun, "--log-level", "warn", "run", "--in", "fixtures/chargebee"), 0)
	m := readManifest(t, filepath.Join(data, "runs", fixedRun))
	synced := stageDir(data, fixedRun, "load") + "/synced/"
	for name, rows := range map[string]func(string) (int, error){
		"synced/contacts.parquet":           count(schemas.Contacts),
		"synced/recurring_payments.parquet": count(schemas.RecurringPayments),
	} {
		n, err := rows(filepath.Join(stageDir(data, fixedRun, "load"), name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fileRows(m, "load", name); got != int64(n) || n == 0 {
			t.Errorf("manifest load files: %s rows=%d, want %d (the file's)", name, got, n)
		}
	}
	plan := []string{"plan", "--in", stageDir(data, fixedRun, "transform")}
	if r := ac.run(t, append([]string{"--data-dir", data}, plan...)...); r.code != 0 {
		t.Fatalf("plan against an intact synced snapshot: exit %d: %s", r.code, r.stderr)
	}

	orig := map[string][]byte{}
	for _, f := range []string{"contacts.parquet", "recurring_payments.parquet"} {
		b, err := os.ReadFile(synced + f)
		if err != nil {
			t.Fatal(err)
		}
		orig[f] = b
	}
	other, err := os.ReadFile(filepath.Join(stageDir(data, fixedRun, "transform"), "recurring_payments.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tamper := range map[string]func(){
		"truncated": func() {
			os.WriteFile(synced+"contacts.parquet", orig["contacts.parquet"][:len(orig["contacts.parquet"])/2], 0o600)
		},
		"replaced": func() { os.WriteFile(synced+"recurring_payments.parquet", other, 0o600) },
		"deleted":  func() { os.Remove(synced + "contacts.parquet") },
	} {
		t.Run(name, func(t *testing.T) {
			tamper()
			for _, args := range [][]string{plan, {"run", "--in", "fixtures/chargebee"}} {
				r := ac.run(t, append([]string{"--data-dir", data, "--log-level", "warn"}, args...)...)
				if r.code != 1 || !strings.Contains(r.stderr, "last synced snapshot") || !strings.Contains(r.stderr, "--full") {
					t.Errorf("%v with a %s synced file: exit %d, want 1 naming the synced snapshot and --full: %s", args, name, r.code, r.stderr)
				}
				if strings.Contains(r.stdout, "load      ok") {
					t.Errorf("%v: the load ran: %s", args, r.stdout)
				}
			}
			// Put everything back for the next case.
			for f, b := range orig {
				os.WriteFile(synced+f, b, 0o600)
			}
		})
	}
}

// twoNights syncs day 1 and day 2 from the Chargebee sandbox into the AC sandbox.
func twoNights(t *testing.T) (ac *acServer, env []string, data, cfg string) {
	t.Helper()
	ac = startAC(t, acsandbox.Options{})
	cb, cbEnv := startCB(t)
	env = append(ac.env(), cbEnv...)
	data, cfg = t.TempDir(), writeConfig(t, acConfig{unthrottled: true})
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "--log-level", "warn", "run", "--source", "chargebee", "--run-id", day1Run), 0)
	if err := cb.Apply("fixtures/chargebee-day2"); err != nil {
		t.Fatal(err)
	}
	mustExit(t, cb2acEnv(t, env, "--data-dir", data, "--config", cfg, "--log-level", "warn", "run", "--source", "chargebee", "--run-id", day2Run), 0)
	ac.Flush()
	return ac, env, data, cfg
}

// A backfill of day 1 over the synced day 2 says how many records it moves back to
// day 1's values and sends nothing without --yes; with --yes it sends them. A
// backfill of data as new as the synced snapshot's moves nothing back and needs no
// --yes. (Before: the backfill went out in silence.)
func TestBackfillMovesBackNeedsYes(t *testing.T) {
	ac, env, data, cfg := twoNights(t)
	run := func(args ...string) result {
		return cb2acEnv(t, env, append([]string{"--data-dir", data, "--config", cfg, "--log-level", "warn"}, args...)...)
	}
	day2 := readManifest(t, filepath.Join(data, "runs", day2Run)).Stages["load"].Counts
	changedOnDay2 := day2["contacts_update"] + day2["contacts_delete"] + day2["recurring_payments_update"] + day2["recurring_payments_delete"]

	back := stageDir(data, day1Run, "transform")
	plan := run("plan", "--in", back, "--run-id", "20261124T020000Z")
	mustExit(t, plan, 0)
	pc := readManifest(t, filepath.Join(data, "runs", "20261124T020000Z")).Stages["load"].Counts
	want := pc["contacts_update"] + pc["contacts_delete"] + pc["recurring_payments_update"] + pc["recurring_payments_delete"]
	if want == 0 || want != changedOnDay2 || pc["backfill_moved_back"] != want {
		t.Fatalf("plan of the backfill: moved back %d, updates+deletes %d, day 2 changed %d; want all equal and > 0", pc["backfill_moved_back"], want, changedOnDay2)
	}
	line := fmt.Sprintf("backfill: data read by run %s, older than the synced snapshot's (run %s): %d records move back to older values in ActiveCampaign", day1Run, day2Run, want)
	if !strings.Contains(plan.stdout, line) {
		t.Errorf("plan stdout lacks %q:\n%s", line, plan.stdout)
	}

	ac.ResetLog()
	for _, args := range [][]string{
		{"load", "--in", back, "--run-id", "20261125T020000Z"},
		{"run", "--no-check", "--source", "snapshot", "--in", stageDir(data, day1Run, "extract"), "--run-id", "20261126T020000Z"},
	} {
		r := run(args...)
		if r.code != 1 || !strings.Contains(r.stdout, line) || !strings.Contains(r.stderr, "--yes") || !strings.Contains(r.stderr, "nothing was sent") {
			t.Errorf("%v without --yes: exit %d, want 1 with the count on stdout and --yes named:\n%s\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if reqs := ac.Requests(); len(reqs) != 0 {
		t.Fatalf("unconfirmed backfills sent %d requests to AC, want none (first: %+v)", len(reqs), reqs[0])
	}
	before := len(readTable(t, schemas.RecurringPayments, filepath.Join(back, "recurring_payments.parquet")))
	r := run("load", "--in", back, "--run-id", "20261125T020000Z", "--yes")
	mustExit(t, r, 0)
	ac.Flush()
	if s := sentRecords(ac.Requests()); len(s.rps) == 0 || len(s.rps) > before {
		t.Errorf("confirmed backfill sent %d recurring payments", len(s.rps))
	}
	if !strings.Contains(r.stdout, line) {
		t.Errorf("confirmed backfill stdout lacks %q:\n%s", line, r.stdout)
	}

	// Day 2's data again over the backfill's synced snapshot: newer, nothing moves back.
	r = run("run", "--no-check", "--source", "snapshot", "--in", stageDir(data, day2Run, "extract"), "--run-id", "20261127T020000Z")
	mustExit(t, r, 0)
	if want := fmt.Sprintf("backfill: data read by run %s, newer than or as new as the synced snapshot's (run %s): 0 records", day2Run, day1Run); !strings.Contains(r.stdout, want) {
		t.Errorf("forward backfill: stdout lacks %q:\n%s", want, r.stdout)
	}
}

// An API extract named after a date before a run that already read Chargebee is
// refused, naming the snapshot backfill, and creates no run (before: today's data was
// filed under the past date).
func TestPastRunIDAPIExtractRefused(t *testing.T) {
	_, env, data, cfg := twoNights(t)
	for _, cmd := range []string{"extract", "run"} {
		r := cb2acEnv(t, env, "--data-dir", data, "--config", cfg, cmd, "--source", "chargebee", "--run-id", "20261119T020000Z")
		if r.code != 1 || !strings.Contains(r.stderr, "--source snapshot") || !strings.Contains(r.stderr, "backfill_from") || !strings.Contains(r.stderr, "older than run "+day2Run) {
			t.Errorf("%s --run-id in the past: exit %d, want 1 naming the snapshot backfill: %s", cmd, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(data, "runs", "20261119T020000Z")); !os.IsNotExist(err) {
			t.Errorf("%s: the refused run's folder exists (%v)", cmd, err)
		}
	}
}

// Fields Chargebee sends that its SDK does not declare are counted per list: a
// schema drift line under the extract's and a drift entry in the manifest (before:
// dropped in silence). The fixtures carry none.
func TestSchemaDriftCountedPerList(t *testing.T) {
	data := t.TempDir()
	r := cb2ac(t, "--data-dir", data, "--log-level", "warn", "extract", "--in", "fixtures/chargebee", "--run-id", fixedRun)
	mustExit(t, r, 0)
	if strings.Contains(r.stdout, "drift") || readManifest(t, filepath.Join(data, "runs", fixedRun)).Stages["extract"].Drift != nil {
		t.Errorf("the fixtures show drift:\n%s", r.stdout)
	}

	cb, cbEnv := startCB(t)
	edit := func(entity, id string, fn func(e map[string]map[string]any)) {
		e := fixtureEntry(t, entity, id)
		fn(e)
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := cb.Update(entity, b); err != nil {
			t.Fatal(err)
		}
	}
	edit("customers", "cus_0001", func(e map[string]map[string]any) {
		e["customer"]["loyalty_tier"] = "gold"
		e["card"]["wallet"] = "apple"
	})
	edit("customers", "cus_0002", func(e map[string]map[string]any) { e["customer"]["loyalty_tier"] = nil })
	edit("subscriptions", "sub_0001", func(e map[string]map[string]any) {
		e["subscription"]["renewal_hint"] = map[string]any{"a": []any{1, "}"}}
		e["customer"]["loyalty_tier"] = "gold"
	})
	data = t.TempDir()
	r = cb2acEnv(t, cbEnv, "--data-dir", data, "--config", writeConfig(t, acConfig{}), "--log-level", "warn", "extract", "--source", "chargebee", "--run-id", fixedRun)
	mustExit(t, r, 0)
	for _, line := range []string{
		"schema drift: customers has fields Chargebee's SDK does not declare: card.wallet=1 loyalty_tier=2\n",
		"schema drift: subscriptions has fields Chargebee's SDK does not declare: customer.loyalty_tier=1 renewal_hint=1\n",
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "schema drift") {
		t.Errorf("no drift warning in the log:\n%s", r.stderr)
	}
	got := readManifest(t, filepath.Join(data, "runs", fixedRun)).Stages["extract"].Drift
	want := []schemas.Drift{
		{List: "customers", UnknownFields: map[string]int64{"card.wallet": 1, "loyalty_tier": 2}},
		{List: "subscriptions", UnknownFields: map[string]int64{"customer.loyalty_tier": 1, "renewal_hint": 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("manifest drift = %+v, want %+v", got, want)
	}
}

// status through the CLI: a dry run's LOAD column says dry-run (its counts are a
// plan), a backfill's STATE says backfill.
func TestStatusMarksGolden(t *testing.T) {
	data := t.TempDir()
	ac := newOpsAC(t, acsandbox.Options{}, "")
	const nightly, noAC, backfill = "20261101T020000Z", "20261102T020000Z", "20261103T020000Z"
	mustExit(t, ac.run(t, "--data-dir", data, "--run-id", nightly, "run", "--in", "fixtures/chargebee"), 0)
	mustExit(t, cb2ac(t, "--data-dir", data, "--run-id", noAC, "run", "--in", "fixtures/chargebee"), 0)
	mustExit(t, ac.run(t, "--data-dir", data, "--run-id", noAC, "plan"), 0)
	r := ac.run(t, "--data-dir", data, "--run-id", backfill, "run", "--source", "snapshot", "--in", stageDir(data, nightly, "extract"))
	mustExit(t, r, 0) // its data is the synced snapshot's: nothing moves back, no --yes needed
	if !strings.Contains(r.stdout, "0 records move back") {
		t.Errorf("backfill stdout:\n%s", r.stdout)
	}

	st := cb2ac(t, "--data-dir", data, "status")
	mustExit(t, st, 0)
	golden(t, "status-marks.txt", []byte(durationRE.ReplaceAllString(st.stdout, "D ")))
	js := cb2ac(t, "--data-dir", data, "status", "--json")
	var rows []pipeline.RunStatus
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil || len(rows) != 3 {
		t.Fatalf("status --json: %v\n%s", err, js.stdout)
	}
	got := map[string][2]bool{}
	for _, row := range rows {
		got[row.RunID] = [2]bool{row.DryRun, row.Backfill}
	}
	want := map[string][2]bool{nightly: {false, false}, noAC: {true, false}, backfill: {false, true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status --json (dry_run, backfill) = %v, want %v", got, want)
	}
}
