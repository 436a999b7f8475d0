package transform

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

func i64(v int64) *int64 { return &v }

func TestStatusMapChargebee(t *testing.T) {
	cases := []struct {
		name   string
		sub    schemas.Subscription
		want   string
		trial  bool
		atEnd  bool
		cancel string // expected cancelledDate
	}{
		{"future", schemas.Subscription{Status: "future"}, Pending, false, false, ""},
		{"in_trial", schemas.Subscription{Status: "in_trial"}, Active, true, false, ""},
		{"active with dues", schemas.Subscription{Status: "active", DueInvoicesCount: 2}, PaymentFailed, false, false, ""},
		{"non_renewing with dues", schemas.Subscription{Status: "non_renewing", DueInvoicesCount: 1, CancelledAt: i64(1700000000)}, PaymentFailed, false, true, "2023-11-14T22:13:20Z"},
		{"active", schemas.Subscription{Status: "active"}, Active, false, false, ""},
		{"non_renewing", schemas.Subscription{Status: "non_renewing", CancelledAt: i64(1700000000)}, Active, false, true, "2023-11-14T22:13:20Z"},
		{"paused", schemas.Subscription{Status: "paused", PauseDate: i64(1600000000), CancelledAt: i64(1700000000)}, Paused, false, false, "2020-09-13T12:26:40Z"},
		{"cancelled not_paid", schemas.Subscription{Status: "cancelled", CancelReason: "not_paid", CancelledAt: i64(1700000000)}, PaymentFailed, false, false, "2023-11-14T22:13:20Z"},
		{"cancelled no cycles left", schemas.Subscription{Status: "cancelled", RemainingBillingCycles: i64(0), CancelledAt: i64(1700000000)}, Expired, false, false, "2023-11-14T22:13:20Z"},
		{"cancelled not_paid wins over cycles", schemas.Subscription{Status: "cancelled", CancelReason: "not_paid", RemainingBillingCycles: i64(0)}, PaymentFailed, false, false, ""},
		{"cancelled cycles left", schemas.Subscription{Status: "cancelled", RemainingBillingCycles: i64(3), CancelReason: "no_card"}, Cancelled, false, false, ""},
		{"cancelled other reason", schemas.Subscription{Status: "cancelled", CancelReason: "fraud_review_failed"}, Cancelled, false, false, ""},
		{"transferred", schemas.Subscription{Status: "transferred"}, Cancelled, false, false, ""},
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
			rp, err := m.RecurringPayment(cust, &s, nil, nil)
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
		{"woocommerce", nil, schemas.Subscription{Status: "active", DueInvoicesCount: 1}, Paused, "on-hold"},
		{"shopify", nil, schemas.Subscription{Status: "active", DueInvoicesCount: 1}, PaymentFailed, "FAILED"},
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
		n, s, ok := m.Map(&tc.sub)
		if !ok || n != tc.norm || s != tc.store {
			t.Errorf("%s %+v: got %s/%s/%v, want %s/%s", tc.preset, tc.sub.Status, n, s, ok, tc.norm, tc.store)
		}
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
			if _, _, ok := m.Map(&schemas.Subscription{Status: st}); !ok {
				t.Errorf("preset %s does not map %s", name, st)
			}
		}
	}
}

func TestBillingIntervals(t *testing.T) {
	m, _ := NewMapper(Config{})
	for unit, want := range map[string]string{"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"} {
		s := schemas.Subscription{ID: "s", Status: "active", CurrencyCode: "EUR", BillingPeriod: 3, BillingPeriodUnit: unit}
		rp, err := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil, nil)
		if err != nil || rp.BillingInterval != want || rp.BillingIntervalCount != 3 {
			t.Errorf("%s: %s×%d, %v; want %s×3", unit, rp.BillingInterval, rp.BillingIntervalCount, err, want)
		}
	}
	s := schemas.Subscription{ID: "s", Status: "active", CurrencyCode: "EUR", BillingPeriod: 1, BillingPeriodUnit: "fortnight"}
	if _, err := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil, nil); err == nil {
		t.Error("unknown unit mapped")
	}
}

func TestAmountsByCurrency(t *testing.T) {
	m, _ := NewMapper(Config{})
	cases := []struct {
		currency         string
		items            schemas.Items
		inv              *schemas.Invoice
		amount, disc, tx string
	}{
		{"USD", schemas.Items{{ItemType: "plan", Amount: i64(1999)}, {ItemType: "addon", UnitPrice: i64(500), Quantity: 2}}, nil, "29.99", "", ""},
		{"JPY", schemas.Items{{ItemType: "plan", Amount: i64(1500)}}, nil, "1500", "", ""},
		{"KWD", schemas.Items{{ItemType: "plan", Amount: i64(12500)}}, nil, "12.500", "", ""},
		{"USD", schemas.Items{{ItemType: "plan", Amount: i64(1000)}}, &schemas.Invoice{ID: "i", CurrencyCode: "USD", Recurring: true, Status: "paid", Total: i64(1180), Tax: i64(180), Discount: i64(0)}, "11.80", "0.00", "1.80"},
		{"KWD", schemas.Items{{ItemType: "plan", Amount: i64(1)}}, &schemas.Invoice{ID: "i", CurrencyCode: "KWD", Status: "paid", Total: i64(5005), Tax: i64(5), Discount: i64(250)}, "5.005", "0.250", "0.005"},
		{"JPY", nil, &schemas.Invoice{ID: "i", CurrencyCode: "JPY", Status: "paid", Total: i64(980)}, "980", "0", "0"},
	}
	for _, tc := range cases {
		s := schemas.Subscription{ID: "s", Status: "active", CurrencyCode: tc.currency, BillingPeriod: 1, BillingPeriodUnit: "month", Items: tc.items}
		rp, err := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, tc.inv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rp.PaymentAmount != tc.amount || deref2(rp.DiscountAmount) != tc.disc || deref2(rp.TaxAmount) != tc.tx {
			t.Errorf("%s: amount %s discount %s tax %s; want %s %s %s", tc.currency, rp.PaymentAmount, deref2(rp.DiscountAmount), deref2(rp.TaxAmount), tc.amount, tc.disc, tc.tx)
		}
	}
}

