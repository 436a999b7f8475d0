package cli

// The reliability matrices of issue 7, through the CLI binary: the whole job
// (`run --source chargebee`, the real Chargebee and AC clients against the in-process
// sandboxes on 127.0.0.1) is killed with SIGKILL at many points, or run through API
// faults, and after the recovery an operator would make, AC must hold exactly what an
// uninterrupted run leaves there: every contact and recurring payment field by field,
// nothing lost, nothing extra, no record accepted twice for the same change.
//
// `go test` runs a representative subset. CB2AC_RELIABILITY=full (`make
// reliability`) runs every case. RELIABILITY.md quotes the figures.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/pipeline"
	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
)

// relFullEnv set to "full" runs every case of both matrices.
const relFullEnv = "CB2AC_RELIABILITY"

func relFull() bool { return os.Getenv(relFullEnv) == "full" }

// Run ids of the nights. A recovery is the next cron slot an hour later; the night
// after checks that nothing is left to send.
var (
	relNight    = [3]string{"", day1Run, day2Run}
	relRecovery = [3]string{"", "20261120T030000Z", "20261121T030000Z"}
	relNext     = [3]string{"", "20261121T010000Z", "20261122T020000Z"}
)

// relConfig is the test config: both clients unthrottled (the sandboxes have no
// limit unless a case sets one), small batches so a load has many of them (day 1:
// 3 bulk imports and 19 recurring payment batches; day 2: 5 contact/syncs, an email
// change and 2 batches), and the per-case client limits.
type relConfig struct {
	cbTimeout  time.Duration
	cbRetries  int
	acTimeout  time.Duration
	acAttempts int
}

func relWriteConfig(t *testing.T, c relConfig) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("chargebee:\n  rate_limit_per_minute: -1\n")
	if c.cbTimeout > 0 {
		fmt.Fprintf(&b, "  timeout: %s\n", c.cbTimeout)
	}
	if c.cbRetries > 0 {
		fmt.Fprintf(&b, "  max_retries: %d\n", c.cbRetries)
	}
	b.WriteString("activecampaign:\n  import_poll: 10ms\n  rate_limit: 1000\n  bulk_import_batch: 25\n  recurring_payment_batch: 4\n")
	if c.acTimeout > 0 {
		fmt.Fprintf(&b, "  timeout: %s\n", c.acTimeout)
	}
	if c.acAttempts > 0 {
		fmt.Fprintf(&b, "  max_attempts: %d\n", c.acAttempts)
	}
	path := filepath.Join(t.TempDir(), "cb2ac.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// relSite is a Chargebee sandbox serving fixtures/chargebee, an AC sandbox, a data
// dir, and hooks on both sandboxes that can hold one request so the test kills the
// client exactly there.
type relSite struct {
	t    *testing.T
	cb   *cbsandbox.Server
	ac   *acServer
	env  []string
	data string
	cfg  string

	mu sync.Mutex
	// cbStall sees the n-th (from 0) request of a list; acStall sees each AC
	// request with the requests so far by operation.
	cbStall func(entity string, n int) bool
	acStall func(r acsandbox.Request, seen map[string]int) bool
	cbSeen  map[string]int
	acSeen  map[string]int
	stalled chan struct{}
	release chan struct{}
}

// relNewSite starts the site; tweak, when given, changes the Chargebee sandbox's
// options (a fault matrix case's rate limit).
func relNewSite(t *testing.T, cfg string, tweak ...func(*cbsandbox.Options)) *relSite {
	t.Helper()
	s := &relSite{t: t, data: t.TempDir(), cfg: cfg, release: make(chan struct{}), stalled: make(chan struct{})}
	// A one-second rate window, so a case that turns the limit on (SetFaults) gets
	// a storm of seconds, not of Chargebee's minutes.
	opts := cbsandbox.Options{APIKey: cbKey, Pages: day1Pages, Hook: s.cbHook, RateWindow: time.Second}
	for _, f := range tweak {
		f(&opts)
	}
	cb, err := cbsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := cb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cb.Close() })
	s.cb = cb
	s.ac = startAC(t, acsandbox.Options{Hook: s.acHook})
	s.env = append(s.ac.env(), "CHARGEBEE_API_URL="+url, "CHARGEBEE_API_KEY="+cbKey)
	// Registered last, so it runs first: a held request lets go before the servers
	// shut down.
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *relSite) cbHook(r *http.Request) {
	entity := filepath.Base(r.URL.Path)
	s.mu.Lock()
	n := s.cbSeen[entity]
	if s.cbSeen != nil {
		s.cbSeen[entity]++
	}
	hit := s.cbStall != nil && s.cbStall(entity, n)
	if hit {
		s.cbStall = nil
	}
	stalled := s.stalled
	s.mu.Unlock()
	if hit {
		close(stalled)
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
	}
}

func (s *relSite) acHook(ctx context.Context, r acsandbox.Request) {
	s.mu.Lock()
	hit := s.acStall != nil && s.acStall(r, s.acSeen)
	if s.acSeen != nil {
		s.acSeen[r.Op]++
	}
	if hit {
		s.acStall = nil
	}
	stalled := s.stalled
	s.mu.Unlock()
	if hit {
		close(stalled)
		select {
		case <-ctx.Done():
		case <-s.release:
		}
	}
}

