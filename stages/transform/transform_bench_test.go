package transform

import (
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
)

// Per-record costs of transform's hot functions. At 1M customers and 1.2M
// subscriptions, 1 µs per record is about 2 s of the stage.

func p64(v int64) *int64 { return &v }

// benchCustomer and benchSub look like a typical synthetic record (scripts/gen): an
// address, custom fields, a plan and an addon, a card.
func benchCustomer() *schemas.Customer {
	return &schemas.Customer{
		ID: "cus_0123456", Email: "Emily.Carter.123456@Example.com", FirstName: "Emily", LastName: "Carter",
		Phone: "+1 415 555 0132", Company: "Carter Analytics", AutoCollection: "on", Locale: "en-US",
		PreferredCurrencyCode: "USD", CardStatus: "valid", PaymentMethodType: "card",
		BillingAddress: schemas.Address{FirstName: "Emily", LastName: "Carter", Line1: "221 Howard St", Line2: "Suite 200",
			City: "San Francisco", StateCode: "CA", State: "California", Country: "US", Zip: "94107"},
		CreatedAt: p64(1737988281), UpdatedAt: p64(1747191051), ResourceVersion: 1747191051879,
		CustomFields: `{"cf_industry":"SaaS","cf_marketing_opt_in":"yes","cf_referral_source":"Google"}`,
	}
}

func benchSub() *schemas.Subscription {
	return &schemas.Subscription{
		ID: "sub_0234567", CustomerID: "cus_0123456", Status: "active", CurrencyCode: "USD",
		BillingPeriod: 1, BillingPeriodUnit: "month", MRR: p64(16700), AutoCollection: "on",
		Items: schemas.Items{
			{ItemPriceID: "pro-USD-monthly", ItemType: "plan", Quantity: 3, UnitPrice: p64(4900), Amount: p64(14700)},
			{ItemPriceID: "extra-seat-USD-monthly", ItemType: "addon", Quantity: 2, UnitPrice: p64(1000), Amount: p64(2000)},
		},
		CreatedAt: p64(1737988813), UpdatedAt: p64(1793112905), StartedAt: p64(1737988813), ActivatedAt: p64(1737988813),
		CurrentTermStart: p64(1793112013), CurrentTermEnd: p64(1795790413), NextBillingAt: p64(1795790413),
		CardType: "visa", CardStatus: "valid", CardLast4: "4242", CardExpiryMonth: p64(12), CardExpiryYear: p64(2028),
		ResourceVersion: 1793112905324,
	}
}

func benchInvoice() *schemas.Invoice {
	return &schemas.Invoice{
		ID: "inv_0345678", CustomerID: "cus_0123456", SubscriptionID: "sub_0234567", Recurring: true, Status: "paid",
		CurrencyCode: "USD", Date: p64(1793112013), PaidAt: p64(1793112500), Total: p64(16700), SubTotal: p64(16700),
		Tax: p64(0), AmountPaid: p64(16700), AmountDue: p64(0),
		LineItems: schemas.InvoiceLines{
			{ID: "li_1", SubscriptionID: "sub_0234567", EntityType: "plan_item_price", EntityID: "pro-USD-monthly", Amount: p64(14700)},
			{ID: "li_2", SubscriptionID: "sub_0234567", EntityType: "addon_item_price", EntityID: "extra-seat-USD-monthly", Amount: p64(2000)},
		},
	}
}

// benchInputs is what Run hands the mappers for benchSub: its billing from
// benchInvoice, its card, the catalog.
func benchInputs() *Inputs {
	b := newBilling(0)
	b.add(benchInvoice())
	in := &Inputs{Catalog: NewCatalog([]schemas.ItemPrice{
		{ID: "pro-USD-monthly", Name: "Pro USD Monthly", ExternalName: "Pro", ItemID: "pro", ItemFamilyID: "saas", ItemType: "plan"},
		{ID: "extra-seat-USD-monthly", Name: "Extra Seat USD Monthly", ExternalName: "Extra seat", ItemID: "extra-seat", ItemFamilyID: "saas", ItemType: "addon"},
	}, []schemas.CatalogItem{{ID: "pro", Name: "Pro", ExternalName: "Pro"}}, nil, nil)}
	b.get("sub_0234567", &in.Billing, new(Renewal))
	in.Payment = ChoosePayment(benchCustomer(), benchSub(), nil)
	return in
}

