package transform

import (
	"encoding/binary"
	"strings"

	"github.com/cb2ac/cb2ac/internal/strmap"
	"github.com/cb2ac/cb2ac/schemas"
)

// Transform joins three big tables: a recurring payment needs its customer and its
// subscription's latest invoice, a contact needs its customer's primary subscription.
// Holding the tables as Go structs took 6 GB at 1M customers, so the stage streams
// the subscriptions and keeps only compact join sides: per subscription the few
// numbers of its latest invoice, per customer its primary subscription's id and what
// a recurring payment and a contact take from the customer, packed into bytes. They
// live in strmap tables, which the garbage collector does not scan.

// Columns the join sides are built from; the other columns are never decoded.
var (
	invoiceCols = []string{"id", "subscription_id", "recurring", "deleted", "status", "currency_code",
		"date", "paid_at", "total", "tax", "discount", "amount_refunded"}
	primaryCols = []string{"id", "customer_id", "deleted", "status", "created_at"}
)

// invoiceFacts is what applyInvoice reads of a subscription's latest invoice.
type invoiceFacts struct {
	id                                           strmap.Ref
	date, paidAt, total, tax, discount, refunded int64
	status, currency                             uint8 // indexes into latest.strs
	has                                          uint8 // which of the six numbers are set, in that order
}

// latest picks, per subscription, the latest recurring invoice that says something
// about payment: not deleted, not voided; on equal dates the greatest id.
type latest struct {
	m    *strmap.Map[invoiceFacts]
	ids  strmap.Arena
	strs []string // the few distinct statuses and currencies
}

func newLatest(hint int) *latest {
	return &latest{m: strmap.New[invoiceFacts](hint)}
}

func (l *latest) add(v *schemas.Invoice) {
	if v.SubscriptionID == "" || !v.Recurring || v.Deleted || v.Status == "voided" {
		return
	}
	f, added := l.m.Put(v.SubscriptionID)
	if !added {
		if c := cmpInt(deref(v.Date), f.date); c < 0 || c == 0 && v.ID <= l.ids.String(f.id) {
			return
		}
	}
	*f = invoiceFacts{id: l.ids.Add(v.ID), status: l.code(v.Status), currency: l.code(v.CurrencyCode)}
	src := [...]*int64{v.Date, v.PaidAt, v.Total, v.Tax, v.Discount, v.AmountRefunded}
	dst := [...]*int64{&f.date, &f.paidAt, &f.total, &f.tax, &f.discount, &f.refunded}
	for i, p := range src {
		if p != nil {
			f.has |= 1 << i
			*dst[i] = *p
		}
	}
}

func (l *latest) code(s string) uint8 {
	for i, v := range l.strs {
		if v == s {
			return uint8(i)
		}
	}
	if len(l.strs) == 256 {
		// Validate lets only ISO currencies and Chargebee's invoice statuses through.
		panic("transform: more than 256 distinct invoice statuses and currencies")
	}
	l.strs = append(l.strs, strings.Clone(s))
	return uint8(len(l.strs) - 1)
}

