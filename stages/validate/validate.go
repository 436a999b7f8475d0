// Package validate applies the sync rules to an extract snapshot: records that can be
// synced go on to the validate snapshot, every other record becomes an error row in
// errors.csv with a code saying why. It never stops at the first bad record.
package validate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
	// Carried from the extract folder unchanged (see carry): transform reads
	// them from the validate folder. An extract without one (older, or a pages
	// folder without it) gives an empty file.
	CreditNotesFile    = "credit_notes"
	PaymentSourcesFile = "payment_sources"
	ItemsFile          = "items"
	PlansFile          = "plans"
	AddonsFile         = "addons"
)

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

// Run validates the extract folder opts.In into out. It streams: at 1M customers,
// reading the tables whole took 6 GB (see check for the passes).
func Run(ctx context.Context, opts Options, cfg Config, out string) (schemas.Report, error) {
	rep, err := run(ctx, opts, cfg, out)
	if err != nil {
		return schemas.Report{}, fmt.Errorf("validate: %w", err)
	}
	return rep, nil
}

func run(ctx context.Context, opts Options, cfg Config, out string) (schemas.Report, error) {
	p := func(name string) string { return filepath.Join(opts.In, name+".parquet") }
	in := inputs{
		customers:     newViewSource(schemas.Customers, p("customers"), fromCustomerView),
		subscriptions: newViewSource(schemas.Subscriptions, p("subscriptions"), fromSubscriptionView),
		invoices:      newViewSource(schemas.Invoices, p("invoices"), fromInvoiceView),
		itemPrices:    newFileSource(schemas.ItemPrices, p("item_prices")),
		gifts:         newFileSource(schemas.Gifts, p("gifts")),
	}
	// The files say this run and when the extract they come from started.
	in0, err := schemas.ReadStamp(p("customers"))
	if err != nil {
		return schemas.Report{}, err
	}
	stamp := schemas.Stamp{RunID: opts.RunID, ExtractedAt: in0.ExtractedAt}
	// Accepted rows are copied while the rules go on, but published only after every
	// pass succeeded: a run that fails half-way leaves no file behind.
	cw, err := schemas.Customers.CreateSink(out, CustomersFile, opts.CSV, stamp)
	if err != nil {
		return schemas.Report{}, err
	}
	defer cw.Abort()
	sw, err := schemas.Subscriptions.CreateSink(out, SubscriptionsFile, opts.CSV, stamp)
	if err != nil {
		return schemas.Report{}, err
	}
	defer sw.Abort()
	iw, err := schemas.Invoices.CreateSink(out, InvoicesFile, opts.CSV, stamp)
	if err != nil {
		return schemas.Report{}, err
	}
	defer iw.Abort()
	pw, err := schemas.ItemPrices.CreateSink(out, ItemPricesFile, opts.CSV, stamp)
	if err != nil {
		return schemas.Report{}, err
	}
	defer pw.Abort()

	carried := []*carrier{
		newCarrier(schemas.CreditNotes, CreditNotesFile),
		newCarrier(schemas.PaymentSources, PaymentSourcesFile),
		newCarrier(schemas.CatalogItems, ItemsFile),
		newCarrier(schemas.CatalogPlans, PlansFile),
		newCarrier(schemas.CatalogAddons, AddonsFile),
	}
	for _, c := range carried {
		defer c.abort()
	}

	// Three goroutines: the rules; the copies of the rows they accept, one table
	// after the other as each table's rows are decided (the copy of customers runs
	// beside the subscription rules); the carried files, one batch at a time each.
	var st outcome
	cg, cctx := errgroup.WithContext(ctx)
	copies := make(chan func() error, 4) // one per table: a send never blocks
	cg.Go(func() (err error) {
		defer close(copies)
		st, err = check(cctx, in, outputs{
			customers:     copyAccepted(cctx, copies, cw, p("customers")),
			subscriptions: copyAccepted(cctx, copies, sw, p("subscriptions")),
			invoices:      copyAccepted(cctx, copies, iw, p("invoices")),
			itemPrices:    copyAccepted(cctx, copies, pw, p("item_prices")),
		}, cfg)
		return err
	})
	cg.Go(func() error {
		for c := range copies {
			if err := c(); err != nil {
				return err
			}
		}
		return nil
	})
	cg.Go(func() error {
		for _, c := range carried {
			if err := c.copy(cctx, opts.In, out, opts.CSV, stamp); err != nil {
				return err
			}
		}
		return nil
	})
	if err := cg.Wait(); err != nil {
		return schemas.Report{}, err
	}
	for i := range st.errors {
		st.errors[i].RunID = opts.RunID
		st.errors[i].Stage = "validate"
		if opts.Redact {
			st.errors[i].RedactEmail()
		}
	}
	var g errgroup.Group
	g.Go(cw.Commit)
	g.Go(sw.Commit)
	g.Go(iw.Commit)
	g.Go(pw.Commit)
	for _, c := range carried {
		g.Go(c.commit)
	}
	g.Go(func() error { return schemas.WriteCSV(filepath.Join(out, ErrorsFile), st.errors) })
	if err := g.Wait(); err != nil {
		return schemas.Report{}, err
	}
	var rep schemas.Report
	rep.Add("customers_in", st.customersIn)
	rep.Add("customers", cw.Rows())
	rep.Add("subscriptions_in", st.subscriptionsIn)
	rep.Add("subscriptions", sw.Rows())
	rep.Add("invoices", iw.Rows())
	rep.Add("item_prices", pw.Rows())
	for _, c := range carried {
		rep.Add(c.name, c.rows())
	}
	rep.Add("rejected", st.rejected)
	rep.Add("errors", int64(len(st.errors)))
	for _, e := range st.errors {
		rep.Add("code."+e.Code, 1)
	}
	return rep, nil
}