func benchMapper(b *testing.B, cfg Config) *Mapper {
	b.Helper()
	m, err := NewMapper(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

var (
	sinkHash uint64
	sinkStr  string
	sinkRP   schemas.RecurringPayment
	sinkCt   schemas.Contact
	sinkVals [nDefaultFields]string
)

func BenchmarkRowHash(b *testing.B) {
	m := benchMapper(b, Config{})
	ct := m.Contact(benchCustomer(), benchSub(), benchInputs())
	rp, err := m.RecurringPayment(benchCustomer(), benchSub(), benchInputs())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("contact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkHash, _ = schemas.HashContact(&ct)
		}
	})
	b.Run("recurring_payment", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkHash, _ = schemas.HashRecurringPayment(&rp)
		}
	})
}

// BenchmarkStatusMap maps one subscription per op, cycling through one case per
// row of the default map (so later rows, scanned past the earlier ones, count too).
func BenchmarkStatusMap(b *testing.B) {
	subs := []schemas.Subscription{
		{Status: "future"}, {Status: "in_trial"}, {Status: "active", DueInvoicesCount: 1},
		{Status: "non_renewing", DueInvoicesCount: 1}, {Status: "active"}, {Status: "non_renewing"},
		{Status: "paused"}, {Status: "cancelled", CancelReason: "not_paid"},
		{Status: "cancelled", RemainingBillingCycles: p64(0)}, {Status: "cancelled", CancelReason: "no_card"},
		{Status: "transferred"},
	}
	m := benchMapper(b, Config{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sinkStr, _, _ = m.status.Map(&subs[i], Facts{PaymentFailed: subs[i].DueInvoicesCount > 0})
		if i++; i == len(subs) {
			i = 0
		}
	}
}

// BenchmarkDefaultValues computes a contact's 18 default fields.
func BenchmarkDefaultValues(b *testing.B) {
	c, s, in := benchCustomer(), benchSub(), benchInputs()
	b.ReportAllocs()
	for b.Loop() {
		sinkVals = defaultValues(c, s, in)
	}
}

// BenchmarkContact is the whole contact mapping, row hash included; with_mappings
// adds the example config's field_mappings (custom fields and a nested attribute).
func BenchmarkContact(b *testing.B) {
	c, s, in := benchCustomer(), benchSub(), benchInputs()
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"defaults", Config{}},
		{"with_mappings", Config{
			FieldMappings: []schemas.ContactField{
				{Title: "Industry", Source: "customer.cf_industry"},
				{Title: "Referral", Source: "customer.cf_referral_source"},
				{Title: "City", Source: "customer.billing_address.city"},
				{Title: "Term Start", Source: "subscription.current_term_start", Type: "date"},
			},
			MarketingConsent: "customer.cf_marketing_opt_in",
		}},
	} {
		m := benchMapper(b, bc.cfg)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkCt = m.Contact(c, s, in)
			}
		})
	}
}

// BenchmarkRecurringPayment is the whole subscription mapping: status, money,
// dates, line items, address, row hash.
func BenchmarkRecurringPayment(b *testing.B) {
	c, s, in := benchCustomer(), benchSub(), benchInputs()
	m := benchMapper(b, Config{})
	b.ReportAllocs()
	for b.Loop() {
		rp, err := m.RecurringPayment(c, s, in)
		if err != nil {
			b.Fatal(err)
		}
		sinkRP = rp
	}
}

// BenchmarkFormatTime is formatTime against the time.Format call it replaces.
func BenchmarkFormatTime(b *testing.B) {
	for _, c := range []struct {
		name string
		fn   func(int64) string
	}{
		{"impl=hand", formatTime},
		{"impl=time.Format", func(u int64) string { return time.Unix(u, 0).UTC().Format(TimeLayout) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			u := int64(1709164800)
			for b.Loop() {
				sinkStr = c.fn(u)
				u += 86399
			}
		})
	}
}