// get rebuilds the invoice fields applyInvoice reads into inv.
func (l *latest) get(subID string, inv *schemas.Invoice) bool {
	f, ok := l.m.Get(subID)
	if !ok {
		return false
	}
	*inv = schemas.Invoice{ID: l.ids.String(f.id), SubscriptionID: subID, Recurring: true,
		Status: l.strs[f.status], CurrencyCode: l.strs[f.currency]}
	vals := [...]int64{f.date, f.paidAt, f.total, f.tax, f.discount, f.refunded}
	ptrs := [...]**int64{&inv.Date, &inv.PaidAt, &inv.Total, &inv.Tax, &inv.Discount, &inv.AmountRefunded}
	for i := range vals {
		if f.has&(1<<i) != 0 {
			*ptrs[i] = &vals[i]
		}
	}
	return true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pick is a customer's primary subscription so far (see Primary).
type pick struct {
	id      string
	created int64
	rank    uint8 // alive<<3 | liveness
}

func pickOf(s *schemas.Subscription) pick {
	r := uint8(liveness[s.Status])
	if !s.Deleted {
		r |= 1 << 3
	}
	return pick{id: s.ID, created: deref(s.CreatedAt), rank: r}
}

// beats says whether p is a better primary than q: more live, then more recently
// created, then the greater id.
func (p pick) beats(q pick) bool {
	if p.rank != q.rank {
		return p.rank > q.rank
	}
	if p.created != q.created {
		return p.created > q.created
	}
	return p.id > q.id
}

// customers is the customer side of the join, keyed by customer id: from the
// subscriptions' projection each customer's primary subscription, then from the
// customer pass what the subscription pass needs of the customer. A customer
// without subscriptions is never in it: its contact is mapped in the customer pass.
type customers struct {
	m   *strmap.Map[facts]
	ids strmap.Arena // subscription ids of the picks
}

type storedPick struct {
	id      strmap.Ref
	created int64
	rank    uint8
}

func newCustomers(hint int) *customers { return &customers{m: strmap.New[facts](hint)} }

// addSubscription keeps s as its customer's primary when it beats the current one.
func (cs *customers) addSubscription(s *schemas.Subscription) {
	p := pickOf(s)
	f, added := cs.m.Put(s.CustomerID)
	cur := &f.primary
	if added || p.beats(pick{id: cs.ids.String(cur.id), created: cur.created, rank: cur.rank}) {
		*cur = storedPick{id: cs.ids.Add(p.id), created: p.created, rank: p.rank}
	}
}

// primary returns the id of the customer's primary subscription.
func (cs *customers) primary(f *facts) string { return cs.ids.String(f.primary.id) }

// facts is what the subscription pass needs of one customer. The strings are packed
// into one (each as uvarint(len+1) then its bytes, 0 for an absent attribute): a
// million customers as structs of twenty string headers would not fit the budget.
type facts struct {
	primary   storedPick
	packed    strmap.Ref
	createdAt int64
	flags     uint8
}

const (
	hasCreatedAt = 1 << iota
	isDeleted
	contactDone
	isPacked
)

// packer packs and unpacks customers. Unpacking fills a scratch customer whose
// strings point into the packed string, so mapping a subscription allocates nothing
// for its customer.
type packer struct {
	arena   strmap.Arena
	buf     []byte
	scratch schemas.Customer
	created int64
	cv      []attrValue
}

func (pk *packer) fields(c *schemas.Customer) [20]*string {
	a := &c.BillingAddress
	return [20]*string{&c.Email, &c.FirstName, &c.LastName, &c.Phone, &c.Company, &c.AutoCollection,
		&c.PaymentMethodType, &a.FirstName, &a.LastName, &a.Email, &a.Company, &a.Phone, &a.Line1,
		&a.Line2, &a.Line3, &a.City, &a.StateCode, &a.State, &a.Country, &a.Zip}
}

// pack stores the customer into f.
func (pk *packer) pack(f *facts, c *schemas.Customer, cv []attrValue) {
	b := pk.buf[:0]
	for _, s := range pk.fields(c) {
		b = binary.AppendUvarint(b, uint64(len(*s))+1)
		b = append(b, *s...)
	}
	for _, v := range cv {
		if !v.ok {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(v.v))+1)
		b = append(b, v.v...)
	}
	pk.buf = b
	f.packed = pk.arena.AddBytes(b)
	f.flags |= isPacked
	if c.CreatedAt != nil {
		f.flags |= hasCreatedAt
		f.createdAt = *c.CreatedAt
	}
	if c.Deleted {
		f.flags |= isDeleted
	}
}

// unpack returns the scratch customer (valid until the next unpack) and its
// precomputed attribute values.
func (pk *packer) unpack(id string, f *facts, nattrs int) (*schemas.Customer, []attrValue) {
	c := &pk.scratch
	*c = schemas.Customer{ID: id, Deleted: f.flags&isDeleted != 0}
	if f.flags&hasCreatedAt != 0 {
		pk.created = f.createdAt
		c.CreatedAt = &pk.created
	}
	s := pk.arena.String(f.packed)
	next := func() (string, bool) {
		var n uint64
		for shift := 0; ; shift += 7 {
			b := s[0]
			s = s[1:]
			n |= uint64(b&0x7f) << shift
			if b < 0x80 {
				break
			}
		}
		if n == 0 {
			return "", false
		}
		v := s[:n-1]
		s = s[n-1:]
		return v, true
	}
	for _, p := range pk.fields(c) {
		*p, _ = next()
	}
	pk.cv = pk.cv[:0]
	for range nattrs {
		v, ok := next()
		pk.cv = append(pk.cv, attrValue{v, ok})
	}
	return c, pk.cv
}