// copyAccepted is an output that queues the copy of the accepted rows of the file
// at path to s. The file must still have the rows the rules read.
func copyAccepted[T any](ctx context.Context, queue chan<- func() error, s *schemas.Sink[T], path string) func(rowSet, int) error {
	return func(keep rowSet, rows int) error {
		queue <- func() error {
			n, err := s.CopyFrom(ctx, path, keep.has)
			if err == nil && n != int64(rows) {
				err = fmt.Errorf("%s: %w", path, errChanged)
			}
			return err
		}
		return nil
	}
}

// carrier copies one extract file to the validate folder unchanged, column by
// column (schemas.Sink.CopyFrom, one batch at a time). No rule applies: they are
// inputs transform joins to the validated records.
type carrier struct {
	name   string
	copy   func(ctx context.Context, in, out string, twin bool, st schemas.Stamp) error
	commit func() error
	abort  func()
	rows   func() int64
}

func newCarrier[T any](tb *schemas.Table[T], name string) *carrier {
	var w *schemas.Sink[T]
	c := &carrier{name: name}
	c.copy = func(ctx context.Context, in, out string, twin bool, st schemas.Stamp) error {
		var err error
		if w, err = tb.CreateSink(out, name, twin, st); err != nil {
			return err
		}
		path := filepath.Join(in, name+".parquet")
		if ok, err := schemas.Exists(path); !ok || err != nil {
			return err // !ok: an extract without the list, an empty file
		}
		_, err = w.CopyFrom(ctx, path, nil)
		return err
	}
	c.commit = func() error {
		if w == nil {
			return errors.New("validate: " + name + " was not copied")
		}
		return w.Commit()
	}
	c.abort = func() {
		if w != nil {
			w.Abort()
		}
	}
	c.rows = func() int64 {
		if w == nil {
			return 0
		}
		return w.Rows()
	}
	return c
}

// Check applies every rule. It is pure: same input, same result, in input order.
func Check(customers []schemas.Customer, subs []schemas.Subscription, invoices []schemas.Invoice, prices []schemas.ItemPrice, gifts []schemas.Gift, cfg Config) Result {
	// Sized for the usual case (almost every record valid): growing these by append
	// re-copied whole tables, a fifth of validate's CPU at 100k customers.
	res := Result{
		Customers:     make([]*schemas.Customer, 0, len(customers)),
		Subscriptions: make([]*schemas.Subscription, 0, len(subs)),
		Invoices:      make([]*schemas.Invoice, 0, len(invoices)),
	}
	in := inputs{
		customers:     sliceSource[schemas.Customer](customers),
		subscriptions: sliceSource[schemas.Subscription](subs),
		invoices:      sliceSource[schemas.Invoice](invoices),
		itemPrices:    sliceSource[schemas.ItemPrice](prices),
		gifts:         sliceSource[schemas.Gift](gifts),
	}
	out := outputs{
		customers:     func(keep rowSet, _ int) error { res.Customers = pick(res.Customers, customers, keep); return nil },
		subscriptions: func(keep rowSet, _ int) error { res.Subscriptions = pick(res.Subscriptions, subs, keep); return nil },
		invoices:      func(keep rowSet, _ int) error { res.Invoices = pick(res.Invoices, invoices, keep); return nil },
		itemPrices:    func(keep rowSet, _ int) error { res.ItemPrices = pick(res.ItemPrices, prices, keep); return nil },
	}
	st, err := check(context.Background(), in, out, cfg)
	if err != nil {
		// Slices and appends cannot fail, and nothing cancels the context.
		panic("validate: in-memory check failed: " + err.Error())
	}
	res.Errors = st.errors
	res.Rejected = st.rejected
	return res
}

