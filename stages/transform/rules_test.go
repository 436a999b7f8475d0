package transform

import (
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

// One table per rule of README "What transform sends"; every case is one that the
// mapping before these rules got wrong.

// billingFor runs invoices and credit notes through Run's index and returns what
// it knows of subscription sub.
func billingFor(sub string, invs []schemas.Invoice, notes ...schemas.CreditNote) Billing {
	b := newBilling(0)
	for i := range notes {
		b.addCreditNote(&notes[i])
	}
	for i := range invs {
		b.add(&invs[i])
	}
	var bl Billing
	b.get(sub, &bl, new(Renewal))
	return bl
}

func planLineFor(sub string, amount int64) schemas.InvoiceLine {
	return schemas.InvoiceLine{ID: "l-" + sub, SubscriptionID: sub, EntityType: "plan_item_price", Amount: i64(amount)}
}

func testSub(cur string) schemas.Subscription {
	return schemas.Subscription{ID: "s1", CustomerID: "c1", Status: "active", CurrencyCode: cur, BillingPeriod: 1, BillingPeriodUnit: "month",
		Items: schemas.Items{{ItemType: "plan", ItemPriceID: "pro", Amount: i64(4900)}}}
}

func fieldsOf(ct schemas.Contact) map[string]string {
	got := map[string]string{}
	for _, f := range ct.Fields {
		got[f.Title] = f.Value
	}
	return got
}

func TestRenewalInvoice(t *testing.T) {
	renewal := schemas.Invoice{ID: "r1", SubscriptionID: "s1", Recurring: true, Status: "paid", CurrencyCode: "USD", Date: i64(100), PaidAt: i64(110),
		Total: i64(1000), Tax: i64(80), Discount: i64(50), LineItems: schemas.InvoiceLines{planLineFor("s1", 970)}}
	cases := []struct {
		name                  string
		invs                  []schemas.Invoice
		amount, discount, tax string
		status                string
	}{
		{"a one-off charge newer than the renewal is not the renewal", []schemas.Invoice{renewal,
			{ID: "x9", SubscriptionID: "s1", Recurring: true, Status: "payment_due", CurrencyCode: "USD", Date: i64(200), Total: i64(5000),
				LineItems: schemas.InvoiceLines{{ID: "c", SubscriptionID: "s1", EntityType: "charge_item_price", Amount: i64(5000)}}}},
			"10.00", "0.50", "0.80", "COMPLETED"},
		{"an addon proration newer than the renewal is not the renewal", []schemas.Invoice{renewal,
			{ID: "x9", SubscriptionID: "s1", Recurring: true, Status: "paid", CurrencyCode: "USD", Date: i64(200), Total: i64(333),
				LineItems: schemas.InvoiceLines{{ID: "a", EntityType: "addon_item_price", Amount: i64(333)}}}},
			"10.00", "0.50", "0.80", "COMPLETED"},
		{"the newest plan invoice wins; PC 1.0 lines bill entity_type plan", []schemas.Invoice{renewal,
			{ID: "r2", SubscriptionID: "s1", Recurring: true, Status: "posted", CurrencyCode: "USD", Date: i64(300), Total: i64(2000),
				LineItems: schemas.InvoiceLines{{ID: "p", EntityType: "plan", Amount: i64(2000)}}}},
			"20.00", "0.00", "0.00", "PENDING"},
		{"voided and deleted plan invoices say nothing", []schemas.Invoice{renewal,
			{ID: "r2", SubscriptionID: "s1", Status: "voided", CurrencyCode: "USD", Date: i64(300), Total: i64(2000), LineItems: schemas.InvoiceLines{planLineFor("s1", 2000)}},
			{ID: "r3", SubscriptionID: "s1", Status: "paid", CurrencyCode: "USD", Date: i64(400), Total: i64(3000), Deleted: true, LineItems: schemas.InvoiceLines{planLineFor("s1", 3000)}}},
			"10.00", "0.50", "0.80", "COMPLETED"},
		{"same date: the greater id", []schemas.Invoice{renewal,
			{ID: "r0", SubscriptionID: "s1", Status: "payment_due", CurrencyCode: "USD", Date: i64(100), Total: i64(2000), LineItems: schemas.InvoiceLines{planLineFor("s1", 2000)}}},
			"10.00", "0.50", "0.80", "COMPLETED"},
		{"consolidated, tax exclusive: the subscription's own lines", []schemas.Invoice{{ID: "k1", CustomerID: "c1", Status: "paid", CurrencyCode: "USD", Date: i64(500),
			PriceType: "tax_exclusive", Total: i64(99999), Tax: i64(9999), Discount: i64(9999), LineItems: schemas.InvoiceLines{
				{ID: "1", SubscriptionID: "s1", EntityType: "plan_item_price", Amount: i64(1000), DiscountAmount: i64(100), TaxAmount: i64(90)},
				{ID: "2", SubscriptionID: "s1", EntityType: "addon_item_price", Amount: i64(500), TaxAmount: i64(50)},
				{ID: "3", SubscriptionID: "s2", EntityType: "plan_item_price", Amount: i64(3000), TaxAmount: i64(300)},
			}}},
			"15.40", "1.00", "1.40", "COMPLETED"},
		{"consolidated, tax inclusive: tax is inside the amounts", []schemas.Invoice{{ID: "k1", CustomerID: "c1", Status: "paid", CurrencyCode: "USD", Date: i64(500),
			PriceType: "tax_inclusive", Total: i64(99999), LineItems: schemas.InvoiceLines{
				{ID: "1", SubscriptionID: "s1", EntityType: "plan_item_price", Amount: i64(1000), DiscountAmount: i64(100), TaxAmount: i64(90)},
				{ID: "2", SubscriptionID: "s1", EntityType: "addon_item_price", Amount: i64(500), TaxAmount: i64(50)},
			}}},
			"14.00", "1.00", "1.40", "COMPLETED"},
		{"consolidated invoice of another subscription only", []schemas.Invoice{{ID: "k1", CustomerID: "c1", Status: "paid", CurrencyCode: "USD", Date: i64(500),
			Total: i64(3000), LineItems: schemas.InvoiceLines{{ID: "3", SubscriptionID: "s2", EntityType: "plan_item_price", Amount: i64(3000)}}}},
			"49.00", "", "", ""},
		{"an invoice without line items (older snapshot): recurring and naming the subscription", []schemas.Invoice{
			{ID: "o1", SubscriptionID: "s1", Recurring: true, Status: "paid", CurrencyCode: "USD", Date: i64(100), Total: i64(1234)}},
			"12.34", "0.00", "0.00", "COMPLETED"},
		{"no renewal invoice: the items", nil, "49.00", "", "", ""},
	}
	m, _ := NewMapper(Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSub("USD")
			rp, err := m.RecurringPayment(&schemas.Customer{ID: "c1", AutoCollection: "on"}, &s, &Inputs{Billing: billingFor("s1", tc.invs)})
			if err != nil {
				t.Fatal(err)
			}
			if rp.PaymentAmount != tc.amount || deref2(rp.DiscountAmount) != tc.discount || deref2(rp.TaxAmount) != tc.tax || deref2(rp.LastPaymentStatus) != tc.status {
				t.Errorf("amount %s discount %s tax %s status %s; want %s %s %s %s", rp.PaymentAmount, deref2(rp.DiscountAmount),
					deref2(rp.TaxAmount), deref2(rp.LastPaymentStatus), tc.amount, tc.discount, tc.tax, tc.status)
			}
		})
	}
}

