// Package validate applies the sync rules to an extract snapshot: records that can be
// synced go on to the validate snapshot, every other record becomes an error row in
// errors.csv with a code saying why. It never stops at the first bad record.
package validate

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/cb2ac/cb2ac/internal/money"
	"github.com/cb2ac/cb2ac/schemas"
)

// Config holds the validate keys of the config file.
type Config struct {
	// SyncGiftPurchasers syncs customers who bought a gift subscription for someone
	// else and have none of their own (otherwise they are no_subscription errors).
	SyncGiftPurchasers bool `yaml:"sync_gift_purchasers" json:"sync_gift_purchasers"`
}

// Options are the inputs of one validate run.
type Options struct {
	In    string // extract folder
	RunID string // written into every error row
	CSV   bool   // write CSV twins of the Parquet files
	// Redact leaves emails out of errors.csv (schemas.ValidationError.RedactEmail).
	Redact bool
}

// ErrorsFile is the error CSV's name; it is written on every run, header only when clean.
const ErrorsFile = "errors.csv"

// File names of the validate snapshot (the same names as extract's).
const (
	CustomersFile     = "customers"
	SubscriptionsFile = "subscriptions"
	InvoicesFile      = "invoices"
	ItemPricesFile    = "item_prices"
)

type input struct {
	customers     []schemas.Customer
	subscriptions []schemas.Subscription
	invoices      []schemas.Invoice
	itemPrices    []schemas.ItemPrice
	gifts         []schemas.Gift
}

func read(dir string) (*input, error) {
	in := &input{}
	p := func(name string) string { return filepath.Join(dir, name+".parquet") }
	var g errgroup.Group
	g.Go(func() (err error) { in.customers, err = schemas.Customers.ReadFile(p("customers")); return })
	g.Go(func() (err error) { in.subscriptions, err = schemas.Subscriptions.ReadFile(p("subscriptions")); return })
	g.Go(func() (err error) { in.invoices, err = schemas.Invoices.ReadFile(p("invoices")); return })
	g.Go(func() (err error) { in.itemPrices, err = schemas.ItemPrices.ReadFile(p("item_prices")); return })
	g.Go(func() (err error) { in.gifts, err = schemas.Gifts.ReadFile(p("gifts")); return })
	return in, g.Wait()
}

// Result is the outcome of the rules on one snapshot, before anything is written.
// The accepted records point into Check's input: a second copy of every row would
// double the stage's memory.
type Result struct {
	Customers     []*schemas.Customer
	Subscriptions []*schemas.Subscription
	Invoices      []*schemas.Invoice
	ItemPrices    []*schemas.ItemPrice
	Errors        []schemas.ValidationError
	Rejected      int64 // distinct records rejected
}

// Run validates the extract folder opts.In into out.
func Run(ctx context.Context, opts Options, cfg Config, out string) (schemas.Report, error) {
	in, err := read(opts.In)
	if err != nil {
		return schemas.Report{}, fmt.Errorf("validate: %w", err)
	}
	res := Check(in.customers, in.subscriptions, in.invoices, in.itemPrices, in.gifts, cfg)
	for i := range res.Errors {
		res.Errors[i].RunID = opts.RunID
		res.Errors[i].Stage = "validate"
		if opts.Redact {
			res.Errors[i].RedactEmail()
		}
	}
	g, _ := errgroup.WithContext(ctx)
	g.Go(func() error { return writeAll(schemas.Customers, out, CustomersFile, res.Customers, opts.CSV) })
	g.Go(func() error {
		return writeAll(schemas.Subscriptions, out, SubscriptionsFile, res.Subscriptions, opts.CSV)
	})
	g.Go(func() error { return writeAll(schemas.Invoices, out, InvoicesFile, res.Invoices, opts.CSV) })
	g.Go(func() error { return writeAll(schemas.ItemPrices, out, ItemPricesFile, res.ItemPrices, opts.CSV) })
	g.Go(func() error { return schemas.WriteCSV(filepath.Join(out, ErrorsFile), res.Errors) })
	if err := g.Wait(); err != nil {
		return schemas.Report{}, fmt.Errorf("validate: %w", err)
	}
	var rep schemas.Report
	rep.Add("customers_in", int64(len(in.customers)))
	rep.Add("customers", int64(len(res.Customers)))
	rep.Add("subscriptions_in", int64(len(in.subscriptions)))
	rep.Add("subscriptions", int64(len(res.Subscriptions)))
	rep.Add("invoices", int64(len(res.Invoices)))
	rep.Add("item_prices", int64(len(res.ItemPrices)))
	rep.Add("rejected", res.Rejected)
	rep.Add("errors", int64(len(res.Errors)))
	for _, e := range res.Errors {
		rep.Add("code."+e.Code, 1)
	}
	return rep, nil
}