// pick appends to dst the records of src that keep holds.
func pick[T any](dst []*T, src []T, keep rowSet) []*T {
	for i := range src {
		if keep.has(i) {
			dst = append(dst, &src[i])
		}
	}
	return dst
}

type inputs struct {
	customers     source[schemas.Customer]
	subscriptions source[schemas.Subscription]
	invoices      source[schemas.Invoice]
	itemPrices    source[schemas.ItemPrice]
	gifts         source[schemas.Gift]
}

// outputs receive, once per table and as soon as the rules have decided them, the
// rows that passed every rule (by row number) and how many rows the rules read: the
// accepted rows are written unchanged, so they are copied from the input rather
// than handed over as records.
type outputs struct {
	customers, subscriptions, invoices, itemPrices func(keep rowSet, rows int) error
}

type outcome struct {
	errors                       []schemas.ValidationError
	rejected                     int64
	customersIn, subscriptionsIn int64
}

// rejKey names a rejected record; a struct rather than entity+"/"+id, which built a
// string on every lookup.
type rejKey struct{ entity, id string }

// rejections collects error rows and remembers which records were rejected.
type rejections struct {
	rows     []schemas.ValidationError
	rejected map[rejKey]string // first code
}

// add clones the strings it keeps: a record from a file source lives in an Arrow
// batch, which one retained string would keep whole.
func (r *rejections) add(entity, id, customerID, email, code, field, msg string) {
	id = strings.Clone(id)
	r.rows = append(r.rows, schemas.ValidationError{
		Entity: entity, RecordID: id, CustomerID: strings.Clone(customerID), Email: strings.Clone(email),
		Code: code, Field: field, Message: msg,
	})
	if _, ok := r.rejected[rejKey{entity, id}]; !ok {
		r.rejected[rejKey{entity, id}] = code
	}
}

func (r *rejections) code(entity, id string) (string, bool) {
	c, ok := r.rejected[rejKey{entity, id}]
	return c, ok
}

// custInfo is what the rules need to know of a customer id.
type custInfo struct {
	n     int32 // records with this id
	flags uint8
}

const (
	custHasSub   uint8 = 1 << iota // a subscription names it (a deleted one too)
	custGifter                     // it bought a gift
	custRejected                   // a record with this id got an error row
)

// subInfo is what the rules need to know of a subscription id.
type subInfo struct {
	n   int32  // records with this id
	cur uint32 // accepted: 1 + its currency's index in checker.currencies; else 0
}

// emailGroup is the customers (ok, not deleted) sharing one normalized email, and the
// one that keeps it so far: most recent updated_at, then greatest resource_version,
// then smallest id.
type emailGroup struct {
	n       int32
	winner  int32 // index in checker.customers
	updated int64
	version int64
}

// checker holds what the passes learn about the snapshot: small per-id states and
// per-row numbers, never the records, which are streamed from input through the
// rules to the output.
type checker struct {
	cfg        Config
	rj         rejections
	customers  *keyed[custInfo]
	subs       *keyed[subInfo]
	invoices   *keyed[int32] // records with this id
	itemPrices *keyed[int32]
	// The id state of each row, by row number: later passes over the same table find
	// it without hashing the id again (a lookup in a map of a million ids is a cache
	// miss or two, and there were ten million of them).
	customerRow     []int32
	subRow          []int32
	subCustomer     []int32 // the subscription's customer; -1: not in the snapshot
	invoiceRow      []int32
	invoiceSub      []int32 // the invoice's subscription; -1: not in the snapshot
	keepCustomerRow rowSet  // customer rows that passed every rule
	currencies      []string
	currencyIdx     map[string]uint32
	fillFrom        int // the error rows from here on get their email in pass 5
	outcome
}