func TestPaymentFailure(t *testing.T) {
	due := func(status, dunning string, payments, attempts schemas.InvoicePayments) schemas.Invoice {
		return schemas.Invoice{ID: "r1", SubscriptionID: "s1", Status: status, DunningStatus: dunning, CurrencyCode: "USD", Date: i64(1700000000),
			Total: i64(4900), Payments: payments, DunningAttempts: attempts, LineItems: schemas.InvoiceLines{planLineFor("s1", 4900)}}
	}
	txn := func(status string, date int64) schemas.InvoicePayments {
		return schemas.InvoicePayments{{TxnID: "t", TxnStatus: status, TxnDate: i64(date)}}
	}
	paid := schemas.Invoice{ID: "r0", SubscriptionID: "s1", Status: "paid", CurrencyCode: "USD", Date: i64(1690000000), PaidAt: i64(1690000000),
		Total: i64(4900), LineItems: schemas.InvoiceLines{planLineFor("s1", 4900)}}
	cases := []struct {
		name            string
		custAuto        string
		subAuto         string
		invs            []schemas.Invoice
		norm, last, day string
	}{
		{"offline payer (subscription auto_collection off), offline dunning", "on", "off",
			[]schemas.Invoice{due("payment_due", "in_progress", nil, nil)}, Active, "PENDING", "2023-11-14T22:13:20Z"},
		{"offline payer (customer off, subscription inherits)", "off", "",
			[]schemas.Invoice{due("not_paid", "exhausted", nil, nil)}, Active, "PENDING", "2023-11-14T22:13:20Z"},
		{"direct debit in progress", "on", "",
			[]schemas.Invoice{due("payment_due", "", txn("in_progress", 1700000500), nil)}, Active, "PENDING", "2023-11-14T22:13:20Z"},
		{"outcome unknown (needs_attention)", "on", "",
			[]schemas.Invoice{due("payment_due", "", txn("needs_attention", 1700000500), nil)}, Active, "PENDING", "2023-11-14T22:13:20Z"},
		{"card declined", "on", "",
			[]schemas.Invoice{due("payment_due", "", txn("failure", 1700000500), nil)}, PaymentFailed, "DECLINED", "2023-11-14T22:21:40Z"},
		{"subscription on overrides customer off", "off", "on",
			[]schemas.Invoice{due("payment_due", "", txn("failure", 1700000500), nil)}, PaymentFailed, "DECLINED", "2023-11-14T22:21:40Z"},
		{"dunning in progress", "on", "",
			[]schemas.Invoice{due("payment_due", "in_progress", nil, nil)}, PaymentFailed, "DECLINED", "2023-11-14T22:13:20Z"},
		{"dunning exhausted, not paid", "on", "",
			[]schemas.Invoice{due("not_paid", "exhausted", nil, nil)}, PaymentFailed, "DECLINED", "2023-11-14T22:13:20Z"},
		{"dunning attempt timed out, the latest attempt dates it", "on", "",
			[]schemas.Invoice{due("payment_due", "", nil, schemas.InvoicePayments{{TxnStatus: "failure", TxnDate: i64(1700000100)}, {TxnStatus: "timeout", TxnDate: i64(1700000900)}})},
			PaymentFailed, "DECLINED", "2023-11-14T22:28:20Z"},
		{"late failure of a direct debit", "on", "",
			[]schemas.Invoice{due("payment_due", "", txn("late_failure", 1700000500), nil)}, PaymentFailed, "DECLINED", "2023-11-14T22:21:40Z"},
		{"a failure later paid is no failure", "on", "",
			[]schemas.Invoice{{ID: "r1", SubscriptionID: "s1", Status: "paid", DunningStatus: "success", CurrencyCode: "USD", Date: i64(1700000000), PaidAt: i64(1700000600),
				Total: i64(4900), Payments: txn("failure", 1700000100), LineItems: schemas.InvoiceLines{planLineFor("s1", 4900)}}},
			Active, "COMPLETED", "2023-11-14T22:23:20Z"},
		{"a failed one-off charge fails the subscription; the renewal stays paid", "on", "",
			[]schemas.Invoice{paid, {ID: "x1", SubscriptionID: "s1", Status: "payment_due", CurrencyCode: "USD", Date: i64(1700000000), Total: i64(100),
				Payments: txn("failure", 1700000100), LineItems: schemas.InvoiceLines{{ID: "c", EntityType: "charge_item_price", Amount: i64(100)}}}},
			PaymentFailed, "COMPLETED", "2023-07-22T04:26:40Z"},
		{"a failed consolidated invoice fails the subscriptions on its lines", "on", "",
			[]schemas.Invoice{{ID: "k1", Status: "payment_due", DunningStatus: "in_progress", CurrencyCode: "USD", Date: i64(1700000000), Total: i64(9800),
				LineItems: schemas.InvoiceLines{planLineFor("s1", 4900), planLineFor("s2", 4900)}}},
			PaymentFailed, "DECLINED", "2023-11-14T22:13:20Z"},
		{"posted (payment terms)", "off", "",
			[]schemas.Invoice{due("posted", "", nil, nil)}, Active, "PENDING", "2023-11-14T22:13:20Z"},
		{"pending (metered, not closed)", "on", "",
			[]schemas.Invoice{due("pending", "", nil, nil)}, Active, "PENDING", "2023-11-14T22:13:20Z"},
	}
	m, _ := NewMapper(Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSub("USD")
			s.AutoCollection, s.DueInvoicesCount = tc.subAuto, 1
			c := &schemas.Customer{ID: "c1", AutoCollection: tc.custAuto}
			rp, err := m.RecurringPayment(c, &s, &Inputs{Billing: billingFor("s1", tc.invs)})
			if err != nil {
				t.Fatal(err)
			}
			if rp.NormalizedStatus != tc.norm || deref2(rp.LastPaymentStatus) != tc.last || deref2(rp.LastPaymentDate) != tc.day {
				t.Errorf("%s, last payment %s %s; want %s, %s %s", rp.NormalizedStatus, deref2(rp.LastPaymentStatus), deref2(rp.LastPaymentDate), tc.norm, tc.last, tc.day)
			}
		})
	}
}

