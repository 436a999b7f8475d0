package transform

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/cb2ac/cb2ac/internal/money"
	"github.com/cb2ac/cb2ac/internal/strmap"
	"github.com/cb2ac/cb2ac/schemas"
)

// What a subscription's invoices and credit notes say (README "What transform
// sends"): its renewal invoice and whether a collection attempt on one of its due
// invoices failed.

// Billing is what transform knows of one subscription's invoices.
type Billing struct {
	// Renewal is the subscription's per-cycle invoice; nil when it has none.
	Renewal *Renewal
	// DueDunning: a due invoice (payment_due, not_paid) of the subscription has
	// dunning_status in_progress or exhausted.
	DueDunning bool
	// DueFailedTxn: a due invoice of the subscription has a linked payment or a
	// dunning attempt whose transaction failed (failure, timeout, late_failure).
	DueFailedTxn bool
}

// Renewal is a subscription's renewal invoice as it concerns the subscription.
type Renewal struct {
	ID, Status, Currency string
	Date, PaidAt         *int64
	// Amount, Discount and Tax are what the subscription pays on the invoice: the
	// invoice's total, discount and tax, or on a consolidated invoice the sums of
	// the subscription's own line items.
	Amount, Discount, Tax *int64
	// Paid is what a refund is measured against: amount_paid, else total.
	Paid *int64
	// Refunded is the sum of amount_refunded of the credit notes against the
	// invoice (not voided, not deleted).
	Refunded int64
	// Dunning: dunning_status is in_progress or exhausted. FailedTxn: a linked
	// payment or dunning attempt failed, the latest at FailedAt.
	Dunning, FailedTxn bool
	FailedAt           *int64
}

// due reports whether an invoice status says the invoice is unpaid and collectable.
func due(status string) bool { return status == "payment_due" || status == "not_paid" }

// failedTxn reports whether a transaction status is a failed collection attempt
// (chargebee-go models/transaction/enum/status.go; the invoice's linked_payments
// and dunning_attempts carry the same enum as txn_status). in_progress (direct
// debit under way), needs_attention (outcome unknown), voided and success are not.
func failedTxn(status string) bool {
	return status == "failure" || status == "timeout" || status == "late_failure"
}

// inDunning reports whether a dunning_status says a collection attempt failed and
// is being (in_progress) or was (exhausted) retried.
func inDunning(status string) bool { return status == "in_progress" || status == "exhausted" }

// planLine reports whether an invoice line bills a plan: the plan's item price
// (Product Catalog 2.0) or the plan (1.0).
func planLine(l *schemas.InvoiceLine) bool {
	return l.EntityType == "plan_item_price" || l.EntityType == "plan"
}

// billFacts is what the index keeps per subscription (packed: no pointers).
type billFacts struct {
	id                                               strmap.Ref
	date, paidAt, amount, discount, tax, paid, failA int64
	has                                              uint16 // the seven numbers above, then the flags below
	status, currency                                 uint16 // codes into billing.strs
}

const (
	hasDate = 1 << iota
	hasPaidAt
	hasAmount
	hasDiscount
	hasTax
	hasPaid
	hasFailedAt
	hasRenewal
	renDunning
	renFailedTxn
	subDueDunning
	subDueFailedTxn
)

// billing is the per-subscription invoice index Run builds in one pass over the
// invoices, and the refunds by invoice id from the credit notes.
type billing struct {
	m       *strmap.Map[billFacts]
	ids     strmap.Arena
	strs    codes // the few distinct statuses and currencies
	refunds *strmap.Map[int64]
	subs    []string // scratch: the subscriptions an invoice concerns
}

func newBilling(hint int) *billing {
	return &billing{m: strmap.New[billFacts](hint), refunds: strmap.New[int64](0)}
}

// invoiceCols are the invoice columns billing reads: a projection skips the
// addresses, custom fields and other columns transform never sends.
var invoiceCols = []string{"id", "subscription_id", "recurring", "status", "dunning_status", "currency_code",
	"date", "paid_at", "total", "tax", "discount", "amount_paid", "deleted", "price_type",
	"line_items", "linked_payments", "dunning_attempts"}

