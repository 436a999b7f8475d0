package transform

import (
	"fmt"
	"strings"

	"github.com/cb2ac/cb2ac/schemas"
)

// AC's normalizedStatus values.
const (
	Active        = "ACTIVE"
	Cancelled     = "CANCELLED"
	Expired       = "EXPIRED"
	PaymentFailed = "PAYMENT_FAILED"
	Paused        = "PAUSED"
	Pending       = "PENDING"
)

var normalized = map[string]bool{Active: true, Cancelled: true, Expired: true, PaymentFailed: true, Paused: true, Pending: true}

// StatusRule is one row of the status map: a Chargebee status, an optional condition,
// and what AC gets. Rows are tried in order; the first whose status and condition
// match wins.
type StatusRule struct {
	Status string `yaml:"status" json:"status"`
	// When is "" (always), "payment_failed" (a collection attempt on a due invoice
	// failed: see CollectionFailed), "no_remaining_cycles" (remaining_billing_cycles =
	// 0), "cancel_reason=<reason>", or "due_invoices" (due_invoices_count > 0: the
	// presets' rule before payment_failed, kept for configs that name it; it also
	// fires for offline payers and direct debits under way).
	When       string `yaml:"when,omitempty" json:"when,omitempty"`
	Normalized string `yaml:"normalized" json:"normalized"`
	// StoreStatus is the storeStatus word; empty keeps the Chargebee status.
	StoreStatus string `yaml:"store_status,omitempty" json:"store_status,omitempty"`
}

// Conditions.
const (
	WhenPaymentFailed     = "payment_failed"
	WhenDueInvoices       = "due_invoices"
	WhenNoRemainingCycles = "no_remaining_cycles"
	whenCancelReason      = "cancel_reason="
)

// Facts are what a status rule may test beyond the subscription record.
type Facts struct {
	// PaymentFailed: see CollectionFailed.
	PaymentFailed bool
}

func (r StatusRule) matches(s *schemas.Subscription, f Facts) bool {
	if r.Status != s.Status {
		return false
	}
	switch {
	case r.When == "":
		return true
	case r.When == WhenPaymentFailed:
		return f.PaymentFailed
	case r.When == WhenDueInvoices:
		return s.DueInvoicesCount > 0
	case r.When == WhenNoRemainingCycles:
		return s.RemainingBillingCycles != nil && *s.RemainingBillingCycles == 0
	case strings.HasPrefix(r.When, whenCancelReason):
		return s.CancelReason == strings.TrimPrefix(r.When, whenCancelReason)
	}
	return false
}

func (r StatusRule) check() error {
	if r.Status == "" {
		return fmt.Errorf("status_map row has no status")
	}
	if !normalized[r.Normalized] {
		return fmt.Errorf("status_map row for %q: normalized %q is not one of ACTIVE, CANCELLED, EXPIRED, PAYMENT_FAILED, PAUSED, PENDING", r.Status, r.Normalized)
	}
	switch {
	case r.When == "", r.When == WhenPaymentFailed, r.When == WhenDueInvoices, r.When == WhenNoRemainingCycles:
	case strings.HasPrefix(r.When, whenCancelReason) && len(r.When) > len(whenCancelReason):
	default:
		return fmt.Errorf("status_map row for %q: when %q is not payment_failed, no_remaining_cycles, cancel_reason=<reason> or due_invoices", r.Status, r.When)
	}
	return nil
}

// ChargebeeStatusMap is the default map (README "What transform sends").
var ChargebeeStatusMap = []StatusRule{
	{Status: "future", Normalized: Pending},
	{Status: "in_trial", Normalized: Active},
	{Status: "active", When: WhenPaymentFailed, Normalized: PaymentFailed},
	{Status: "non_renewing", When: WhenPaymentFailed, Normalized: PaymentFailed},
	{Status: "active", Normalized: Active},
	{Status: "non_renewing", Normalized: Active},
	{Status: "paused", Normalized: Paused},
	{Status: "cancelled", When: "cancel_reason=not_paid", Normalized: PaymentFailed},
	{Status: "cancelled", When: WhenNoRemainingCycles, Normalized: Expired},
	{Status: "cancelled", Normalized: Cancelled},
	{Status: "transferred", Normalized: Cancelled},
}