func TestPaymentSource(t *testing.T) {
	srcs := MapSources([]schemas.PaymentSource{
		{ID: "pm_card_new", Type: "card", CardExpiryMonth: i64(7), CardExpiryYear: i64(2031)},
		{ID: "pm_dd", Type: "direct_debit"},
		{ID: "pm_paypal", Type: "paypal_express_checkout"},
		{ID: "pm_gone", Type: "card", CardExpiryMonth: i64(1), CardExpiryYear: i64(2035), Deleted: true},
		{ID: "pm_junk", Type: "card", CardExpiryMonth: i64(13), CardExpiryYear: i64(2031)},
	})
	subCard := func(s *schemas.Subscription) {
		s.CardType, s.CardLast4, s.CardExpiryMonth, s.CardExpiryYear = "visa", "4242", i64(2), i64(2026)
	}
	custCard := func(c *schemas.Customer) {
		c.CardType, c.CardLast4, c.CardExpiryMonth, c.CardExpiryYear = "mastercard", "4444", i64(9), i64(2028)
	}
	cases := []struct {
		name       string
		cust       func(*schemas.Customer)
		sub        func(*schemas.Subscription)
		look       SourceLookup
		method     string
		expiration string
	}{
		{"the subscription entry's card", nil, subCard, srcs, "card", "2026-02-01T00:00:00Z"},
		{"the customer entry's card before the subscription entry's", custCard, subCard, srcs, "card", "2028-09-01T00:00:00Z"},
		{"a card change seen only in payment_sources", func(c *schemas.Customer) { custCard(c); c.PrimaryPaymentSource = "pm_card_new" }, subCard, srcs, "card", "2031-07-01T00:00:00Z"},
		{"the subscription's own payment source wins", func(c *schemas.Customer) { c.PrimaryPaymentSource = "pm_card_new" },
			func(s *schemas.Subscription) { subCard(s); s.PaymentSourceID = "pm_dd" }, srcs, "direct_debit", ""},
		{"paypal as primary", func(c *schemas.Customer) {
			c.PrimaryPaymentSource = "pm_paypal"
			c.PaymentMethodType = "paypal_express_checkout"
		}, subCard, srcs, "paypal_express_checkout", ""},
		{"a deleted source is not used", func(c *schemas.Customer) { custCard(c); c.PrimaryPaymentSource = "pm_gone" }, nil, srcs, "card", "2028-09-01T00:00:00Z"},
		{"a source missing from the snapshot (older validate folder)", func(c *schemas.Customer) { custCard(c); c.PrimaryPaymentSource = "pm_card_new" }, nil, nil, "card", "2028-09-01T00:00:00Z"},
		{"no card anywhere: the customer's payment_method.type", func(c *schemas.Customer) { c.PaymentMethodType = "direct_debit" }, nil, srcs, "direct_debit", ""},
		{"a junk expiry is left out", func(c *schemas.Customer) { c.PrimaryPaymentSource = "pm_junk" }, nil, srcs, "card", ""},
	}
	m, _ := NewMapper(Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &schemas.Customer{ID: "c1", PaymentMethodType: "card"}
			s := testSub("USD")
			if tc.cust != nil {
				c.PaymentMethodType = ""
				tc.cust(c)
			}
			if tc.sub != nil {
				tc.sub(&s)
			}
			in := &Inputs{Payment: ChoosePayment(c, &s, tc.look)}
			rp, err := m.RecurringPayment(c, &s, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := deref2(rp.PaymentMethodExpiration); got != tc.expiration {
				t.Errorf("paymentMethodExpiration = %q, want %q", got, tc.expiration)
			}
			if got := fieldsOf(m.Contact(c, &s, in))["Payment Method"]; got != tc.method {
				t.Errorf("Payment Method = %q, want %q", got, tc.method)
			}
		})
	}
}

