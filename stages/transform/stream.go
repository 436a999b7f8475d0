package transform

import (
	"encoding/binary"

	"github.com/cb2ac/cb2ac/internal/strmap"
	"github.com/cb2ac/cb2ac/schemas"
)

// Transform joins big tables: a recurring payment needs its customer, its
// subscription's invoices (billing.go) and its payment source, a contact needs its
// customer's primary subscription.
// Holding the tables as Go structs took 6 GB at 1M customers, so the stage streams
// the subscriptions and keeps only compact join sides: per subscription the few
// numbers of its renewal invoice, per payment source its type and expiry, per customer its primary subscription's row number and what
// a recurring payment and a contact take from the customer, packed into bytes. They
// live in strmap tables, which the garbage collector does not scan.

// Columns the subscriptions' projection is built from; the other columns are never
// decoded. The invoice pass reads every column (line items, linked payments and
// dunning attempts are lists, which a projection cannot name).
var primaryCols = []string{"id", "customer_id", "deleted", "status", "created_at"}

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
	m *strmap.Map[facts]
	// picks are the primaries while the projection is read (by facts.pick);
	// primaryRows keeps only their row numbers once it is, and the picks (ids,
	// dates, ranks) are dropped: at 1M customers they were ~60 MB of the peak.
	picks       []storedPick
	ids         strmap.Arena // subscription ids of the picks
	primaryRows []int32
}

type storedPick struct {
	id      strmap.Ref
	row     int32
	created int64
	rank    uint8
}

func newCustomers(hint int) *customers {
	return &customers{m: strmap.New[facts](hint), picks: make([]storedPick, 0, hint)}
}

// addSubscription keeps s, the subscriptions file's row number row, as its
// customer's primary when it beats the current one.
func (cs *customers) addSubscription(s *schemas.Subscription, row int32) {
	p := pickOf(s)
	f, added := cs.m.Put(s.CustomerID)
	if added {
		f.pick = int32(len(cs.picks))
		cs.picks = append(cs.picks, storedPick{})
	}
	cur := &cs.picks[f.pick]
	if added || p.beats(pick{id: cs.ids.String(cur.id), created: cur.created, rank: cur.rank}) {
		*cur = storedPick{id: cs.ids.Add(p.id), row: row, created: p.created, rank: p.rank}
	}
}

// picked ends the projection: only the primaries' row numbers are kept.
func (cs *customers) picked() {
	cs.primaryRows = make([]int32, len(cs.picks))
	for i := range cs.picks {
		cs.primaryRows[i] = cs.picks[i].row
	}
	cs.picks, cs.ids = nil, strmap.Arena{}
}

// isPrimary reports whether the subscriptions file's row is the customer's
// primary subscription.
func (cs *customers) isPrimary(f *facts, row int32) bool { return cs.primaryRows[f.pick] == row }

// facts is what the subscription pass needs of one customer. The strings are packed
// into one (each as uvarint(len+1) then its bytes, 0 for an absent attribute),
// after the numbers the flags say are there (varints): a million customers as
// structs of twenty string headers would not fit the budget.
type facts struct {
	pick   int32 // index into picks, then primaryRows
	packed strmap.Ref
	flags  uint8
}

const (
	hasCreatedAt = 1 << iota
	isDeleted
	contactDone
	isPacked
	hasCardMonth
	hasCardYear
)

// packer packs and unpacks customers. Unpacking fills a scratch customer whose
// strings point into the packed string, so mapping a subscription allocates nothing
// for its customer.
type packer struct {
	arena   strmap.Arena
	buf     []byte
	scratch schemas.Customer
	created int64
	cardMon int64
	cardYr  int64
	cv      []attrValue
}

func (pk *packer) fields(c *schemas.Customer) [25]*string {
	a := &c.BillingAddress
	return [25]*string{&c.Email, &c.FirstName, &c.LastName, &c.Phone, &c.Company, &c.AutoCollection,
		&c.PaymentMethodType, &a.FirstName, &a.LastName, &a.Email, &a.Company, &a.Phone, &a.Line1,
		&a.Line2, &a.Line3, &a.City, &a.StateCode, &a.State, &a.Country, &a.Zip,
		&c.PrimaryPaymentSource, &c.PIICleared, &c.CardPaymentSourceID, &c.CardType, &c.CardLast4}
}

// pack stores the customer into f.
func (pk *packer) pack(f *facts, c *schemas.Customer, cv []attrValue) {
	b := pk.buf[:0]
	if c.CreatedAt != nil {
		f.flags |= hasCreatedAt
		b = binary.AppendVarint(b, *c.CreatedAt)
	}
	if c.CardExpiryMonth != nil {
		f.flags |= hasCardMonth
		b = binary.AppendVarint(b, *c.CardExpiryMonth)
	}
	if c.CardExpiryYear != nil {
		f.flags |= hasCardYear
		b = binary.AppendVarint(b, *c.CardExpiryYear)
	}
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
	if c.Deleted {
		f.flags |= isDeleted
	}
}

// unpack returns the scratch customer (valid until the next unpack) and its
// precomputed attribute values.
func (pk *packer) unpack(id string, f *facts, nattrs int) (*schemas.Customer, []attrValue) {
	c := &pk.scratch
	*c = schemas.Customer{ID: id, Deleted: f.flags&isDeleted != 0}
	s := pk.arena.String(f.packed)
	num := func(flag uint8, dst *int64, p **int64) {
		if f.flags&flag == 0 {
			return
		}
		var u uint64
		u, s = uvarint(s)
		*dst, *p = int64(u>>1), dst // binary.AppendVarint's zigzag
		if u&1 != 0 {
			*dst = ^*dst
		}
	}
	num(hasCreatedAt, &pk.created, &c.CreatedAt)
	num(hasCardMonth, &pk.cardMon, &c.CardExpiryMonth)
	num(hasCardYear, &pk.cardYr, &c.CardExpiryYear)
	next := func() (string, bool) {
		var n uint64
		n, s = uvarint(s)
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

// uvarint reads binary.AppendUvarint's bytes off the front of s (packed by pack,
// so well formed).
func uvarint(s string) (uint64, string) {
	var n uint64
	for shift := 0; ; shift += 7 {
		b := s[0]
		s = s[1:]
		n |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return n, s
		}
	}
}
