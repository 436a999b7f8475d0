package transform

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

// Made-up invoice statuses (300 distinct, one per subscription's renewal invoice)
// once panicked the 256-entry code table; now each is kept and given back.
func TestBillingManyDistinctStatuses(t *testing.T) {
	b := newBilling(0)
	for i := range 300 {
		sub := fmt.Sprintf("s%d", i)
		v := schemas.Invoice{ID: fmt.Sprintf("i%d", i), SubscriptionID: sub, Recurring: true,
			Status: fmt.Sprintf("made_up_%d", i), CurrencyCode: "USD", Date: i64(int64(1700000000 + i)), Total: i64(100)}
		if err := b.add(&v); err != nil {
			t.Fatalf("invoice %d: %v", i, err)
		}
	}
	for i := range 300 {
		var bl Billing
		b.get(fmt.Sprintf("s%d", i), &bl, new(Renewal))
		if bl.Renewal == nil || bl.Renewal.Status != fmt.Sprintf("made_up_%d", i) || bl.Renewal.Currency != "USD" {
			t.Fatalf("s%d: renewal %+v", i, bl.Renewal)
		}
	}
}

// A code table past its size is an error naming the column, never a panic or a
// code that wraps around to another string.
func TestCodesOverflowIsAnError(t *testing.T) {
	var c codes
	for i := range maxCodes {
		if _, err := c.code("things", fmt.Sprint(i)); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	if i, err := c.code("things", "7"); err != nil || c.str(i) != "7" {
		t.Fatalf("known string: %d %v", i, err)
	}
	_, err := c.code("things", "one too many")
	if err == nil || !strings.Contains(err.Error(), "distinct things") {
		t.Fatalf("err = %v, want an overflow error", err)
	}
	var s sources
	s.m = newSources(0).m
	s.strs = c
	if err := s.add(&schemas.PaymentSource{ID: "pm1", Type: "new_type"}); err == nil {
		t.Fatal("payment source past the table: no error")
	}
}
