package transform

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
)

func i64(v int64) *int64 { return &v }

func TestStatusMapChargebee(t *testing.T) {
	failed := &Inputs{Billing: Billing{DueFailedTxn: true}}
	cases := []struct {
		name   string
		sub    schemas.Subscription
		in     *Inputs
		want   string
		trial  bool
		atEnd  bool
		cancel string // expected cancelledDate
	}{
		{"future", schemas.Subscription{Status: "future"}, nil, Pending, false, false, ""},
		{"in_trial", schemas.Subscription{Status: "in_trial"}, nil, Active, true, false, ""},
		{"active, payment failed", schemas.Subscription{Status: "active", DueInvoicesCount: 2}, failed, PaymentFailed, false, false, ""},
		{"non_renewing, payment failed", schemas.Subscription{Status: "non_renewing", DueInvoicesCount: 1, CancelledAt: i64(1700000000)}, failed, PaymentFailed, false, true, "2023-11-14T22:13:20Z"},
		// Dues alone are no failure: an offline payer's open invoice, a direct debit under way.
		{"active with dues, no failed attempt", schemas.Subscription{Status: "active", DueInvoicesCount: 2}, nil, Active, false, false, ""},
		{"active, failed but auto-collection off", schemas.Subscription{Status: "active", DueInvoicesCount: 1, AutoCollection: "off"}, failed, Active, false, false, ""},
		{"active", schemas.Subscription{Status: "active"}, nil, Active, false, false, ""},
		{"non_renewing", schemas.Subscription{Status: "non_renewing", CancelledAt: i64(1700000000)}, nil, Active, false, true, "2023-11-14T22:13:20Z"},
		{"paused", schemas.Subscription{Status: "paused", PauseDate: i64(1600000000), CancelledAt: i64(1700000000)}, nil, Paused, false, false, "2020-09-13T12:26:40Z"},
		{"cancelled not_paid", schemas.Subscription{Status: "cancelled", CancelReason: "not_paid", CancelledAt: i64(1700000000)}, nil, PaymentFailed, false, false, "2023-11-14T22:13:20Z"},
		{"cancelled no cycles left", schemas.Subscription{Status: "cancelled", RemainingBillingCycles: i64(0), CancelledAt: i64(1700000000)}, nil, Expired, false, false, "2023-11-14T22:13:20Z"},
		{"cancelled not_paid wins over cycles", schemas.Subscription{Status: "cancelled", CancelReason: "not_paid", RemainingBillingCycles: i64(0)}, nil, PaymentFailed, false, false, ""},
		{"cancelled cycles left", schemas.Subscription{Status: "cancelled", RemainingBillingCycles: i64(3), CancelReason: "no_card"}, nil, Cancelled, false, false, ""},
		{"cancelled other reason", schemas.Subscription{Status: "cancelled", CancelReason: "fraud_review_failed"}, nil, Cancelled, false, false, ""},
		{"transferred", schemas.Subscription{Status: "transferred"}, nil, Cancelled, false, false, ""},
	}
	m, err := NewMapper(Config{})
	if err != nil {
		t.Fatal(err)
	}
	cust := &schemas.Customer{ID: "c1", Email: "A@Example.com"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.sub
			s.ID, s.CustomerID, s.CurrencyCode, s.BillingPeriod, s.BillingPeriodUnit = "s1", "c1", "USD", 1, "month"
			rp, err := m.RecurringPayment(cust, &s, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if rp.NormalizedStatus != tc.want || rp.StoreStatus != s.Status {
				t.Errorf("status = %s/%s, want %s/%s", rp.NormalizedStatus, rp.StoreStatus, tc.want, s.Status)
			}
			if rp.IsTrial != tc.trial || rp.CancelAtPeriodEnd != tc.atEnd {
				t.Errorf("isTrial=%v cancelAtPeriodEnd=%v, want %v %v", rp.IsTrial, rp.CancelAtPeriodEnd, tc.trial, tc.atEnd)
			}
			if got := deref2(rp.CancelledDate); got != tc.cancel {
				t.Errorf("cancelledDate = %q, want %q", got, tc.cancel)
			}
			if rp.Email != "a@example.com" {
				t.Errorf("email = %q, want lower-cased", rp.Email)
			}
		})
	}
}

