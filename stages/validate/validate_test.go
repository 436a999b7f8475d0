package validate

import (
	"slices"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

func i64(v int64) *int64 { return &v }

const t0 = 1700000000

func goodCustomer(id, email string) schemas.Customer {
	return schemas.Customer{ID: id, Email: email, CreatedAt: i64(t0), UpdatedAt: i64(t0), ResourceVersion: t0 * 1000}
}

func goodSub(id, cust string) schemas.Subscription {
	return schemas.Subscription{
		ID: id, CustomerID: cust, Status: "active", CurrencyCode: "USD", BillingPeriod: 1, BillingPeriodUnit: "month",
		CreatedAt: i64(t0), UpdatedAt: i64(t0), CurrentTermStart: i64(t0), CurrentTermEnd: i64(t0 + 86400*30),
		Items: schemas.Items{{ItemPriceID: "p", ItemType: "plan", Quantity: 1, UnitPrice: i64(1000), Amount: i64(1000)}},
	}
}

type errKey struct{ entity, id, code, field string }

func keys(errs []schemas.ValidationError) []errKey {
	var out []errKey
	for _, e := range errs {
		out = append(out, errKey{e.Entity, e.RecordID, e.Code, e.Field})
	}
	return out
}

// Each case starts from one good customer with one good subscription and breaks one
// thing; the error rows must be exactly the expected ones.
func TestRules(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(cs *[]schemas.Customer, ss *[]schemas.Subscription, inv *[]schemas.Invoice, gifts *[]schemas.Gift)
		cfg   Config
		want  []errKey
		custs int // customers carried on
		subs  int
	}{
		{"clean", nil, Config{}, nil, 1, 1},
		{"bad_amount: an items total past 64 bits", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].Items = schemas.Items{{ItemPriceID: "p", ItemType: "plan", Quantity: 1 << 62, UnitPrice: i64(1000)}}
		}, Config{}, []errKey{{"subscription", "s1", BadAmount, "items"}}, 1, 0},
		{"currency_mismatch: invoice in another currency", func(_ *[]schemas.Customer, _ *[]schemas.Subscription, inv *[]schemas.Invoice, _ *[]schemas.Gift) {
			*inv = []schemas.Invoice{{ID: "i1", CustomerID: "c1", SubscriptionID: "s1", CurrencyCode: "eur", Date: i64(t0), Total: i64(1000)},
				{ID: "i2", CustomerID: "c1", SubscriptionID: "s1", CurrencyCode: "usd", Date: i64(t0), Total: i64(1000)}}
		}, Config{}, []errKey{{"invoice", "i1", CurrencyMismatch, "currency_code"}}, 1, 1},
		{"deleted subscription that transform cannot map", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			s := goodSub("s2", "c1")
			s.Deleted, s.Status, s.CurrencyCode, s.MRR = true, "gone", "USD", i64(-1)
			*ss = append(*ss, s)
		}, Config{}, []errKey{{"subscription", "s2", UnknownStatus, "status"}}, 1, 1},
		{"missing_email", func(cs *[]schemas.Customer, _ *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].Email = "  "
		}, Config{}, []errKey{{"customer", "c1", MissingEmail, "email"}, {"subscription", "s1", CustomerRejected, "customer_id"}}, 0, 0},
		{"invalid_email", func(cs *[]schemas.Customer, _ *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].Email = "jane@"
		}, Config{}, []errKey{{"customer", "c1", InvalidEmail, "email"}, {"subscription", "s1", CustomerRejected, "customer_id"}}, 0, 0},
		{"no_subscription", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			*ss = nil
		}, Config{}, []errKey{{"customer", "c1", NoSubscription, "subscription"}}, 0, 0},
		{"a deleted subscription counts: the customer and it go on, so the cancellation reaches AC", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].Deleted = true
		}, Config{}, nil, 1, 1},
		{"gift purchaser, toggle off", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, inv *[]schemas.Invoice, _ *[]schemas.Gift) {
			*ss = nil
			*inv = []schemas.Invoice{{ID: "i1", CustomerID: "c1", CurrencyCode: "USD", Date: i64(t0), Total: i64(1000), IsGifted: true}}
		}, Config{}, []errKey{{"customer", "c1", NoSubscription, "subscription"}}, 0, 0},
		{"gift purchaser, toggle on", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, g *[]schemas.Gift) {
			*ss = nil
			*g = []schemas.Gift{{ID: "g1", GifterCustomerID: "c1"}}
		}, Config{SyncGiftPurchasers: true}, nil, 1, 0},
		{"duplicate_email: most recently updated wins", func(cs *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			c2 := goodCustomer("c2", "A@example.com")
			c2.UpdatedAt = i64(t0 + 10)
			*cs = append(*cs, c2)
			*ss = append(*ss, goodSub("s2", "c2"))
		}, Config{}, []errKey{{"customer", "c1", DuplicateEmail, "email"}, {"subscription", "s1", CustomerRejected, "customer_id"}}, 1, 1},
		{"duplicate_id: both copies rejected", func(cs *[]schemas.Customer, _ *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			*cs = append(*cs, goodCustomer("c1", "other@example.com"))
		}, Config{}, []errKey{{"customer", "c1", DuplicateID, "id"}, {"customer", "c1", DuplicateID, "id"}, {"subscription", "s1", CustomerRejected, "customer_id"}}, 0, 0},
		{"duplicate subscription id", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			s := goodSub("s1", "c1")
			s.Status = "cancelled"
			*ss = append(*ss, s)
		}, Config{}, []errKey{{"subscription", "s1", DuplicateID, "id"}, {"subscription", "s1", DuplicateID, "id"}}, 1, 0},
		{"unknown_status", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].Status = "suspended"
		}, Config{}, []errKey{{"subscription", "s1", UnknownStatus, "status"}}, 1, 0},
		{"unknown_status: an invoice status not in Chargebee's enum", func(_ *[]schemas.Customer, _ *[]schemas.Subscription, inv *[]schemas.Invoice, _ *[]schemas.Gift) {
			*inv = []schemas.Invoice{{ID: "i1", CustomerID: "c1", SubscriptionID: "s1", Status: "made_up_7", CurrencyCode: "USD", Date: i64(t0), Total: i64(1000)},
				{ID: "i2", CustomerID: "c1", SubscriptionID: "s1", Status: "paid", CurrencyCode: "USD", Date: i64(t0), Total: i64(1000)}}
		}, Config{}, []errKey{{"invoice", "i1", UnknownStatus, "status"}}, 1, 1},
		{"unknown_currency", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].CurrencyCode = "XYZ"
		}, Config{}, []errKey{{"subscription", "s1", UnknownCurrency, "currency_code"}}, 1, 0},
		{"bad_amount", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].Items[0].Amount = i64(-1)
		}, Config{}, []errKey{{"subscription", "s1", BadAmount, "items[0].amount"}}, 1, 0},
		{"bad_date: customer created_at 0", func(cs *[]schemas.Customer, _ *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].CreatedAt = i64(0)
		}, Config{}, []errKey{{"customer", "c1", BadDate, "created_at"}, {"subscription", "s1", CustomerRejected, "customer_id"}}, 0, 0},
		{"bad_date: year 3000", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].NextBillingAt = i64(32503680000)
		}, Config{}, []errKey{{"subscription", "s1", BadDate, "next_billing_at"}}, 1, 0},
		{"bad_date: term ends before it starts", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].CurrentTermEnd = i64(t0 - 1)
		}, Config{}, []errKey{{"subscription", "s1", BadDate, "current_term_end"}}, 1, 0},
		{"bad_interval", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*ss)[0].BillingPeriodUnit = "fortnight"
		}, Config{}, []errKey{{"subscription", "s1", BadInterval, "billing_period_unit"}}, 1, 0},
		{"unknown_customer", func(_ *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			*ss = append(*ss, goodSub("s9", "ghost"))
		}, Config{}, []errKey{{"subscription", "s9", UnknownCustomer, "customer_id"}}, 1, 1},
		{"missing_id", func(cs *[]schemas.Customer, _ *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			*cs = append(*cs, goodCustomer("", "b@example.com"))
		}, Config{}, []errKey{{"customer", "", MissingID, "id"}}, 1, 1},
		{"deleted customer is carried on, not an error", func(cs *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].Deleted, (*cs)[0].Email = true, ""
			(*ss)[0].Deleted = true
		}, Config{}, nil, 1, 1},
		{"erased customer (pii_cleared) with no email goes on with its subscription", func(cs *[]schemas.Customer, _ *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].PIICleared, (*cs)[0].Email = "cleared", ""
		}, Config{}, nil, 1, 1},
		{"erased customer with a junk email, beside another erased one: no email rule", func(cs *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].PIICleared, (*cs)[0].Email = "cleared", "xxxxx"
			c2 := goodCustomer("c2", "xxxxx")
			c2.PIICleared = "cleared"
			*cs = append(*cs, c2)
			*ss = append(*ss, goodSub("s2", "c2"))
		}, Config{}, nil, 2, 2},
		{"erased customer without a subscription still goes on (the erasure must reach AC)", func(cs *[]schemas.Customer, ss *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].PIICleared, (*cs)[0].Email = "cleared", ""
			*ss = nil
		}, Config{}, nil, 1, 0},
		{"scheduled_for_clear is not erased yet: email rules apply", func(cs *[]schemas.Customer, _ *[]schemas.Subscription, _ *[]schemas.Invoice, _ *[]schemas.Gift) {
			(*cs)[0].PIICleared, (*cs)[0].Email = "scheduled_for_clear", ""
		}, Config{}, []errKey{{"customer", "c1", MissingEmail, "email"}, {"subscription", "s1", CustomerRejected, "customer_id"}}, 0, 0},
		{"bad invoice is dropped, subscription kept", func(_ *[]schemas.Customer, _ *[]schemas.Subscription, inv *[]schemas.Invoice, _ *[]schemas.Gift) {
			*inv = []schemas.Invoice{{ID: "i1", CustomerID: "c1", SubscriptionID: "s1", CurrencyCode: "USD", Date: i64(t0), Total: i64(-5)}}
		}, Config{}, []errKey{{"invoice", "i1", BadAmount, "total"}}, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := []schemas.Customer{goodCustomer("c1", "a@example.com")}
			ss := []schemas.Subscription{goodSub("s1", "c1")}
			var inv []schemas.Invoice
			var gifts []schemas.Gift
			if tc.edit != nil {
				tc.edit(&cs, &ss, &inv, &gifts)
			}
			res := Check(cs, ss, inv, nil, gifts, tc.cfg)
			if got := keys(res.Errors); !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n got %v\nwant %v", got, tc.want)
			}
			if len(res.Customers) != tc.custs || len(res.Subscriptions) != tc.subs {
				t.Errorf("carried %d customers, %d subscriptions; want %d, %d", len(res.Customers), len(res.Subscriptions), tc.custs, tc.subs)
			}
			for _, e := range res.Errors {
				if e.Message == "" {
					t.Errorf("error row %+v has no message", e)
				}
			}
		})
	}
}