func TestCatalogNames(t *testing.T) {
	pc2 := NewCatalog([]schemas.ItemPrice{
		{ID: "pro-USD-monthly", Name: "Pro USD Monthly", ExternalName: "Pro (monthly)", ItemID: "pro", ItemFamilyID: "saas"},
		{ID: "seat-USD-monthly", Name: "Seat USD Monthly", ItemID: "seat", ItemFamilyID: "saas"},
		{ID: "lite-USD-monthly", Name: "Lite USD Monthly", ItemID: "lite-gone", ItemFamilyID: "basic"},
	}, []schemas.CatalogItem{
		{ID: "pro", Name: "pro_internal", ExternalName: "Pro"},
		{ID: "seat", Name: "Extra seat"},
	}, nil, nil)
	pc1 := NewCatalog(nil, nil,
		[]schemas.CatalogPlan{{ID: "gold", Name: "gold-internal", InvoiceName: "Gold plan"}, {ID: "silver", Name: "Silver"}},
		[]schemas.CatalogPlan{{ID: "sms", Name: "sms-pack", InvoiceName: "SMS pack"}, {ID: "gold", Name: "an addon sharing the plan's id"}})
	cases := []struct {
		name                         string
		cat                          *Catalog
		items                        schemas.Items
		plan                         string
		names, skus, primaries, cats []string
	}{
		{"2.0: external names, the item as the product", pc2,
			schemas.Items{{ItemType: "plan", ItemPriceID: "pro-USD-monthly"}, {ItemType: "addon", ItemPriceID: "seat-USD-monthly"}},
			"Pro", []string{"Pro (monthly)", "Seat USD Monthly"}, []string{"pro-USD-monthly", "seat-USD-monthly"}, []string{"pro", "seat"}, []string{"saas"}},
		{"2.0: the item missing, the item price's name", pc2,
			schemas.Items{{ItemType: "plan", ItemPriceID: "lite-USD-monthly"}},
			"Lite USD Monthly", []string{"Lite USD Monthly"}, []string{"lite-USD-monthly"}, []string{"lite-gone"}, []string{"basic"}},
		{"1.0: invoice_name, else name", pc1,
			schemas.Items{{ItemType: "plan", ItemPriceID: "gold"}, {ItemType: "addon", ItemPriceID: "sms"}},
			"Gold plan", []string{"Gold plan", "SMS pack"}, []string{"gold", "sms"}, []string{"gold", "sms"}, nil},
		{"1.0: name", pc1, schemas.Items{{ItemType: "plan", ItemPriceID: "silver"}},
			"Silver", []string{"Silver"}, []string{"silver"}, []string{"silver"}, nil},
		{"missing from the catalog: the ids", pc2, schemas.Items{{ItemType: "plan", ItemPriceID: "ghost"}},
			"ghost", []string{"ghost"}, []string{"ghost"}, []string{"ghost"}, nil},
		{"no catalog at all: the ids", nil, schemas.Items{{ItemType: "plan", ItemPriceID: "ghost"}},
			"ghost", []string{"ghost"}, []string{"ghost"}, []string{"ghost"}, nil},
	}
	m, _ := NewMapper(Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSub("USD")
			s.Items = tc.items
			in := &Inputs{Catalog: tc.cat}
			rp, err := m.RecurringPayment(&schemas.Customer{ID: "c1"}, &s, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(m.Contact(&schemas.Customer{ID: "c1"}, &s, in))["Plan"]; got != tc.plan {
				t.Errorf("Plan = %q, want %q", got, tc.plan)
			}
			eq := func(what string, got, want []string) {
				if len(got) != len(want) {
					t.Errorf("%s = %q, want %q", what, got, want)
					return
				}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("%s = %q, want %q", what, got, want)
						return
					}
				}
			}
			eq("lineItemNames", rp.LineItemNames, tc.names)
			eq("lineItemSkus", rp.LineItemSkus, tc.skus)
			eq("lineItemStorePrimaryIds", rp.LineItemStorePrimaryIDs, tc.primaries)
			eq("lineItemCategories", rp.LineItemCategories, tc.cats)
		})
	}
}