func TestStatusPresetsAndOverrides(t *testing.T) {
	cases := []struct {
		preset    string
		overrides []StatusRule
		sub       schemas.Subscription
		norm      string
		store     string
	}{
		{"woocommerce", nil, schemas.Subscription{Status: "paused"}, Paused, "on-hold"},
		{"woocommerce", nil, schemas.Subscription{Status: "non_renewing"}, PaymentFailed, "pending-cancel"},
		{"woocommerce", nil, schemas.Subscription{Status: "future"}, Pending, "pending"},
		{"woocommerce", nil, schemas.Subscription{Status: "cancelled", RemainingBillingCycles: i64(0)}, Expired, "expired"},
		{"woocommerce", nil, schemas.Subscription{Status: "active", DueInvoicesCount: 1}, Active, "active"},
		{"shopify", nil, schemas.Subscription{Status: "active", DueInvoicesCount: 1}, Active, "ACTIVE"},
		{"shopify", nil, schemas.Subscription{Status: "in_trial"}, Active, "ACTIVE"},
		{"shopify", nil, schemas.Subscription{Status: "cancelled"}, Cancelled, "CANCELLED"},
		// An override replaces the row with the same status and condition...
		{"", []StatusRule{{Status: "paused", Normalized: Cancelled}}, schemas.Subscription{Status: "paused"}, Cancelled, "paused"},
		{"", []StatusRule{{Status: "active", When: WhenDueInvoices, Normalized: Active, StoreStatus: "dunning"}}, schemas.Subscription{Status: "active", DueInvoicesCount: 3}, Active, "dunning"},
		// ...and a new row goes first.
		{"", []StatusRule{{Status: "cancelled", When: "cancel_reason=fraud_review_failed", Normalized: PaymentFailed}}, schemas.Subscription{Status: "cancelled", CancelReason: "fraud_review_failed"}, PaymentFailed, "cancelled"},
	}
	for _, tc := range cases {
		m, err := NewStatusMap(tc.preset, tc.overrides)
		if err != nil {
			t.Fatal(err)
		}
		n, s, ok := m.Map(&tc.sub, Facts{})
		if !ok || n != tc.norm || s != tc.store {
			t.Errorf("%s %+v: got %s/%s/%v, want %s/%s", tc.preset, tc.sub.Status, n, s, ok, tc.norm, tc.store)
		}
	}
	// payment_failed in every preset.
	for preset, want := range map[string][2]string{"chargebee": {PaymentFailed, "active"}, "woocommerce": {Paused, "on-hold"}, "shopify": {PaymentFailed, "FAILED"}} {
		m, _ := NewStatusMap(preset, nil)
		for _, st := range []string{"active", "non_renewing"} {
			n, s, _ := m.Map(&schemas.Subscription{Status: st}, Facts{PaymentFailed: true})
			if n != want[0] || st == "active" && s != want[1] {
				t.Errorf("%s %s payment failed: %s/%s, want %s/%s", preset, st, n, s, want[0], want[1])
			}
		}
	}
	// A config may still name the old due_invoices rule, and payment_failed.
	m, err := NewStatusMap("", []StatusRule{{Status: "active", When: WhenPaymentFailed, Normalized: Paused, StoreStatus: "dunning"}})
	if err != nil {
		t.Fatal(err)
	}
	if n, st, _ := m.Map(&schemas.Subscription{Status: "active"}, Facts{PaymentFailed: true}); n != Paused || st != "dunning" {
		t.Errorf("payment_failed override: %s/%s", n, st)
	}
	for _, bad := range []struct {
		preset string
		rules  []StatusRule
		want   string
	}{
		{"magento", nil, "status_preset"},
		{"", []StatusRule{{Status: "active", Normalized: "LIVE"}}, "normalized"},
		{"", []StatusRule{{Status: "active", When: "sometimes", Normalized: Active}}, "when"},
		{"", []StatusRule{{Normalized: Active}}, "no status"},
	} {
		if _, err := NewStatusMap(bad.preset, bad.rules); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v %v: err = %v, want it to mention %q", bad.preset, bad.rules, err, bad.want)
		}
	}
	// Every preset maps every Chargebee status.
	for name, rules := range Presets {
		m := StatusMap(rules)
		for _, st := range []string{"future", "in_trial", "active", "non_renewing", "paused", "cancelled", "transferred"} {
			if _, _, ok := m.Map(&schemas.Subscription{Status: st}, Facts{}); !ok {
				t.Errorf("preset %s does not map %s", name, st)
			}
		}
	}
}

