package extract

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// Files of an extract folder: one per list read, named like the list endpoint.
const (
	CustomersFile      = "customers"
	SubscriptionsFile  = "subscriptions"
	InvoicesFile       = "invoices"
	CreditNotesFile    = "credit_notes"
	PaymentSourcesFile = "payment_sources"
	ItemPricesFile     = "item_prices"
	ItemsFile          = "items"
	PlansFile          = "plans"
	AddonsFile         = "addons"
	GiftsFile          = "gifts"
)

// Format is the extract folder's format, written to the manifest counts
// (CountFormat) and to state.json with the watermarks. An incremental read merges
// only into a base of the same format: a base of an older one lacks lists or
// columns (format 1, before per-list watermarks: no credit notes, payment sources
// or catalog lists, no pii_cleared, line items...) that a merge would never fill in
// for the records that did not change, so every list is read in full instead.
const Format = 2

// list is what the extract does with one list, whatever its record type: decode
// an entry, collapse copies, order, merge, limit, write and read its file.
type list struct {
	entity string // endpoint and file name
	// addEntry appends the entry's record; "" or the name of the resource the
	// entry lacks.
	addEntry   func(s *Snapshot, e *chargebee.Entry) (missing string)
	dedupe     func(s *Snapshot)
	sort       func(s *Snapshot)
	merge      func(mode string, out, prev, delta *Snapshot)
	maxUpdated func(s *Snapshot) int64
	count      func(s *Snapshot) int
	// limit keeps the records of kept customers; nil: the list is a catalog,
	// kept whole.
	limit func(s *Snapshot, keep map[string]bool)
	write func(s *Snapshot, dir string, twin bool, st schemas.Stamp) error
	// read reads the file; optional files (lists added after format 1) may be
	// absent from an older extract folder, which reads as empty.
	read func(s *Snapshot, dir string) error
}

// newList builds a list from its typed parts.
func newList[T any](entity, kind string, tb *schemas.Table[T], field func(*Snapshot) *[]T,
	rec func(*chargebee.Entry) (T, bool), key func(*T) (string, int64), updated func(*T) *int64,
	order func(a, b T) int, customer func(*T) []string, optionalFile bool) list {
	l := list{entity: entity}
	l.addEntry = func(s *Snapshot, e *chargebee.Entry) string {
		r, ok := rec(e)
		if !ok {
			return kind
		}
		f := field(s)
		*f = append(*f, r)
		return ""
	}
	l.dedupe = func(s *Snapshot) { f := field(s); *f = dedupe(*f, key) }
	l.sort = func(s *Snapshot) { sortStable(*field(s), order) }
	l.merge = func(mode string, out, prev, delta *Snapshot) {
		*field(out) = mergeList(mode, *field(prev), *field(delta), key, order)
	}
	l.maxUpdated = func(s *Snapshot) int64 {
		var m int64
		recs := *field(s)
		for i := range recs {
			if t := updated(&recs[i]); t != nil && *t > m {
				m = *t
			}
		}
		return m
	}
	l.count = func(s *Snapshot) int { return len(*field(s)) }
	if customer != nil {
		l.limit = func(s *Snapshot, keep map[string]bool) {
			f := field(s)
			out := (*f)[:0]
			for i := range *f {
				for _, id := range customer(&(*f)[i]) {
					if keep[id] {
						out = append(out, (*f)[i])
						break
					}
				}
			}
			*f = out
		}
	}
	l.write = func(s *Snapshot, dir string, twin bool, st schemas.Stamp) error {
		return tb.WriteFiles(dir, entity, *field(s), twin, st)
	}
	l.read = func(s *Snapshot, dir string) error {
		recs, err := tb.ReadFile(filepath.Join(dir, entity+".parquet"))
		if optionalFile && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		*field(s) = recs
		return err
	}
	return l
}

// The canonical order of each list is the API's default order — created_at
// (invoices and credit notes: date), then id; by id for the lists whose resource has
// no created_at — so a merged snapshot and a full read of the same state come out
// row for row the same.
var (
	cmpCustomer      = cmpBy(func(c *schemas.Customer) (*int64, string) { return c.CreatedAt, c.ID })
	cmpSubscription  = cmpBy(func(c *schemas.Subscription) (*int64, string) { return c.CreatedAt, c.ID })
	cmpInvoice       = cmpBy(func(c *schemas.Invoice) (*int64, string) { return c.Date, c.ID })
	cmpCreditNote    = cmpBy(func(c *schemas.CreditNote) (*int64, string) { return c.Date, c.ID })
	cmpPaymentSource = cmpBy(func(c *schemas.PaymentSource) (*int64, string) { return c.CreatedAt, c.ID })
	cmpItemPrice     = cmpBy(func(c *schemas.ItemPrice) (*int64, string) { return c.CreatedAt, c.ID })
	cmpItem          = cmpBy(func(c *schemas.CatalogItem) (*int64, string) { return nil, c.ID })
	cmpPlan          = cmpBy(func(c *schemas.CatalogPlan) (*int64, string) { return nil, c.ID })
	cmpGift          = cmpBy(func(c *schemas.Gift) (*int64, string) { return nil, c.ID })
)