// addCreditNote records a credit note's refunds against its invoice.
func (b *billing) addCreditNote(cn *schemas.CreditNote) {
	if cn.Deleted || cn.Status == "voided" || cn.ReferenceInvoiceID == "" || deref(cn.AmountRefunded) == 0 {
		return
	}
	r, _ := b.refunds.Put(cn.ReferenceInvoiceID)
	if s, ok := money.Add(*r, *cn.AmountRefunded); ok {
		*r = s
	}
}

// add takes one invoice into the index. A voided or deleted invoice says nothing.
// The error is a code table overflowing (input validate would have rejected).
// The invoice concerns its subscription_id, or on a consolidated invoice (no
// subscription_id) every subscription its line items name.
func (b *billing) add(v *schemas.Invoice) error {
	if v.Deleted || v.Status == "voided" {
		return nil
	}
	subs := b.subs[:0]
	if v.SubscriptionID != "" {
		subs = append(subs, v.SubscriptionID)
	} else {
		for i := range v.LineItems {
			if id := v.LineItems[i].SubscriptionID; id != "" && !contains(subs, id) {
				subs = append(subs, id)
			}
		}
	}
	b.subs = subs
	if len(subs) == 0 {
		return nil
	}
	isDue := due(v.Status)
	dunning := inDunning(v.DunningStatus)
	failed, failedAt := false, int64(0)
	hasFailed := false
	for _, ps := range [2]schemas.InvoicePayments{v.Payments, v.DunningAttempts} {
		for i := range ps {
			if !failedTxn(ps[i].TxnStatus) {
				continue
			}
			failed = true
			if d := ps[i].TxnDate; d != nil && (!hasFailed || *d > failedAt) {
				failedAt, hasFailed = *d, true
			}
		}
	}
	for _, sub := range subs {
		renewal := b.isRenewal(v, sub)
		if !renewal && !(isDue && (dunning || failed)) {
			continue
		}
		f, _ := b.m.Put(sub)
		if isDue && dunning {
			f.has |= subDueDunning
		}
		if isDue && failed {
			f.has |= subDueFailedTxn
		}
		if !renewal {
			continue
		}
		if f.has&hasRenewal != 0 {
			if c := cmpInt(deref(v.Date), f.date); c < 0 || c == 0 && v.ID <= b.ids.String(f.id) {
				continue
			}
		}
		keep := f.has & (subDueDunning | subDueFailedTxn)
		status, err := b.strs.code("invoice statuses and currencies", v.Status)
		if err != nil {
			return fmt.Errorf("invoice %s: %w", v.ID, err)
		}
		currency, err := b.strs.code("invoice statuses and currencies", v.CurrencyCode)
		if err != nil {
			return fmt.Errorf("invoice %s: %w", v.ID, err)
		}
		*f = billFacts{id: b.ids.Add(v.ID), status: status, currency: currency, has: keep | hasRenewal}
		amount, discount, tax := v.Total, v.Discount, v.Tax
		if v.SubscriptionID == "" {
			amount, discount, tax = lineSums(v, sub)
		}
		src := [...]*int64{v.Date, v.PaidAt, amount, discount, tax, cmpPtr(v.AmountPaid, v.Total)}
		dst := [...]*int64{&f.date, &f.paidAt, &f.amount, &f.discount, &f.tax, &f.paid}
		for i, p := range src {
			if p != nil {
				f.has |= 1 << i
				*dst[i] = *p
			}
		}
		if hasFailed {
			f.has |= hasFailedAt
			f.failA = failedAt
		}
		if dunning {
			f.has |= renDunning
		}
		if failed {
			f.has |= renFailedTxn
		}
	}
	return nil
}

