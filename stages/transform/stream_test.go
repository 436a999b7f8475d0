package transform

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

// TestRunStreamsLikeTheRecordMappers checks the streaming join of Run against the
// per-record mappers applied to whole tables: every recurring payment is
// RecurringPayment(customer, subscription, latest invoice), every contact is
// Contact(customer, Primary(its subscriptions)), with mappings and marketing consent
// taken from both entities and customers packed with odd strings.
func TestRunStreamsLikeTheRecordMappers(t *testing.T) {
	cfg := Config{
		FieldMappings: []schemas.ContactField{
			{Title: "Industry", Source: "customer.cf_industry"},
			{Title: "City", Source: "customer.billing_address.city"},
			{Title: "Trial Start", Source: "subscription.trial_start", Type: "date"},
			{Title: "Signed Up", Source: "customer.created_at"},
			{Title: "Plan Id", Source: "subscription.plan_id"},
		},
		MarketingConsent: "customer.cf_marketing_opt_in",
	}
	var custs []schemas.Customer
	var subs []schemas.Subscription
	var invs []schemas.Invoice
	var notes []schemas.CreditNote
	var sources []schemas.PaymentSource
	statuses := []string{"active", "cancelled", "in_trial", "paused", "non_renewing", "future"}
	for i := range 40 {
		c := schemas.Customer{
			ID: fmt.Sprintf("c%02d", i), Email: fmt.Sprintf(" User%d@Example.com ", i), FirstName: "Zoë",
			LastName: string(make([]byte, 200+i)), Phone: "+1 555", Company: "", AutoCollection: "on",
			BillingAddress: schemas.Address{City: "Köln", Line1: fmt.Sprint(i), Country: "DE"},
			CustomFields:   fmt.Sprintf(`{"cf_industry":"ind%d","cf_marketing_opt_in":%q}`, i%3, []string{"yes", "no", ""}[i%3]),
			Deleted:        i%11 == 0,
		}
		if i%7 != 0 {
			c.CreatedAt = i64(1700000000 + int64(i))
		}
		switch i % 5 {
		case 1:
			c.PrimaryPaymentSource = fmt.Sprintf("pm_%02d", i)
			sources = append(sources, schemas.PaymentSource{ID: c.PrimaryPaymentSource, CustomerID: c.ID, Type: []string{"card", "direct_debit"}[i%2],
				CardExpiryMonth: i64(int64(i%12 + 1)), CardExpiryYear: i64(2030), Deleted: i%3 == 0})
		case 2:
			c.CardType, c.CardLast4, c.CardExpiryMonth, c.CardExpiryYear = "visa", "4242", i64(5), i64(2029)
		case 3:
			c.PIICleared, c.Email, c.FirstName = "cleared", "", ""
		}
		if i == 22 { // packed numbers of every sign and size, for a customer with subscriptions
			c.CreatedAt, c.CardExpiryMonth, c.CardExpiryYear = i64(-86401), i64(-3), i64(1<<40)
		}
		custs = append(custs, c)
		for j := range i % 4 { // 0 to 3 subscriptions; customers with none map from the customer pass
			s := schemas.Subscription{
				ID: fmt.Sprintf("s%02d_%d", i, j), CustomerID: c.ID, Status: statuses[(i+j)%len(statuses)],
				CurrencyCode: "usd", BillingPeriod: 1, BillingPeriodUnit: "month", PlanID: fmt.Sprint("plan", j),
				CreatedAt: i64(1700000000 + int64(j%2)), TrialStart: i64(1700000500), Deleted: j == 2,
				Items:    schemas.Items{{ItemType: "plan", ItemPriceID: "pro", Amount: i64(1000 + int64(i))}},
				CardType: "mastercard", CardExpiryMonth: i64(1), CardExpiryYear: i64(2027),
			}
			if j == 1 {
				s.PaymentSourceID = fmt.Sprintf("pm_s%02d", i)
				sources = append(sources, schemas.PaymentSource{ID: s.PaymentSourceID, Type: "paypal_express_checkout"})
			}
			if i%6 == 0 {
				s.Items[0].AmountInDecimal = fmt.Sprintf("%d.125", 10+i)
			}
			subs = append(subs, s)
			for k := range j + 1 {
				v := schemas.Invoice{
					ID: fmt.Sprintf("inv%02d_%d_%d", i, j, k), SubscriptionID: s.ID, CustomerID: c.ID, Recurring: k != 2,
					Status: []string{"paid", "payment_due", "paid"}[k], CurrencyCode: "USD", Date: i64(1700001000 + int64(k%2)),
					Total: i64(500 + int64(k)), Tax: i64(int64(k)), AmountPaid: i64(500), DunningStatus: []string{"", "in_progress", ""}[k],
					LineItems: schemas.InvoiceLines{{ID: "l", EntityType: []string{"plan_item_price", "plan_item_price", "charge_item_price"}[k], Amount: i64(500)}},
				}
				if i%4 == 1 && k == 0 { // consolidated: the subscription is named by its line items only
					v.SubscriptionID = ""
					v.LineItems = append(v.LineItems, schemas.InvoiceLine{ID: "l2", EntityType: "plan_item_price", SubscriptionID: "someone-else", Amount: i64(7)})
					v.LineItems[0].SubscriptionID, v.LineItems[0].TaxAmount, v.LineItems[0].DiscountAmount = s.ID, i64(30), i64(20)
				}
				invs = append(invs, v)
				if k == 0 && i%3 == 0 {
					notes = append(notes, schemas.CreditNote{ID: "cn" + v.ID, ReferenceInvoiceID: v.ID, Status: "refunded", AmountRefunded: i64(int64(100 * (i%2*4 + 1)))})
				}
			}
		}
	}
	// Subscriptions in another order than their customers, as in a real snapshot.
	slices.Reverse(subs)
	prices := []schemas.ItemPrice{{ID: "pro", Name: "Pro", ItemID: "pro-item", ItemFamilyID: "fam", BillingCycles: i64(24)}}
	items := []schemas.CatalogItem{{ID: "pro-item", Name: "Pro internal", ExternalName: "Pro"}}

	in, out := t.TempDir(), t.TempDir()
	for _, err := range []error{
		schemas.Customers.WriteFile(filepath.Join(in, "customers.parquet"), custs),
		schemas.Subscriptions.WriteFile(filepath.Join(in, "subscriptions.parquet"), subs),
		schemas.Invoices.WriteFile(filepath.Join(in, "invoices.parquet"), invs),
		schemas.ItemPrices.WriteFile(filepath.Join(in, "item_prices.parquet"), prices),
		schemas.CatalogItems.WriteFile(filepath.Join(in, "items.parquet"), items),
		schemas.CreditNotes.WriteFile(filepath.Join(in, "credit_notes.parquet"), notes),
		schemas.PaymentSources.WriteFile(filepath.Join(in, "payment_sources.parquet"), sources),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Run(context.Background(), Options{In: in}, cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	gotRPs, err := schemas.RecurringPayments.ReadFile(filepath.Join(out, "recurring_payments.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	gotContacts, err := schemas.Contacts.ReadFile(filepath.Join(out, "contacts.parquet"))
	if err != nil {
		t.Fatal(err)
	}

	m, err := NewMapper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(prices, items, nil, nil)
	look := MapSources(sources)
	custOf := map[string]*schemas.Customer{}
	for i := range custs {
		custOf[custs[i].ID] = &custs[i]
	}
	bill := newBilling(0)
	for i := range notes {
		bill.addCreditNote(&notes[i])
	}
	for i := range invs {
		bill.add(&invs[i])
	}
	subsOf := map[string][]*schemas.Subscription{}
	var wantRPs []schemas.RecurringPayment
	for i := range subs {
		s := &subs[i]
		subsOf[s.CustomerID] = append(subsOf[s.CustomerID], s)
		in := Inputs{Catalog: cat, Payment: ChoosePayment(custOf[s.CustomerID], s, look)}
		var ren Renewal
		bill.get(s.ID, &in.Billing, &ren)
		rp, err := m.RecurringPayment(custOf[s.CustomerID], s, &in)
		if err != nil {
			t.Fatal(err)
		}
		wantRPs = append(wantRPs, rp)
	}
	var wantContacts []schemas.Contact
	for i := range custs {
		p := Primary(subsOf[custs[i].ID])
		in := Inputs{Catalog: cat, Payment: ChoosePayment(&custs[i], p, look)}
		wantContacts = append(wantContacts, m.Contact(&custs[i], p, &in))
	}

	if !reflect.DeepEqual(gotRPs, wantRPs) {
		t.Errorf("recurring payments differ from the per-record mapping:\ngot  %+v\nwant %+v", gotRPs, wantRPs)
	}
	byID := func(a, b schemas.Contact) int { return cmp.Compare(a.CustomerID, b.CustomerID) }
	slices.SortFunc(gotContacts, byID)
	if !reflect.DeepEqual(gotContacts, wantContacts) {
		t.Errorf("contacts differ from the per-record mapping:\ngot  %+v\nwant %+v", gotContacts, wantContacts)
	}
	if rep.Counts["contacts"] != int64(len(custs)) || rep.Counts["recurring_payments"] != int64(len(subs)) {
		t.Errorf("report %v", rep.Counts)
	}
	// The data exercises every input: failures, refunds, consolidated invoices,
	// payment sources, multi-decimal amounts, erasure.
	seen := map[string]bool{}
	for _, rp := range gotRPs {
		seen[rp.NormalizedStatus] = true
		seen[deref2(rp.LastPaymentStatus)] = true
		if e := deref2(rp.PaymentMethodExpiration); e != "" {
			seen["exp "+e[:4]] = true
		}
		seen["amount "+rp.PaymentAmount] = true
	}
	for _, want := range []string{PaymentFailed, "REFUNDED", "PARTIALLY_REFUNDED", "DECLINED", "exp 2030", "exp 2029", "exp 2027", "amount 5.10"} {
		if !seen[want] {
			t.Errorf("no recurring payment with %s", want)
		}
	}
	if rep.Counts["contacts_erased"] == 0 {
		t.Errorf("no erased contact")
	}
}

// A subscription whose customer is missing stops the stage with an error naming
// both, and leaves no output behind.
func TestRunMissingCustomer(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	for _, err := range []error{
		schemas.Customers.WriteFile(filepath.Join(in, "customers.parquet"), nil),
		schemas.Subscriptions.WriteFile(filepath.Join(in, "subscriptions.parquet"), []schemas.Subscription{{ID: "s1", CustomerID: "ghost", Status: "active", BillingPeriod: 1, BillingPeriodUnit: "month"}}),
		schemas.Invoices.WriteFile(filepath.Join(in, "invoices.parquet"), nil),
		schemas.ItemPrices.WriteFile(filepath.Join(in, "item_prices.parquet"), nil),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := Run(context.Background(), Options{In: in}, Config{}, out)
	if err == nil || !regexpMatch(`subscription s1: customer ghost is not in the validate snapshot`, err.Error()) {
		t.Fatalf("err = %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(out, "*")); len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// writeInputs writes a validate folder; a nil table is left absent.
func writeInputs(t *testing.T, in string, custs []schemas.Customer, subs []schemas.Subscription, invs []schemas.Invoice, extra map[string]func(path string) error) {
	t.Helper()
	for _, err := range []error{
		schemas.Customers.WriteFile(filepath.Join(in, "customers.parquet"), custs),
		schemas.Subscriptions.WriteFile(filepath.Join(in, "subscriptions.parquet"), subs),
		schemas.Invoices.WriteFile(filepath.Join(in, "invoices.parquet"), invs),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for name, write := range extra {
		if err := write(filepath.Join(in, name+".parquet")); err != nil {
			t.Fatal(err)
		}
	}
}

func runOutputs(t *testing.T, in string) (map[string]schemas.RecurringPayment, map[string]schemas.Contact, schemas.Report) {
	t.Helper()
	out := t.TempDir()
	rep, err := Run(context.Background(), Options{In: in}, Config{}, out)
	if err != nil {
		t.Fatal(err)
	}
	rps, err := schemas.RecurringPayments.ReadFile(filepath.Join(out, "recurring_payments.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	cts, err := schemas.Contacts.ReadFile(filepath.Join(out, "contacts.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	rpOf, ctOf := map[string]schemas.RecurringPayment{}, map[string]schemas.Contact{}
	for _, rp := range rps {
		rpOf[rp.StoreRecurringPaymentID] = rp
	}
	for _, ct := range cts {
		ctOf[ct.CustomerID] = ct
	}
	return rpOf, ctOf, rep
}

// Run reads the new validate files (a Product Catalog 1.0 site: plans and addons,
// no item prices or items) and applies them end to end.
func TestRunReadsCatalogSourcesAndCreditNotes(t *testing.T) {
	custs := []schemas.Customer{
		{ID: "c1", Email: "a@example.com", AutoCollection: "on", PrimaryPaymentSource: "pm_1", CardType: "visa", CardExpiryMonth: i64(1), CardExpiryYear: i64(2026)},
		{ID: "c2", PIICleared: "cleared", AutoCollection: "on", FirstName: "left over"},
		{ID: "c3", Email: "gifter@example.com", PrimaryPaymentSource: "pm_3"},
	}
	subs := []schemas.Subscription{
		{ID: "s1", CustomerID: "c1", Status: "active", CurrencyCode: "USD", BillingPeriod: 1, BillingPeriodUnit: "month", PlanID: "gold",
			CardType: "visa", CardExpiryMonth: i64(1), CardExpiryYear: i64(2026), DueInvoicesCount: 1,
			Items: schemas.Items{{ItemType: "plan", ItemPriceID: "gold", Amount: i64(1000)}, {ItemType: "addon", ItemPriceID: "sms", Amount: i64(200)}}},
		{ID: "s2", CustomerID: "c2", Status: "active", CurrencyCode: "USD", BillingPeriod: 1, BillingPeriodUnit: "month",
			ShippingAddress: schemas.Address{Line1: "1 Main St"}, Items: schemas.Items{{ItemType: "plan", ItemPriceID: "gold", Amount: i64(1000)}}},
	}
	invs := []schemas.Invoice{
		{ID: "i1", SubscriptionID: "s1", Status: "paid", CurrencyCode: "USD", Date: i64(100), PaidAt: i64(100), Total: i64(1200), AmountPaid: i64(1200),
			LineItems: schemas.InvoiceLines{{ID: "l", EntityType: "plan", EntityID: "gold", Amount: i64(1000)}, {ID: "m", EntityType: "addon", EntityID: "sms", Amount: i64(200)}}},
		{ID: "i2", SubscriptionID: "s1", Status: "payment_due", CurrencyCode: "USD", Date: i64(200), Total: i64(999),
			Payments:  schemas.InvoicePayments{{TxnID: "t", TxnStatus: "failure", TxnDate: i64(201)}},
			LineItems: schemas.InvoiceLines{{ID: "c", EntityType: "adhoc", Amount: i64(999)}}},
	}
	sources := func(exp int64) func(string) error {
		return func(path string) error {
			return schemas.PaymentSources.WriteFile(path, []schemas.PaymentSource{
				{ID: "pm_1", CustomerID: "c1", Type: "card", CardExpiryMonth: i64(8), CardExpiryYear: i64(exp)},
				{ID: "pm_3", CustomerID: "c3", Type: "direct_debit"},
			})
		}
	}
	extra := map[string]func(string) error{
		"plans": func(path string) error {
			return schemas.CatalogPlans.WriteFile(path, []schemas.CatalogPlan{{ID: "gold", Name: "gold", InvoiceName: "Gold", BillingCycles: i64(12)}})
		},
		"addons": func(path string) error {
			return schemas.CatalogAddons.WriteFile(path, []schemas.CatalogPlan{{ID: "sms", Name: "SMS pack"}})
		},
		"credit_notes": func(path string) error {
			return schemas.CreditNotes.WriteFile(path, []schemas.CreditNote{{ID: "cn1", ReferenceInvoiceID: "i1", Status: "refunded", AmountRefunded: i64(500)}})
		},
		"payment_sources": sources(2030),
	}
	in := t.TempDir()
	writeInputs(t, in, custs, subs, invs, extra)
	rps, cts, rep := runOutputs(t, in)

	s1 := rps["s1"]
	if s1.NormalizedStatus != PaymentFailed || s1.PaymentAmount != "12.00" || deref2(s1.LastPaymentStatus) != "PARTIALLY_REFUNDED" ||
		deref2(s1.PaymentMethodExpiration) != "2030-08-01T00:00:00Z" || s1.TotalCycles != 12 ||
		strings.Join(s1.LineItemNames, "|") != "Gold|SMS pack" || strings.Join(s1.LineItemSkus, "|") != "gold|sms" {
		t.Errorf("s1 = %+v", s1)
	}
	if f := fieldsOf(cts["c1"]); f["Plan"] != "Gold" || f["Payment Method"] != "card" {
		t.Errorf("c1 fields %v", f)
	}
	if f := fieldsOf(cts["c3"]); f["Payment Method"] != "direct_debit" {
		t.Errorf("c3 (no subscription) fields %v", f)
	}
	if ct, rp := cts["c2"], rps["s2"]; !ct.Erased || !ct.Deleted || !rp.Deleted || rp.ShippingAddress != nil || rp.CustomerData.FirstName != "" {
		t.Errorf("erased c2: %+v / %+v", ct, rp)
	}
	if rep.Counts["contacts_erased"] != 1 || rep.Counts["status."+PaymentFailed] != 1 {
		t.Errorf("report %v", rep.Counts)
	}

	// A card change seen only in payment_sources changes the recurring payment.
	in2 := t.TempDir()
	extra["payment_sources"] = sources(2033)
	writeInputs(t, in2, custs, subs, invs, extra)
	rps2, _, _ := runOutputs(t, in2)
	if got := deref2(rps2["s1"].PaymentMethodExpiration); got != "2033-08-01T00:00:00Z" || rps2["s1"].RowHash == s1.RowHash {
		t.Errorf("after the card change: expiration %s, hash changed %v", got, rps2["s1"].RowHash != s1.RowHash)
	}
}

func show(p *int64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// The payment source index keeps a card's expiry in 8 bytes: whatever the stored
// numbers, the expiration sent is the one of the full record.
func TestSourcesKeepExpiration(t *testing.T) {
	months := []*int64{nil, i64(1), i64(12), i64(0), i64(13), i64(-1), i64(127), i64(128), i64(-129), i64(256 + 5), i64(1 << 40), i64(math.MinInt64)}
	years := []*int64{nil, i64(2000), i64(2099), i64(1999), i64(2100), i64(0), i64(-2030), i64(math.MaxInt32), i64(math.MaxInt32 + 2030),
		i64(1<<32 + 2030), i64(math.MinInt32), i64(math.MinInt64), i64(math.MaxInt64)}
	srcs := newSources(0)
	var want []schemas.PaymentSource
	for i, mo := range months {
		for j, yr := range years {
			ps := schemas.PaymentSource{ID: fmt.Sprint(i, "/", j), Type: "card", CardExpiryMonth: mo, CardExpiryYear: yr}
			if err := srcs.add(&ps); err != nil {
				t.Fatal(err)
			}
			want = append(want, ps)
		}
	}
	for _, ps := range want {
		got, ok := srcs.lookup(ps.ID)
		if !ok || got.Type != "card" {
			t.Fatalf("%s: lookup %+v %v", ps.ID, got, ok)
		}
		if g, w := deref2(expiration(got)), deref2(expiration(paymentMethodOf(&ps))); g != w {
			t.Errorf("month %v year %v: expiration %q, want %q", show(ps.CardExpiryMonth), show(ps.CardExpiryYear), g, w)
		}
	}
}

// An older validate folder (no credit notes, payment sources or catalog files, not
// even item_prices) still transforms: absent files are empty.
func TestRunWithoutTheNewFiles(t *testing.T) {
	in := t.TempDir()
	writeInputs(t, in,
		[]schemas.Customer{{ID: "c1", Email: "a@example.com", AutoCollection: "on"}},
		[]schemas.Subscription{{ID: "s1", CustomerID: "c1", Status: "active", CurrencyCode: "EUR", BillingPeriod: 1, BillingPeriodUnit: "month",
			CardExpiryMonth: i64(3), CardExpiryYear: i64(2029), CardType: "visa",
			Items: schemas.Items{{ItemType: "plan", ItemPriceID: "pro-EUR", Amount: i64(4900)}}}},
		[]schemas.Invoice{{ID: "i1", SubscriptionID: "s1", Recurring: true, Status: "paid", CurrencyCode: "EUR", Date: i64(100), Total: i64(5900), AmountRefunded: i64(5900)}},
		nil)
	rps, cts, _ := runOutputs(t, in)
	rp := rps["s1"]
	if rp.PaymentAmount != "59.00" || deref2(rp.LastPaymentStatus) != "COMPLETED" || deref2(rp.PaymentMethodExpiration) != "2029-03-01T00:00:00Z" ||
		rp.LineItemNames[0] != "pro-EUR" {
		t.Errorf("s1 = %+v", rp)
	}
	if f := fieldsOf(cts["c1"]); f["Plan"] != "pro-EUR" || f["Payment Method"] != "card" {
		t.Errorf("c1 fields %v", f)
	}
}
