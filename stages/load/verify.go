package load

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Mismatch is one field of a recurring payment that AC holds differently from the
// synced snapshot.
type Mismatch struct {
	Key, Field, Synced, AC string
}

// Verify reads a random sample of n recurring payments of the synced snapshot back
// from AC (searchRecurringPayment) and reports every compared field that differs,
// and records AC does not have at all (Field "(missing)").
func Verify(ctx context.Context, c *ac.Client, syncedDir string, connectionID int64, n int, seed uint64) (checked int, out []Mismatch, err error) {
	rps, err := schemas.RecurringPayments.ReadFile(filepath.Join(syncedDir, RecurringPaymentsFile+".parquet"))
	if err != nil {
		return 0, nil, err
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(rps), func(i, j int) { rps[i], rps[j] = rps[j], rps[i] })
	if n > 0 && n < len(rps) {
		rps = rps[:n]
	}
	for i := range rps {
		rp := &rps[i]
		// Filtered by the connection in the search itself: another store's record
		// with the same id is not ours.
		found, err := c.SearchRecurringPayments(ctx, connectionID, rp.StoreRecurringPaymentID)
		if err != nil {
			return checked, out, fmt.Errorf("verify %s: %w", rp.StoreRecurringPaymentID, err)
		}
		checked++
		if len(found) == 0 {
			out = append(out, Mismatch{Key: rp.StoreRecurringPaymentID, Field: "(missing)", Synced: "present", AC: "absent"})
			continue
		}
		got := found[0]
		want := ac.RecurringPaymentInput(connectionID, rp)
		if rp.Deleted {
			want["normalizedStatus"], want["storeStatus"] = "CANCELLED", "deleted"
		}
		for field, w := range want {
			g, ok := got[field]
			if !ok {
				continue // a field verify did not ask for
			}
			if !sameValue(w, g) {
				out = append(out, Mismatch{Key: rp.StoreRecurringPaymentID, Field: field, Synced: fmt.Sprint(w), AC: fmt.Sprint(g)})
			}
		}
		// Cleared fields: what the synced row has no value for must have none in AC
		// either (load sends an explicit null when a value goes away).
		for _, field := range ac.SearchFields() {
			if _, sent := want[field]; sent {
				continue
			}
			if g, ok := got[field]; ok && !empty(g) {
				out = append(out, Mismatch{Key: rp.StoreRecurringPaymentID, Field: field, Synced: "(none)", AC: fmt.Sprint(g)})
			}
		}
	}
	return checked, out, nil
}

// empty: null, "", or an empty list, as AC may return a field it holds no value for.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// sameValue compares a sent value with what AC returns: numbers may come back as
// numbers or strings, decimals with another scale (20.00 vs 20), dates with another
// RFC 3339 form of the same instant (+00:00, milliseconds).
func sameValue(sent, got any) bool {
	if fmt.Sprint(sent) == fmt.Sprint(got) {
		return true
	}
	if sent == nil {
		return empty(got)
	}
	a, errA := strconv.ParseFloat(fmt.Sprint(sent), 64)
	b, errB := strconv.ParseFloat(fmt.Sprint(got), 64)
	if errA == nil && errB == nil {
		return a == b
	}
	ta, errA := time.Parse(time.RFC3339Nano, fmt.Sprint(sent))
	tb, errB := time.Parse(time.RFC3339Nano, fmt.Sprint(got))
	return errA == nil && errB == nil && ta.Equal(tb)
}