// writeAll writes the accepted records through a sink, copying BatchRows of them at
// a time into one reused buffer.
func writeAll[T any](tb *schemas.Table[T], dir, name string, recs []*T, twin bool) error {
	s, err := tb.CreateSink(dir, name, twin)
	if err != nil {
		return err
	}
	buf := make([]T, 0, min(len(recs), schemas.BatchRows))
	for len(recs) > 0 {
		n := min(len(recs), schemas.BatchRows)
		buf = buf[:0]
		for _, r := range recs[:n] {
			buf = append(buf, *r)
		}
		if err := s.Write(buf...); err != nil {
			s.Abort()
			return err
		}
		recs = recs[n:]
	}
	return s.Commit()
}

// rejections collects error rows and remembers which records were rejected.
type rejections struct {
	rows     []schemas.ValidationError
	rejected map[string]string // entity/id -> first code
}

func (r *rejections) add(entity, id, customerID, email, code, field, msg string) {
	r.rows = append(r.rows, schemas.ValidationError{
		Entity: entity, RecordID: id, CustomerID: customerID, Email: email,
		Code: code, Field: field, Message: msg,
	})
	if _, ok := r.rejected[entity+"/"+id]; !ok {
		r.rejected[entity+"/"+id] = code
	}
}

func (r *rejections) code(entity, id string) (string, bool) {
	c, ok := r.rejected[entity+"/"+id]
	return c, ok
}

