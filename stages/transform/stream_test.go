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
		custs = append(custs, c)
		for j := range i % 4 { // 0 to 3 subscriptions; customers with none map from the customer pass
			s := schemas.Subscription{
				ID: fmt.Sprintf("s%02d_%d", i, j), CustomerID: c.ID, Status: statuses[(i+j)%len(statuses)],
				CurrencyCode: "usd", BillingPeriod: 1, BillingPeriodUnit: "month", PlanID: fmt.Sprint("plan", j),
				CreatedAt: i64(1700000000 + int64(j%2)), TrialStart: i64(1700000500), Deleted: j == 2,
				Items: schemas.Items{{ItemType: "plan", ItemPriceID: "pro", Amount: i64(1000 + int64(i))}},
			}
			subs = append(subs, s)
			for k := range j + 1 {
				invs = append(invs, schemas.Invoice{
					ID: fmt.Sprintf("inv%02d_%d_%d", i, j, k), SubscriptionID: s.ID, CustomerID: c.ID, Recurring: k != 2,
					Status: []string{"paid", "payment_due", "paid"}[k], CurrencyCode: "USD", Date: i64(1700001000 + int64(k%2)),
					Total: i64(500 + int64(k)), Tax: i64(int64(k)), AmountRefunded: i64(int64(k * 100)),
				})
			}
		}
	}
	// Subscriptions in another order than their customers, as in a real snapshot.
	slices.Reverse(subs)
	prices := []schemas.ItemPrice{{ID: "pro", Name: "Pro", ItemID: "pro-item", ItemFamilyID: "fam"}}

	in, out := t.TempDir(), t.TempDir()
	for _, err := range []error{
		schemas.Customers.WriteFile(filepath.Join(in, "customers.parquet"), custs),
		schemas.Subscriptions.WriteFile(filepath.Join(in, "subscriptions.parquet"), subs),
		schemas.Invoices.WriteFile(filepath.Join(in, "invoices.parquet"), invs),
		schemas.ItemPrices.WriteFile(filepath.Join(in, "item_prices.parquet"), prices),
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
	priceOf := map[string]*schemas.ItemPrice{"pro": &prices[0]}
	custOf := map[string]*schemas.Customer{}
	for i := range custs {
		custOf[custs[i].ID] = &custs[i]
	}
	lt := newLatest(0)
	for i := range invs {
		lt.add(&invs[i])
	}
	subsOf := map[string][]*schemas.Subscription{}
	var wantRPs []schemas.RecurringPayment
	for i := range subs {
		s := &subs[i]
		subsOf[s.CustomerID] = append(subsOf[s.CustomerID], s)
		var inv schemas.Invoice
		ip := &inv
		if !lt.get(s.ID, &inv) {
			ip = nil
		}
		rp, err := m.RecurringPayment(custOf[s.CustomerID], s, ip, priceOf)
		if err != nil {
			t.Fatal(err)
		}
		wantRPs = append(wantRPs, rp)
	}
	var wantContacts []schemas.Contact
	for i := range custs {
		wantContacts = append(wantContacts, m.Contact(&custs[i], Primary(subsOf[custs[i].ID])))
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