func TestBillingIntervals(t *testing.T) {
	m, _ := NewMapper(Config{})
	for unit, want := range map[string]string{"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"} {
		s := schemas.Subscription{ID: "s", Status: "active", CurrencyCode: "EUR", BillingPeriod: 3, BillingPeriodUnit: unit}
		rp, err := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil)
		if err != nil || rp.BillingInterval != want || rp.BillingIntervalCount != 3 {
			t.Errorf("%s: %s×%d, %v; want %s×3", unit, rp.BillingInterval, rp.BillingIntervalCount, err, want)
		}
	}
	s := schemas.Subscription{ID: "s", Status: "active", CurrencyCode: "EUR", BillingPeriod: 1, BillingPeriodUnit: "fortnight"}
	if _, err := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil); err == nil {
		t.Error("unknown unit mapped")
	}
}

func TestPrimarySubscription(t *testing.T) {
	a := &schemas.Subscription{ID: "a", Status: "cancelled", CreatedAt: i64(300)}
	b := &schemas.Subscription{ID: "b", Status: "active", CreatedAt: i64(100)}
	c := &schemas.Subscription{ID: "c", Status: "active", CreatedAt: i64(200)}
	d := &schemas.Subscription{ID: "d", Status: "active", CreatedAt: i64(900), Deleted: true}
	if p := Primary([]*schemas.Subscription{a, b, c, d}); p != c {
		t.Fatalf("primary = %s, want c", p.ID)
	}
	if p := Primary(nil); p != nil {
		t.Fatalf("primary of none = %v", p)
	}
}

var acDate = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

func TestDatesAndCardExpiry(t *testing.T) {
	m, _ := NewMapper(Config{})
	s := schemas.Subscription{
		ID: "s", Status: "future", CurrencyCode: "USD", BillingPeriod: 1, BillingPeriodUnit: "year",
		StartDate: i64(1800000000), CreatedAt: i64(1700000000), UpdatedAt: i64(1700000001),
		CurrentTermStart: i64(1700000002), CurrentTermEnd: i64(1700000003), NextBillingAt: i64(1700000004),
		CardExpiryMonth: i64(2), CardExpiryYear: i64(2028),
		Items: schemas.Items{{ItemType: "plan", ItemPriceID: "pro-USD-yearly", BillingCycles: i64(12)}},
	}
	cat := NewCatalog([]schemas.ItemPrice{{ID: "pro-USD-yearly", ExternalName: "Pro", ItemID: "pro", ItemFamilyID: "saas"}}, nil, nil, nil)
	in := &Inputs{Catalog: cat, Payment: ChoosePayment(&schemas.Customer{ID: "c"}, &s, nil)}
	rp, err := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"startDate": "2027-01-15T08:00:00Z", "storeCreatedDate": "2023-11-14T22:13:20Z",
		"storeModifiedDate": "2023-11-14T22:13:21Z", "anchorDate": "2023-11-14T22:13:22Z",
		"renewalDate": "2023-11-14T22:13:23Z", "nextPaymentDate": "2023-11-14T22:13:24Z",
		"paymentMethodExpiration": "2028-02-01T00:00:00Z",
	}
	got := map[string]string{
		"startDate": deref2(rp.StartDate), "storeCreatedDate": deref2(rp.StoreCreatedDate),
		"storeModifiedDate": deref2(rp.StoreModifiedDate), "anchorDate": deref2(rp.AnchorDate),
		"renewalDate": deref2(rp.RenewalDate), "nextPaymentDate": deref2(rp.NextPaymentDate),
		"paymentMethodExpiration": deref2(rp.PaymentMethodExpiration),
	}
	for k, v := range want {
		if got[k] != v || !acDate.MatchString(got[k]) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if rp.TotalCycles != 12 || rp.LineItemNames[0] != "Pro" || rp.LineItemSkus[0] != "pro-USD-yearly" || rp.LineItemStorePrimaryIDs[0] != "pro" || rp.LineItemCategories[0] != "saas" {
		t.Errorf("cycles/line items: %+v", rp)
	}
}

