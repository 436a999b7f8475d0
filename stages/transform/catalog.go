package transform

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/cb2ac/cb2ac/internal/money"
	"github.com/cb2ac/cb2ac/internal/strmap"
	"github.com/cb2ac/cb2ac/schemas"
)

// Catalog is the site's product catalog: item prices and items (Product Catalog
// 2.0), plans and addons (1.0). A site has one or the other; any map may be nil.
type Catalog struct {
	Prices map[string]*schemas.ItemPrice
	Items  map[string]*schemas.CatalogItem
	Plans  map[string]*schemas.CatalogPlan
	Addons map[string]*schemas.CatalogPlan
}

// NewCatalog indexes the catalog records by id.
func NewCatalog(prices []schemas.ItemPrice, items []schemas.CatalogItem, plans, addons []schemas.CatalogPlan) *Catalog {
	c := &Catalog{
		Prices: make(map[string]*schemas.ItemPrice, len(prices)),
		Items:  make(map[string]*schemas.CatalogItem, len(items)),
		Plans:  make(map[string]*schemas.CatalogPlan, len(plans)),
		Addons: make(map[string]*schemas.CatalogPlan, len(addons)),
	}
	for i := range prices {
		c.Prices[prices[i].ID] = &prices[i]
	}
	for i := range items {
		c.Items[items[i].ID] = &items[i]
	}
	for i := range plans {
		c.Plans[plans[i].ID] = &plans[i]
	}
	for i := range addons {
		c.Addons[addons[i].ID] = &addons[i]
	}
	return c
}

// line is what AC's line-item lists and the Plan field take from one subscription
// item.
type line struct {
	name     string // lineItemNames
	sku      string // lineItemSkus: the item price id (2.0) or plan/addon id (1.0)
	primary  string // lineItemStorePrimaryIds: the item id (2.0) or plan/addon id (1.0)
	category string // lineItemCategories: the item family (2.0)
	product  string // the Plan field, for the plan item
	cycles   *int64 // the catalog's billing_cycles for the plan item
}

// line resolves a subscription item against the catalog. 2.0: the item price
// (customer-facing external_name, else name) and its item (the product: external_name,
// else name, else the item price's name). 1.0: the plan or addon (invoice_name, else
// name). A record missing from the catalog leaves the ids.
func (c *Catalog) line(it *schemas.Item) line {
	id := it.ItemPriceID
	l := line{name: id, sku: id, primary: id, product: id}
	if c == nil {
		return l
	}
	if p := c.Prices[id]; p != nil {
		l.name = cmp.Or(p.ExternalName, p.Name, id)
		l.primary = cmp.Or(p.ItemID, id)
		l.category = p.ItemFamilyID
		l.product = cmp.Or(p.Name, id)
		l.cycles = p.BillingCycles
		if item := c.Items[p.ItemID]; item != nil {
			l.product = cmp.Or(item.ExternalName, item.Name, l.product)
			l.category = cmp.Or(l.category, item.ItemFamilyID)
		}
		return l
	}
	table := c.Addons
	if it.ItemType == "plan" {
		table = c.Plans
	}
	if p := table[id]; p != nil {
		l.name = cmp.Or(p.InvoiceName, p.Name, id)
		l.product = l.name
		l.cycles = p.BillingCycles
	}
	return l
}

// hasDecimal reports whether Chargebee sent the item's exact value (multi-decimal
// pricing).
func hasDecimal(it *schemas.Item) bool {
	return it.AmountInDecimal != "" || it.UnitPriceInDecimal != ""
}

// itemsAmount is the per-cycle amount of items as AC text. Chargebee's integer
// amounts are summed as integers and formatted by money.Format; when an item has
// amount_in_decimal (or unit_price_in_decimal × quantity_in_decimal, else
// quantity) that exact value is used instead and the sum is taken exactly.
func itemsAmount(items []schemas.Item, cur string) (string, error) {
	if !slicesAny(items, hasDecimal) {
		return money.Format(itemsTotal(items), cur)
	}
	sum := new(big.Rat)
	for i := range items {
		v, err := itemRat(&items[i], cur)
		if err != nil {
			return "", err
		}
		sum.Add(sum, v)
	}
	return money.FormatRat(sum, cur)
}

// itemRat is one item's per-cycle amount as an exact value. A decimal string that
// does not parse falls back to the integer fields (Chargebee's rounding of it).
func itemRat(it *schemas.Item, cur string) (*big.Rat, error) {
	if it.AmountInDecimal != "" {
		if r, err := money.ParseDecimal(it.AmountInDecimal, cur); err == nil {
			return r, nil
		}
	}
	if it.UnitPriceInDecimal != "" {
		if u, err := money.ParseDecimal(it.UnitPriceInDecimal, cur); err == nil {
			q := new(big.Rat).SetInt64(max(it.Quantity, 1))
			if it.QuantityInDecimal != "" {
				if qd, ok := new(big.Rat).SetString(strings.TrimSpace(it.QuantityInDecimal)); ok && validQuantity(it.QuantityInDecimal) {
					q = qd
				}
			}
			return u.Mul(u, q), nil
		}
	}
	return money.Rat(itemsTotal([]schemas.Item{*it}), cur)
}