// check applies every rule, in passes over the sources:
//
//  1. ids, concurrently: customers, then subscriptions (which set "has a
//     subscription"); invoices (gifters), gifts, item prices.
//  2. customers, the rule columns: per-record rules, and each email's winner.
//     Beside it, invoices, subscription id: which subscription each one names.
//  3. no read: duplicate_email rows, from each candidate's email group noted in 2.
//  4. subscriptions, then invoices, the columns their rules read.
//  5. customers, id and email: the emails of the duplicate_email, subscription and
//     invoice rows.
//  6. item prices, id and price.
//
// No pass decodes a whole record: each table's accepted rows go to out as soon as
// they are known (customers after 3, the others after their part of 4 and 6), and
// the run copies them from the input file column by column beside the later passes.
//
// Error rows come out as they always did (customers, duplicate emails, subscriptions,
// invoices, item prices; each in input order); duplicate_email rows used to come in
// map order.
func check(ctx context.Context, in inputs, out outputs, cfg Config) (outcome, error) {
	c := &checker{cfg: cfg, rj: rejections{rejected: map[rejKey]string{}}, currencyIdx: map[string]uint32{}}
	if err := c.countKeys(ctx, in); err != nil {
		return outcome{}, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.customerRules(gctx, in.customers) })
	g.Go(func() error { return c.invoiceSubscriptions(gctx, in.invoices) })
	if err := g.Wait(); err != nil {
		return outcome{}, err
	}
	if err := out.customers(c.keepCustomerRow, len(c.customerRow)); err != nil {
		return outcome{}, err
	}
	if err := c.subscriptionRules(ctx, in.subscriptions, out.subscriptions); err != nil {
		return outcome{}, err
	}
	if err := c.invoiceRules(ctx, in.invoices, out.invoices); err != nil {
		return outcome{}, err
	}
	if err := c.fillEmails(ctx, in.customers, c.rj.rows[c.fillFrom:]); err != nil {
		return outcome{}, err
	}
	if err := c.itemPriceRules(ctx, in.itemPrices, out.itemPrices); err != nil {
		return outcome{}, err
	}
	c.errors = c.rj.rows
	c.rejected = int64(len(c.rj.rejected))
	return c.outcome, nil
}