func TestAmountsByCurrency(t *testing.T) {
	cases := []struct {
		name, currency      string
		items               schemas.Items
		renewal             []schemas.Invoice
		mrr                 *int64
		amount, disc, tx    string
		planAmount, mrrWant string
	}{
		{"USD items", "USD", schemas.Items{{ItemType: "plan", Amount: i64(1999)}, {ItemType: "addon", UnitPrice: i64(500), Quantity: 2}}, nil, i64(2999),
			"29.99", "", "", "19.99", "29.99"},
		{"JPY is whole yen", "JPY", schemas.Items{{ItemType: "plan", Amount: i64(1500)}}, nil, i64(1500), "1500", "", "", "1500", "1500"},
		{"KWD is ×100 in Chargebee, not ×1000", "KWD", schemas.Items{{ItemType: "plan", Amount: i64(95000)}}, nil, i64(95000),
			"950.00", "", "", "950.00", "950.00"},
		{"CLP is ×100 in Chargebee, not whole pesos", "CLP", schemas.Items{{ItemType: "plan", Amount: i64(150000)}}, nil, nil,
			"1500.00", "", "", "1500.00", ""},
		{"KWD renewal invoice", "KWD", schemas.Items{{ItemType: "plan", Amount: i64(1)}}, []schemas.Invoice{{ID: "i", SubscriptionID: "s1", CurrencyCode: "KWD",
			Status: "paid", Total: i64(5005), Tax: i64(5), Discount: i64(250), LineItems: schemas.InvoiceLines{planLineFor("s1", 5005)}}}, nil,
			"50.05", "2.50", "0.05", "0.01", ""},
		{"JPY renewal invoice", "JPY", nil, []schemas.Invoice{{ID: "i", SubscriptionID: "s1", CurrencyCode: "JPY", Status: "paid", Total: i64(980),
			LineItems: schemas.InvoiceLines{planLineFor("s1", 980)}}}, nil, "980", "0", "0", "", ""},
		{"multi-decimal: amount_in_decimal wins, summed exactly", "USD", schemas.Items{
			{ItemType: "plan", Amount: i64(1000), AmountInDecimal: "9.995"}, {ItemType: "addon", Amount: i64(500)}}, nil, i64(1500),
			"14.995", "", "", "9.995", "15.00"},
		{"multi-decimal: unit price × decimal quantity", "USD", schemas.Items{
			{ItemType: "plan", UnitPrice: i64(33), Quantity: 3, UnitPriceInDecimal: "0.333", QuantityInDecimal: "3"},
			{ItemType: "addon", UnitPriceInDecimal: "0.1", Quantity: 2}}, nil, nil,
			"1.199", "", "", "0.999", ""},
		{"multi-decimal JPY", "JPY", schemas.Items{{ItemType: "plan", Amount: i64(15), AmountInDecimal: "15.5"}}, nil, nil,
			"15.5", "", "", "15.5", ""},
		{"an unreadable decimal falls back to the integer amount", "USD", schemas.Items{{ItemType: "plan", Amount: i64(1000), AmountInDecimal: "ten"}}, nil, nil,
			"10.00", "", "", "10.00", ""},
	}
	m, _ := NewMapper(Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSub(tc.currency)
			s.Items, s.MRR = tc.items, tc.mrr
			in := &Inputs{Billing: billingFor("s1", tc.renewal)}
			rp, err := m.RecurringPayment(&schemas.Customer{ID: "c1"}, &s, in)
			if err != nil {
				t.Fatal(err)
			}
			if rp.PaymentAmount != tc.amount || deref2(rp.DiscountAmount) != tc.disc || deref2(rp.TaxAmount) != tc.tx {
				t.Errorf("amount %s discount %s tax %s; want %s %s %s", rp.PaymentAmount, deref2(rp.DiscountAmount), deref2(rp.TaxAmount), tc.amount, tc.disc, tc.tx)
			}
			f := fieldsOf(m.Contact(&schemas.Customer{ID: "c1"}, &s, in))
			if f["Plan Amount"] != tc.planAmount || f["MRR"] != tc.mrrWant {
				t.Errorf("Plan Amount %q MRR %q; want %q %q", f["Plan Amount"], f["MRR"], tc.planAmount, tc.mrrWant)
			}
		})
	}
}

