package load

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"

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
		found, err := c.SearchRecurringPayments(ctx, rp.StoreRecurringPaymentID)
		if err != nil {
			return checked, out, fmt.Errorf("verify %s: %w", rp.StoreRecurringPaymentID, err)
		}
		checked++
		var got ac.RecurringPayment
		for _, f := range found {
			if fmt.Sprint(f["legacyConnectionId"]) == strconv.FormatInt(connectionID, 10) {
				got = f
			}
		}
		if got == nil {
			out = append(out, Mismatch{Key: rp.StoreRecurringPaymentID, Field: "(missing)", Synced: "present", AC: "absent"})
			continue
		}
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
	}
	return checked, out, nil
}

// sameValue compares a sent value with what AC returns: numbers may come back as
// numbers or strings, decimals with another scale (20.00 vs 20).
func sameValue(sent, got any) bool {
	if fmt.Sprint(sent) == fmt.Sprint(got) {
		return true
	}
	a, errA := strconv.ParseFloat(fmt.Sprint(sent), 64)
	b, errB := strconv.ParseFloat(fmt.Sprint(got), 64)
	return errA == nil && errB == nil && a == b
}