// Check applies every rule. It is pure: same input, same result, in input order.
func Check(customers []schemas.Customer, subs []schemas.Subscription, invoices []schemas.Invoice, prices []schemas.ItemPrice, gifts []schemas.Gift, cfg Config) Result {
	rj := &rejections{rejected: map[string]string{}}
	// Sized for the usual case (almost every record valid): growing these by append
	// re-copied whole tables, a fifth of validate's CPU at 100k customers.
	res := Result{
		Customers:     make([]*schemas.Customer, 0, len(customers)),
		Subscriptions: make([]*schemas.Subscription, 0, len(subs)),
		Invoices:      make([]*schemas.Invoice, 0, len(invoices)),
	}

	custIDs := countIDs(customers, func(c *schemas.Customer) string { return c.ID })
	subIDs := countIDs(subs, func(s *schemas.Subscription) string { return s.ID })

	// Who has a subscription (any status, valid or not: validity is judged below) and
	// who bought a gift.
	hasSub := make(map[string]bool, len(subs))
	for i := range subs {
		if !subs[i].Deleted {
			hasSub[subs[i].CustomerID] = true
		}
	}
	gifter := make(map[string]bool)
	for _, g := range gifts {
		gifter[g.GifterCustomerID] = true
	}
	for i := range invoices {
		if invoices[i].IsGifted {
			gifter[invoices[i].CustomerID] = true
		}
	}

	// Customers: per-record rules first.
	ok := make([]bool, len(customers))
	for i := range customers {
		c := &customers[i]
		before := len(rj.rows)
		switch {
		case c.ID == "":
			rj.add("customer", "", "", c.Email, MissingID, "id", "customer has no id")
		case custIDs[c.ID] > 1:
			rj.add("customer", c.ID, c.ID, c.Email, DuplicateID, "id",
				fmt.Sprintf("customer id appears %d times in the snapshot with different content; none of the copies is synced", custIDs[c.ID]))
		case c.Deleted:
			// A deleted customer is not an error: it goes on, marked deleted, and load
			// applies on_customer_deleted.
		default:
			checkCustomer(rj, c, hasSub[c.ID], gifter[c.ID], cfg)
		}
		ok[i] = len(rj.rows) == before
	}
	// duplicate_email: AC keys contacts by email, so one email can stand for one
	// Chargebee customer only. The most recently updated keeps it.
	byEmail := make(map[string][]int)
	for i := range customers {
		if ok[i] && !customers[i].Deleted {
			e := strings.ToLower(strings.TrimSpace(customers[i].Email))
			byEmail[e] = append(byEmail[e], i)
		}
	}
	for _, idx := range byEmail {
		if len(idx) < 2 {
			continue
		}
		slices.SortFunc(idx, func(a, b int) int {
			ca, cb := &customers[a], &customers[b]
			if c := cmp.Compare(deref(cb.UpdatedAt), deref(ca.UpdatedAt)); c != 0 {
				return c
			}
			if c := cmp.Compare(cb.ResourceVersion, ca.ResourceVersion); c != 0 {
				return c
			}
			return strings.Compare(ca.ID, cb.ID)
		})
		winner := &customers[idx[0]]
		for _, i := range idx[1:] {
			c := &customers[i]
			rj.add("customer", c.ID, c.ID, c.Email, DuplicateEmail, "email",
				fmt.Sprintf("email is also used by customer %s, which was updated more recently and keeps it (AC emails are unique)", winner.ID))
			ok[i] = false
		}
	}
	accepted := make(map[string]*schemas.Customer, len(customers))
	for i := range customers {
		if ok[i] {
			res.Customers = append(res.Customers, &customers[i])
			accepted[customers[i].ID] = &customers[i]
		}
	}
	emailOf := make(map[string]string, len(customers))
	for i := range customers {
		emailOf[customers[i].ID] = customers[i].Email
	}

	// Subscriptions.
	for i := range subs {
		s := &subs[i]
		before := len(rj.rows)
		email := emailOf[s.CustomerID]
		switch {
		case s.ID == "":
			rj.add("subscription", "", s.CustomerID, email, MissingID, "id", "subscription has no id")
		case subIDs[s.ID] > 1:
			rj.add("subscription", s.ID, s.CustomerID, email, DuplicateID, "id",
				fmt.Sprintf("subscription id appears %d times in the snapshot with different content; none of the copies is synced", subIDs[s.ID]))
		case custIDs[s.CustomerID] == 0:
			rj.add("subscription", s.ID, s.CustomerID, email, UnknownCustomer, "customer_id",
				fmt.Sprintf("customer %q is not in the snapshot", s.CustomerID))
		case accepted[s.CustomerID] == nil:
			code, _ := rj.code("customer", s.CustomerID)
			rj.add("subscription", s.ID, s.CustomerID, email, CustomerRejected, "customer_id",
				fmt.Sprintf("customer %s was rejected (%s), so its subscriptions are not synced", s.CustomerID, code))
		case s.Deleted:
			// Load still sends a deleted subscription (as cancelled), so what transform
			// cannot map must stop here as a row, not fail the whole transform.
			checkShape(rj, s, email)
		default:
			checkSubscription(rj, s, email)
		}
		if len(rj.rows) == before {
			res.Subscriptions = append(res.Subscriptions, s)
		}
	}

	// Invoices only feed amounts and payment status; a bad one is reported and left
	// out, and transform falls back to the subscription's own amounts.
	invIDs := countIDs(invoices, func(v *schemas.Invoice) string { return v.ID })
	subCurrency := make(map[string]string, len(res.Subscriptions))
	for i := range res.Subscriptions {
		subCurrency[res.Subscriptions[i].ID] = res.Subscriptions[i].CurrencyCode
	}
	for i := range invoices {
		v := &invoices[i]
		before := len(rj.rows)
		email := emailOf[v.CustomerID]
		switch {
		case v.ID == "":
			rj.add("invoice", "", v.CustomerID, email, MissingID, "id", "invoice has no id")
		case invIDs[v.ID] > 1:
			rj.add("invoice", v.ID, v.CustomerID, email, DuplicateID, "id",
				fmt.Sprintf("invoice id appears %d times in the snapshot with different content", invIDs[v.ID]))
		case v.Deleted:
		default:
			checkInvoice(rj, v, email)
			// Transform takes the amount of the subscription's latest invoice; one in
			// another currency would be sent with the wrong decimals and code.
			if cur, ok := subCurrency[v.SubscriptionID]; ok && v.CurrencyCode != "" && !strings.EqualFold(cur, v.CurrencyCode) {
				rj.add("invoice", v.ID, v.CustomerID, email, CurrencyMismatch, "currency_code",
					fmt.Sprintf("currency %q differs from subscription %s's %q", v.CurrencyCode, v.SubscriptionID, cur))
			}
		}
		if len(rj.rows) == before {
			res.Invoices = append(res.Invoices, v)
		}
	}

	priceIDs := countIDs(prices, func(p *schemas.ItemPrice) string { return p.ID })
	for i := range prices {
		p := &prices[i]
		before := len(rj.rows)
		switch {
		case p.ID == "":
			rj.add("item_price", "", "", "", MissingID, "id", "item price has no id")
		case priceIDs[p.ID] > 1:
			rj.add("item_price", p.ID, "", "", DuplicateID, "id",
				fmt.Sprintf("item price id appears %d times in the snapshot with different content", priceIDs[p.ID]))
		case p.Price != nil && *p.Price < 0:
			rj.add("item_price", p.ID, "", "", BadAmount, "price", fmt.Sprintf("price %d is negative", *p.Price))
		}
		if len(rj.rows) == before {
			res.ItemPrices = append(res.ItemPrices, p)
		}
	}

	res.Errors = rj.rows
	res.Rejected = int64(len(rj.rejected))
	return res
}