func TestRefunds(t *testing.T) {
	inv := schemas.Invoice{ID: "r1", SubscriptionID: "s1", Status: "paid", CurrencyCode: "USD", Date: i64(1700000000), PaidAt: i64(1700000600),
		Total: i64(1000), AmountPaid: i64(1000), LineItems: schemas.InvoiceLines{planLineFor("s1", 1000)}}
	cn := func(id, invoice string, refunded int64) schemas.CreditNote {
		return schemas.CreditNote{ID: id, ReferenceInvoiceID: invoice, Type: "refundable", Status: "refunded", AmountRefunded: i64(refunded), RefundedAt: i64(1700900000)}
	}
	cases := []struct {
		name   string
		inv    func(*schemas.Invoice)
		notes  []schemas.CreditNote
		status string
	}{
		{"refunded in full", nil, []schemas.CreditNote{cn("a", "r1", 1000)}, "REFUNDED"},
		{"refunded in full by two credit notes", nil, []schemas.CreditNote{cn("a", "r1", 400), cn("b", "r1", 600)}, "REFUNDED"},
		{"refunded in part", nil, []schemas.CreditNote{cn("a", "r1", 400)}, "PARTIALLY_REFUNDED"},
		{"all that was paid (the rest was credits)", func(v *schemas.Invoice) { v.AmountPaid = i64(800) }, []schemas.CreditNote{cn("a", "r1", 800)}, "REFUNDED"},
		{"no amount_paid: measured against the total", func(v *schemas.Invoice) { v.AmountPaid = nil }, []schemas.CreditNote{cn("a", "r1", 999)}, "PARTIALLY_REFUNDED"},
		{"a voided credit note refunds nothing", nil, []schemas.CreditNote{func() schemas.CreditNote { c := cn("a", "r1", 1000); c.Status = "voided"; return c }()}, "COMPLETED"},
		{"a deleted credit note refunds nothing", nil, []schemas.CreditNote{func() schemas.CreditNote { c := cn("a", "r1", 1000); c.Deleted = true; return c }()}, "COMPLETED"},
		{"a credit note against another invoice", nil, []schemas.CreditNote{cn("a", "r0", 1000)}, "COMPLETED"},
		{"an adjustment credit note (nothing refunded)", nil, []schemas.CreditNote{cn("a", "r1", 0)}, "COMPLETED"},
		{"issued_credit_notes alone are not read", func(v *schemas.Invoice) { v.AmountRefunded = i64(1000) }, nil, "COMPLETED"},
	}
	m, _ := NewMapper(Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := inv
			if tc.inv != nil {
				tc.inv(&v)
			}
			s := testSub("USD")
			rp, err := m.RecurringPayment(&schemas.Customer{ID: "c1"}, &s, &Inputs{Billing: billingFor("s1", []schemas.Invoice{v}, tc.notes...)})
			if err != nil {
				t.Fatal(err)
			}
			// lastPaymentDate is the payment's, not the refund's.
			if deref2(rp.LastPaymentStatus) != tc.status || deref2(rp.LastPaymentDate) != "2023-11-14T22:23:20Z" {
				t.Errorf("%s %s, want %s at the payment", deref2(rp.LastPaymentStatus), deref2(rp.LastPaymentDate), tc.status)
			}
		})
	}
}