func TestLastPayment(t *testing.T) {
	cases := []struct {
		inv  schemas.Invoice
		want string
		date string
	}{
		{schemas.Invoice{Status: "paid", Total: i64(1000), Date: i64(1700000000), PaidAt: i64(1700003600)}, "COMPLETED", "2023-11-14T23:13:20Z"},
		{schemas.Invoice{Status: "paid", Total: i64(1000), AmountRefunded: i64(1000), Date: i64(1700000000)}, "REFUNDED", "2023-11-14T22:13:20Z"},
		{schemas.Invoice{Status: "paid", Total: i64(1000), AmountRefunded: i64(400), Date: i64(1700000000)}, "PARTIALLY_REFUNDED", "2023-11-14T22:13:20Z"},
		{schemas.Invoice{Status: "payment_due", Date: i64(1700000000)}, "DECLINED", "2023-11-14T22:13:20Z"},
		{schemas.Invoice{Status: "not_paid", Date: i64(1700000000)}, "DECLINED", "2023-11-14T22:13:20Z"},
		{schemas.Invoice{Status: "pending", Date: i64(1700000000)}, "PENDING", "2023-11-14T22:13:20Z"},
		{schemas.Invoice{Status: "posted", Date: i64(1700000000)}, "PENDING", "2023-11-14T22:13:20Z"},
	}
	for _, tc := range cases {
		st, d := lastPayment(&tc.inv)
		if st != tc.want || deref2(timePtr(d)) != tc.date {
			t.Errorf("%s: %s %s, want %s %s", tc.inv.Status, st, deref2(timePtr(d)), tc.want, tc.date)
		}
	}
}

func TestLatestInvoiceSkipsVoidedAndOneOff(t *testing.T) {
	invs := []schemas.Invoice{
		{ID: "a", SubscriptionID: "s", Recurring: true, Status: "paid", Date: i64(100)},
		{ID: "b", SubscriptionID: "s", Recurring: true, Status: "payment_due", Date: i64(300)},
		{ID: "c", SubscriptionID: "s", Recurring: true, Status: "voided", Date: i64(400)},
		{ID: "d", SubscriptionID: "s", Recurring: false, Status: "paid", Date: i64(500)},
		{ID: "e", SubscriptionID: "s", Recurring: true, Status: "paid", Date: i64(600), Deleted: true},
	}
	l := newLatest(0)
	for i := range invs {
		l.add(&invs[i])
	}
	var got schemas.Invoice
	if !l.get("s", &got) || got.ID != "b" || got.Status != "payment_due" || *got.Date != 300 {
		t.Fatalf("latest = %+v, want b", got)
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
	rp, err := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil, map[string]*schemas.ItemPrice{"pro-USD-yearly": {ID: "pro-USD-yearly", ExternalName: "Pro", ItemID: "pro", ItemFamilyID: "saas"}})
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
	ct := m.Contact(c, s)
	got := map[string]string{}
	for _, f := range ct.Fields {
		got[f.Title] = f.Value
	}
	if len(ct.Fields) != 22 {
		t.Fatalf("%d fields, want 18 defaults + 4 mapped", len(ct.Fields))
	}
	want := map[string]string{
		"Chargebee Customer ID": "c1", "Subscription ID": "s1", "Subscription Status": "in_trial",
		"Plan": "pro-EUR-monthly", "Plan Amount": "49.00", "Currency": "EUR", "Billing Period": "1 month",
		"MRR": "49.00", "Trial End": "2023-11-28", "Subscription Created": "2023-11-14", "Country": "DE",
		"Customer Created": "2023-11-14", "Auto Collection": "on", "Payment Method": "visa", "Due Invoices": "0",
		"Next Billing Date": "", "Cancelled At": "", "Cancel Reason": "",
		"Industry": "SaaS", "City": "Köln", "Trial Start": "2023-11-14", "Locale": "de",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	rp, _ := m.RecurringPayment(c, s, nil, nil)
	if rp.CustomerData.AcceptsMarketing == nil || !*rp.CustomerData.AcceptsMarketing {
		t.Errorf("acceptsMarketing not set from cf_marketing_opt_in")
	}
	// Without the mapping, consent is not sent at all.
	m2, _ := NewMapper(Config{})
	rp2, _ := m2.RecurringPayment(c, s, nil, nil)
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
	a, _ := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil, nil)
	b, _ := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil, nil)
	s.Items[0].Amount = i64(200)
	c, _ := m.RecurringPayment(&schemas.Customer{ID: "c"}, &s, nil, nil)
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