// arm sets the stall points (nil, nil: none) and starts counting afresh.
func (s *relSite) arm(cb func(string, int) bool, ac func(acsandbox.Request, map[string]int) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cbStall, s.acStall = cb, ac
	s.cbSeen, s.acSeen = map[string]int{}, map[string]int{}
	s.stalled = make(chan struct{})
}

func (s *relSite) args(extra ...string) []string {
	return append([]string{"--data-dir", s.data, "--config", s.cfg}, extra...)
}

// night runs the nightly job as run runID.
func (s *relSite) night(runID string) result {
	s.t.Helper()
	// --no-check: the faults and kill points are aimed at the stages' requests.
	return cb2acEnv(s.t, s.env, s.args("run", "--no-check", "--source", "chargebee", "--run-id", runID)...)
}

// relReference is what uninterrupted nights leave behind: the account, what was
// sent, the watermark and the extract of each day.
type relReference struct {
	want    [3]normalized
	sent    [3]sent
	wm      [3]int64
	extract [3]string
}

// relClean runs day 1 and day 2 without trouble.
func relClean(t *testing.T, cfg string) *relReference {
	t.Helper()
	s := relNewSite(t, cfg)
	ref := &relReference{}
	for day := 1; day <= 2; day++ {
		if day == 2 {
			if err := s.cb.Apply(day2Pages); err != nil {
				t.Fatal(err)
			}
		}
		s.ac.ResetLog()
		mustExit(t, s.night(relNight[day]), 0)
		s.ac.Flush()
		ref.want[day] = normalize(s.ac.Snapshot())
		ref.sent[day] = sentRecords(s.ac.Requests())
		st, err := pipeline.LoadState(s.data)
		if err != nil {
			t.Fatal(err)
		}
		ref.wm[day] = st.Extract.Watermark
		ref.extract[day] = stageDir(s.data, relNight[day], "extract")
	}
	// The fixtures' nights, as TestLoadSandboxDay2DeleteRules counts them.
	// Day 2 sends the erased customer's delete too (on_customer_erased: delete).
	if len(ref.sent[1].contacts) != 74 || len(ref.sent[1].rps) != 80 || len(ref.sent[2].contacts) != 7 || len(ref.sent[2].rps) != 11 {
		t.Fatalf("clean nights sent %d+%d and %d+%d records", len(ref.sent[1].contacts), len(ref.sent[1].rps), len(ref.sent[2].contacts), len(ref.sent[2].rps))
	}
	return ref
}

// relPrepare brings a fresh site to the eve of night day: for day 2, night 1 ran
// cleanly and Chargebee holds the day-2 changes. It returns AC as it was then.
func relPrepare(t *testing.T, s *relSite, day int) acsandbox.Snapshot {
	t.Helper()
	if day == 1 {
		return acsandbox.Snapshot{}
	}
	mustExit(t, s.night(relNight[1]), 0)
	s.ac.Flush()
	if err := s.cb.Apply(day2Pages); err != nil {
		t.Fatal(err)
	}
	return s.ac.Snapshot()
}

// relNextStage is the stage that reads each stage's folder.
var relNextStage = map[string]string{pipeline.StageExtract: "validate", pipeline.StageValidate: "transform", pipeline.StageTransform: "load"}

// relCheckFolders checks every run folder: a stage the manifest calls succeeded has
// each of its files complete (size and sha256 as recorded); any other stage is
// refused as input; and every stage input a succeeded stage names was a succeeded
// stage. That is "no partial file is ever read as input", checked on disk.
func relCheckFolders(t *testing.T, data string) {
	t.Helper()
	ids, err := pipeline.ListRuns(data)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	manifests := map[string]*pipeline.Manifest{}
	for _, id := range ids {
		m := readManifest(t, filepath.Join(pipeline.RunsDir(data), id))
		manifests[id] = m
		for stage, rec := range m.Stages {
			status[id+"/"+stage] = rec.Status
			dir := stageDir(data, id, stage)
			if rec.Status != pipeline.StatusSucceeded {
				if _, err := pipeline.CheckInput(dir, stage); err == nil {
					t.Errorf("run %s: %s is %s, yet accepted as input", id, stage, rec.Status)
				}
				continue
			}
			for _, f := range rec.Files {
				b, err := os.ReadFile(filepath.Join(dir, f.Name))
				if err != nil {
					t.Errorf("run %s: %s succeeded but %v", id, stage, err)
					continue
				}
				if int64(len(b)) != f.Bytes || sha256Hex(b) != f.SHA256 {
					t.Errorf("run %s: %s/%s is not the file the manifest recorded", id, stage, f.Name)
				}
			}
		}
	}
	for id, m := range manifests {
		for stage, rec := range m.Stages {
			if rec.Status != pipeline.StatusSucceeded {
				continue
			}
			for _, in := range rec.Inputs {
				if in.RunID == "" || relNextStage[in.Stage] == "" {
					continue // the API, a pages folder, the synced snapshot
				}
				if st := status[in.RunID+"/"+in.Stage]; st != pipeline.StatusSucceeded {
					t.Errorf("run %s: %s read run %s's %s, whose status is %q", id, stage, in.RunID, in.Stage, st)
				}
			}
		}
	}
}