func TestCancelReasonAndTotalCycles(t *testing.T) {
	m, _ := NewMapper(Config{})
	for _, tc := range []struct{ code, reason, want string }{
		{"too_expensive", "", "too_expensive"},
		{"switched_vendor", "not_paid", "switched_vendor"},
		{"", "not_paid", "not_paid"},
	} {
		s := testSub("USD")
		s.Status, s.CancelReasonCode, s.CancelReason = "cancelled", tc.code, tc.reason
		if got := fieldsOf(m.Contact(&schemas.Customer{ID: "c1"}, &s, nil))["Cancel Reason"]; got != tc.want {
			t.Errorf("code %q reason %q: Cancel Reason = %q, want %q", tc.code, tc.reason, got, tc.want)
		}
	}

	pc2 := NewCatalog([]schemas.ItemPrice{{ID: "pro", BillingCycles: i64(24)}, {ID: "open"}}, nil, nil, nil)
	pc1 := NewCatalog(nil, nil, []schemas.CatalogPlan{{ID: "gold", BillingCycles: i64(6)}}, nil)
	cases := []struct {
		name     string
		item     schemas.Item
		cat      *Catalog
		contract *int64
		remain   *int64
		want     int64
	}{
		{"the subscription's override", schemas.Item{ItemType: "plan", ItemPriceID: "pro", BillingCycles: i64(12)}, pc2, i64(36), i64(3), 12},
		{"the item price's billing_cycles (2.0)", schemas.Item{ItemType: "plan", ItemPriceID: "pro"}, pc2, i64(36), i64(3), 24},
		{"the plan's billing_cycles (1.0)", schemas.Item{ItemType: "plan", ItemPriceID: "gold"}, pc1, nil, i64(3), 6},
		{"the contract term's billing_cycle", schemas.Item{ItemType: "plan", ItemPriceID: "open"}, pc2, i64(36), i64(35), 36},
		{"remaining cycles are not a total: forever", schemas.Item{ItemType: "plan", ItemPriceID: "open"}, pc2, nil, i64(5), 0},
	}
	for _, tc := range cases {
		s := testSub("USD")
		s.Items, s.ContractBillingCycles, s.RemainingBillingCycles = schemas.Items{tc.item}, tc.contract, tc.remain
		rp, err := m.RecurringPayment(&schemas.Customer{ID: "c1"}, &s, &Inputs{Catalog: tc.cat})
		if err != nil {
			t.Fatal(err)
		}
		if rp.TotalCycles != tc.want {
			t.Errorf("%s: totalCycles = %d, want %d", tc.name, rp.TotalCycles, tc.want)
		}
	}
}