func TestCheckEmail(t *testing.T) {
	good := []string{"a@example.com", "ana+billing@example.com", "o'neil@example.co.uk", "x_y.z@sub.example-domain.io", "UPPER@EXAMPLE.COM", "a@xn--mller-kva.de"}
	for _, e := range good {
		if why := CheckEmail(e); why != "" {
			t.Errorf("CheckEmail(%q) = %q, want valid", e, why)
		}
	}
	bad := map[string]string{
		"not-an-email":                           "no @",
		"jane@":                                  "nothing after the @",
		"@example.com":                           "nothing before",
		"a b@example.com":                        "space",
		"a@@example.com":                         "more than one @",
		"a@example":                              "no dot",
		"a@exa_mple.com":                         "'_'",
		"a..b@example.com":                       "dot",
		"zoë@example.com":                        "non-ASCII",
		"a@müller.de":                            "non-ASCII domain",
		"a@example.1":                            "top-level",
		"a@-example.com":                         "hyphen",
		"a\x00b@example.com":                     "control",
		"a@example.com\xff":                      "UTF-8",
		strings.Repeat("x", 65) + "@example.com": "64",
	}
	for e, want := range bad {
		if why := CheckEmail(e); why == "" || !strings.Contains(why, want) {
			t.Errorf("CheckEmail(%q) = %q, want a reason mentioning %q", e, why, want)
		}
	}
}

func BenchmarkCheckEmail(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		CheckEmail("ana.maria+billing@mail.example.com")
	}
}