// WooCommerceStatusMap speaks WooCommerce Subscriptions: each Chargebee state gets the
// Woo status word as storeStatus and AC's WooCommerce mapping
// (reference/ac-recurring-payments.txt) as normalizedStatus, so automations built for
// a Woo store keep working after a move to Chargebee. Woo puts a subscription whose
// renewal failed "on-hold".
var WooCommerceStatusMap = []StatusRule{
	{Status: "future", Normalized: Pending, StoreStatus: "pending"},
	{Status: "in_trial", Normalized: Active, StoreStatus: "active"},
	{Status: "active", When: WhenPaymentFailed, Normalized: Paused, StoreStatus: "on-hold"},
	{Status: "non_renewing", When: WhenPaymentFailed, Normalized: Paused, StoreStatus: "on-hold"},
	{Status: "active", Normalized: Active, StoreStatus: "active"},
	{Status: "non_renewing", Normalized: PaymentFailed, StoreStatus: "pending-cancel"},
	{Status: "paused", Normalized: Paused, StoreStatus: "on-hold"},
	{Status: "cancelled", When: WhenNoRemainingCycles, Normalized: Expired, StoreStatus: "expired"},
	{Status: "cancelled", Normalized: Cancelled, StoreStatus: "cancelled"},
	{Status: "transferred", Normalized: Cancelled, StoreStatus: "cancelled"},
}

// ShopifyStatusMap speaks Shopify subscription contracts (ACTIVE, PAUSED, EXPIRED,
// FAILED, CANCELLED) with AC's Shopify mapping. Shopify has no pending state, so a
// future subscription keeps Chargebee's word and PENDING.
var ShopifyStatusMap = []StatusRule{
	{Status: "future", Normalized: Pending, StoreStatus: "future"},
	{Status: "in_trial", Normalized: Active, StoreStatus: "ACTIVE"},
	{Status: "active", When: WhenPaymentFailed, Normalized: PaymentFailed, StoreStatus: "FAILED"},
	{Status: "non_renewing", When: WhenPaymentFailed, Normalized: PaymentFailed, StoreStatus: "FAILED"},
	{Status: "active", Normalized: Active, StoreStatus: "ACTIVE"},
	{Status: "non_renewing", Normalized: Active, StoreStatus: "ACTIVE"},
	{Status: "paused", Normalized: Paused, StoreStatus: "PAUSED"},
	{Status: "cancelled", When: "cancel_reason=not_paid", Normalized: PaymentFailed, StoreStatus: "FAILED"},
	{Status: "cancelled", When: WhenNoRemainingCycles, Normalized: Expired, StoreStatus: "EXPIRED"},
	{Status: "cancelled", Normalized: Cancelled, StoreStatus: "CANCELLED"},
	{Status: "transferred", Normalized: Cancelled, StoreStatus: "CANCELLED"},
}

// Presets by config name.
var Presets = map[string][]StatusRule{
	"chargebee":   ChargebeeStatusMap,
	"woocommerce": WooCommerceStatusMap,
	"shopify":     ShopifyStatusMap,
}

// StatusMap is the effective, ordered map.
type StatusMap []StatusRule

// NewStatusMap builds the map of a preset with overrides: an override replaces the
// preset row of the same status and condition, and a new row is tried before the
// preset's rows, so a config row always takes effect.
func NewStatusMap(preset string, overrides []StatusRule) (StatusMap, error) {
	if preset == "" {
		preset = "chargebee"
	}
	base, ok := Presets[preset]
	if !ok {
		return nil, fmt.Errorf("status_preset %q is not chargebee, woocommerce or shopify", preset)
	}
	m := append(StatusMap(nil), base...)
	var front StatusMap
	for _, o := range overrides {
		if err := o.check(); err != nil {
			return nil, err
		}
		replaced := false
		for i := range m {
			if m[i].Status == o.Status && m[i].When == o.When {
				m[i] = o
				replaced = true
			}
		}
		if !replaced {
			front = append(front, o)
		}
	}
	return append(front, m...), nil
}

// Map returns normalizedStatus and storeStatus for a subscription.
func (m StatusMap) Map(s *schemas.Subscription, f Facts) (normalized, store string, ok bool) {
	for _, r := range m {
		if r.matches(s, f) {
			store = r.StoreStatus
			if store == "" {
				store = s.Status
			}
			return r.Normalized, store, true
		}
	}
	return "", "", false
}