func TestErasedCustomer(t *testing.T) {
	m, err := NewMapper(Config{
		FieldMappings:    []schemas.ContactField{{Title: "Industry", Source: "customer.cf_industry"}, {Title: "Plan Id", Source: "subscription.plan_id"}},
		MarketingConsent: "customer.cf_marketing_opt_in",
	})
	if err != nil {
		t.Fatal(err)
	}
	// What Chargebee leaves of an erased customer: pii_cleared, no email; whatever
	// else a snapshot may still hold must not leave transform.
	c := &schemas.Customer{ID: "c1", PIICleared: "cleared", FirstName: "Zoë", LastName: "Erased", Phone: "+1 555", Company: "ACME",
		Email: "zoe@example.com", AutoCollection: "on", CreatedAt: i64(1700000000), PaymentMethodType: "card",
		BillingAddress: schemas.Address{Line1: "1 Main St", City: "Köln", Country: "DE"},
		CustomFields:   `{"cf_industry":"SaaS","cf_marketing_opt_in":"yes"}`}
	s := testSub("USD")
	s.PlanID, s.ShippingAddress = "gold", schemas.Address{Line1: "2 Side St", FirstName: "Zoë"}
	for _, p := range []*schemas.Subscription{&s, nil} {
		ct := m.Contact(c, p, &Inputs{Payment: ChoosePayment(c, p, nil)})
		if !ct.Deleted || !ct.Erased || ct.CustomerID != "c1" || ct.Email != "" || ct.FirstName != "" || ct.LastName != "" || ct.Phone != "" || ct.Company != "" {
			t.Errorf("contact %+v: want a delete with no personal data, keyed by c1", ct)
		}
		if len(ct.Fields) != len(schemas.DefaultFields)+2 {
			t.Errorf("%d fields", len(ct.Fields))
		}
		for _, f := range ct.Fields {
			if f.Value != "" {
				t.Errorf("field %s = %q, want empty", f.Title, f.Value)
			}
		}
	}
	rp, err := m.RecurringPayment(c, &s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rp.Deleted || rp.Email != "" || rp.CustomerData != (schemas.CustomerData{}) || rp.BillingAddress != nil || rp.ShippingAddress != nil || rp.StoreCustomerID != "c1" {
		t.Errorf("recurring payment %+v: want a delete with no personal data", rp)
	}
	// scheduled_for_clear is not cleared yet.
	c.PIICleared = "scheduled_for_clear"
	if ct := m.Contact(c, &s, nil); ct.Deleted || ct.Erased || ct.Email == "" {
		t.Errorf("scheduled_for_clear mapped as erased: %+v", ct)
	}
}

// An ended subscription (cancelled, transferred, deleted, or its customer deleted)
// carries no renewalDate or nextPaymentDate, whatever its last term left: AC
// automations would read them as a coming payment. A live one keeps them.
func TestEndedSubscriptionsHaveNoFutureDates(t *testing.T) {
	m, _ := NewMapper(Config{})
	c := &schemas.Customer{ID: "c1", Email: "a@example.com"}
	cases := []struct {
		name    string
		edit    func(s *schemas.Subscription, c *schemas.Customer)
		cleared bool
	}{
		{"active", func(*schemas.Subscription, *schemas.Customer) {}, false},
		{"non_renewing", func(s *schemas.Subscription, _ *schemas.Customer) { s.Status = "non_renewing" }, false},
		{"cancelled", func(s *schemas.Subscription, _ *schemas.Customer) {
			s.Status, s.CancelledAt = "cancelled", i64(1800000000)
		}, true},
		{"transferred", func(s *schemas.Subscription, _ *schemas.Customer) { s.Status = "transferred" }, true},
		{"deleted while active", func(s *schemas.Subscription, _ *schemas.Customer) { s.Deleted = true }, true},
		{"customer deleted", func(_ *schemas.Subscription, c *schemas.Customer) { c.Deleted = true }, true},
	}
	for _, tc := range cases {
		s, cc := testSub("USD"), *c
		s.CurrentTermStart, s.CurrentTermEnd, s.NextBillingAt = i64(1790000000), i64(1900000000), i64(1900000000)
		tc.edit(&s, &cc)
		rp, err := m.RecurringPayment(&cc, &s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cleared := rp.RenewalDate == nil && rp.NextPaymentDate == nil; cleared != tc.cleared {
			t.Errorf("%s: renewalDate %v, nextPaymentDate %v; want cleared %v", tc.name, rp.RenewalDate, rp.NextPaymentDate, tc.cleared)
		}
		if rp.AnchorDate == nil {
			t.Errorf("%s: anchorDate (the term's start, a past date) lost", tc.name)
		}
		// A deleted one reads in the file as AC will hold it: CANCELLED, "deleted".
		if deleted := s.Deleted || cc.Deleted; deleted != (rp.NormalizedStatus == Cancelled && rp.StoreStatus == "deleted") {
			t.Errorf("%s: status %s/%s (deleted %v)", tc.name, rp.NormalizedStatus, rp.StoreStatus, deleted)
		}
	}
}

// AC's address has three lines (address3): Chargebee's line3 is no longer merged
// into address2. The recurring payment's name is the plan's customer-facing name.
func TestAddressLinesAndName(t *testing.T) {
	m, _ := NewMapper(Config{})
	c := &schemas.Customer{ID: "c1", Email: "a@example.com",
		BillingAddress: schemas.Address{Line1: "Acme GmbH", Line2: "Hinterhaus", Line3: "3. OG", City: "Köln"}}
	s := testSub("USD")
	in := &Inputs{Catalog: &Catalog{Prices: map[string]*schemas.ItemPrice{"pro": {ID: "pro", Name: "Pro USD Monthly", ExternalName: "Pro"}}}}
	rp, err := m.RecurringPayment(c, &s, in)
	if err != nil {
		t.Fatal(err)
	}
	if a := rp.BillingAddress; a == nil || a.Address1 != "Acme GmbH" || a.Address2 != "Hinterhaus" || a.Address3 != "3. OG" {
		t.Errorf("billing address %+v", rp.BillingAddress)
	}
	if rp.Name == nil || *rp.Name != "Pro" {
		t.Errorf("name %v, want the plan's customer-facing name Pro", rp.Name)
	}
}