// relRefuseUnfinished asks the next stage to read each unfinished stage of the
// killed run, through the CLI: it must refuse, naming the reason.
func relRefuseUnfinished(t *testing.T, s *relSite, runID string) {
	t.Helper()
	m := readManifest(t, filepath.Join(pipeline.RunsDir(s.data), runID))
	for stage, rec := range m.Stages {
		next := relNextStage[stage]
		if rec.Status == pipeline.StatusSucceeded || next == "" {
			continue
		}
		r := cb2acEnv(t, s.env, s.args(next, "--run-id", runID)...)
		if r.code != 1 || !strings.Contains(r.stderr, "did not succeed") {
			t.Errorf("%s over the killed run's %s (%s): exit %d, %s", next, stage, rec.Status, r.code, lastLine(r.stderr))
		}
	}
}

// relConverged checks the account and the data dir after a recovery: AC holds what
// the uninterrupted night left (field by field), what the loading run's transform
// says, and exactly the records that night sent; the watermark and the extract are
// the uninterrupted night's; and the night after sends nothing. allowTwice holds
// records that may have been accepted twice (nil: none may). It returns the number
// of records lost or wrong.
func relConverged(t *testing.T, s *relSite, ref *relReference, day int, loadRun string, before acsandbox.Snapshot, reqs []acsandbox.Request, allowTwice map[string]bool) int {
	t.Helper()
	s.ac.Flush()
	sn := s.ac.Snapshot()
	got, want := normalize(sn), ref.want[day]
	lost := 0
	for k := range union(got.Contacts, want.Contacts) {
		if got.Contacts[k] != want.Contacts[k] {
			lost++
			t.Errorf("contact %s: recovered %s, uninterrupted %s", k, got.Contacts[k], want.Contacts[k])
		}
	}
	for k := range union(got.RPs, want.RPs) {
		if got.RPs[k] != want.RPs[k] {
			lost++
			t.Errorf("recurring payment %s: recovered %s, uninterrupted %s", k, got.RPs[k], want.RPs[k])
		}
	}
	if got.Setup != want.Setup {
		t.Errorf("setup: recovered %s, uninterrupted %s", got.Setup, want.Setup)
	}
	checkHolds(t, sn, stageDir(s.data, loadRun, "transform"), "keep", before)

	sentNow := sentRecords(reqs)
	if !reflect.DeepEqual(sentNow.contacts, ref.sent[day].contacts) || !reflect.DeepEqual(sentNow.rps, ref.sent[day].rps) {
		t.Errorf("sent %d contacts and %d recurring payments, the uninterrupted night %d and %d",
			len(sentNow.contacts), len(sentNow.rps), len(ref.sent[day].contacts), len(ref.sent[day].rps))
	}
	for _, tw := range sentNow.twice() {
		key := tw[strings.Index(tw, "/")+1 : strings.LastIndex(tw, " ×")]
		if !allowTwice[key] {
			t.Errorf("accepted twice: %s", tw)
		}
	}

	st, err := pipeline.LoadState(s.data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Extract.Watermark != ref.wm[day] || st.Extract.RunID != loadRun || st.Synced == nil || st.Synced.RunID != loadRun {
		t.Errorf("state after recovery: extract %+v synced %+v; want watermark %d and run %s for both", st.Extract, st.Synced, ref.wm[day], loadRun)
	}
	sameSnapshot(t, stageDir(s.data, loadRun, "extract"), ref.extract[day])
	relCheckFolders(t, s.data)

	// Nothing is left over: the next night sends nothing.
	s.ac.ResetLog()
	mustExit(t, s.night(relNext[day]), 0)
	if n := s.ac.WriteRequests(); n != 0 {
		t.Errorf("the night after the recovery made %d writes", n)
	}
	return lost
}

func sha256Hex(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// relKill is one crash point of the matrix.
type relKill struct {
	name string
	day  int
	// Exactly one of these says where the process dies: a pipeline crash point
	// (CB2AC_CRASH_AT), a held Chargebee list request, or a held AC request.
	crash string
	cb    func(entity string, n int) bool
	ac    func(r acsandbox.Request, seen map[string]int) bool
	// load says the kill falls in the load, where an operator runs `run --resume`;
	// elsewhere the recovery is a plain run. plain forces the plain run after a
	// load kill (cron's next slot), which may send again what AC had accepted.
	load, plain bool
	// syncedMoves: state.json's synced snapshot moved before the kill.
	syncedMoves bool
	// again kills the first `run --resume` too, at this AC request; torn leaves
	// half a line at the end of the journal, as a kill during its write would.
	again   func(r acsandbox.Request, seen map[string]int) bool
	torn    bool
	reduced bool // in the subset `go test` runs
}

func relCBAt(entity string, page int) func(string, int) bool {
	return func(e string, n int) bool { return e == entity && n == page }
}

func relACAt(op string, nth int) func(acsandbox.Request, map[string]int) bool {
	return func(r acsandbox.Request, seen map[string]int) bool { return r.Op == op && seen[op] == nth }
}

// relKills lists the crash points: every stage boundary the pipeline has, each list
// page of the extract, and the load's setup, imports, polls, syncs and batches.
func relKills() []relKill {
	var ks []relKill
	for day := 1; day <= 2; day++ {
		for _, stage := range []string{"extract", "validate", "transform", "load"} {
			for _, at := range []string{"started", "written", "succeeded"} {
				p := stage + ":" + at
				k := relKill{name: p, day: day, crash: p, load: stage == "load"}
				k.reduced = map[string]bool{"1 extract:written": true, "1 validate:succeeded": true, "1 load:succeeded": true,
					"2 transform:written": true, "2 validate:started": true}[fmt.Sprint(day, " ", p)]
				ks = append(ks, k)
			}
		}
		ks = append(ks, relKill{name: "load:state (synced moved, watermark not)", day: day, crash: "load:state", load: true, syncedMoves: true, reduced: day == 2})
	}
	// Day 1 reads every list in full: invoices take two pages.
	for _, c := range []struct {
		entity string
		page   int
		red    bool
	}{{"customers", 0, false}, {"subscriptions", 0, false}, {"invoices", 0, false}, {"invoices", 1, true}, {"item_prices", 0, false}, {"gifts", 0, false}} {
		ks = append(ks, relKill{name: fmt.Sprintf("chargebee %s page %d", c.entity, c.page+1), day: 1, cb: relCBAt(c.entity, c.page), reduced: c.red})
	}
	for _, c := range []struct {
		entity string
		red    bool
	}{{"customers", true}, {"subscriptions", false}, {"invoices", false}, {"gifts", false}} {
		ks = append(ks, relKill{name: "chargebee incremental " + c.entity, day: 2, cb: relCBAt(c.entity, 0), reduced: c.red})
	}
	// Day 1's load: setup, 3 bulk imports of 25, 19 recurring payment batches of 4,
	// then their confirmation (confirm_recurring_payments: batch, one search per
	// batch and round).
	ks = append(ks,
		relKill{name: "setup: connection", day: 1, ac: relACAt("connections_create", 0), load: true},
		relKill{name: "setup: half the fields created", day: 1, ac: relACAt("fields_create", 9), load: true},
		relKill{name: "first bulk import", day: 1, ac: relACAt("bulk_import", 0), load: true},
		relKill{name: "import queued, outcome not yet polled", day: 1, ac: relACAt("import_info", 0), load: true, reduced: true},
		relKill{name: "between imports 2 and 3", day: 1, ac: relACAt("bulk_import", 2), load: true},
		relKill{name: "between contacts and recurring payments", day: 1, ac: relACAt("bulkUpsertRecurringPayments", 0), load: true},
		relKill{name: "recurring payment batch 6 of 19", day: 1, ac: relACAt("bulkUpsertRecurringPayments", 5), load: true, reduced: true},
		relKill{name: "last recurring payment batch", day: 1, ac: relACAt("bulkUpsertRecurringPayments", 18), load: true},
		relKill{name: "between imports 2 and 3, plain re-run", day: 1, ac: relACAt("bulk_import", 2), load: true, plain: true},
		relKill{name: "import queued, then the resume killed polling it", day: 1, ac: relACAt("import_info", 0), load: true,
			again: relACAt("import_info", 0)},
		relKill{name: "second import, then the resume killed at batch 4 of 19", day: 1, ac: relACAt("bulk_import", 1), load: true,
			again: relACAt("bulkUpsertRecurringPayments", 3), reduced: true},
		relKill{name: "recurring payment batch 10 of 19, journal line torn, the resume killed at batch 14", day: 1,
			ac: relACAt("bulkUpsertRecurringPayments", 9), load: true, torn: true, again: relACAt("bulkUpsertRecurringPayments", 4)},
		// Every batch is sent before the first is confirmed: a kill in between
		// leaves them journaled as sent, not acknowledged; the resume confirms them
		// without sending them again, a plain re-run sends them again.
		relKill{name: "all 19 batches sent, none confirmed", day: 1, ac: relACAt("searchRecurringPayment", 0), load: true, reduced: true},
		relKill{name: "all 19 batches sent, none confirmed, plain re-run", day: 1, ac: relACAt("searchRecurringPayment", 0), load: true, plain: true},
		relKill{name: "confirmation half way", day: 1, ac: relACAt("searchRecurringPayment", 9), load: true},
		relKill{name: "all batches sent, the resume killed confirming them", day: 1, ac: relACAt("searchRecurringPayment", 0), load: true,
			again: relACAt("searchRecurringPayment", 5)},
	)
	// Day 2's load: 5 contact/syncs (one a new contact, then subscribed), an email
	// change (find, then update by id), 2 recurring payment batches, then their
	// confirmation.
	ks = append(ks,
		relKill{name: "first contact/sync", day: 2, ac: relACAt("contact_sync", 0), load: true},
		relKill{name: "new contact synced, not yet on the list", day: 2, ac: relACAt("contactLists", 0), load: true, reduced: true},
		relKill{name: "contact/sync 4 of 5", day: 2, ac: relACAt("contact_sync", 3), load: true},
		relKill{name: "email change: found, not yet updated", day: 2, ac: relACAt("contact_update", 0), load: true},
		relKill{name: "first recurring payment batch", day: 2, ac: relACAt("bulkUpsertRecurringPayments", 0), load: true},
		relKill{name: "second recurring payment batch", day: 2, ac: relACAt("bulkUpsertRecurringPayments", 1), load: true, reduced: true},
		relKill{name: "second recurring payment batch, plain re-run", day: 2, ac: relACAt("bulkUpsertRecurringPayments", 1), load: true, plain: true},
		relKill{name: "both batches sent, none confirmed", day: 2, ac: relACAt("searchRecurringPayment", 0), load: true},
		// Email changes go before creates (an address is freed before it is taken):
		// the resume of a load killed at the email change is killed at the next step.
		relKill{name: "email change, then the resume killed with a new contact synced, not yet on the list", day: 2, ac: relACAt("contact_update", 0), load: true,
			again: relACAt("contactLists", 0)},
	)
	return ks
}

// runKilled starts the night and makes it die at the point; it fails the test if
// the run ends any other way.
func (s *relSite) runKilled(k relKill, args ...string) {
	t := s.t
	t.Helper()
	env := slices.Clone(s.env)
	if k.crash != "" {
		env = append(env, pipeline.CrashEnv+"="+k.crash)
	}
	s.arm(k.cb, k.ac)
	defer s.arm(nil, nil)
	s.mu.Lock()
	stalled := s.stalled
	s.mu.Unlock()
	cmd, out, errb := cliCommand(env, s.args(args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	timeout := time.After(60 * time.Second)
	if k.crash == "" {
		select {
		case <-stalled:
			cmd.Process.Kill() // SIGKILL
			<-exited
			return
		case err := <-exited:
			t.Fatalf("the run ended (%v) before the kill point\n%s\n%s", err, out, errb)
		case <-timeout:
			cmd.Process.Kill()
			t.Fatal("the kill point never came")
		}
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("the run was not killed at %s (%v)\n%s\n%s", k.crash, err, out, errb)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the run ended with %v, not SIGKILL at %s\n%s\n%s", err, k.crash, out, errb)
		}
	case <-timeout:
		cmd.Process.Kill()
		t.Fatalf("the crash point %s never came", k.crash)
	}
}

// relFigures are the matrix totals RELIABILITY.md quotes, logged at the end.
type relFigures struct {
	cases, passed, lost atomic.Int64
}

func (f *relFigures) log(t *testing.T, what string) {
	t.Logf("%s: %d cases, %d passed, %d records lost or wrong", what, f.cases.Load(), f.passed.Load(), f.lost.Load())
}

// TestReliabilityCrashMatrix kills the whole job with SIGKILL at every point of
// relKills (the subset marked reduced unless CB2AC_RELIABILITY=full), on day 1
// (first full sync) and day 2 (incremental), and recovers as an operator would.
func TestReliabilityCrashMatrix(t *testing.T) {
	cfg := relWriteConfig(t, relConfig{})
	ref := relClean(t, cfg)
	var fig relFigures
	t.Run("points", func(t *testing.T) {
		for _, k := range relKills() {
			if !k.reduced && !relFull() {
				continue
			}
			t.Run(fmt.Sprintf("day%d/%s", k.day, k.name), func(t *testing.T) {
				t.Parallel()
				fig.cases.Add(1)
				s := relNewSite(t, cfg)
				before := relPrepare(t, s, k.day)
				stateBefore, err := pipeline.LoadState(s.data)
				if err != nil {
					t.Fatal(err)
				}
				s.ac.ResetLog()
				s.runKilled(k, "run", "--no-check", "--source", "chargebee", "--run-id", relNight[k.day])
				atKill := s.ac.Requests()

				// What the kill left: the watermark where it was, the synced
				// snapshot too (unless the kill came after it moved), every
				// unfinished stage refused as input.
				st, err := pipeline.LoadState(s.data)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(st.Extract, stateBefore.Extract) {
					t.Errorf("the killed run moved the watermark: %+v, was %+v", st.Extract, stateBefore.Extract)
				}
				if moved := !reflect.DeepEqual(st.Synced, stateBefore.Synced); moved != k.syncedMoves {
					t.Errorf("synced snapshot moved=%v, want %v: %+v", moved, k.syncedMoves, st.Synced)
				}
				relCheckFolders(t, s.data)
				relRefuseUnfinished(t, s, relNight[k.day])

				if k.torn {
					// The kill tore the journal's last line half way (the write
					// did not complete): resume must cut it, not choke on it.
					f, err := os.OpenFile(filepath.Join(stageDir(s.data, relNight[k.day], "load"), "journal.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					f.WriteString(`{"batch":"0099-upsert","entity":"recurring_payment","op":"ups`)
					f.Close()
				}
				if k.again != nil {
					// The recovery is killed too, then recovered.
					s.runKilled(relKill{ac: k.again}, "run", "--resume")
					relCheckFolders(t, s.data)
				}

				loadRun := relRecovery[k.day]
				var r result
				if k.load && !k.plain {
					loadRun = relNight[k.day]
					r = cb2acEnv(t, s.env, s.args("run", "--resume")...)
				} else {
					r = s.night(relRecovery[k.day])
				}
				mustExit(t, r, 0)
				var allow map[string]bool
				if k.plain {
					// cron's next slot is a new run: what AC accepted before the kill
					// is sent again (upserts by key: same state), and nothing else is.
					s.ac.Flush()
					allow = sentRecords(atKill).contacts
					for key := range sentRecords(atKill).rps {
						allow[key] = true
					}
				}
				fig.lost.Add(int64(relConverged(t, s, ref, k.day, loadRun, before, s.ac.Requests(), allow)))
				if !t.Failed() {
					fig.passed.Add(1)
				}
			})
		}
	})
	fig.log(t, "crash matrix")
}

// relFault is one case of the fault matrix: a night run through API trouble.
type relFault struct {
	name string
	day  int
	cfg  relConfig
	cb   func(*cbsandbox.Options) // Chargebee sandbox options (nil: the defaults)
	// inject sets the fault up on the eve of the night; heal clears what is left of
	// it before the recovery.
	inject, heal func(s *relSite)
	// exit is how the night ends: 0, the clients rode the fault out; 1, it failed
	// with state.json unchanged, and the recovery (resume: `run --resume`, else the
	// next plain run) finishes the job.
	exit   int
	resume bool
	// twice: AC did work whose answer the client never got (a cut answer, an import
	// that failed after it was queued), so those records may be accepted again.
	twice bool
	// saw checks the fault really happened; it returns what is missing.
	saw     func(s *relSite, r result) string
	reduced bool
}

// relCBStatuses counts the Chargebee sandbox's answers by status (0: none sent).
func relCBStatuses(s *relSite) map[int]int {
	m := map[int]int{}
	for _, r := range s.cb.Requests() {
		m[r.Status]++
	}
	return m
}

// relACStatuses counts the AC sandbox's answers to op ("" any) by status.
func relACStatuses(s *relSite, op string) map[int]int {
	m := map[int]int{}
	for _, r := range s.ac.Requests() {
		if op == "" || r.Op == op {
			m[r.Status]++
		}
	}
	return m
}

func relWant(got map[int]int, status, atLeast int, what string) string {
	if got[status] < atLeast {
		return fmt.Sprintf("%s: %d answers %d, want at least %d (all: %v)", what, got[status], status, atLeast, got)
	}
	return ""
}

// relRetriesAfter checks the client waited at least d after each answer status
// (a Retry-After) before its next request to the same API.
func relACWaited(s *relSite, status int, d time.Duration) string {
	reqs := s.ac.Requests()
	for i, r := range reqs {
		if r.Status == status && i+1 < len(reqs) && reqs[i+1].Time.Sub(r.Time) < d {
			return fmt.Sprintf("the client came back %v after a %d, before Retry-After (%v)", reqs[i+1].Time.Sub(r.Time), status, d)
		}
	}
	return ""
}

func relCBRetries(s *relSite, runID string) int64 {
	m := readManifest(s.t, filepath.Join(pipeline.RunsDir(s.data), runID)).Stages["extract"]
	var n int64
	for _, ep := range endpoints {
		n += m.Counts["api."+ep.entity+".retries"]
	}
	return n
}

func relFaults() []relFault {
	inject := func(fs ...acsandbox.Fault) func(*relSite) {
		return func(s *relSite) {
			for _, f := range fs {
				s.ac.Inject(f, 1)
			}
		}
	}
	cbInject := func(f cbsandbox.Fault, n int) func(*relSite) {
		return func(s *relSite) { s.cb.Inject(f, n) }
	}
	const rp = "bulkUpsertRecurringPayments"
	return []relFault{
		// Chargebee.
		{name: "chargebee 429 storm without Retry-After", day: 1,
			inject: func(s *relSite) { s.cb.SetFaults(0, 0, 2) },
			saw: func(s *relSite, _ result) string {
				return relWant(relCBStatuses(s), 429, 2, "chargebee")
			}},
		{name: "chargebee 429 storm with Retry-After", day: 2, cb: func(o *cbsandbox.Options) { o.RetryAfter = true },
			inject: func(s *relSite) { s.cb.SetFaults(0, 0, 2) },
			saw: func(s *relSite, _ result) string {
				return relWant(relCBStatuses(s), 429, 2, "chargebee")
			}},
		{name: "chargebee 5xx burst", day: 1, reduced: true,
			inject: func(s *relSite) {
				for _, st := range []int{500, 502, 503, 504, 500} {
					s.cb.Inject(cbsandbox.Fault{Status: st}, 1)
				}
			},
			saw: func(s *relSite, _ result) string {
				st := relCBStatuses(s)
				return relWant(st, 500, 2, "chargebee") + relWant(st, 502, 1, "chargebee") + relWant(st, 503, 1, "chargebee") + relWant(st, 504, 1, "chargebee")
			}},
		{name: "chargebee 5xx burst, incremental", day: 2,
			inject: func(s *relSite) { s.cb.Inject(cbsandbox.Fault{Status: 503}, 4) },
			saw: func(s *relSite, _ result) string {
				return relWant(relCBStatuses(s), 503, 4, "chargebee")
			}},
		{name: "chargebee latency above the client timeout", day: 1, cfg: relConfig{cbTimeout: 500 * time.Millisecond},
			inject: cbInject(cbsandbox.Fault{Delay: 3 * time.Second}, 3),
			saw: func(s *relSite, _ result) string {
				return relWant(relCBStatuses(s), 499, 3, "chargebee (abandoned)")
			}},
		{name: "chargebee connection resets", day: 1, reduced: true,
			inject: cbInject(cbsandbox.Fault{Reset: true}, 4),
			saw: func(s *relSite, _ result) string {
				return relWant(relCBStatuses(s), 0, 4, "chargebee (reset)")
			}},
		{name: "chargebee truncated JSON", day: 1, reduced: true,
			inject: cbInject(cbsandbox.Fault{Truncate: true}, 3),
			saw: func(s *relSite, _ result) string {
				if n := relCBRetries(s, relNight[1]); n < 3 {
					return fmt.Sprintf("%d retries for 3 truncated pages", n)
				}
				return ""
			}},
		{name: "chargebee truncated JSON, incremental", day: 2,
			inject: cbInject(cbsandbox.Fault{Truncate: true}, 2),
			saw: func(s *relSite, _ result) string {
				if n := relCBRetries(s, relNight[2]); n < 2 {
					return fmt.Sprintf("%d retries for 2 truncated pages", n)
				}
				return ""
			}},
		{name: "chargebee down beyond the retries: exit 1, next run", day: 2, cfg: relConfig{cbRetries: 1}, exit: 1,
			inject: func(s *relSite) { s.cb.SetFaults(1, 0, 0) },
			heal:   func(s *relSite) { s.cb.SetFaults(0, 0, 0) },
			saw: func(s *relSite, r result) string {
				if !strings.Contains(r.stderr, "gave up after 2 attempts") {
					return "stderr does not say the client gave up: " + lastLine(r.stderr)
				}
				return ""
			}},

		// ActiveCampaign.
		{name: "AC 429 storm with Retry-After", day: 1, reduced: true,
			inject: inject(acsandbox.Fault{Op: rp, Status: 429, RetryAfter: "1"}, acsandbox.Fault{Op: rp, Status: 429, RetryAfter: "1"}),
			saw: func(s *relSite, _ result) string {
				return relWant(relACStatuses(s, rp), 429, 2, "AC") + relACWaited(s, 429, time.Second)
			}},
		{name: "AC 429 storm without Retry-After", day: 1,
			inject: inject(acsandbox.Fault{Op: "bulk_import", Status: 429}, acsandbox.Fault{Op: "bulk_import", Status: 429},
				acsandbox.Fault{Op: rp, Status: 429}, acsandbox.Fault{Op: rp, Status: 429}),
			saw: func(s *relSite, _ result) string {
				return relWant(relACStatuses(s, ""), 429, 4, "AC")
			}},
		{name: "AC 5xx burst", day: 1,
			inject: inject(acsandbox.Fault{Op: rp, Status: 500}, acsandbox.Fault{Op: rp, Status: 502},
				acsandbox.Fault{Op: rp, Status: 503, RetryAfter: "1"}, acsandbox.Fault{Op: rp, Status: 504}),
			saw: func(s *relSite, _ result) string {
				st := relACStatuses(s, rp)
				return relWant(st, 500, 1, "AC") + relWant(st, 502, 1, "AC") + relWant(st, 503, 1, "AC") + relWant(st, 504, 1, "AC")
			}},
		{name: "AC 5xx on contact syncs, incremental", day: 2,
			inject: inject(acsandbox.Fault{Op: "contact_sync", Status: 500}, acsandbox.Fault{Op: "contact_sync", Status: 503}, acsandbox.Fault{Op: "contactLists", Status: 502}),
			saw: func(s *relSite, _ result) string {
				return relWant(relACStatuses(s, "contact_sync"), 500, 1, "AC") + relWant(relACStatuses(s, "contactLists"), 502, 1, "AC")
			}},
		// A timeout far above the sandbox's answer times, so a loaded test machine
		// does not time out a write AC did (which the client would then send again).
		{name: "AC latency above the client timeout", day: 1, cfg: relConfig{acTimeout: 2 * time.Second}, reduced: true,
			inject: inject(acsandbox.Fault{Op: "bulk_import", Delay: 5 * time.Second}, acsandbox.Fault{Op: rp, Delay: 5 * time.Second}),
			saw: func(s *relSite, _ result) string {
				return relWant(relACStatuses(s, ""), 499, 2, "AC (abandoned)")
			}},
		{name: "AC connection resets", day: 1, reduced: true,
			inject: inject(acsandbox.Fault{Op: rp, Reset: true}, acsandbox.Fault{Op: rp, Reset: true}, acsandbox.Fault{Op: "import_info", Reset: true},
				acsandbox.Fault{Op: "bulk_import", Reset: true}),
			saw: func(s *relSite, _ result) string {
				return relWant(relACStatuses(s, ""), 0, 4, "AC (reset)")
			}},
		{name: "AC connection resets, incremental", day: 2,
			inject: inject(acsandbox.Fault{Op: "contact_sync", Reset: true}, acsandbox.Fault{Op: "contact_update", Reset: true}, acsandbox.Fault{Op: rp, Reset: true}),
			saw: func(s *relSite, _ result) string {
				return relWant(relACStatuses(s, ""), 0, 3, "AC (reset)")
			}},
		{name: "AC truncated JSON answers", day: 1, twice: true, reduced: true,
			inject: inject(acsandbox.Fault{Op: "bulk_import", Truncate: true}, acsandbox.Fault{Op: "import_info", Truncate: true},
				acsandbox.Fault{Op: rp, Truncate: true}, acsandbox.Fault{Op: "GET /fields", Truncate: true}),
			saw: func(s *relSite, r result) string {
				// The setup's GET /fields is asked twice; the load's summary counts
				// the other three retries (it counts from the end of the setup).
				m := regexp.MustCompile(`writes=\d+ retries=(\d+)`).FindStringSubmatch(r.stdout)
				if n := relACStatuses(s, "GET /fields")[200]; m == nil || m[1] != "3" || n != 2 {
					return fmt.Sprintf("want 3 retries in the load summary and GET /fields answered twice (200 both times, the first cut short): %v, %v", m, relACStatuses(s, "GET /fields"))
				}
				return ""
			}},
		{name: "AC truncated JSON answers, incremental", day: 2, twice: true,
			inject: inject(acsandbox.Fault{Op: "contact_sync", Truncate: true}, acsandbox.Fault{Op: "contact_update", Truncate: true}, acsandbox.Fault{Op: rp, Truncate: true}),
			saw: func(s *relSite, r result) string {
				if tw := sentRecords(s.ac.Requests()).twice(); len(tw) < 2 {
					return fmt.Sprintf("cut answers should make the client send again; accepted twice: %v", tw)
				}
				return ""
			}},
		{name: "AC bulk import fails asynchronously: exit 1, run --resume", day: 1, exit: 1, resume: true, twice: true, reduced: true,
			inject: func(s *relSite) { s.ac.FailImports(1) },
			saw:    relSawFailedImport},
		{name: "AC bulk import fails asynchronously: exit 1, next run", day: 1, exit: 1, twice: true,
			inject: func(s *relSite) { s.ac.FailImports(1) },
			saw:    relSawFailedImport},
		{name: "AC down beyond max_attempts: exit 1, run --resume", day: 1, cfg: relConfig{acAttempts: 2}, exit: 1, resume: true,
			inject: inject(acsandbox.Fault{Op: rp, Status: 503}, acsandbox.Fault{Op: rp, Status: 503}),
			saw: func(s *relSite, r result) string {
				return relWant(relACStatuses(s, rp), 503, 2, "AC")
			}},
		{name: "both APIs at once: chargebee 429s and 5xx, AC 503s and resets", day: 2,
			inject: func(s *relSite) {
				s.cb.Inject(cbsandbox.Fault{Status: 429}, 2)
				s.cb.Inject(cbsandbox.Fault{Status: 502}, 1)
				s.ac.Inject(acsandbox.Fault{Status: 503, RetryAfter: "1"}, 1)
				s.ac.Inject(acsandbox.Fault{Op: rp, Reset: true}, 1)
			},
			saw: func(s *relSite, _ result) string {
				return relWant(relCBStatuses(s), 429, 2, "chargebee") + relWant(relACStatuses(s, ""), 503, 1, "AC")
			}},
	}
}

func relSawFailedImport(s *relSite, r result) string {
	for _, im := range s.ac.Snapshot().Imports {
		if im.Status == "failed" {
			if !strings.Contains(r.stderr, "ended failed") {
				return "stderr does not name the failed import: " + lastLine(r.stderr)
			}
			return ""
		}
	}
	return "no import failed"
}

// TestReliabilityFaultMatrix runs nights through API faults on both sides (the
// subset marked reduced unless CB2AC_RELIABILITY=full): each night finishes, or
// fails with exit 1 leaving state.json as it was, and the recovery converges to the
// uninterrupted nights' account.
func TestReliabilityFaultMatrix(t *testing.T) {
	ref := relClean(t, relWriteConfig(t, relConfig{}))
	var fig relFigures
	t.Run("faults", func(t *testing.T) {
		for _, c := range relFaults() {
			if !c.reduced && !relFull() {
				continue
			}
			t.Run(fmt.Sprintf("day%d/%s", c.day, c.name), func(t *testing.T) {
				t.Parallel()
				fig.cases.Add(1)
				var tweak []func(*cbsandbox.Options)
				if c.cb != nil {
					tweak = append(tweak, c.cb)
				}
				s := relNewSite(t, relWriteConfig(t, c.cfg), tweak...)
				before := relPrepare(t, s, c.day)
				stateBefore, err := pipeline.LoadState(s.data)
				if err != nil {
					t.Fatal(err)
				}
				s.ac.ResetLog()
				s.cb.ResetRequests()
				c.inject(s)
				r := s.night(relNight[c.day])
				if r.code != c.exit {
					t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.exit, r.stdout, r.stderr)
				}
				if miss := c.saw(s, r); miss != "" {
					t.Errorf("the fault did not happen as planned: %s", miss)
				}
				loadRun := relNight[c.day]
				if r.code != 0 {
					st, err := pipeline.LoadState(s.data)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(st, stateBefore) {
						t.Errorf("the failed night changed state.json: %+v, was %+v", st, stateBefore)
					}
					relCheckFolders(t, s.data)
					if c.heal != nil {
						c.heal(s)
					}
					if c.resume {
						mustExit(t, cb2acEnv(t, s.env, s.args("run", "--resume")...), 0)
					} else {
						loadRun = relRecovery[c.day]
						mustExit(t, s.night(loadRun), 0)
					}
				}
				var allow map[string]bool
				if c.twice {
					allow = map[string]bool{}
					for k := range ref.sent[c.day].contacts {
						allow[k] = true
					}
					for k := range ref.sent[c.day].rps {
						allow[k] = true
					}
				}
				fig.lost.Add(int64(relConverged(t, s, ref, c.day, loadRun, before, s.ac.Requests(), allow)))
				if !t.Failed() {
					fig.passed.Add(1)
				}
			})
		}
	})
	fig.log(t, "fault matrix")
}