func TestContactFieldsAndMappings(t *testing.T) {
	m, err := NewMapper(Config{
		FieldMappings: []schemas.ContactField{
			{Title: "Industry", Source: "customer.cf_industry"},
			{Title: "City", Source: "customer.billing_address.city"},
			{Title: "Trial Start", Source: "subscription.trial_start", Type: "date"},
			{Title: "Locale", Source: "customer.locale"},
		},
		MarketingConsent: "customer.cf_marketing_opt_in",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &schemas.Customer{ID: "c1", Email: "x@example.com", Locale: "de", CreatedAt: i64(1700000000), AutoCollection: "on",
		BillingAddress: schemas.Address{City: "Köln", Country: "DE"}, CustomFields: `{"cf_industry":"SaaS","cf_marketing_opt_in":"yes"}`}
	s := &schemas.Subscription{ID: "s1", Status: "in_trial", CurrencyCode: "EUR", BillingPeriod: 1, BillingPeriodUnit: "month",
		MRR: i64(4900), TrialStart: i64(1700000000), TrialEnd: i64(1701209600), CreatedAt: i64(1700000000), DueInvoicesCount: 0,
		Items: schemas.Items{{ItemType: "plan", ItemPriceID: "pro-EUR-monthly", Amount: i64(4900)}}, CardType: "visa"}
	ct := m.Contact(c, s, &Inputs{Payment: ChoosePayment(c, s, nil)})
	got := map[string]string{}
	for _, f := range ct.Fields {
		got[f.Title] = f.Value
	}
	if len(ct.Fields) != 22 {
		t.Fatalf("%d fields, want 18 defaults + 4 mapped", len(ct.Fields))
	}
	want := map[string]string{
		"Chargebee Customer ID": "c1", "Subscription ID": "s1", "Subscription Status": "in_trial",
		"Plan": "pro-EUR-monthly", // no catalog: the id "Plan Amount": "49.00", "Currency": "EUR", "Billing Period": "1 month",
		"MRR":  "49.00", "Trial End": "2023-11-28", "Subscription Created": "2023-11-14", "Country": "DE",
		"Customer Created": "2023-11-14", "Auto Collection": "on", "Payment Method": "card", // the subscription entry's card "Due Invoices": "0",
		"Next Billing Date": "", "Cancelled At": "", "Cancel Reason": "",
		"Industry": "SaaS", "City": "Köln", "Trial Start": "2023-11-14", "Locale": "de",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	rp, _ := m.RecurringPayment(c, s, nil)
	if rp.CustomerData.AcceptsMarketing == nil || !*rp.CustomerData.AcceptsMarketing {
		t.Errorf("acceptsMarketing not set from cf_marketing_opt_in")
	}
	// Without the mapping, consent is not sent at all.
	m2, _ := NewMapper(Config{})
	rp2, _ := m2.RecurringPayment(c, s, nil)
	if rp2.CustomerData.AcceptsMarketing != nil {
		t.Errorf("acceptsMarketing sent without a mapping")
	}
	for _, bad := range []Config{
		{FieldMappings: []schemas.ContactField{{Title: "X", Source: "customer.nope"}}},
		{FieldMappings: []schemas.ContactField{{Title: "X", Source: "invoice.total"}}},
		{FieldMappings: []schemas.ContactField{{Title: "plan", Source: "customer.locale"}}},
		{FieldMappings: []schemas.ContactField{{Title: "Y", Source: "subscription.items"}}},
		{MarketingConsent: "customer"},
	} {
		if _, err := NewMapper(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestRowHashChangesWithPayload(t *testing.T) {
	m, _ := NewMapper(Config{})
	s := schemas.Subscription{ID: "s", Status: "active", CurrencyCode: "USD", BillingPeriod: 1, BillingPeriodUnit: "month", Items: schemas.Items{{ItemType: "plan", Amount: i64(100)}}}
	a, _ := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil)
	b, _ := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil)
	s.Items[0].Amount = i64(200)
	c, _ := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil)
	if a.RowHash == 0 || a.RowHash != b.RowHash || a.RowHash == c.RowHash {
		t.Errorf("hashes %x %x %x: want equal for equal payloads, different otherwise", a.RowHash, b.RowHash, c.RowHash)
	}
}

func deref2(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// The hand-written date formats are time.Format's, for every second a Chargebee
// timestamp can hold: the years 0000–9999 by hand, the rest through time.Format.
func TestFormatTimeIsTimeFormat(t *testing.T) {
	unix := []int64{0, -1, 1, 59, 86399, 86400, 951782400, 951868799, 1709164800, 4102444799, 4102444800,
		253402300799, 253402300800, -62135596800, -62135596801, -62167219200, -62167219201,
		math.MaxInt32, math.MinInt32, 1 << 40, -(1 << 40)}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		unix = append(unix, rng.Int64N(253402300800+62167219200)-62167219200, rng.Int64N(1<<42)-(1<<41))
	}
	for _, u := range unix {
		tm := time.Unix(u, 0).UTC()
		if got, want := formatTime(u), tm.Format(TimeLayout); got != want {
			t.Fatalf("formatTime(%d) = %q, want %q", u, got, want)
		}
		if got, want := formatDay(u), tm.Format(time.DateOnly); got != want {
			t.Fatalf("formatDay(%d) = %q, want %q", u, got, want)
		}
	}
}