// countKeys is pass 1: how often each id occurs, and the customer flags the
// per-record rules need.
func (c *checker) countKeys(ctx context.Context, in inputs) error {
	nc, ns, ni := in.customers.rows(), in.subscriptions.rows(), in.invoices.rows()
	c.customers, c.customerRow = newKeyed[custInfo](nc), make([]int32, 0, nc)
	c.subs, c.subRow, c.subCustomer = newKeyed[subInfo](ns), make([]int32, 0, ns), make([]int32, 0, ns)
	c.invoices, c.invoiceRow = newKeyed[int32](ni), make([]int32, 0, ni)
	c.itemPrices = newKeyed[int32](in.itemPrices.rows())
	gifters := newKeyed[struct{}](0)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := in.customers.each(ctx, customerIDCols, func(r *schemas.Customer) error {
			k := c.customers.add(r.ID)
			c.customers.val[k].n++
			c.customerRow = append(c.customerRow, k)
			return nil
		})
		if err != nil {
			return err
		}
		// After the customers, so that "has a subscription" is a flag on the customer
		// rather than a second set of up to a million ids. Any status, valid or not:
		// validity is judged later.
		return in.subscriptions.each(ctx, subscriptionCols, func(s *schemas.Subscription) error {
			k := c.subs.add(s.ID)
			c.subs.val[k].n++
			c.subRow = append(c.subRow, k)
			ck, ok := c.customers.find(s.CustomerID)
			// A deleted subscription counts too: it is sent as cancelled, and a
			// customer whose only subscription was deleted must go on for that
			// cancellation to reach AC (otherwise the recurring payment stays
			// ACTIVE there for good).
			if ok {
				c.customers.val[ck].flags |= custHasSub
			}
			c.subCustomer = append(c.subCustomer, ck) // -1 when not found
			return nil
		})
	})
	g.Go(func() error {
		err := in.invoices.each(ctx, invoiceCols, func(v *schemas.Invoice) error {
			k := c.invoices.add(v.ID)
			c.invoices.val[k]++
			c.invoiceRow = append(c.invoiceRow, k)
			if v.IsGifted {
				gifters.add(v.CustomerID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = in.gifts.each(ctx, giftCols, func(gf *schemas.Gift) error {
			gifters.add(gf.GifterCustomerID)
			return nil
		})
		if err != nil {
			return err
		}
		return in.itemPrices.each(ctx, itemPriceCols, func(p *schemas.ItemPrice) error {
			k := c.itemPrices.add(p.ID)
			c.itemPrices.val[k]++
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		return err
	}
	for i := range gifters.val {
		if k, ok := c.customers.find(gifters.idx.Key(i)); ok {
			c.customers.val[k].flags |= custGifter
		}
	}
	// From here on customers and invoices are found by row; the customers' index
	// stays until pass 3 for its keys (the ids emails' winners are compared by).
	c.invoices.idx = nil
	c.customersIn, c.subscriptionsIn = int64(len(c.customerRow)), int64(len(c.subRow))
	return nil
}

// invoiceSubscriptions runs beside passes 2 and 3 (they use one core): which
// subscription each invoice names, so that the subscription map is gone before the
// heavy pass 4.
func (c *checker) invoiceSubscriptions(ctx context.Context, src source[schemas.Invoice]) error {
	c.invoiceSub = make([]int32, 0, len(c.invoiceRow))
	err := src.each(ctx, invoiceSubCols, func(v *schemas.Invoice) error {
		k, _ := c.subs.find(v.SubscriptionID) // -1 when not found
		c.invoiceSub = append(c.invoiceSub, k)
		return nil
	})
	if err != nil {
		return err
	}
	if len(c.invoiceSub) != len(c.invoiceRow) {
		return errChanged
	}
	c.subs.idx = nil
	return nil
}

// customerRules is passes 2 and 3: the per-record customer rules, then
// duplicate_email.
func (c *checker) customerRules(ctx context.Context, src source[schemas.Customer]) error {
	// duplicate_email: AC keys contacts by email, so one email can stand for one
	// Chargebee customer only. The most recently updated keeps it.
	emails := newKeyed[emailGroup](len(c.customerRow))
	// The email group of each row that passed every rule and is not deleted, -1 for
	// the others: pass 3 needs no second read and hash of a million emails.
	group := make([]int32, len(c.customerRow))
	shared := false
	row := 0
	err := src.each(ctx, customerRuleCols, func(r *schemas.Customer) error {
		i := row
		row++
		if i >= len(c.customerRow) {
			return errChanged
		}
		k := c.customerRow[i]
		ci := &c.customers.val[k]
		before := len(c.rj.rows)
		switch {
		case r.ID == "":
			c.rj.add("customer", "", "", r.Email, MissingID, "id", "customer has no id")
		case ci.n > 1:
			c.rj.add("customer", r.ID, r.ID, r.Email, DuplicateID, "id",
				fmt.Sprintf("customer id appears %d times in the snapshot with different content; none of the copies is synced", ci.n))
		case r.Deleted:
			// A deleted customer is not an error: it goes on, marked deleted, and load
			// applies on_customer_deleted.
		default:
			checkCustomer(&c.rj, r, ci.flags&custHasSub != 0, ci.flags&custGifter != 0, c.cfg)
		}
		group[i] = -1
		if len(c.rj.rows) != before {
			ci.flags |= custRejected
			return nil
		}
		c.keepCustomerRow.add(i)
		if r.Deleted || r.Erased() {
			// An erased customer's email is gone (or blank): it claims none.
			return nil
		}
		j := emails.add(normEmail(r.Email))
		group[i] = j
		eg := &emails.val[j]
		eg.n++
		up := deref(r.UpdatedAt)
		if eg.n == 1 || up > eg.updated || up == eg.updated && (r.ResourceVersion > eg.version ||
			r.ResourceVersion == eg.version && r.ID < c.customers.idx.Key(int(eg.winner))) {
			eg.winner, eg.updated, eg.version = k, up, r.ResourceVersion
		}
		shared = shared || eg.n > 1
		return nil
	})
	c.fillFrom = len(c.rj.rows)
	if err == nil && row != len(c.customerRow) {
		err = errChanged
	}
	if err != nil || !shared {
		c.customers.idx = nil
		return err
	}
	for i, j := range group {
		if j < 0 {
			continue
		}
		// Ids are unique among candidates (a repeated id is rejected), so the index
		// names the record, and pass 5 finds its email by its id.
		eg := &emails.val[j]
		if k := c.customerRow[i]; eg.n > 1 && k != eg.winner {
			id := c.customers.idx.Key(int(k))
			c.rj.add("customer", id, id, "", DuplicateEmail, "email",
				fmt.Sprintf("email is also used by customer %s, which was updated more recently and keeps it (AC emails are unique)", c.customers.idx.Key(int(eg.winner))))
			c.customers.val[k].flags |= custRejected
			c.keepCustomerRow.del(i)
		}
	}
	c.customers.idx = nil
	return nil
}

// subscriptionRules is the subscriptions' part of pass 4. Their rows' emails are
// left empty for fillEmails.
func (c *checker) subscriptionRules(ctx context.Context, src source[schemas.Subscription], out func(rowSet, int) error) error {
	row := 0
	var keep rowSet
	err := src.each(ctx, subscriptionRuleCols, func(s *schemas.Subscription) error {
		i := row
		row++
		if i >= len(c.subRow) {
			return errChanged
		}
		si := &c.subs.val[c.subRow[i]]
		var ci *custInfo
		if k := c.subCustomer[i]; k >= 0 {
			ci = &c.customers.val[k]
		}
		before := len(c.rj.rows)
		switch {
		case s.ID == "":
			c.rj.add("subscription", "", s.CustomerID, "", MissingID, "id", "subscription has no id")
		case si.n > 1:
			c.rj.add("subscription", s.ID, s.CustomerID, "", DuplicateID, "id",
				fmt.Sprintf("subscription id appears %d times in the snapshot with different content; none of the copies is synced", si.n))
		case ci == nil:
			c.rj.add("subscription", s.ID, s.CustomerID, "", UnknownCustomer, "customer_id",
				fmt.Sprintf("customer %q is not in the snapshot", s.CustomerID))
		case ci.flags&custRejected != 0:
			code, _ := c.rj.code("customer", s.CustomerID)
			c.rj.add("subscription", s.ID, s.CustomerID, "", CustomerRejected, "customer_id",
				fmt.Sprintf("customer %s was rejected (%s), so its subscriptions are not synced", s.CustomerID, code))
		case s.Deleted:
			// Load still sends a deleted subscription (as cancelled), so what transform
			// cannot map must stop here as a row, not fail the whole transform.
			checkShape(&c.rj, s)
		default:
			checkSubscription(&c.rj, s)
		}
		if len(c.rj.rows) != before {
			return nil
		}
		si.cur = c.currency(s.CurrencyCode)
		keep.add(i)
		return nil
	})
	if err != nil {
		return err
	}
	return out(keep, row)
}

// currency interns a currency code: 1 + its index in c.currencies.
func (c *checker) currency(code string) uint32 {
	if i, ok := c.currencyIdx[code]; ok {
		return i
	}
	c.currencies = append(c.currencies, strings.Clone(code))
	i := uint32(len(c.currencies))
	c.currencyIdx[c.currencies[i-1]] = i
	return i
}

// invoiceRules is the invoices' part of pass 4, after the subscriptions, whose
// currencies it checks against. Invoices only feed amounts and payment status; a bad
// one is reported and left out, and transform falls back to the subscription's own
// amounts.
func (c *checker) invoiceRules(ctx context.Context, src source[schemas.Invoice], out func(rowSet, int) error) error {
	row := 0
	var keep rowSet
	err := src.each(ctx, invoiceRuleCols, func(v *schemas.Invoice) error {
		i := row
		row++
		if i >= len(c.invoiceRow) {
			return errChanged
		}
		n := c.invoices.val[c.invoiceRow[i]]
		before := len(c.rj.rows)
		switch {
		case v.ID == "":
			c.rj.add("invoice", "", v.CustomerID, "", MissingID, "id", "invoice has no id")
		case n > 1:
			c.rj.add("invoice", v.ID, v.CustomerID, "", DuplicateID, "id",
				fmt.Sprintf("invoice id appears %d times in the snapshot with different content", n))
		case v.Deleted:
		default:
			checkInvoice(&c.rj, v)
			// Transform takes the amount of the subscription's latest invoice; one in
			// another currency would be sent with the wrong decimals and code.
			if k := c.invoiceSub[i]; k >= 0 && c.subs.val[k].cur != 0 && v.CurrencyCode != "" {
				if cur := c.currencies[c.subs.val[k].cur-1]; !strings.EqualFold(cur, v.CurrencyCode) {
					c.rj.add("invoice", v.ID, v.CustomerID, "", CurrencyMismatch, "currency_code",
						fmt.Sprintf("currency %q differs from subscription %s's %q", v.CurrencyCode, v.SubscriptionID, cur))
				}
			}
		}
		if len(c.rj.rows) != before {
			return nil
		}
		keep.add(i)
		return nil
	})
	if err != nil {
		return err
	}
	return out(keep, row)
}

// fillEmails is pass 5: each row gets the email of its customer (the last record
// with that id, as always). Only the customers the rows name are looked up: no
// id → email map of every customer is built.
func (c *checker) fillEmails(ctx context.Context, src source[schemas.Customer], rows []schemas.ValidationError) error {
	if len(rows) == 0 {
		return nil
	}
	emails := newKeyed[string](0)
	for i := range rows {
		emails.add(rows[i].CustomerID)
	}
	err := src.each(ctx, customerEmailCols, func(r *schemas.Customer) error {
		if e := emails.get(r.ID); e != nil {
			*e = strings.Clone(r.Email)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].Email = *emails.get(rows[i].CustomerID)
	}
	return nil
}

// itemPriceRules is pass 6: their rows come last.
func (c *checker) itemPriceRules(ctx context.Context, src source[schemas.ItemPrice], out func(rowSet, int) error) error {
	row := 0
	var keep rowSet
	err := src.each(ctx, itemPriceRuleCols, func(p *schemas.ItemPrice) error {
		i := row
		row++
		n := c.itemPrices.get(p.ID)
		if n == nil {
			return errChanged
		}
		before := len(c.rj.rows)
		switch {
		case p.ID == "":
			c.rj.add("item_price", "", "", "", MissingID, "id", "item price has no id")
		case *n > 1:
			c.rj.add("item_price", p.ID, "", "", DuplicateID, "id",
				fmt.Sprintf("item price id appears %d times in the snapshot with different content", *n))
		case p.Price != nil && *p.Price < 0:
			c.rj.add("item_price", p.ID, "", "", BadAmount, "price", fmt.Sprintf("price %d is negative", *p.Price))
		}
		if len(c.rj.rows) != before {
			return nil
		}
		keep.add(i)
		return nil
	})
	if err != nil {
		return err
	}
	return out(keep, row)
}

// errChanged: a later pass met a row or key the first pass did not see. The extract
// folder is a snapshot that nothing rewrites, so only a file changed under the stage
// gets here.
var errChanged = errors.New("an input file changed while it was being read")

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// checkCustomer applies the per-record customer rules. A customer whose personal
// data Chargebee cleared (pii_cleared = cleared) has no usable email by design and
// may have nothing left to sync: it is no missing_email, invalid_email or
// no_subscription error, but goes on with its subscriptions, so that transform and
// load can propagate the erasure to AC.
func checkCustomer(rj *rejections, c *schemas.Customer, hasSub, isGifter bool, cfg Config) {
	add := func(code, field, msg string) { rj.add("customer", c.ID, c.ID, c.Email, code, field, msg) }
	erased := c.Erased()
	switch {
	case c.CreatedAt == nil:
		add(BadDate, "created_at", "created_at is missing")
	case badTime(c.CreatedAt):
		add(BadDate, "created_at", fmt.Sprintf("created_at %d is not a plausible Unix time", *c.CreatedAt))
	}
	if badTime(c.UpdatedAt) {
		add(BadDate, "updated_at", fmt.Sprintf("updated_at %d is not a plausible Unix time", *c.UpdatedAt))
	}
	if erased {
		return
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
// The row's email is filled in later (fillEmails).
func checkShape(rj *rejections, s *schemas.Subscription) {
	add := func(code, field, msg string) { rj.add("subscription", s.ID, s.CustomerID, "", code, field, msg) }
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

func checkSubscription(rj *rejections, s *schemas.Subscription) {
	add := func(code, field, msg string) { rj.add("subscription", s.ID, s.CustomerID, "", code, field, msg) }
	checkShape(rj, s)
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

func checkInvoice(rj *rejections, v *schemas.Invoice) {
	add := func(code, field, msg string) { rj.add("invoice", v.ID, v.CustomerID, "", code, field, msg) }
	// An invoice without a status (a snapshot from before extract kept it) is let through;
	// a status Chargebee does not have is junk that transform cannot map.
	if v.Status != "" && !InvoiceStatuses[v.Status] {
		add(UnknownStatus, "status", fmt.Sprintf("status %q is not a Chargebee invoice status", v.Status))
	}
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

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
