package transform

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
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