// validQuantity accepts a plain decimal (big.Rat.SetString would also take
// fractions and exponents).
func validQuantity(s string) bool {
	_, err := money.FormatDecimal(s, "USD")
	return err == nil
}

func slicesAny[T any](s []T, f func(*T) bool) bool {
	for i := range s {
		if f(&s[i]) {
			return true
		}
	}
	return false
}

// PaymentMethod is the payment source a subscription is charged to, as far as AC
// cares: its type (card, direct_debit, paypal_express_checkout, ...) for the
// Payment Method field and its card's expiry for paymentMethodExpiration.
type PaymentMethod struct {
	Type                    string
	ExpiryMonth, ExpiryYear *int64
}

// SourceLookup finds a payment source (not deleted) by id.
type SourceLookup func(id string) (PaymentMethod, bool)

// ChoosePayment picks the payment source of subscription s (nil: the customer's
// own, for a contact without a subscription): s.payment_source_id's record; else
// the customer's primary_payment_source_id's record; else the card of the customers
// list entry; else the card of the subscriptions list entry. With none of them the
// type is the customer's payment_method.type and there is no expiry.
func ChoosePayment(c *schemas.Customer, s *schemas.Subscription, look SourceLookup) PaymentMethod {
	if look != nil {
		if s != nil && s.PaymentSourceID != "" {
			if pm, ok := look(s.PaymentSourceID); ok {
				return pm
			}
		}
		if c.PrimaryPaymentSource != "" {
			if pm, ok := look(c.PrimaryPaymentSource); ok {
				return pm
			}
		}
	}
	if c.CardType != "" || c.CardLast4 != "" || c.CardExpiryYear != nil {
		return PaymentMethod{Type: "card", ExpiryMonth: c.CardExpiryMonth, ExpiryYear: c.CardExpiryYear}
	}
	if s != nil && (s.CardType != "" || s.CardLast4 != "" || s.CardExpiryYear != nil) {
		return PaymentMethod{Type: "card", ExpiryMonth: s.CardExpiryMonth, ExpiryYear: s.CardExpiryYear}
	}
	return PaymentMethod{Type: c.PaymentMethodType}
}

// MapSources is a SourceLookup over records, for callers that hold them all.
func MapSources(recs []schemas.PaymentSource) SourceLookup {
	m := make(map[string]PaymentMethod, len(recs))
	for i := range recs {
		if !recs[i].Deleted {
			m[recs[i].ID] = paymentMethodOf(&recs[i])
		}
	}
	return func(id string) (PaymentMethod, bool) { pm, ok := m[id]; return pm, ok }
}

func paymentMethodOf(ps *schemas.PaymentSource) PaymentMethod {
	return PaymentMethod{Type: ps.Type, ExpiryMonth: ps.CardExpiryMonth, ExpiryYear: ps.CardExpiryYear}
}

// sources is Run's payment-source index: per id the type (a code into strs) and
// the card expiry, no pointers.
type sources struct {
	m    *strmap.Map[sourceFacts]
	strs codes
}

// sourceFacts is 8 bytes, not 24: a card's expiry only ever becomes
// paymentMethodExpiration, which takes months 1-12 and years 2000-2099, so a
// value past int8 or int32 is kept as the nearest one, as unusable as itself.
type sourceFacts struct {
	year  int32
	typ   uint16
	month int8
	has   uint8 // 1: month, 2: year
}

func saturate[T int8 | int32](v int64, lo, hi T) T { return T(min(max(v, int64(lo)), int64(hi))) }

func newSources(hint int) *sources { return &sources{m: strmap.New[sourceFacts](hint)} }

// add indexes a payment source; a deleted one is not used. The error is the
// table of types overflowing.
func (s *sources) add(ps *schemas.PaymentSource) error {
	if ps.Deleted {
		return nil
	}
	typ, err := s.strs.code("payment source types", ps.Type)
	if err != nil {
		return fmt.Errorf("payment source %s: %w", ps.ID, err)
	}
	f, _ := s.m.Put(ps.ID)
	*f = sourceFacts{typ: typ}
	if ps.CardExpiryMonth != nil {
		f.has |= 1
		f.month = saturate[int8](*ps.CardExpiryMonth, math.MinInt8, math.MaxInt8)
	}
	if ps.CardExpiryYear != nil {
		f.has |= 2
		f.year = saturate[int32](*ps.CardExpiryYear, math.MinInt32, math.MaxInt32)
	}
	return nil
}

// lookup is a SourceLookup; the expiry pointers are fresh per call.
func (s *sources) lookup(id string) (PaymentMethod, bool) {
	f, ok := s.m.Get(id)
	if !ok {
		return PaymentMethod{}, false
	}
	pm := PaymentMethod{Type: s.strs.str(f.typ)}
	if f.has&1 != 0 {
		pm.ExpiryMonth = ptr(int64(f.month))
	}
	if f.has&2 != 0 {
		pm.ExpiryYear = ptr(int64(f.year))
	}
	return pm, true
}
