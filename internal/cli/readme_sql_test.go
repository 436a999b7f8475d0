//go:build cgo

package cli

import (
	"database/sql"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	// DuckDB in process, through its Go driver (cgo; the library comes with the
	// module): the README's queries run as a data engineer would run them.
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/cb2ac/cb2ac/schemas"
)

// The demo's nights, as README "Opening the files in DuckDB" names them.
const (
	readmeNight1 = "20261123T020000Z"
	readmeNight2 = "20261124T020000Z"
	readmeNight3 = "20261125T020000Z"
)

var sqlBlock = regexp.MustCompile("(?s)```sql\n(.*?)```")

// readmeQueries are the sql blocks of README's DuckDB section, verbatim.
func readmeQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Opening the files in DuckDB\n")
	if !ok {
		t.Fatal(`README.md has no "## Opening the files in DuckDB" section`)
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	var out []string
	for _, m := range sqlBlock.FindAllStringSubmatch(sec, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}

// TestReadmeDuckDBQueries runs every query of README's DuckDB section against three
// make-demo nights, with only the data dir substituted, and holds the answers to what
// cb2ac's own reader and the manifests say.
func TestReadmeDuckDBQueries(t *testing.T) {
	t.Parallel()
	queries := readmeQueries(t)
	if len(queries) < 10 {
		t.Fatalf("%d sql blocks in README's DuckDB section; the test expects every query there", len(queries))
	}
	data := t.TempDir()
	cfg := writeConfig(t, acConfig{unthrottled: true})
	for _, night := range []struct {
		id    string
		apply []string
	}{{readmeNight1, nil}, {readmeNight2, nil}, {readmeNight3, []string{"--sandbox-apply", day2Pages}}} {
		args := append([]string{"--data-dir", data, "--config", cfg, "--log-level", "warn", "run", "--sandbox", "--csv", "--run-id", night.id}, night.apply...)
		mustExit(t, cb2ac(t, args...), 0)
	}
	night3 := filepath.Join(data, "runs", readmeNight3)
	rps := readTable(t, schemas.RecurringPayments, filepath.Join(night3, "transform", "recurring_payments.parquet"))
	plan := readTable(t, schemas.Plans, filepath.Join(night3, "load", "plan.parquet"))

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := map[string]bool{}
	for _, q := range queries {
		rows := duckQuery(t, db, strings.ReplaceAll(q, "'data/", "'"+filepath.ToSlash(data)+"/"))
		if len(rows) == 0 {
			t.Errorf("README query returns no rows:\n%s", q)
			continue
		}
		check := func(name string, fn func()) {
			seen[name] = true
			fn()
		}
		switch {
		case strings.Contains(q, "SELECT normalizedStatus, count(*)"):
			check("statuses", func() {
				live := 0
				for _, rp := range rps {
					if !rp.Deleted {
						live++
					}
				}
				if got := sumInt(rows, "n"); got != int64(live) {
					t.Errorf("statuses this run: %d rows, the transform file has %d not deleted", got, live)
				}
			})
		case strings.Contains(q, "SELECT run_id, extracted_at"):
			check("per night", func() {
				nights := map[any]bool{}
				for _, r := range rows {
					nights[r["run_id"]] = true
					if r["extracted_at"] == nil {
						t.Errorf("per night: no extracted_at in %v", r)
					}
				}
				if len(nights) != 3 || !nights[readmeNight1] || !nights[readmeNight3] {
					t.Errorf("per night: runs %v, want the three nights", nights)
				}
			})
		case strings.Contains(q, "sum(paymentAmountDecimal)"):
			check("typed money", func() {
				want := map[string]*big.Rat{}
				for _, rp := range rps {
					if rp.Deleted {
						continue
					}
					v, ok := new(big.Rat).SetString(rp.PaymentAmount)
					if !ok {
						t.Fatalf("%s: paymentAmount %q", rp.StoreRecurringPaymentID, rp.PaymentAmount)
					}
					if want[rp.Currency] == nil {
						want[rp.Currency] = new(big.Rat)
					}
					want[rp.Currency].Add(want[rp.Currency], v)
				}
				for _, r := range rows {
					cur, _ := r["currency"].(string)
					got, ok := new(big.Rat).SetString(strings.TrimSpace(duckText(r["mrr"])))
					if !ok || want[cur] == nil || got.Cmp(want[cur]) != 0 {
						t.Errorf("typed money: %s sums to %v, the text column to %v", cur, r["mrr"], want[cur])
					}
				}
			})
		case strings.Contains(q, "json_extract_string(custom_fields"):
			check("custom fields", func() {
				n := 0
				for _, r := range rows {
					if r["industry"] != nil {
						n++
					}
				}
				if n == 0 {
					t.Errorf("custom fields: no customer with cf_industry")
				}
			})
		case strings.Contains(q, "SELECT entity, op, count(*)"):
			check("plan", func() {
				if got := sumInt(rows, "n"); got != int64(len(plan)) {
					t.Errorf("plan: %d rows, plan.parquet has %d", got, len(plan))
				}
			})
		case strings.Contains(q, "unnest(changes"):
			check("changes", func() {
				want := map[string]bool{}
				for _, e := range plan {
					for _, c := range e.Changes {
						want[e.Entity+"|"+e.Key+"|"+c.Field+"|"+c.Old+"|"+c.New] = true
					}
				}
				if len(want) == 0 {
					t.Errorf("changes: the plan shows no change")
				}
				str := func(v any) string { s, _ := v.(string); return s }
				for _, r := range rows {
					if k := str(r["entity"]) + "|" + str(r["key"]) + "|" + str(r["field"]) + "|" + str(r["old"]) + "|" + str(r["new"]); !want[k] {
						t.Errorf("changes: DuckDB row %v is not in the plan", r)
					}
				}
				if len(rows) != len(want) {
					t.Errorf("changes: %d rows, the plan shows %d", len(rows), len(want))
				}
			})
		case strings.Contains(q, "unnest(changed_fields)"):
			check("changed fields", func() {
				want := 0
				for _, e := range plan {
					want += len(e.ChangedFields)
				}
				if len(rows) != want {
					t.Errorf("changed fields: %d rows, the plan names %d", len(rows), want)
				}
			})
		case strings.Contains(q, "recurring_payments.csv"):
			check("csv twin", func() {
				byID := map[string]schemas.RecurringPayment{}
				for _, rp := range rps {
					byID[rp.StoreRecurringPaymentID] = rp
				}
				zeros := 0
				for _, r := range rows {
					id, _ := r["storeRecurringPaymentId"].(string)
					rp, ok := byID[id]
					if !ok {
						t.Errorf("csv twin: %q is not in the Parquet file", id)
						continue
					}
					if amt, _ := r["paymentAmount"].(string); amt != rp.PaymentAmount && !(r["paymentAmount"] == nil && rp.PaymentAmount == "") {
						t.Errorf("csv twin: %s paymentAmount %v, Parquet %q", id, r["paymentAmount"], rp.PaymentAmount)
					}
					if h, _ := r["row_hash"].(string); h != schemas.FormatHash(rp.RowHash) {
						t.Errorf("csv twin: %s row_hash %v, Parquet %d (%s)", id, r["row_hash"], rp.RowHash, schemas.FormatHash(rp.RowHash))
					}
					// An amount a double would change ("950.00" → 950): the text holds.
					if strings.Contains(rp.PaymentAmount, ".") && strings.HasSuffix(rp.PaymentAmount, "0") {
						zeros++
					}
				}
				if zeros == 0 {
					t.Error("csv twin: the demo has no amount with trailing zeros to hold")
				}
			})
		case strings.Contains(q, "parquet_kv_metadata"):
			check("metadata", func() {
				kv := map[string]string{}
				for _, r := range rows {
					kv[duckText(r["key"])] = duckText(r["value"])
				}
				if kv[schemas.MetaSchema] != "customer" || kv[schemas.MetaRunID] != readmeNight3 || kv[schemas.MetaExtractedAt] == "" {
					t.Errorf("metadata: %v", kv)
				}
			})
		}
	}
	for _, name := range []string{"statuses", "per night", "typed money", "custom fields", "plan", "changed fields", "csv twin", "metadata"} {
		if !seen[name] {
			t.Errorf("README's DuckDB section lost the %s query this test checks", name)
		}
	}
}

func duckQuery(t *testing.T, db *sql.DB, q string) []map[string]any {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Errorf("README query fails: %v\n%s", err, q)
		return nil
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		row := map[string]any{}
		for i, c := range cols {
			row[c] = vals[i]
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Errorf("README query fails: %v\n%s", err, q)
	}
	return out
}

func sumInt(rows []map[string]any, col string) int64 {
	var n int64
	for _, r := range rows {
		if v, ok := r[col].(int64); ok {
			n += v
		}
	}
	return n
}

// duckText is a value DuckDB returned, as text (blobs and decimals included).
func duckText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case interface{ String() string }: // duckdb.Decimal, time.Time
		return v.String()
	}
	return fmt.Sprint(v)
}
