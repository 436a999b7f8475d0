package load

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// resumeWrites runs a resumed load over journal lines and returns the data writes
// AC saw, as op:keys.
func resumeWrites(t *testing.T, srv *acsandbox.Server, c *ac.Client, in, out string, cfg Config, lines ...string) []string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(out, JournalFile), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.ResetLog()
	if _, err := Run(context.Background(), Options{In: in, RunID: "r1", Resume: true, Client: c}, cfg, out); err != nil {
		t.Fatal(err)
	}
	var w []string
	for _, r := range srv.Requests() {
		if r.Write && r.Op != "connections_create" {
			w = append(w, r.Op+":"+strings.Join(r.Keys, ","))
		}
	}
	return w
}

// A contact the killed attempt created but had not yet subscribed (a "synced"
// line) is only subscribed on resume: contact/sync is not sent for it again.
func TestResumeSubscribesSyncedContact(t *testing.T) {
	srv, c, url := sandboxClient(t)
	in, out := transformDir(t, 2), t.TempDir()
	id, err := c.SyncContact(context.Background(), ac.Contact{Email: "c1@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	got := resumeWrites(t, srv, c, in, out, Config{APIURL: url, BulkImportMin: 10},
		`{"batch":"0001-synced","entity":"contact","op":"synced","keys":["cus_1"],"contact":"`+string(id)+`"}`)
	want := []string{"contactLists:c1@example.com", "contact_sync:c2@example.com", "contactLists:c2@example.com",
		"bulkUpsertRecurringPayments:sub_1,sub_2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
	if c1, _ := srv.Snapshot().ContactByEmail("c1@example.com"); c1.Lists["1"] != 1 {
		t.Errorf("cus_1 lists %v, want subscribed", c1.Lists)
	}
}

// An import the killed attempt left queued, which AC then reported "failed", is
// sent again on resume; polling it again would fail every resume for good.
func TestResumeResendsFailedImport(t *testing.T) {
	srv, c, url := sandboxClient(t)
	in, out := transformDir(t, 2), t.TempDir()
	srv.FailImports(1)
	batchID, err := c.BulkImport(context.Background(), []ac.ImportContact{{Email: "c1@example.com"}, {Email: "c2@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Flush()
	if _, err := c.WaitImport(context.Background(), batchID, time.Millisecond, 0); err == nil {
		t.Fatal("the import did not fail")
	}
	got := resumeWrites(t, srv, c, in, out, Config{APIURL: url, BulkImportMin: 1, ImportPoll: 5 * time.Millisecond},
		`{"batch":"0001-queued","entity":"contact","op":"queued","import":"`+batchID+`","keys":["cus_1","cus_2"]}`)
	want := []string{"bulk_import:c1@example.com,c2@example.com", "bulkUpsertRecurringPayments:sub_1,sub_2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
	srv.Flush()
	for _, e := range []string{"c1@example.com", "c2@example.com"} {
		if _, ok := srv.Snapshot().ContactByEmail(e); !ok {
			t.Errorf("%s is not in AC after the resume", e)
		}
	}
}
