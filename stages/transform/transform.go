// Package transform maps validated Chargebee records to what ActiveCampaign receives:
// contacts (with the 18 default custom fields and the configured mappings) and
// Recurring Payments. It is a pure function of the validate snapshot and the config.
package transform

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cb2ac/cb2ac/internal/money"
	"github.com/cb2ac/cb2ac/schemas"
)

// Config holds the transform keys of the config file.
type Config struct {
	// StatusPreset picks the base status map: chargebee (default), woocommerce, shopify.
	StatusPreset string `yaml:"status_preset" json:"status_preset,omitempty"`
	// StatusMap overrides or adds rows of the preset.
	StatusMap []StatusRule `yaml:"status_map" json:"status_map,omitempty"`
	// FieldMappings adds custom contact fields beyond the 18 defaults.
	FieldMappings []schemas.ContactField `yaml:"field_mappings" json:"field_mappings,omitempty"`
	// MarketingConsent names the attribute that says whether the customer accepts
	// marketing (e.g. customer.cf_marketing_opt_in); customerData.acceptsMarketing is
	// sent only when it is set.
	MarketingConsent string `yaml:"marketing_consent" json:"marketing_consent,omitempty"`
}

// Fields returns the contact fields the config asks for: the defaults, then the mapped
// ones. Load creates exactly these in AC.
func (c Config) Fields() []schemas.ContactField {
	return append(slices.Clone(schemas.DefaultFields), c.FieldMappings...)
}

// Options are the inputs of one transform run.
type Options struct {
	In    string // validate folder
	RunID string // written into every file (schemas.Stamp)
	CSV   bool
}

// File names of the transform snapshot.
const (
	ContactsFile          = "contacts"
	RecurringPaymentsFile = "recurring_payments"
)

// Mapper holds the compiled config.
type Mapper struct {
	status    StatusMap
	mapped    []mappedField
	marketing *attribute
}

type mappedField struct {
	field schemas.ContactField
	attr  *attribute
}

// NewMapper checks the config and compiles it.
func NewMapper(cfg Config) (*Mapper, error) {
	sm, err := NewStatusMap(cfg.StatusPreset, cfg.StatusMap)
	if err != nil {
		return nil, err
	}
	m := &Mapper{status: sm}
	seen := map[string]bool{}
	for _, f := range schemas.DefaultFields {
		seen[strings.ToLower(f.Title)] = true
	}
	for _, f := range cfg.FieldMappings {
		if f.Title == "" {
			return nil, fmt.Errorf("field_mappings: a mapping has no title")
		}
		if seen[strings.ToLower(f.Title)] {
			return nil, fmt.Errorf("field_mappings: title %q is used twice (titles are unique in AC, ignoring case)", f.Title)
		}
		seen[strings.ToLower(f.Title)] = true
		a, err := parseAttribute(f.Source)
		if err != nil {
			return nil, fmt.Errorf("field_mappings %q: %w", f.Title, err)
		}
		m.mapped = append(m.mapped, mappedField{field: f, attr: a})
	}
	if cfg.MarketingConsent != "" {
		if m.marketing, err = parseAttribute(cfg.MarketingConsent); err != nil {
			return nil, fmt.Errorf("marketing_consent: %w", err)
		}
	}
	return m, nil
}

