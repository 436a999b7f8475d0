package validate

import (
	"fmt"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

var sinkWhy string

// BenchmarkCheckEmails checks one address per op, cycling through the shapes a real
// customer list has. Valid addresses are the common case at 1M customers; invalid
// ones build their reason, so they are measured apart.
func BenchmarkCheckEmails(b *testing.B) {
	for _, c := range []struct {
		name  string
		addrs []string
	}{
		{"valid", []string{
			"emily.carter.123456@example.com", "Emily.Carter.123456@Example.com", "ana.maria+billing@mail.example.com",
			"o'brien@example.org", "x@example.co", "very.long.local.part.with.many.dots.0123456789@sub.domain.example.net",
		}},
		{"invalid", []string{
			"not-an-email", "jane@", "a b@example.com", "x@localhost", "bob@@example.com", "zoë@example.com", "a@exam_ple.com",
		}},
	} {
		for _, a := range c.addrs {
			if ok := CheckEmail(a) == ""; ok != (c.name == "valid") {
				b.Fatalf("%q: valid = %v, the benchmark case says %s", a, ok, c.name)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkWhy = CheckEmail(c.addrs[i])
				if i++; i == len(c.addrs) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkCheck runs every rule over a snapshot of 1,000 customers with 1.2
// subscriptions and one invoice each (0.5% bad), and reports the cost per customer.
func BenchmarkCheck(b *testing.B) {
	const n = 1000
	t := func(v int64) *int64 { return &v }
	var (
		custs []schemas.Customer
		subs  []schemas.Subscription
		invs  []schemas.Invoice
	)
	for i := range n {
		id := fmt.Sprintf("cus_%07d", i)
		email := fmt.Sprintf("first.last.%d@example.com", i)
		if i%200 == 100 {
			email = "not-an-email"
		}
		custs = append(custs, schemas.Customer{ID: id, Email: email, CreatedAt: t(1700000000 + int64(i)), UpdatedAt: t(1700500000), ResourceVersion: 1700500000000})
		for k := range 1 + boolInt(i%5 == 0) {
			sid := fmt.Sprintf("sub_%07d_%d", i, k)
			subs = append(subs, schemas.Subscription{
				ID: sid, CustomerID: id, Status: "active", CurrencyCode: "USD", BillingPeriod: 1, BillingPeriodUnit: "month",
				MRR: t(4900), Items: schemas.Items{{ItemPriceID: "pro-USD-monthly", ItemType: "plan", Quantity: 1, UnitPrice: t(4900), Amount: t(4900)}},
				CreatedAt: t(1700000100), UpdatedAt: t(1700500000), StartedAt: t(1700000100), CurrentTermStart: t(1790000000),
				CurrentTermEnd: t(1792600000), NextBillingAt: t(1792600000),
			})
		}
		invs = append(invs, schemas.Invoice{ID: fmt.Sprintf("inv_%07d", i), CustomerID: id, SubscriptionID: fmt.Sprintf("sub_%07d_0", i),
			Recurring: true, Status: "paid", CurrencyCode: "USD", Date: t(1790000000), PaidAt: t(1790000500), Total: t(4900), AmountPaid: t(4900)})
	}
	b.ReportAllocs()
	for b.Loop() {
		res := Check(custs, subs, invs, nil, nil, Config{})
		if res.Rejected == 0 {
			b.Fatal("nothing rejected")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/customer")
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
