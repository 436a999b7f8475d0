package load

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Confirmation of recurring payments is pipelined: every batch is sent, then the
// sent batches are confirmed together (one wait, then searches with backoff).

// hookedSandbox is a sandbox whose Hook calls hook (set after it starts).
func hookedSandbox(t *testing.T, opts acsandbox.Options) (*acsandbox.Server, *ac.Client, string, *atomic.Pointer[func(acsandbox.Request)]) {
	t.Helper()
	var hook atomic.Pointer[func(acsandbox.Request)]
	opts.Hook = func(_ context.Context, r acsandbox.Request) {
		if h := hook.Load(); h != nil {
			(*h)(r)
		}
	}
	srv, c, url := sandboxWith(t, opts, ac.Config{})
	return srv, c, url, &hook
}

func setHook(h *atomic.Pointer[func(acsandbox.Request)], fn func(acsandbox.Request)) { h.Store(&fn) }

// journalLines reads load/journal.jsonl.
func journalLines(t *testing.T, out string) []journalEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(out, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var es []journalEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e journalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

// Every bulkUpsertRecurringPayments goes before the first searchRecurringPayment;
// "batch" (the default) searches one record per batch, "all" every record.
func TestConfirmAfterAllSends(t *testing.T) {
	for _, mode := range []struct {
		name     string
		searches int
	}{{"", 4}, {"all", 8}} {
		t.Run("mode="+mode.name, func(t *testing.T) {
			srv, c, url, hook := hookedSandbox(t, acsandbox.Options{ApplyDelay: -1})
			// AC applies the batches only once confirming begins: a search that came
			// before the last send would not find its record.
			var flush sync.Once
			setHook(hook, func(r acsandbox.Request) {
				if r.Op == "searchRecurringPayment" {
					flush.Do(srv.Flush)
				}
			})
			out := t.TempDir()
			cfg := cfgFor(url, func(c *Config) { c.BulkImportMin, c.RecurringPaymentBatch, c.Confirm = 10, 2, mode.name })
			res, err := Run(context.Background(), Options{In: transformDir(t, 8), RunID: "r1", Client: c}, cfg, out)
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, r := range srv.Requests() {
				if r.Op == "bulkUpsertRecurringPayments" || r.Op == "searchRecurringPayment" {
					ops = append(ops, r.Op)
				}
			}
			firstSearch := len(ops)
			for i, op := range ops {
				if op == "searchRecurringPayment" {
					firstSearch = i
					break
				}
			}
			if firstSearch != 4 || countOps(srv, "bulkUpsertRecurringPayments") != 4 {
				t.Errorf("requests %v: want the 4 batches sent, then the searches", ops)
			}
			if n := countOps(srv, "searchRecurringPayment"); n != mode.searches {
				t.Errorf("%d searches, want %d", n, mode.searches)
			}
			if res.Counts["rejected"] != 0 || len(syncedKeys(t, out)) != 8 {
				t.Errorf("rejected %d, synced %v", res.Counts["rejected"], syncedKeys(t, out))
			}
			// The journal: 4 "sent" lines, then the 4 batches' outcomes.
			var kinds []string
			for _, e := range journalLines(t, out) {
				if e.Entity == EntityRecurringPayment {
					kinds = append(kinds, e.Op)
				}
			}
			if strings.Join(kinds, ",") != "sent,sent,sent,sent,upsert,upsert,upsert,upsert" {
				t.Errorf("journal %v", kinds)
			}
		})
	}
}

// A batch AC accepts and never shows is reported ac_not_confirmed and left out of
// the synced snapshot; the other batches are confirmed and synced.
func TestConfirmDroppedBatchOnly(t *testing.T) {
	srv, c, url, hook := hookedSandbox(t, acsandbox.Options{ApplyDelay: time.Millisecond})
	var sends atomic.Int32
	setHook(hook, func(r acsandbox.Request) {
		if r.Op == "bulkUpsertRecurringPayments" && sends.Add(1) == 2 {
			srv.DropRecurringPaymentBatches(1) // the second batch: sub_3, sub_4
		}
	})
	out := t.TempDir()
	cfg := cfgFor(url, func(c *Config) { c.RecurringPaymentBatch = 2; c.ConfirmTimeout = 100 * time.Millisecond })
	res, err := Run(context.Background(), Options{In: transformDir(t, 8), RunID: "r1", Client: c}, cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	rows := errorRows(t, out)
	if r := rows["sub_4"]; r[0] != CodeNotConfirmed || !strings.Contains(r[1], "did not show this record") {
		t.Errorf("sub_4 (searched): %v", r)
	}
	if r := rows["sub_3"]; r[0] != CodeNotConfirmed || !strings.Contains(r[1], "last record of this record's batch") {
		t.Errorf("sub_3 (its batch's): %v", r)
	}
	if res.Counts["rejected"] != 2 {
		t.Errorf("rejected %d, want 2: %v", res.Counts["rejected"], rows)
	}
	synced := syncedKeys(t, out)
	for _, k := range []string{"sub_1", "sub_2", "sub_5", "sub_6", "sub_7", "sub_8"} {
		if !synced[k] {
			t.Errorf("%s not synced", k)
		}
	}
	if synced["sub_3"] || synced["sub_4"] || len(synced) != 6 {
		t.Errorf("synced %v: the dropped batch counts as synced", synced)
	}
}

// A load stopped after its sends and before the confirmation (here its context is
// cancelled at the first search) has journaled none of the records as
// acknowledged; --resume confirms them without sending them again.
func TestConfirmCancelledLeavesUnacked(t *testing.T) {
	srv, c, url, hook := hookedSandbox(t, acsandbox.Options{ApplyDelay: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	setHook(hook, func(r acsandbox.Request) {
		if r.Op == "searchRecurringPayment" {
			cancel()
		}
	})
	in, out := transformDir(t, 8), t.TempDir()
	cfg := cfgFor(url, func(c *Config) { c.BulkImportMin, c.RecurringPaymentBatch = 10, 2 })
	_, err := Run(ctx, Options{In: in, RunID: "r1", Client: c}, cfg, out)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want cancelled", err)
	}
	if n := countOps(srv, "bulkUpsertRecurringPayments"); n != 4 {
		t.Fatalf("%d batches sent before the cancel, want 4", n)
	}
	j, err := openJournal(filepath.Join(out, JournalFile), true)
	if err != nil {
		t.Fatal(err)
	}
	for k := range j.acked {
		if strings.HasPrefix(k, EntityRecurringPayment+"/") {
			t.Errorf("%s journaled as acknowledged before AC showed it", k)
		}
	}
	if len(j.sent) != 4 {
		t.Errorf("%d sent batches awaiting confirmation, want 4", len(j.sent))
	}
	j.Close()
	if _, err := os.Stat(filepath.Join(out, SyncedDir)); err == nil {
		t.Error("a synced snapshot was written")
	}

	// AC applies them; the resume confirms (one search per batch), sends nothing.
	srv.Flush()
	srv.ResetLog()
	setHook(hook, func(acsandbox.Request) {})
	if _, err := Run(context.Background(), Options{In: in, RunID: "r1", Client: c, Resume: true}, cfg, out); err != nil {
		t.Fatal(err)
	}
	if n := srv.WriteRequests(); n != 0 {
		t.Errorf("the resume made %d writes: %+v", n, srv.Requests())
	}
	if n := countOps(srv, "searchRecurringPayment"); n != 4 {
		t.Errorf("the resume made %d searches, want 4", n)
	}
	if k := syncedKeys(t, out); len(k) != 8 {
		t.Errorf("synced %v", k)
	}
}