// lists are the extract's lists in chargebee.Endpoints order (a test holds them
// to it).
var lists = []list{
	newList(CustomersFile, "customer", schemas.Customers, func(s *Snapshot) *[]schemas.Customer { return &s.Customers },
		func(e *chargebee.Entry) (schemas.Customer, bool) {
			if e.Customer == nil {
				return schemas.Customer{}, false
			}
			return e.Customer.Record(e.Card), true
		},
		func(c *schemas.Customer) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.Customer) *int64 { return c.UpdatedAt }, cmpCustomer,
		func(c *schemas.Customer) []string { return []string{c.ID} }, false),
	newList(SubscriptionsFile, "subscription", schemas.Subscriptions, func(s *Snapshot) *[]schemas.Subscription { return &s.Subscriptions },
		func(e *chargebee.Entry) (schemas.Subscription, bool) {
			if e.Subscription == nil {
				return schemas.Subscription{}, false
			}
			return e.Subscription.Record(e.Card), true
		},
		func(c *schemas.Subscription) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.Subscription) *int64 { return c.UpdatedAt }, cmpSubscription,
		func(c *schemas.Subscription) []string { return []string{c.CustomerID} }, false),
	newList(InvoicesFile, "invoice", schemas.Invoices, func(s *Snapshot) *[]schemas.Invoice { return &s.Invoices },
		func(e *chargebee.Entry) (schemas.Invoice, bool) {
			if e.Invoice == nil {
				return schemas.Invoice{}, false
			}
			return e.Invoice.Record(), true
		},
		func(c *schemas.Invoice) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.Invoice) *int64 { return c.UpdatedAt }, cmpInvoice,
		func(c *schemas.Invoice) []string { return []string{c.CustomerID} }, false),
	newList(CreditNotesFile, "credit_note", schemas.CreditNotes, func(s *Snapshot) *[]schemas.CreditNote { return &s.CreditNotes },
		func(e *chargebee.Entry) (schemas.CreditNote, bool) {
			if e.CreditNote == nil {
				return schemas.CreditNote{}, false
			}
			return e.CreditNote.Record(), true
		},
		func(c *schemas.CreditNote) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.CreditNote) *int64 { return c.UpdatedAt }, cmpCreditNote,
		func(c *schemas.CreditNote) []string { return []string{c.CustomerID} }, true),
	newList(PaymentSourcesFile, "payment_source", schemas.PaymentSources, func(s *Snapshot) *[]schemas.PaymentSource { return &s.PaymentSources },
		func(e *chargebee.Entry) (schemas.PaymentSource, bool) {
			if e.PaymentSource == nil {
				return schemas.PaymentSource{}, false
			}
			return e.PaymentSource.Record(), true
		},
		func(c *schemas.PaymentSource) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.PaymentSource) *int64 { return c.UpdatedAt }, cmpPaymentSource,
		func(c *schemas.PaymentSource) []string { return []string{c.CustomerID} }, true),
	newList(ItemPricesFile, "item_price", schemas.ItemPrices, func(s *Snapshot) *[]schemas.ItemPrice { return &s.ItemPrices },
		func(e *chargebee.Entry) (schemas.ItemPrice, bool) {
			if e.ItemPrice == nil {
				return schemas.ItemPrice{}, false
			}
			return e.ItemPrice.Record(), true
		},
		func(c *schemas.ItemPrice) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.ItemPrice) *int64 { return c.UpdatedAt }, cmpItemPrice, nil, false),
	newList(ItemsFile, "item", schemas.CatalogItems, func(s *Snapshot) *[]schemas.CatalogItem { return &s.Items },
		func(e *chargebee.Entry) (schemas.CatalogItem, bool) {
			if e.Item == nil {
				return schemas.CatalogItem{}, false
			}
			return e.Item.Record(), true
		},
		func(c *schemas.CatalogItem) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.CatalogItem) *int64 { return c.UpdatedAt }, cmpItem, nil, true),
	newList(PlansFile, "plan", schemas.CatalogPlans, func(s *Snapshot) *[]schemas.CatalogPlan { return &s.Plans },
		func(e *chargebee.Entry) (schemas.CatalogPlan, bool) {
			if e.Plan == nil {
				return schemas.CatalogPlan{}, false
			}
			return e.Plan.Record(), true
		},
		func(c *schemas.CatalogPlan) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.CatalogPlan) *int64 { return c.UpdatedAt }, cmpPlan, nil, true),
	newList(AddonsFile, "addon", schemas.CatalogAddons, func(s *Snapshot) *[]schemas.CatalogPlan { return &s.Addons },
		func(e *chargebee.Entry) (schemas.CatalogPlan, bool) {
			if e.Addon == nil {
				return schemas.CatalogPlan{}, false
			}
			return e.Addon.Record(), true
		},
		func(c *schemas.CatalogPlan) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.CatalogPlan) *int64 { return c.UpdatedAt }, cmpPlan, nil, true),
	newList(GiftsFile, "gift", schemas.Gifts, func(s *Snapshot) *[]schemas.Gift { return &s.Gifts },
		func(e *chargebee.Entry) (schemas.Gift, bool) {
			if e.Gift == nil {
				return schemas.Gift{}, false
			}
			return e.Gift.Record(), true
		},
		func(c *schemas.Gift) (string, int64) { return c.ID, c.ResourceVersion },
		func(c *schemas.Gift) *int64 { return c.UpdatedAt }, cmpGift,
		func(c *schemas.Gift) []string { return []string{c.GifterCustomerID, c.ReceiverCustomer} }, false),
}

func listFor(entity string) (list, bool) {
	for _, l := range lists {
		if l.entity == entity {
			return l, true
		}
	}
	return list{}, false
}