func checkCustomer(rj *rejections, c *schemas.Customer, hasSub, isGifter bool, cfg Config) {
	add := func(code, field, msg string) { rj.add("customer", c.ID, c.ID, c.Email, code, field, msg) }
	switch {
	case c.CreatedAt == nil:
		add(BadDate, "created_at", "created_at is missing")
	case badTime(c.CreatedAt):
		add(BadDate, "created_at", fmt.Sprintf("created_at %d is not a plausible Unix time", *c.CreatedAt))
	}
	if badTime(c.UpdatedAt) {
		add(BadDate, "updated_at", fmt.Sprintf("updated_at %d is not a plausible Unix time", *c.UpdatedAt))
	}
	if strings.TrimSpace(c.Email) == "" {
		add(MissingEmail, "email", "customer has no email; AC contacts are keyed by email")
	} else if why := CheckEmail(strings.TrimSpace(c.Email)); why != "" {
		add(InvalidEmail, "email", fmt.Sprintf("email %q is not valid: %s", c.Email, why))
	}
	if !hasSub {
		switch {
		case isGifter && cfg.SyncGiftPurchasers:
		case isGifter:
			add(NoSubscription, "subscription", "gift purchaser with no subscription of their own; set sync_gift_purchasers: true to sync gift purchasers")
		default:
			add(NoSubscription, "subscription", "customer has no subscription")
		}
	}
}

// checkShape checks what transform needs to map a subscription at all.
func checkShape(rj *rejections, s *schemas.Subscription, email string) {
	add := func(code, field, msg string) { rj.add("subscription", s.ID, s.CustomerID, email, code, field, msg) }
	if !Statuses[s.Status] {
		add(UnknownStatus, "status", fmt.Sprintf("status %q is not a Chargebee subscription status", s.Status))
	}
	if !money.Known(s.CurrencyCode) {
		add(UnknownCurrency, "currency_code", fmt.Sprintf("currency %q is not an ISO 4217 code", s.CurrencyCode))
	}
	if !BillingUnits[s.BillingPeriodUnit] {
		add(BadInterval, "billing_period_unit", fmt.Sprintf("billing_period_unit %q is not day, week, month or year", s.BillingPeriodUnit))
	} else if s.BillingPeriod < 1 {
		add(BadInterval, "billing_period", fmt.Sprintf("billing_period %d is less than 1", s.BillingPeriod))
	}
}