// Run transforms the validate folder opts.In into out, streaming (see stream.go):
// the catalog, the payment sources, the credit notes' refunds and a projection of
// the subscriptions are read first; then one pass over the invoices builds each
// subscription's billing (billing.go) while one pass over the customers packs what
// the subscriptions need of them (and maps the customers without a subscription);
// last, one pass over the subscriptions maps every recurring payment and, at each
// customer's primary subscription, that customer's contact. Recurring payments
// come in subscription order; contacts first for customers without a subscription
// (customer order), then in primary-subscription order.
//
// credit_notes, payment_sources, items, plans, addons and item_prices may be
// absent (an older validate folder; a Product Catalog 1.0 site has no item prices
// or items, a 2.0 site no plans or addons): an absent file is read as empty.
func Run(ctx context.Context, opts Options, cfg Config, out string) (rep schemas.Report, err error) {
	m, err := NewMapper(cfg)
	if err != nil {
		return rep, fmt.Errorf("transform: config: %w", err)
	}
	p := func(name string) string { return filepath.Join(opts.In, name+".parquet") }

	nc, err := schemas.Customers.Rows(p("customers"))
	if err != nil {
		return rep, fmt.Errorf("transform: %w", err)
	}
	ns, err := schemas.Subscriptions.Rows(p("subscriptions"))
	if err != nil {
		return rep, fmt.Errorf("transform: %w", err)
	}
	if ns > math.MaxInt32 {
		return rep, fmt.Errorf("transform: %d subscriptions: more than the %d the join numbers", ns, math.MaxInt32)
	}
	// Sized up front: grown by doubling, the index held up to twice its entries
	// (and both copies while growing) at the stage's peak.
	nps, err := optionalRows(schemas.PaymentSources, p("payment_sources"))
	if err != nil {
		return rep, fmt.Errorf("transform: %w", err)
	}
	var (
		cat    *Catalog
		srcs   = newSources(nps)
		bill   = newBilling(ns)
		custs  = newCustomers(nc)
		prices []schemas.ItemPrice
		items  []schemas.CatalogItem
		plans  []schemas.CatalogPlan
		addons []schemas.CatalogPlan
	)
	g, _ := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := readOptional(schemas.ItemPrices, p("item_prices"), &prices); err != nil {
			return err
		}
		if err := readOptional(schemas.CatalogItems, p("items"), &items); err != nil {
			return err
		}
		if err := readOptional(schemas.CatalogPlans, p("plans"), &plans); err != nil {
			return err
		}
		if err := readOptional(schemas.CatalogAddons, p("addons"), &addons); err != nil {
			return err
		}
		cat = NewCatalog(prices, items, plans, addons)
		return nil
	})
	g.Go(func() error {
		return eachOptional(schemas.PaymentSources, p("payment_sources"), func(ps *schemas.PaymentSource) error {
			return srcs.add(ps)
		})
	})
	g.Go(func() error {
		return eachOptional(schemas.CreditNotes, p("credit_notes"), func(cn *schemas.CreditNote) error {
			bill.addCreditNote(cn)
			return nil
		})
	})
	g.Go(func() error {
		row := int32(0)
		return schemas.Subscriptions.EachColumns(p("subscriptions"), primaryCols, func(s *schemas.Subscription) error {
			custs.addSubscription(s, row)
			row++
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		return rep, fmt.Errorf("transform: %w", err)
	}
	custs.picked()

	in0, err := schemas.ReadStamp(p("customers"))
	if err != nil {
		return rep, fmt.Errorf("transform: %w", err)
	}
	stamp := schemas.Stamp{RunID: opts.RunID, ExtractedAt: in0.ExtractedAt}
	cs, err := schemas.Contacts.CreateStream(out, ContactsFile, opts.CSV, stamp)
	if err != nil {
		return rep, fmt.Errorf("transform: %w", err)
	}
	rs, err := schemas.RecurringPayments.CreateStream(out, RecurringPaymentsFile, opts.CSV, stamp)
	if err != nil {
		cs.Abort()
		return rep, fmt.Errorf("transform: %w", err)
	}
	defer func() {
		if err != nil {
			cs.Abort()
			rs.Abort()
			err = fmt.Errorf("transform: %w", err)
		}
	}()
	emitContact := func(c *schemas.Contact) error {
		rep.Add("contacts", 1)
		if c.Deleted {
			rep.Add("contacts_deleted", 1)
		}
		if c.Erased {
			rep.Add("contacts_erased", 1)
		}
		return cs.Put(c)
	}

	var pk packer
	nattrs := m.customerAttrs()
	g, _ = errgroup.WithContext(ctx)
	g.Go(func() error {
		return schemas.Invoices.EachColumns(p("invoices"), invoiceCols, func(v *schemas.Invoice) error {
			return bill.add(v)
		})
	})
	g.Go(func() error {
		return schemas.Customers.Each(p("customers"), func(c *schemas.Customer) error {
			cv := m.customerValues(c, nattrs)
			f, ok := custs.m.Get(c.ID)
			if !ok {
				in := Inputs{Payment: ChoosePayment(c, nil, srcs.lookup), Catalog: cat}
				ct := m.contact(c, cv, nil, &in)
				return emitContact(&ct)
			}
			if f.flags&isPacked != 0 {
				return fmt.Errorf("customer %s appears twice in the validate snapshot", c.ID)
			}
			pk.pack(f, c, cv)
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		return rep, err
	}

	var (
		in  = Inputs{Catalog: cat}
		ren Renewal
		row = int32(-1)
	)
	err = schemas.Subscriptions.Each(p("subscriptions"), func(s *schemas.Subscription) error {
		row++
		f, ok := custs.m.Get(s.CustomerID)
		if !ok || f.flags&isPacked == 0 {
			return fmt.Errorf("subscription %s: customer %s is not in the validate snapshot", s.ID, s.CustomerID)
		}
		c, cv := pk.unpack(s.CustomerID, f, nattrs)
		bill.get(s.ID, &in.Billing, &ren)
		in.Payment = ChoosePayment(c, s, srcs.lookup)
		rp, err := m.recurringPayment(c, cv, s, &in)
		if err != nil {
			return fmt.Errorf("subscription %s: %w", s.ID, err)
		}
		rep.Add("recurring_payments", 1)
		rep.Add("status."+rp.NormalizedStatus, 1)
		if rp.Deleted {
			rep.Add("recurring_payments_deleted", 1)
		}
		if err := rs.Put(&rp); err != nil {
			return err
		}
		if f.flags&contactDone != 0 || !custs.isPrimary(f, row) {
			return nil
		}
		f.flags |= contactDone
		ct := m.contact(c, cv, s, &in)
		return emitContact(&ct)
	})
	if err != nil {
		return rep, err
	}
	if err = cs.Commit(); err != nil {
		return rep, err
	}
	if err = rs.Commit(); err != nil {
		return rep, err
	}
	rep.Add("contacts", 0) // present in the manifest even when nothing was mapped
	rep.Add("recurring_payments", 0)
	return rep, nil
}

// readOptional reads the file at path into *recs; an absent file is empty.
func readOptional[T any](t *schemas.Table[T], path string, recs *[]T) error {
	if ok, err := schemas.Exists(path); !ok || err != nil {
		return err
	}
	var err error
	*recs, err = t.ReadFile(path)
	return err
}

// optionalRows is Table.Rows where an absent file has no rows.
func optionalRows[T any](t *schemas.Table[T], path string) (int, error) {
	if ok, err := schemas.Exists(path); !ok || err != nil {
		return 0, err
	}
	return t.Rows(path)
}

// eachOptional is Table.Each where an absent file has no records.
func eachOptional[T any](t *schemas.Table[T], path string, fn func(*T) error) error {
	if ok, err := schemas.Exists(path); !ok || err != nil {
		return err
	}
	return t.Each(path, fn)
}

// liveness ranks statuses for picking a customer's primary subscription: the one a
// marketer means by "the customer's subscription" is the live one.
var liveness = map[string]int{
	"active": 6, "non_renewing": 5, "in_trial": 4, "paused": 3, "future": 2, "cancelled": 1, "transferred": 0,
}

// Primary is the subscription whose details fill the contact's fields: the most live
// (active > non_renewing > in_trial > paused > future > cancelled), then the most
// recently created, then the greatest id; deleted ones only if nothing else is left.
func Primary(subs []*schemas.Subscription) *schemas.Subscription {
	var best *schemas.Subscription
	for _, s := range subs {
		if best == nil || pickOf(s).beats(pickOf(best)) {
			best = s
		}
	}
	return best
}

// Inputs is what a record is mapped from besides its customer and subscription:
// the subscription's invoices, its payment source and the product catalog. Run
// builds them in its passes; a caller holding whole tables builds them with
// ChoosePayment and NewCatalog.
type Inputs struct {
	Billing Billing
	Payment PaymentMethod
	Catalog *Catalog
}

// RecurringPayment maps one subscription (README "What transform sends").
func (m *Mapper) RecurringPayment(c *schemas.Customer, s *schemas.Subscription, in *Inputs) (schemas.RecurringPayment, error) {
	return m.recurringPayment(c, m.customerValues(c, m.customerAttrs()), s, in)
}

// autoCollection reports whether Chargebee collects the subscription's invoices
// automatically: the subscription's auto_collection overrides the customer's
// (empty: inherit); a customer without one is on, Chargebee's default.
func autoCollection(c *schemas.Customer, s *schemas.Subscription) bool {
	return cmp.Or(s.AutoCollection, c.AutoCollection) != "off"
}

// CollectionFailed reports whether a collection attempt on a due invoice of s failed:
// auto-collection is on and a due invoice is in dunning or has a failed transaction.
func CollectionFailed(c *schemas.Customer, s *schemas.Subscription, b *Billing) bool {
	return autoCollection(c, s) && (b.DueDunning || b.DueFailedTxn)
}

func (m *Mapper) recurringPayment(c *schemas.Customer, cv []attrValue, s *schemas.Subscription, in *Inputs) (schemas.RecurringPayment, error) {
	if in == nil {
		in = &Inputs{}
	}
	norm, store, ok := m.status.Map(s, Facts{PaymentFailed: CollectionFailed(c, s, &in.Billing)})
	if !ok {
		return schemas.RecurringPayment{}, fmt.Errorf("no status_map row matches status %q", s.Status)
	}
	interval, ok := intervals[s.BillingPeriodUnit]
	if !ok {
		return schemas.RecurringPayment{}, fmt.Errorf("billing_period_unit %q has no AC billing interval", s.BillingPeriodUnit)
	}
	cur := strings.ToUpper(s.CurrencyCode)
	amount, err := itemsAmount(s.Items, cur)
	if err != nil {
		return schemas.RecurringPayment{}, err
	}
	erased := c.Erased()
	rp := schemas.RecurringPayment{
		StoreRecurringPaymentID: s.ID,
		Email:                   NormalizeEmail(c.Email),
		NormalizedStatus:        norm,
		StoreStatus:             store,
		StoreCustomerID:         c.ID,
		BillingInterval:         interval,
		BillingIntervalCount:    s.BillingPeriod,
		PaymentAmount:           amount,
		StartDate:               timePtr(cmpPtr(s.StartedAt, s.StartDate)),
		RenewalDate:             timePtr(s.CurrentTermEnd),
		NextPaymentDate:         timePtr(s.NextBillingAt),
		AnchorDate:              timePtr(s.CurrentTermStart),
		CancelledDate:           timePtr(s.CancelledAt),
		Currency:                cur,
		StoreCreatedDate:        timePtr(s.CreatedAt),
		StoreModifiedDate:       timePtr(s.UpdatedAt),
		IsTrial:                 s.Status == "in_trial",
		CancelAtPeriodEnd:       s.Status == "non_renewing",
		TotalCycles:             totalCycles(s, in.Catalog),
		BillingAddress:          acAddress(&c.BillingAddress),
		ShippingAddress:         acAddress(&s.ShippingAddress),
		CustomerData: schemas.CustomerData{
			FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone, Company: c.Company,
		},
		Deleted: s.Deleted || c.Deleted || erased,
	}
	if s.Status == "future" {
		rp.StartDate = timePtr(cmpPtr(s.StartDate, s.StartedAt))
	}
	if s.Status == "paused" {
		rp.CancelledDate = timePtr(s.PauseDate)
	}
	if r := in.Billing.Renewal; r != nil {
		if err := applyRenewal(&rp, r, cur, autoCollection(c, s)); err != nil {
			return schemas.RecurringPayment{}, fmt.Errorf("invoice %s: %w", r.ID, err)
		}
	}
	rp.PaymentMethodExpiration = expiration(in.Payment)
	for i := range s.Items {
		l := in.Catalog.line(&s.Items[i])
		if l.category != "" && !slices.Contains(rp.LineItemCategories, l.category) {
			rp.LineItemCategories = append(rp.LineItemCategories, l.category)
		}
		if s.Items[i].ItemType == "plan" && rp.Name == nil {
			rp.Name = ptr(l.name)
		}
		rp.LineItemNames = append(rp.LineItemNames, l.name)
		rp.LineItemSkus = append(rp.LineItemSkus, l.sku)
		rp.LineItemStorePrimaryIDs = append(rp.LineItemStorePrimaryIDs, l.primary)
	}
	if m.marketing != nil {
		if v, ok := m.attr(m.marketing, len(m.mapped), cv, s, "text"); ok {
			b := truthy(v)
			rp.CustomerData.AcceptsMarketing = &b
		}
	}
	if s.Status == "cancelled" || s.Status == "transferred" || rp.Deleted {
		// An ended subscription bills no more: a renewal or payment date left from
		// its last term would read as a coming payment to AC's automations.
		rp.RenewalDate, rp.NextPaymentDate = nil, nil
	}
	if rp.Deleted {
		// What AC is sent for a subscription (or customer) deleted in Chargebee: AC has
		// no delete for recurring payments, so the file says what AC will hold.
		rp.NormalizedStatus, rp.StoreStatus = Cancelled, "deleted"
	}
	if erased {
		// Chargebee cleared the customer's personal data: none of it leaves here.
		rp.Email, rp.CustomerData = "", schemas.CustomerData{}
		rp.BillingAddress, rp.ShippingAddress = nil, nil
	}
	rp.RowHash, rp.FieldHashes = schemas.HashRecurringPayment(&rp)
	return rp, nil
}

// expiration is paymentMethodExpiration: the first day of the card's expiry month.
// An expiry outside the years validate finds plausible is junk, and a year like 0
// or 99999 is not a date AC accepts: it is left out rather than sent, so it cannot
// make AC reject the whole recurring payment.
func expiration(pm PaymentMethod) *string {
	mo, yr := pm.ExpiryMonth, pm.ExpiryYear
	if yr == nil || mo == nil || *mo < 1 || *mo > 12 || *yr < 2000 || *yr >= 2100 {
		return nil
	}
	return ptr(time.Date(int(*yr), time.Month(*mo), 1, 0, 0, 0, 0, time.UTC).Format(TimeLayout))
}

// applyRenewal takes amount, discount, tax and last payment from the renewal
// invoice.
func applyRenewal(rp *schemas.RecurringPayment, r *Renewal, cur string, auto bool) error {
	if r.Currency != "" && !strings.EqualFold(r.Currency, cur) {
		return fmt.Errorf("currency %s differs from the subscription's %s", r.Currency, cur)
	}
	f := func(v *int64) (*string, error) {
		if v == nil {
			return nil, nil
		}
		s, err := money.Format(*v, cur)
		return &s, err
	}
	var err error
	if r.Amount != nil {
		if rp.PaymentAmount, err = money.Format(*r.Amount, cur); err != nil {
			return err
		}
	}
	zero := int64(0)
	if rp.DiscountAmount, err = f(cmpPtr(r.Discount, &zero)); err != nil {
		return err
	}
	if rp.TaxAmount, err = f(cmpPtr(r.Tax, &zero)); err != nil {
		return err
	}
	status, date := lastPayment(r, auto)
	if status != "" {
		rp.LastPaymentStatus = &status
		rp.LastPaymentDate = timePtr(date)
	}
	return nil
}

// lastPayment maps the renewal invoice to AC's lastPaymentStatus and
// lastPaymentDate ("date of last payment attempt"). paid: COMPLETED, or REFUNDED
// when its credit notes refunded at least what was paid (amount_paid, else total),
// PARTIALLY_REFUNDED when they refunded less; the date stays the payment's (paid_at).
// payment_due / not_paid: DECLINED when a collection attempt failed (a failed
// transaction, or dunning in progress or exhausted under auto-collection), dated
// by the latest failed transaction; else PENDING (an offline payer, a direct debit
// under way). posted, pending: PENDING. voided: not sent.
func lastPayment(r *Renewal, auto bool) (string, *int64) {
	switch r.Status {
	case "paid":
		date := cmpPtr(r.PaidAt, r.Date)
		if r.Refunded > 0 {
			if r.Refunded >= deref(r.Paid) {
				return "REFUNDED", date
			}
			return "PARTIALLY_REFUNDED", date
		}
		return "COMPLETED", date
	case "payment_due", "not_paid":
		if r.FailedTxn || auto && r.Dunning {
			return "DECLINED", cmpPtr(r.FailedAt, r.Date)
		}
		return "PENDING", r.Date
	case "pending", "posted":
		return "PENDING", r.Date
	}
	return "", nil
}

var intervals = map[string]string{"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}

// itemsTotal is the per-cycle amount when there is no invoice (schemas.Items.Total;
// validate has rejected a total that overflows).
func itemsTotal(items []schemas.Item) int64 {
	t, _ := schemas.Items(items).Total()
	return t
}

// totalCycles is how many times the subscription bills in all (AC: "0 for
// infinite"): the plan item's billing_cycles (the subscription's override), else
// the catalog's (the item price's on 2.0, the plan's on 1.0), else the contract
// term's billing_cycle, else 0. remaining_billing_cycles is not a total: it counts
// the cycles left after the current one.
func totalCycles(s *schemas.Subscription, cat *Catalog) int64 {
	for i := range s.Items {
		it := &s.Items[i]
		if it.ItemType != "plan" {
			continue
		}
		if it.BillingCycles != nil {
			return *it.BillingCycles
		}
		if c := cat.line(it).cycles; c != nil {
			return *c
		}
		break
	}
	return deref(s.ContractBillingCycles)
}

func acAddress(a *schemas.Address) *schemas.ACAddress {
	out := schemas.ACAddress{
		FirstName: a.FirstName, LastName: a.LastName, Company: a.Company,
		Address1: a.Line1, Address2: a.Line2, Address3: a.Line3,
		City: a.City, Province: cmp.Or(a.StateCode, a.State), Postal: a.Zip,
		Country: a.Country, Phone: a.Phone,
	}
	if out == (schemas.ACAddress{}) {
		return nil
	}
	return &out
}

// Contact maps a customer and its primary subscription (nil for a gift purchaser);
// in carries the subscription's payment source (the customer's for a nil
// subscription) and the catalog.
func (m *Mapper) Contact(c *schemas.Customer, p *schemas.Subscription, in *Inputs) schemas.Contact {
	return m.contact(c, m.customerValues(c, m.customerAttrs()), p, in)
}

func (m *Mapper) contact(c *schemas.Customer, cv []attrValue, p *schemas.Subscription, in *Inputs) schemas.Contact {
	if in == nil {
		in = &Inputs{}
	}
	ct := schemas.Contact{
		CustomerID: c.ID,
		Email:      NormalizeEmail(c.Email),
		FirstName:  c.FirstName,
		LastName:   c.LastName,
		Phone:      c.Phone,
		Company:    c.Company,
		ListStatus: "active",
		Deleted:    c.Deleted,
	}
	erased := c.Erased()
	var vals [nDefaultFields]string
	if !erased {
		vals = defaultValues(c, p, in)
	}
	ct.Fields = make([]schemas.FieldValue, 0, len(schemas.DefaultFields)+len(m.mapped))
	for i, f := range schemas.DefaultFields {
		ct.Fields = append(ct.Fields, schemas.FieldValue{Title: f.Title, Value: vals[i]})
	}
	for i, mf := range m.mapped {
		var v string
		if !erased {
			v, _ = m.attr(mf.attr, i, cv, p, mf.field.Type)
		}
		ct.Fields = append(ct.Fields, schemas.FieldValue{Title: mf.field.Title, Value: v})
	}
	if erased {
		// Chargebee cleared the customer's personal data: the row is a delete keyed
		// by the customer id, with no personal data and every field value empty.
		ct.Email, ct.FirstName, ct.LastName, ct.Phone, ct.Company = "", "", "", "", ""
		ct.Deleted, ct.Erased = true, true
	}
	ct.RowHash, ct.FieldHashes = schemas.HashContact(&ct)
	return ct
}

// Indexes of the default fields in schemas.DefaultFields (checked in init): the
// values are built in an array, not a map keyed by perstag, which was a tenth of the
// stage's CPU at 1M contacts.
const (
	fCustomerID = iota
	fSubscriptionID
	fSubscriptionStatus
	fPlan
	fPlanAmount
	fCurrency
	fBillingPeriod
	fMRR
	fTrialEnd
	fNextBillingDate
	fSubscriptionCreated
	fCancelledAt
	fCancelReason
	fCountry
	fCustomerCreated
	fAutoCollection
	fPaymentMethod
	fDueInvoices
	nDefaultFields
)

func init() {
	want := [nDefaultFields]string{"CB_CUSTOMER_ID", "CB_SUBSCRIPTION_ID", "CB_SUBSCRIPTION_STATUS", "CB_PLAN",
		"CB_PLAN_AMOUNT", "CB_CURRENCY", "CB_BILLING_PERIOD", "CB_MRR", "CB_TRIAL_END", "CB_NEXT_BILLING_DATE",
		"CB_SUBSCRIPTION_CREATED", "CB_CANCELLED_AT", "CB_CANCEL_REASON", "CB_COUNTRY", "CB_CUSTOMER_CREATED",
		"CB_AUTO_COLLECTION", "CB_PAYMENT_METHOD", "CB_DUE_INVOICES"}
	if len(schemas.DefaultFields) != nDefaultFields {
		panic("transform: schemas.DefaultFields changed; update the field indexes")
	}
	for i, f := range schemas.DefaultFields {
		if f.Perstag != want[i] {
			panic("transform: schemas.DefaultFields changed; update the field indexes")
		}
	}
}

// defaultValues computes the 18 default fields, in schemas.DefaultFields order. A
// field without a value is sent empty, so a value that disappears in Chargebee is
// cleared in AC.
func defaultValues(c *schemas.Customer, p *schemas.Subscription, in *Inputs) [nDefaultFields]string {
	var v [nDefaultFields]string
	v[fCustomerID] = c.ID
	v[fCountry] = c.BillingAddress.Country
	v[fCustomerCreated] = dayPtr(c.CreatedAt)
	v[fAutoCollection] = c.AutoCollection
	v[fPaymentMethod] = in.Payment.Type
	if p == nil {
		return v
	}
	cur := strings.ToUpper(p.CurrencyCode)
	v[fSubscriptionID] = p.ID
	v[fSubscriptionStatus] = p.Status
	v[fCurrency] = cur
	v[fBillingPeriod] = billingPeriod(p.BillingPeriod, p.BillingPeriodUnit)
	if p.MRR != nil {
		v[fMRR], _ = money.Format(*p.MRR, cur)
	}
	for i := range p.Items {
		if it := &p.Items[i]; it.ItemType == "plan" {
			v[fPlan] = in.Catalog.line(it).product
			v[fPlanAmount], _ = itemsAmount(p.Items[i:i+1], cur)
			break
		}
	}
	v[fTrialEnd] = dayPtr(p.TrialEnd)
	v[fNextBillingDate] = dayPtr(p.NextBillingAt)
	v[fSubscriptionCreated] = dayPtr(p.CreatedAt)
	v[fCancelledAt] = dayPtr(p.CancelledAt)
	v[fCancelReason] = cmp.Or(p.CancelReasonCode, p.CancelReason)
	v[fDueInvoices] = strconv.FormatInt(p.DueInvoicesCount, 10)
	return v
}

// billingPeriod reads like Chargebee's UI: "1 month", "3 months", "1 year".
func billingPeriod(n int64, unit string) string {
	if unit == "" {
		return ""
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// NormalizeEmail trims and lower-cases: AC matches contacts by email and whether it
// ignores case is not documented, so cb2ac never relies on it.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// truthy reads a consent value: yes/true/1/on/opted_in and the like are consent.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "y", "1", "on", "opted_in", "opt_in", "subscribed", "granted":
		return true
	}
	return false
}

// TimeLayout is AC's date format.
const TimeLayout = "2006-01-02T15:04:05Z"

// formatTime and formatDay write TimeLayout and time.DateOnly by hand: a recurring
// payment and a contact have up to a dozen dates, and time.Format reading its
// layout each time was 2% of the stage's CPU at 1M customers. A year outside
// 0000–9999 (junk validate let through) goes through time.Format, as before.
func formatTime(unix int64) string {
	t := time.Unix(unix, 0).UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(TimeLayout)
	}
	h, mi, s := t.Clock()
	var a [len(TimeLayout)]byte
	b := appendDate(a[:0], y, mo, d)
	b = append(b, 'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), 'Z')
	return string(b)
}

func formatDay(unix int64) string {
	t := time.Unix(unix, 0).UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(time.DateOnly)
	}
	var a [len(time.DateOnly)]byte
	return string(appendDate(a[:0], y, mo, d))
}

func appendDate(b []byte, y int, mo time.Month, d int) []byte {
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10))
}

func timePtr(unix *int64) *string {
	if unix == nil {
		return nil
	}
	return ptr(formatTime(*unix))
}

func dayPtr(unix *int64) string {
	if unix == nil {
		return ""
	}
	return formatDay(*unix)
}

// cmpPtr returns the first non-nil pointer.
func cmpPtr[T any](ps ...*T) *T {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