// isRenewal reports whether the invoice is a per-cycle invoice of sub: its line
// items for sub bill the plan. An invoice without line items (a snapshot from
// before extract read them) falls back to the old reading: recurring and naming sub.
func (b *billing) isRenewal(v *schemas.Invoice, sub string) bool {
	if len(v.LineItems) == 0 {
		return v.Recurring && v.SubscriptionID == sub
	}
	for i := range v.LineItems {
		l := &v.LineItems[i]
		if cmp.Or(v.SubscriptionID, l.SubscriptionID) == sub && planLine(l) {
			return true
		}
	}
	return false
}

// lineSums is what sub pays on a consolidated invoice: the sums over its line
// items of amount − discount_amount (+ tax_amount when the invoice is
// tax_exclusive), of discount_amount and of tax_amount. A sum that overflows is
// left out (nil), so the amount falls back to the subscription's items.
func lineSums(v *schemas.Invoice, sub string) (amount, discount, tax *int64) {
	var a, d, t int64
	ok := true
	add := func(s *int64, v int64) {
		if !ok {
			return
		}
		*s, ok = money.Add(*s, v)
	}
	for i := range v.LineItems {
		l := &v.LineItems[i]
		if l.SubscriptionID != sub {
			continue
		}
		add(&a, deref(l.Amount))
		add(&a, -deref(l.DiscountAmount))
		if v.PriceType != "tax_inclusive" {
			add(&a, deref(l.TaxAmount))
		}
		add(&d, deref(l.DiscountAmount))
		add(&t, deref(l.TaxAmount))
	}
	if !ok {
		return nil, nil, nil
	}
	return &a, &d, &t
}

// codes is a table of the few distinct strings of a column (statuses, currencies,
// payment source types), numbered from 0. It grows to maxCodes entries; past that,
// code returns an error instead of wrapping or panicking: input is never trusted
// to be as small as validate makes it.
type codes struct {
	strs []string
	idx  map[string]uint16 // built once the table outgrows a linear scan
}

const maxCodes = 1 << 16

func (c *codes) code(what, s string) (uint16, error) {
	if c.idx != nil {
		if i, ok := c.idx[s]; ok {
			return i, nil
		}
	} else {
		for i, v := range c.strs {
			if v == s {
				return uint16(i), nil
			}
		}
	}
	if len(c.strs) >= maxCodes {
		return 0, fmt.Errorf("more than %d distinct %s (one is %q): the input is not what validate writes", maxCodes, what, s)
	}
	s = strings.Clone(s)
	c.strs = append(c.strs, s)
	i := uint16(len(c.strs) - 1)
	if c.idx != nil {
		c.idx[s] = i
	} else if len(c.strs) > 16 {
		c.idx = make(map[string]uint16, 2*len(c.strs))
		for j, v := range c.strs {
			c.idx[v] = uint16(j)
		}
	}
	return i, nil
}

func (c *codes) str(i uint16) string { return c.strs[i] }

// get fills bl (and ren, which bl.Renewal then points to) for subscription subID.
func (b *billing) get(subID string, bl *Billing, ren *Renewal) {
	*bl = Billing{}
	f, ok := b.m.Get(subID)
	if !ok {
		return
	}
	bl.DueDunning = f.has&subDueDunning != 0
	bl.DueFailedTxn = f.has&subDueFailedTxn != 0
	if f.has&hasRenewal == 0 {
		return
	}
	*ren = Renewal{ID: b.ids.String(f.id), Status: b.strs.str(f.status), Currency: b.strs.str(f.currency),
		Dunning: f.has&renDunning != 0, FailedTxn: f.has&renFailedTxn != 0}
	vals := [...]int64{f.date, f.paidAt, f.amount, f.discount, f.tax, f.paid, f.failA}
	ptrs := [...]**int64{&ren.Date, &ren.PaidAt, &ren.Amount, &ren.Discount, &ren.Tax, &ren.Paid, &ren.FailedAt}
	for i := range vals {
		if f.has&(1<<i) != 0 {
			v := vals[i]
			*ptrs[i] = &v
		}
	}
	if r, ok := b.refunds.Get(ren.ID); ok {
		ren.Refunded = *r
	}
	bl.Renewal = ren
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