func checkSubscription(rj *rejections, s *schemas.Subscription, email string) {
	add := func(code, field, msg string) { rj.add("subscription", s.ID, s.CustomerID, email, code, field, msg) }
	checkShape(rj, s, email)
	neg := func(field string, v *int64) {
		if v != nil && *v < 0 {
			add(BadAmount, field, fmt.Sprintf("%s %d is negative", field, *v))
		}
	}
	neg("mrr", s.MRR)
	neg("total_dues", s.TotalDues)
	for i, it := range s.Items {
		neg(fmt.Sprintf("items[%d].unit_price", i), it.UnitPrice)
		neg(fmt.Sprintf("items[%d].amount", i), it.Amount)
		if it.Quantity < 0 {
			add(BadAmount, fmt.Sprintf("items[%d].quantity", i), fmt.Sprintf("quantity %d is negative", it.Quantity))
		}
	}
	if _, ok := s.Items.Total(); !ok {
		add(BadAmount, "items", "the items' total (amounts, or unit price × quantity) does not fit in 64 bits")
	}
	if s.CreatedAt == nil {
		add(BadDate, "created_at", "created_at is missing")
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{
		{"created_at", s.CreatedAt}, {"updated_at", s.UpdatedAt}, {"start_date", s.StartDate},
		{"started_at", s.StartedAt}, {"activated_at", s.ActivatedAt}, {"trial_start", s.TrialStart},
		{"trial_end", s.TrialEnd}, {"current_term_start", s.CurrentTermStart},
		{"current_term_end", s.CurrentTermEnd}, {"next_billing_at", s.NextBillingAt},
		{"cancelled_at", s.CancelledAt}, {"pause_date", s.PauseDate}, {"resume_date", s.ResumeDate},
	} {
		if badTime(f.v) {
			add(BadDate, f.name, fmt.Sprintf("%s %d is not a plausible Unix time", f.name, *f.v))
		}
	}
	if s.CurrentTermStart != nil && s.CurrentTermEnd != nil && *s.CurrentTermEnd < *s.CurrentTermStart {
		add(BadDate, "current_term_end", fmt.Sprintf("current_term_end %d is before current_term_start %d", *s.CurrentTermEnd, *s.CurrentTermStart))
	}
}

func checkInvoice(rj *rejections, v *schemas.Invoice, email string) {
	add := func(code, field, msg string) { rj.add("invoice", v.ID, v.CustomerID, email, code, field, msg) }
	if !money.Known(v.CurrencyCode) {
		add(UnknownCurrency, "currency_code", fmt.Sprintf("currency %q is not an ISO 4217 code", v.CurrencyCode))
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{
		{"total", v.Total}, {"sub_total", v.SubTotal}, {"tax", v.Tax}, {"discount", v.Discount},
		{"amount_paid", v.AmountPaid}, {"amount_due", v.AmountDue}, {"amount_refunded", v.AmountRefunded},
	} {
		if f.v != nil && *f.v < 0 {
			add(BadAmount, f.name, fmt.Sprintf("%s %d is negative", f.name, *f.v))
		}
	}
	if v.Date == nil {
		add(BadDate, "date", "date is missing")
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{{"date", v.Date}, {"paid_at", v.PaidAt}, {"due_date", v.DueDate}, {"updated_at", v.UpdatedAt}} {
		if badTime(f.v) {
			add(BadDate, f.name, fmt.Sprintf("%s %d is not a plausible Unix time", f.name, *f.v))
		}
	}
}

func countIDs[T any](recs []T, id func(*T) string) map[string]int {
	m := make(map[string]int, len(recs))
	for i := range recs {
		m[id(&recs[i])]++
	}
	return m
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
