package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// Element types of chargebee's anonymous struct fields, spelled out (tags included)
// so that values of exactly those types can be built here.
type (
	cbDiscount      = chargebee.InvoiceDiscount
	cbCreditNote    = chargebee.InvoiceIssuedCreditNote
	cbPaymentMethod = struct {
		Type string `json:"type"`
	}
)

// A generated customer with everything that hangs off it. The API types of
// stages/extract/chargebee hold every field cb2ac reads, so the snapshot format
// converts them with the extract stage's own Record methods; the extras hold what
// only the JSON pages show (gateways, line items, objects' "object" keys...).
type custOut struct {
	c       chargebee.Customer
	card    *chargebee.Card
	x       custExtra
	dup     *chargebee.Customer // a second copy under the same id (duplicate_id)
	subs    []*subOut
	invs    []*invOut
	gifts   []*giftOut
	changed bool // day 2: in the change set
}

type custExtra struct {
	cty                  *country
	allowDD              bool
	netTerm              int64
	pmGateway, pmAccount string
	pmRef                string
	cf                   [][2]string // sorted by key
	iin, funding, masked string
	hasAddr              bool
	emailNum             string // the customer's number as its email uses it
	kind                 custKind
	firstSlug, lastSlug  string
}

type subOut struct {
	s       chargebee.Subscription
	x       subExtra
	cust    *custOut
	changed bool
}

type subExtra struct {
	lines        []line
	reasonCode   string
	cancelSched  *int64
	dueSince     *int64
	trialAction  bool
	businessUnit bool // transferred: the business entity it moved to
	paySource    string
	bad          string
	gift         bool
	cf           [][2]string
}

type line struct {
	id, itemType, desc, model, entityType string
	unit, qty                             int64
}

func (l line) amount() int64 { return l.unit * l.qty }

type invOut struct {
	v       chargebee.Invoice
	x       invExtra
	changed bool
}

type invExtra struct {
	lines         []line
	itemDisc      []int64 // per line
	from, to      int64
	credits       int64
	first, final  bool
	netTerm       int64
	discounts     []discount
	cn            *creditNote
	nextRetry     *int64
	voidedAt      *int64
	seq           int64 // for line item and transaction ids
	transactionAt int64
}

type discount struct {
	amount        int64
	desc, typ, id string
}

type creditNote struct {
	id          string
	date, total int64
	full        bool
}

type giftOut struct {
	g          chargebee.Gift
	sub        *subOut
	receiver   *custOut
	scheduled  int64
	autoClaim  bool
	note, sign string
	invoiceID  string
	changed    bool
}

// Customer kinds: the deliberately bad or special ones, one customer in every
// g.every (index%every == every/2), in turn.
type custKind int

const (
	kindNormal custKind = iota
	kindNoEmail
	kindInvalidEmail
	kindDupEmail
	kindNoSubscription
	kindGifter
	kindDeleted
	kindBadDate
	kindDupID
	numSpecialKinds = 8
)

var kindNames = map[custKind]string{
	kindNoEmail: "missing_email", kindInvalidEmail: "invalid_email", kindDupEmail: "duplicate_email",
	kindNoSubscription: "no_subscription", kindGifter: "gift_purchaser", kindDeleted: "deleted",
	kindBadDate: "bad_date", kindDupID: "duplicate_id",
}

// Bad subscriptions: the first subscription of one customer in every g.every
// (index%every == every/4).
var subBadKinds = []string{"unknown_status", "bad_amount", "unknown_currency", "bad_date_created", "bad_date_term"}

const (
	// One customer in 200 is special and one in 200 has a bad subscription: with
	// the bad records among the special ones, about 0.5% of records are rejected.
	// Small sets space them closer (at most 1 in 10), so that from about 100
	// customers on every kind is there.
	specialEvery   = 200
	lifeSalt       = 0x6c69666520202020 // streams: a customer's life, its day-2 changes
	day2Salt       = 0x6461792d32202020
	maxSubs        = 3
	maxInvsPerSub  = 3 // a voided first attempt, its re-issue, a one-off charge
	maxInvsPerCust = maxSubs * maxInvsPerSub
)

// gen makes customers one at a time, in index order. Everything about customer i
// comes from random streams seeded by (seed, i), so the output does not depend on
// how it is consumed; only the running id counters carry over from one customer to
// the next.
type gen struct {
	seed    uint64
	n       int     // day-1 customers
	nNew    int     // customers created on day 2 (0 on day 1)
	day2    float64 // fraction changed on day 2; 0 = day 1
	width   int
	every   int // spacing of the special customers
	pcg     *rand.PCG
	r       *rand.Rand
	pcg2    *rand.PCG
	r2      *rand.Rand
	subSeq  int
	invSeq  int
	inv2Seq int
	giftFor *custOut // a gift purchaser whose receiver is the next customer
	ints    slab
	counts  map[string]int
}

func newGen(seed uint64, n int, day2 float64) *gen {
	g := &gen{seed: seed, n: n, day2: day2, counts: map[string]int{}}
	g.every = min(specialEvery, max(10, n/(2*numSpecialKinds)))
	if day2 > 0 {
		g.nNew = max(1, int(float64(n)*day2/10+0.5))
	}
	// The largest number any id carries: day-2 invoices are numbered after every
	// possible day-1 invoice, so they need no pass over day 1 first.
	g.width = max(4, len(strconv.Itoa(maxInvsPerCust*2*(n+g.nNew))))
	g.inv2Seq = maxInvsPerCust * (n + g.nNew)
	g.pcg = rand.NewPCG(0, 0)
	g.r = rand.New(g.pcg)
	g.pcg2 = rand.NewPCG(0, 0)
	g.r2 = rand.New(g.pcg2)
	return g
}

// total is the number of customers generated: day 1's, plus day 2's new ones.
func (g *gen) total() int { return g.n + g.nNew }

// slab hands out *int64 from blocks: a million subscriptions carry a dozen optional
// timestamps each, and one allocation per block instead of per value keeps the
// garbage collector out of the profile.
type slab struct{ buf []int64 }

func (s *slab) p(v int64) *int64 {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]int64, 0, 4096)
	}
	s.buf = append(s.buf, v)
	return &s.buf[len(s.buf)-1]
}

func (g *gen) p(v int64) *int64 { return g.ints.p(v) }

func pad(prefix string, n, width int) string {
	s := strconv.Itoa(n)
	if len(s) >= width {
		return prefix + s
	}
	return prefix + strings.Repeat("0", width-len(s)) + s
}

func between(r *rand.Rand, a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + r.Int64N(b-a)
}

func rv(r *rand.Rand, updated int64) int64 { return updated*1000 + 1 + r.Int64N(899) }

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// hashID is an id that looks random but is a function of its inputs, so ids of
// line items and transactions need no random draws and no storage.
func hashID(prefix string, a, b int64, n int) string {
	x := uint64(a)*0x9E3779B97F4A7C15 ^ uint64(b+1)*0xC2B2AE3D27D4EB4F
	buf := make([]byte, len(prefix), len(prefix)+n)
	copy(buf, prefix)
	for range n {
		x ^= x >> 29
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 32
		buf = append(buf, alnum[x%uint64(len(alnum))])
	}
	return string(buf)
}

func randID(r *rand.Rand, prefix string, n int) string {
	buf := make([]byte, len(prefix), len(prefix)+n)
	copy(buf, prefix)
	for range n {
		buf = append(buf, alnum[r.IntN(len(alnum))])
	}
	return string(buf)
}

// ---------------------------------------------------------------- time

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func addMonths(t int64, n int) int64 {
	tm := time.Unix(t, 0).UTC()
	y, m, d := tm.Date()
	total := int(m) - 1 + n
	ny, nm := y+total/12, total%12
	if nm < 0 {
		nm += 12
		ny--
	}
	month := time.Month(nm + 1)
	d = min(d, daysIn(ny, month))
	return time.Date(ny, month, d, tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC).Unix()
}

func boundary(anchor int64, unit string, period, k int64) int64 {
	switch unit {
	case "day":
		return anchor + k*period*day
	case "week":
		return anchor + k*period*7*day
	case "month":
		return addMonths(anchor, int(k*period))
	case "year":
		return addMonths(anchor, int(12*k*period))
	}
	panic("bad unit " + unit)
}

// termIndex is the largest k >= 0 whose term boundary is at or before t.
func termIndex(anchor int64, unit string, period, t int64) int64 {
	if t <= anchor {
		return 0
	}
	var k int64
	switch unit {
	case "day":
		return (t - anchor) / (period * day)
	case "week":
		return (t - anchor) / (period * 7 * day)
	case "month", "year":
		m := period
		if unit == "year" {
			m *= 12
		}
		a, b := time.Unix(anchor, 0).UTC(), time.Unix(t, 0).UTC()
		months := int64(b.Year()-a.Year())*12 + int64(b.Month()-a.Month())
		k = max(months/m-1, 0)
	}
	for boundary(anchor, unit, period, k+1) <= t {
		k++
	}
	return k
}

func mrrOf(amount int64, unit string, period int64) int64 {
	switch unit {
	case "day":
		return amount * 365 / (12 * period)
	case "week":
		return amount * 52 / (12 * period)
	case "month":
		return amount / period
	case "year":
		return amount / (12 * period)
	}
	return 0
}

// ---------------------------------------------------------------- people

type person struct {
	cty         *country
	first, last name
	email       string
}

// personOf draws customer i's name and email from a stream of their own, so a
// duplicate_email customer can look up its neighbour's address without replaying
// anything else.
func (g *gen) personOf(i int) person {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	w := r.IntN(countryWeightTotal)
	var cty *country
	for k := range countries {
		if w < countries[k].weight {
			cty = &countries[k]
			break
		}
		w -= countries[k].weight
	}
	p := person{cty: cty, first: cty.first[r.IntN(len(cty.first))], last: cty.last[r.IntN(len(cty.last))]}
	local := p.first.slug + "." + p.last.slug + "." + strconv.Itoa(i+1)
	domain := domains[r.IntN(len(domains))]
	switch u := r.IntN(100); {
	case u < 8: // as typed into a checkout form
		local = capitalize(p.first.slug) + "." + capitalize(p.last.slug) + "." + strconv.Itoa(i+1)
		domain = capitalize(domain)
	case u < 13:
		local += "+billing"
	}
	p.email = local + "@" + domain
	return p
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// swapCase turns an address into another spelling of the same one (AC ignores case).
func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		}
	}
	return string(b)
}

func (g *gen) address(r *rand.Rand, cty *country, first, last name, company, object string) *chargebee.Address {
	pl := cty.places[r.IntN(len(cty.places))]
	a := &chargebee.Address{
		FirstName: first.text, LastName: last.text, Company: company,
		Line1: fmt.Sprintf(cty.streets[r.IntN(len(cty.streets))], 1+r.IntN(400)),
		City:  pl.city, StateCode: pl.stateCode, State: pl.state, Country: cty.code, Zip: pl.zip,
	}
	if r.IntN(4) == 0 {
		a.Line2 = line2s[r.IntN(len(line2s))]
	}
	return a
}

func phone(r *rand.Rand, cty *country) string {
	n := 1
	for range cty.phoneDigits {
		n *= 10
	}
	return fmt.Sprintf(cty.phone, r.IntN(n))
}

// ---------------------------------------------------------------- customers

// customer generates customer i with its subscriptions and invoices (and, on day 2,
// applies that day's changes to them).
func (g *gen) customer(i int) *custOut {
	isNew := i >= g.n
	now := day1Now
	if isNew {
		now = day2Now
	}
	kind := kindNormal
	if !isNew && i%g.every == g.every/2 {
		kind = custKind(1 + (i/g.every)%numSpecialKinds)
	}
	subBad := ""
	if !isNew && i%g.every == g.every/4 {
		subBad = subBadKinds[(i/g.every)%len(subBadKinds)]
	}

	p := g.personOf(i)
	g.pcg.Seed(g.seed^lifeSalt, uint64(i))
	r := g.r
	c := &custOut{}
	c.x.cty, c.x.kind, c.x.firstSlug, c.x.lastSlug = p.cty, kind, p.first.slug, p.last.slug
	c.x.emailNum = strconv.Itoa(i + 1)
	a := &c.c
	a.ID = pad("cus_", i+1, g.width)
	a.FirstName, a.LastName, a.Email = p.first.text, p.last.text, p.email
	a.Locale, a.PreferredCurrencyCode = p.cty.locale, p.cty.cur
	a.AutoCollection, a.CardStatus = "on", "no_card"

	// created_at grows with the index, so list order is created_at order.
	var created int64
	if isNew {
		span := day - 4*3600
		j := int64(i - g.n)
		created = day1Now + j*span/int64(g.nNew) + between(r, 0, max(span/int64(g.nNew), 1))
	} else {
		span := day1Now - 3*day - rangeStart
		created = rangeStart + int64(i)*span/int64(g.n) + between(r, 0, max(span/int64(g.n), 1))
	}

	if r.IntN(10) < 3 {
		a.Company = companies[r.IntN(len(companies))]
	}
	if r.IntN(2) == 0 {
		a.Phone = phone(r, p.cty)
	}
	if r.IntN(10) != 0 {
		a.BillingAddress = g.address(r, p.cty, p.first, p.last, a.Company, "billing_address")
		c.x.hasAddr = true
	}
	if r.IntN(4) == 0 {
		c.x.cf = append(c.x.cf, [2]string{"cf_industry", industries[r.IntN(len(industries))]})
		c.x.cf = append(c.x.cf, [2]string{"cf_marketing_opt_in", []string{"yes", "no"}[r.IntN(2)]})
		if r.IntN(2) == 0 {
			c.x.cf = append(c.x.cf, [2]string{"cf_referral_source", referrals[r.IntN(len(referrals))]})
		}
	}
	a.CustomFields = cfJSON(c.x.cf)
	g.payment(r, c, p)

	// Subscriptions: 1.2 a customer on average.
	nsubs := 1
	switch u := r.IntN(100); {
	case kind == kindNoSubscription || kind == kindGifter:
		nsubs = 0
	case kind == kindDeleted:
		nsubs = 1
	case u >= 97:
		nsubs = 3
	case u >= 83:
		nsubs = 2
	}
	gifter := g.giftFor
	g.giftFor = nil
	prev := created
	for k := range nsubs {
		bad := ""
		if k == 0 {
			bad = subBad
		}
		s := g.subscription(r, c, k, created, prev, now, k == 0 && gifter != nil, bad, kind == kindDeleted, isNew)
		prev = *s.s.CreatedAt
		if bad == "bad_date_created" {
			prev = created + 60
		}
		c.subs = append(c.subs, s)
		if k == 0 && gifter != nil {
			g.gift(r, gifter, c, s, now)
		}
	}
	if kind == kindGifter && i+1 < g.n {
		g.giftFor = c
	}

	// updated_at and the resource version last: they follow the subscriptions.
	var updated int64
	switch {
	case kind == kindDeleted:
		updated = min(*c.subs[0].s.CancelledAt+5*day+3721, now-3600)
	case r.IntN(3) == 0:
		updated = created + r.Int64N(121)
	default:
		updated = between(r, created, now-3600)
	}
	updated = max(updated, created)
	a.CreatedAt, a.UpdatedAt, a.ResourceVersion = g.p(created), g.p(updated), rv(r, updated)
	if len(c.subs) > 0 && c.subs[0].s.CurrencyCode != "XYZ" {
		a.PreferredCurrencyCode = c.subs[0].s.CurrencyCode
	}

	switch kind {
	case kindNoEmail:
		a.Email = ""
	case kindInvalidEmail:
		a.Email = badEmails[(i/g.every/numSpecialKinds)%len(badEmails)]
	case kindDupEmail:
		// The neighbour's address in other letters: one AC contact, two customers;
		// the one updated last keeps it.
		a.Email = swapCase(g.personOf(i - 1).email)
	case kindDeleted:
		a.Deleted = true
		for _, s := range c.subs {
			s.s.Deleted = true
			s.s.UpdatedAt, s.s.ResourceVersion = g.p(updated), rv(r, updated)
		}
		for _, in := range c.invs {
			in.v.Deleted = true
			in.v.UpdatedAt, in.v.ResourceVersion = g.p(updated), rv(r, updated)
		}
	case kindBadDate:
		a.CreatedAt = g.p(0)
	case kindDupID:
		// Same id and resource_version, other content: a conflict extract must keep
		// and validate must reject, never a silent pick.
		d := *a
		d.Email = "r." + p.last.slug + "." + c.x.emailNum + "@example.org"
		c.dup = &d
	}
	if kind != kindNormal {
		g.counts["customers."+kindNames[kind]]++
	}
	if subBad != "" && len(c.subs) > 0 {
		g.counts["subscriptions."+subBad]++
	}

	if isNew {
		g.markAll(c)
	} else if g.day2 > 0 {
		g.changeDay2(c, i)
	}
	return c
}

func cfJSON(cf [][2]string) string {
	if len(cf) == 0 {
		return ""
	}
	var w jw
	w.open('{')
	for _, kv := range cf {
		w.kstr(kv[0], kv[1])
	}
	w.close('}')
	return string(w.b)
}

func (g *gen) payment(r *rand.Rand, c *custOut, p person) {
	a := &c.c
	u := r.IntN(100)
	if u < 10 {
		a.AutoCollection = "off"
		c.x.netTerm = 30
		return
	}
	a.PrimaryPaymentSourceID = randID(r, "pm_", 16)
	switch {
	case u < 18:
		a.PaymentMethod = &cbPaymentMethod{Type: "paypal_express_checkout"}
		c.x.pmGateway, c.x.pmAccount = "paypal_express_checkout", "gw_paypal_main"
		c.x.pmRef = randID(r, "B-", 17)
	case u < 25 && p.cty.cur == "EUR":
		a.PaymentMethod = &cbPaymentMethod{Type: "direct_debit"}
		c.x.allowDD = true
		c.x.pmGateway, c.x.pmAccount = "gocardless", "gw_gocardless_eu"
		c.x.pmRef = randID(r, "MD", 12)
	default:
		status := "valid"
		var month, year int64
		switch v := r.IntN(100); {
		case v < 3:
			status, month, year = "expiring", 12, 2026
		case v < 5:
			status, month, year = "expired", int64(1+r.IntN(9)), 2026-int64(r.IntN(2))
		default:
			month, year = int64(1+r.IntN(12)), 2027+int64(r.IntN(4))
		}
		a.CardStatus = status
		a.PaymentMethod = &cbPaymentMethod{Type: "card"}
		c.x.pmGateway, c.x.pmAccount = "stripe", "gw_stripe_main"
		c.x.pmRef = randID(r, "cus_", 14) + randID(r, "/card_", 24)
		brand, iin, digits := "visa", "411111", 16
		switch v := r.IntN(10); {
		case v >= 9:
			brand, iin, digits = "american_express", "378282", 15
		case v >= 6:
			brand, iin = "mastercard", "555555"
		}
		last4 := fmt.Sprintf("%04d", r.IntN(10000))
		c.card = &chargebee.Card{Status: status, CardType: brand, Last4: last4, ExpiryMonth: g.p(month), ExpiryYear: g.p(year)}
		c.x.iin, c.x.funding, c.x.masked = iin, "credit", strings.Repeat("*", digits-4)+last4
	}
}

// ---------------------------------------------------------------- subscriptions

func (g *gen) lines(r *rand.Rand, cur string, gift bool) (lines []line, unit string, period int64, pc1 bool) {
	if !gift && legacyByCur[cur] != nil && r.IntN(100) < 5 {
		lp := legacyByID[legacyByCur[cur][r.IntN(len(legacyByCur[cur]))]]
		lines = append(lines, line{id: lp.id, itemType: "plan", desc: lp.name, model: "per_unit", entityType: "plan", unit: lp.price, qty: 1})
		if ads := addonsFor[lp.id]; len(ads) > 0 && r.IntN(10) < 3 {
			ad := legacyByID[ads[r.IntN(len(ads))]]
			lines = append(lines, line{id: ad.id, itemType: "addon", desc: ad.name, model: "per_unit", entityType: "addon", unit: ad.price, qty: 1 + r.Int64N(3)})
		}
		return lines, lp.unit, lp.period, true
	}
	plans := plansByCur[cur]
	id := plans[r.IntN(len(plans))]
	if gift {
		// Gifts are a year of the entry plan: a gift that ended would be cancelled.
		id = map[string]string{"USD": "starter-USD-yearly", "EUR": "starter-EUR-yearly", "JPY": "basic-JPY-yearly", "KWD": "gold-KWD-yearly"}[cur]
	}
	p := priceByID[id]
	qty := int64(1)
	if p.model == "per_unit" && r.IntN(3) == 0 {
		qty = 2 + r.Int64N(4)
	}
	lines = append(lines, line{id: p.id, itemType: "plan", desc: p.ext, model: p.model, entityType: "plan_item_price", unit: p.price, qty: qty})
	if ads := addonsFor[p.id]; !gift && len(ads) > 0 && r.IntN(5) == 0 {
		ad := priceByID[ads[r.IntN(len(ads))]]
		lines = append(lines, line{id: ad.id, itemType: "addon", desc: ad.ext, model: ad.model, entityType: "addon_item_price", unit: ad.price, qty: 1 + r.Int64N(4)})
	}
	if fee := priceByID["setup-fee-"+cur]; fee != nil && !gift && r.IntN(100) < 3 {
		lines = append(lines, line{id: fee.id, itemType: "charge", desc: fee.ext, model: fee.model, entityType: "charge_item_price", unit: fee.price, qty: 1})
	}
	return lines, p.unit, p.period, false
}

func recurringAmount(lines []line) int64 {
	var t int64
	for _, l := range lines {
		if l.itemType != "charge" {
			t += l.amount()
		}
	}
	return t
}

// setLines writes a subscription's items in its catalog's shape: subscription_items
// (Product Catalog 2.0) or plan_* and addons (1.0).
func (g *gen) setLines(s *subOut, pc1 bool) {
	a := &s.s
	a.SubscriptionItems, a.Addons = nil, nil
	for k, l := range s.x.lines {
		if pc1 {
			if k == 0 {
				a.PlanID, a.PlanQuantity, a.PlanUnitPrice, a.PlanAmount = l.id, l.qty, g.p(l.unit), g.p(l.amount())
			} else {
				a.Addons = append(a.Addons, chargebee.Addon{ID: l.id, Quantity: l.qty, UnitPrice: g.p(l.unit), Amount: g.p(l.amount())})
			}
			continue
		}
		a.SubscriptionItems = append(a.SubscriptionItems, chargebee.SubscriptionItem{ItemPriceID: l.id, ItemType: l.itemType, Quantity: l.qty, UnitPrice: g.p(l.unit), Amount: g.p(l.amount())})
	}
}

// subscription makes a customer's k-th subscription, its timeline and its invoices.
func (g *gen) subscription(r *rand.Rand, c *custOut, k int, custCreated, prev, now int64, gift bool, bad string, deletedCust, isNew bool) *subOut {
	g.subSeq++
	s := &subOut{cust: c}
	a := &s.s
	a.ID = pad("sub_", g.subSeq, g.width)
	a.CustomerID = c.c.ID
	a.AutoCollection = c.c.AutoCollection
	cur := c.x.cty.cur
	var pc1 bool
	s.x.lines, a.BillingPeriodUnit, a.BillingPeriod, pc1 = g.lines(r, cur, gift)
	a.CurrencyCode = cur
	g.setLines(s, pc1)
	s.x.paySource = c.c.PrimaryPaymentSourceID
	s.x.bad, s.x.gift = bad, gift
	unit, period := a.BillingPeriodUnit, a.BillingPeriod
	bnd := func(anchor, k int64) int64 { return boundary(anchor, unit, period, k) }

	status, due := "", false
	switch u := r.IntN(1000); {
	case gift && u < 500:
		status = "non_renewing"
	case gift:
		status = "future"
	case deletedCust:
		status = "cancelled"
	case isNew && u < 800:
		status = "active"
	case isNew:
		status = "in_trial"
	case u < 580:
		status = "active"
	case u < 610:
		status, due = "active", true
	case u < 650:
		status = "non_renewing"
	case u < 660:
		status, due = "non_renewing", true
	case u < 710:
		status = "in_trial"
	case u < 740:
		status = "future"
	case u < 770:
		status = "paused"
	case u < 990:
		status = "cancelled"
	default:
		status = "transferred"
	}
	if bad == "unknown_status" {
		status, due = "suspended", false
	}
	a.Status = status

	earliest := custCreated + 30
	if k > 0 {
		earliest = prev + 60
	}
	// A regular start: shortly after sign-up for the first subscription, weeks or
	// months later for the next ones.
	created := earliest + r.Int64N(1800)
	if k > 0 {
		created = earliest + r.Int64N(200*day)
	}
	created = max(min(created, now-2*day), earliest)
	if isNew {
		created = min(earliest+r.Int64N(1800), now-3600)
	}

	var updated, invDate, invFrom, invTo, invTerm int64 = 0, 0, 0, 0, -1
	var reason string
	switch status {
	case "active", "non_renewing", "suspended":
		if gift {
			created = custCreated + 65
			anchor := max(created, now-between(r, 1, 300)*day)
			curEnd := bnd(anchor, 1)
			a.StartedAt, a.ActivatedAt = g.p(anchor), g.p(anchor)
			a.CurrentTermStart, a.CurrentTermEnd = g.p(anchor), g.p(curEnd)
			a.CancelledAt, a.RemainingBillingCycles = g.p(curEnd), g.p(0)
			a.GiftID = "gift_" + c.c.ID[len("cus_"):]
			a.MRR = g.p(0)
			s.x.paySource = ""
			updated = anchor + between(r, 30, 120)
			break
		}
		anchor := created
		if !isNew && status == "active" && r.IntN(100) < 15 && created+14*day < now-day {
			a.TrialStart, a.TrialEnd = g.p(created), g.p(created+14*day)
			anchor = created + 14*day
		}
		term := termIndex(anchor, unit, period, now)
		curStart, curEnd := bnd(anchor, term), bnd(anchor, term+1)
		a.StartedAt, a.ActivatedAt = g.p(created), g.p(anchor)
		a.CurrentTermStart, a.CurrentTermEnd = g.p(curStart), g.p(curEnd)
		a.MRR = g.p(mrrOf(recurringAmount(s.x.lines), unit, period))
		updated = curStart + r.Int64N(900)
		if status == "non_renewing" {
			a.CancelledAt = g.p(curEnd)
			if r.IntN(2) == 0 {
				a.RemainingBillingCycles = g.p(0)
			} else {
				cs := min(between(r, curStart+day, now-day), now-600)
				s.x.cancelSched = g.p(cs)
				updated = cs
			}
		} else {
			a.NextBillingAt = g.p(curEnd)
			if r.IntN(100) < 5 {
				a.RemainingBillingCycles = g.p(2 + r.Int64N(5))
			}
		}
		invDate, invFrom, invTo, invTerm = curStart, curStart, curEnd, term
	case "in_trial":
		created = max(earliest, now-between(r, 2*day, 20*day))
		if isNew {
			created = min(earliest+r.Int64N(1800), now-3600)
		}
		a.StartedAt, a.TrialStart, a.TrialEnd = g.p(created), g.p(created), g.p(created+30*day)
		a.CurrentTermStart, a.CurrentTermEnd = g.p(created), g.p(created+30*day)
		a.NextBillingAt = g.p(created + 30*day)
		a.MRR = g.p(0)
		s.x.trialAction = true
		updated = created + between(r, 1, 60)
	case "future":
		created = max(earliest, now-between(r, 5*day, 30*day))
		if gift {
			created = custCreated + 65
			a.GiftID = "gift_" + c.c.ID[len("cus_"):]
			s.x.paySource = ""
		}
		sd := now + between(r, 5, 60)*day
		sd -= sd % day
		a.StartDate, a.NextBillingAt = g.p(sd), g.p(sd)
		a.MRR = g.p(0)
		updated = created + between(r, 1, 60)
	case "paused":
		pause := between(r, max(created+day, now-90*day), now-day)
		term := termIndex(created, unit, period, pause)
		curStart, curEnd := bnd(created, term), bnd(created, term+1)
		a.StartedAt, a.ActivatedAt = g.p(created), g.p(created)
		a.CurrentTermStart, a.CurrentTermEnd = g.p(curStart), g.p(curEnd)
		a.PauseDate = g.p(pause)
		if r.IntN(2) == 0 {
			resume := max(addMonths(pause, 2), now+7*day)
			a.ResumeDate, a.NextBillingAt = g.p(resume), g.p(resume)
		}
		a.MRR = g.p(0)
		updated = pause + between(r, 1, 30)
		invDate, invFrom, invTo, invTerm = curStart, curStart, curEnd, term
	case "cancelled", "transferred":
		end := between(r, created+3600, now-3600)
		term := termIndex(created, unit, period, end)
		curStart, curEnd := bnd(created, term), bnd(created, term+1)
		if status == "cancelled" && !deletedCust {
			switch u := r.IntN(100); {
			case u < 35:
			case u < 55:
				reason = "not_paid"
			case u < 70:
				// Ran out of billing cycles: it ends on a term boundary.
				if term >= 1 || bnd(created, 1) <= now-3600 {
					if term == 0 {
						term = 1
					}
					end = bnd(created, term)
					curStart, curEnd = bnd(created, term-1), end
					term--
					a.RemainingBillingCycles = g.p(0)
				}
			case u < 78:
				reason = "no_card"
			case u < 83:
				reason = "fraud_review_failed"
			case u < 87:
				reason = "non_compliant_eu_customer"
			case u < 91:
				reason = "tax_calculation_failed"
			case u < 95:
				reason = "currency_incompatible_with_gateway"
			default:
				reason = "non_compliant_customer"
			}
			if reason == "" && a.RemainingBillingCycles == nil && r.IntN(2) == 0 {
				s.x.reasonCode = reasonCodes[r.IntN(len(reasonCodes))]
			}
		}
		a.StartedAt, a.ActivatedAt = g.p(created), g.p(created)
		a.CurrentTermStart, a.CurrentTermEnd = g.p(curStart), g.p(curEnd)
		a.MRR = g.p(0)
		if status == "cancelled" {
			a.CancelledAt = g.p(end)
			a.CancelReason = reason
		} else {
			s.x.businessUnit = true
		}
		updated = end + between(r, 1, 30)
		invDate, invFrom, invTo, invTerm = curStart, curStart, curEnd, term
	}
	updated = max(min(updated, now-60), created)
	a.CreatedAt = g.p(created)
	a.UpdatedAt, a.ResourceVersion = g.p(updated), rv(r, updated)

	if strings.HasPrefix(items0(a), "weekly-box") {
		ship := g.address(r, c.x.cty, name{text: c.c.FirstName}, name{text: c.c.LastName}, c.c.Company, "shipping_address")
		if c.c.BillingAddress != nil && r.IntN(2) == 0 {
			ship = new(chargebee.Address)
			*ship = *c.c.BillingAddress
		}
		a.ShippingAddress = ship
	}
	var cf [][2]string
	if r.IntN(100) < 5 {
		cf = append(cf, [2]string{"cf_contract_id", fmt.Sprintf("CT-%d-%03d", 2024+r.IntN(3), r.IntN(1000))})
		cf = append(cf, [2]string{"cf_sales_rep", salesReps[r.IntN(len(salesReps))]})
	}
	a.CustomFields, s.x.cf = cfJSON(cf), cf

	switch bad {
	case "bad_amount":
		l := &s.x.lines[len(s.x.lines)-1]
		l.unit = -l.unit
		g.setLines(s, pc1)
	case "unknown_currency":
		a.CurrencyCode = "XYZ"
	case "bad_date_created":
		a.CreatedAt = g.p(-5)
	case "bad_date_term":
		if a.CurrentTermStart == nil { // a future subscription has no term yet
			a.CurrentTermStart = g.p(created)
		}
		a.CurrentTermEnd = g.p(*a.CurrentTermStart - 30*day)
	}

	// Invoices: the latest recurring one of a billed subscription. A few subscriptions
	// were imported without their invoice history, and the bad ones have none, as in
	// the fixtures.
	if invTerm >= 0 && bad == "" && !gift && r.IntN(100) >= 8 {
		g.subInvoices(r, c, s, invDate, invFrom, invTo, invTerm == 0, due, reason, now, isNew)
	}
	return s
}

// items0 is the first item's price id: the plan.
func items0(a *chargebee.Subscription) string {
	if a.PlanID != "" {
		return a.PlanID
	}
	if len(a.SubscriptionItems) > 0 {
		return a.SubscriptionItems[0].ItemPriceID
	}
	return ""
}

// ---------------------------------------------------------------- invoices

type invOpts struct {
	recurring, first, gifted, final bool
	from, to                        int64
	docPct, itemPct                 int64
	credits                         int64
	day2                            bool
}

func (g *gen) newInvoice(r *rand.Rand, s *subOut, payer *custOut, date int64, lines []line, o invOpts, now int64) *invOut {
	in := &invOut{}
	if o.day2 {
		g.inv2Seq++
		in.x.seq = int64(g.inv2Seq)
	} else {
		g.invSeq++
		in.x.seq = int64(g.invSeq)
	}
	v := &in.v
	v.ID = pad("inv_", int(in.x.seq), g.width)
	v.CustomerID, v.SubscriptionID = payer.c.ID, s.s.ID
	v.Recurring, v.IsGifted = o.recurring, o.gifted
	v.CurrencyCode = s.s.CurrencyCode
	in.x.lines, in.x.from, in.x.to = lines, o.from, o.to
	in.x.first, in.x.final, in.x.netTerm = o.first, o.final, payer.x.netTerm
	in.x.itemDisc = make([]int64, len(lines))
	var subTotal, itemDisc int64
	for k, l := range lines {
		subTotal += l.amount()
		if o.itemPct > 0 && l.itemType == "addon" {
			d := l.amount() * o.itemPct / 100
			in.x.itemDisc[k] = d
			itemDisc += d
			in.x.discounts = append(in.x.discounts, discount{amount: d, desc: "SEATS20 - 20% off extra seats", typ: "item_level_coupon", id: "SEATS20"})
		}
	}
	docDisc := (subTotal - itemDisc) * o.docPct / 100
	if docDisc > 0 {
		in.x.discounts = append(in.x.discounts, discount{amount: docDisc, desc: "LOYAL10 - 10% loyalty discount", typ: "document_level_coupon", id: "LOYAL10"})
	}
	for _, d := range in.x.discounts {
		v.Discounts = append(v.Discounts, cbDiscount{Amount: d.amount, EntityType: d.typ})
	}
	taxable := subTotal - itemDisc - docDisc
	var tax int64
	if payer.x.hasAddr {
		tax = (taxable*payer.x.cty.tax + 50) / 100
	}
	total := taxable + tax
	in.x.credits = min(o.credits, total)
	v.Date, v.DueDate = g.p(date), g.p(date+in.x.netTerm*day)
	v.Total, v.SubTotal, v.Tax = g.p(total), g.p(subTotal), g.p(tax)
	switch {
	case in.x.netTerm == 0:
		g.setPaid(r, in, date+between(r, 20, 900))
	case date+in.x.netTerm*day > now:
		g.setStatus(r, in, "posted", date)
	default:
		g.setPaid(r, in, date+between(r, 3*day, 25*day))
	}
	return in
}

func (g *gen) setStatus(r *rand.Rand, in *invOut, status string, updated int64) {
	v := &in.v
	v.Status, v.PaidAt, v.DunningStatus, in.x.nextRetry, in.x.voidedAt = status, nil, "", nil, nil
	v.AmountPaid, v.AmountDue = g.p(0), g.p(*v.Total-in.x.credits)
	if status == "voided" {
		v.AmountDue, in.x.voidedAt = g.p(0), g.p(updated)
	}
	v.UpdatedAt, v.ResourceVersion = g.p(updated), rv(r, updated)
}

func (g *gen) setPaid(r *rand.Rand, in *invOut, paidAt int64) {
	g.setStatus(r, in, "paid", paidAt)
	v := &in.v
	v.AmountPaid, v.AmountDue, v.PaidAt = g.p(*v.Total-in.x.credits), g.p(0), g.p(paidAt)
	in.x.transactionAt = paidAt
}

func (g *gen) refund(r *rand.Rand, in *invOut, full bool, when int64) {
	amt := *in.v.Total
	if !full {
		amt /= 2
	}
	in.x.cn = &creditNote{id: "CN-" + strconv.FormatInt(in.x.seq, 10), date: when, total: amt, full: full}
	in.v.IssuedCreditNotes = []cbCreditNote{{CnTotal: amt, CnStatus: "refunded"}}
	in.v.UpdatedAt, in.v.ResourceVersion = g.p(when), rv(r, when)
}

// subInvoices writes the latest recurring invoice of a subscription, in the state its
// subscription implies, plus now and then a voided first attempt or a one-off charge.
func (g *gen) subInvoices(r *rand.Rand, c *custOut, s *subOut, date, from, to int64, first, due bool, reason string, now int64, isNew bool) {
	var lines []line
	hasAddon := false
	for _, l := range s.x.lines {
		if l.itemType != "charge" || first {
			lines = append(lines, l)
		}
		hasAddon = hasAddon || l.itemType == "addon"
	}
	o := invOpts{recurring: true, final: true, first: first, from: from, to: to, day2: isNew}
	special := r.IntN(1000)
	switch {
	case special >= 24 && special < 54:
		o.docPct = 10
	case special >= 54 && special < 64:
		o.credits = 500
	case special >= 64 && special < 84 && hasAddon:
		o.itemPct = 20
	}
	if r.IntN(100) == 0 {
		// The first attempt was voided (wrong address) and re-issued an hour later.
		v := g.newInvoice(r, s, c, date, lines, o, now)
		g.setStatus(r, v, "voided", date+2400)
		c.invs = append(c.invs, v)
		date += 3600
	}
	in := g.newInvoice(r, s, c, date, lines, o, now)
	c.invs = append(c.invs, in)
	end := deref(s.s.CancelledAt)
	switch {
	case due:
		g.setStatus(r, in, "payment_due", min(date+3*day+r.Int64N(3600), now-3600))
		in.v.DunningStatus = "in_progress"
		in.x.nextRetry = g.p(now + 6*3600 + r.Int64N(3600))
		s.s.DueInvoicesCount, s.x.dueSince, s.s.TotalDues = 1, g.p(date), in.v.AmountDue
	case reason == "not_paid":
		g.setStatus(r, in, "not_paid", max(end, date))
		in.v.DunningStatus = "exhausted"
		s.s.DueInvoicesCount, s.x.dueSince, s.s.TotalDues = 1, g.p(date), in.v.AmountDue
	case reason == "fraud_review_failed":
		g.setStatus(r, in, "voided", max(end, date))
	case special < 10:
		g.setStatus(r, in, "pending", date)
	case special < 17 && in.v.Status == "paid":
		g.refund(r, in, true, min(max(end, date+day), now-7200))
	case special < 24 && in.v.Status == "paid":
		g.refund(r, in, false, min(date+4*day, now-7200))
	}
	if fee := priceByID["setup-fee-"+s.s.CurrencyCode]; fee != nil && !isNew && r.IntN(100) < 2 {
		d := between(r, *s.s.CreatedAt+day, now-day)
		l := []line{{id: fee.id, itemType: "charge", desc: fee.ext, model: fee.model, entityType: "charge_item_price", unit: fee.price, qty: 1}}
		c.invs = append(c.invs, g.newInvoice(r, s, c, d, l, invOpts{from: d, to: d, final: true}, now))
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// ---------------------------------------------------------------- gifts

// gift links a gift purchaser (the previous customer, who has no subscription of
// their own) to the receiver's first subscription: a gift, its gifter invoice, and
// the gift object.
func (g *gen) gift(r *rand.Rand, gifter, receiver *custOut, s *subOut, now int64) {
	claimed := s.s.Status == "non_renewing"
	bought := *s.s.CreatedAt - 60
	lines := s.x.lines
	to := boundary(bought, s.s.BillingPeriodUnit, s.s.BillingPeriod, 1)
	in := g.newInvoice(r, s, gifter, bought, lines, invOpts{gifted: true, final: claimed, from: bought, to: to}, now)
	receiver.invs = append(receiver.invs, in)
	gf := &giftOut{sub: s, receiver: receiver, autoClaim: true, invoiceID: in.v.ID}
	gf.note = giftNotes[r.IntN(len(giftNotes))]
	gf.sign = gifter.c.FirstName + " " + gifter.c.LastName
	gf.g.ID = s.s.GiftID
	gf.g.Gifter.CustomerID = gifter.c.ID
	gf.g.GiftReceiver.CustomerID, gf.g.GiftReceiver.SubscriptionID = receiver.c.ID, s.s.ID
	var upd int64
	if claimed {
		gf.g.Status, gf.scheduled = "claimed", *s.s.ActivatedAt
		upd = gf.scheduled + 12
	} else {
		gf.g.Status, gf.scheduled = "scheduled", *s.s.StartDate
		upd = bought + 30
	}
	gf.g.UpdatedAt, gf.g.ResourceVersion = g.p(upd), rv(r, upd)
	receiver.gifts = append(receiver.gifts, gf)
	g.counts["gifts"]++
}

// ---------------------------------------------------------------- day 2

// markAll puts a customer created on day 2 into the change set, whole.
func (g *gen) markAll(c *custOut) {
	c.changed = true
	for _, s := range c.subs {
		s.changed = true
	}
	for _, in := range c.invs {
		in.changed = true
	}
	for _, gf := range c.gifts {
		gf.changed = true
	}
	g.counts["day2.customers_new"]++
}

// changeDay2 applies day 2 to customer i: with probability day2 the customer
// changes (a profile edit, an email change, or a deletion), and so, independently,
// does each of its subscriptions (a status move or a quantity change). The special
// customers and subscriptions stay as they are, so day 2's errors are day 1's.
func (g *gen) changeDay2(c *custOut, i int) {
	g.pcg2.Seed(g.seed^day2Salt, uint64(i))
	r := g.r2
	when := func() int64 { return day1Now + 60 + r.Int64N(day-7200) }
	if c.x.kind == kindNormal && r.Float64() < g.day2 {
		t := when()
		a := &c.c
		switch u := r.IntN(100); {
		case u < 5:
			a.Deleted = true
			for _, s := range c.subs {
				s.s.Deleted, s.changed = true, true
				s.s.UpdatedAt, s.s.ResourceVersion = g.p(t+1), rv(r, t+1)
			}
			for _, in := range c.invs {
				in.v.Deleted, in.changed = true, true
				in.v.UpdatedAt, in.v.ResourceVersion = g.p(t+2), rv(r, t+2)
			}
			g.counts["day2.customers_deleted"]++
		case u < 20:
			a.Email = c.x.firstSlug[:1] + "." + c.x.lastSlug + "." + c.x.emailNum + "@example.net"
			g.counts["day2.customers_email"]++
		case u < 55:
			a.Phone = phone(r, c.x.cty)
			g.counts["day2.customers_profile"]++
		case u < 75:
			a.Company = companies[r.IntN(len(companies))]
			g.counts["day2.customers_profile"]++
		default:
			a.LastName = c.x.cty.last[r.IntN(len(c.x.cty.last))].text
			g.counts["day2.customers_profile"]++
		}
		a.UpdatedAt, a.ResourceVersion = g.p(t), rv(r, t)
		c.changed = true
	}
	for _, s := range c.subs {
		if r.Float64() >= g.day2 || s.x.bad != "" || s.x.gift || s.s.Deleted {
			continue
		}
		g.changeSub(r, c, s, when())
	}
}

func (g *gen) changeSub(r *rand.Rand, c *custOut, s *subOut, t int64) {
	a := &s.s
	unit, period := a.BillingPeriodUnit, a.BillingPeriod
	// restart begins a new term at t and bills it: a trial ending, a future start, a
	// resume or a quantity change.
	restart := func(first bool) {
		a.Status = "active"
		a.CurrentTermStart, a.CurrentTermEnd = g.p(t), g.p(boundary(t, unit, period, 1))
		a.NextBillingAt = a.CurrentTermEnd
		a.PauseDate, a.ResumeDate, a.CancelledAt, a.RemainingBillingCycles, s.x.cancelSched = nil, nil, nil, nil, nil
		a.MRR = g.p(mrrOf(recurringAmount(s.x.lines), unit, period))
		var lines []line
		for _, l := range s.x.lines {
			if l.itemType != "charge" || first {
				lines = append(lines, l)
			}
		}
		in := g.newInvoice(r, s, c, t, lines, invOpts{recurring: true, final: true, first: first, from: t, to: *a.CurrentTermEnd, day2: true}, day2Now)
		g.setPaid(r, in, t+between(r, 20, 900))
		in.changed = true
		c.invs = append(c.invs, in)
	}
	latest := func() *invOut {
		var best *invOut
		for _, in := range c.invs {
			if in.v.SubscriptionID == a.ID && in.v.Recurring && (best == nil || *in.v.Date >= *best.v.Date) {
				best = in
			}
		}
		return best
	}
	kind := ""
	switch a.Status {
	case "active":
		switch u := r.IntN(100); {
		case a.DueInvoicesCount > 0 && u < 60:
			kind = "cancelled_not_paid"
			a.Status, a.CancelReason, a.CancelledAt, a.NextBillingAt = "cancelled", "not_paid", g.p(t), nil
			a.MRR = g.p(0)
			if in := latest(); in != nil && in.v.Status == "payment_due" {
				g.setStatus(r, in, "not_paid", t)
				in.v.DunningStatus, in.changed = "exhausted", true
			}
		case a.DueInvoicesCount > 0:
			kind = "payment_recovered"
			a.DueInvoicesCount, a.TotalDues, s.x.dueSince = 0, nil, nil
			if in := latest(); in != nil && in.v.Status == "payment_due" {
				g.setPaid(r, in, t)
				in.changed = true
			}
		case u < 30:
			kind = "cancelled"
			a.Status, a.CancelledAt, a.NextBillingAt = "cancelled", g.p(t), nil
			a.MRR = g.p(0)
			s.x.reasonCode = reasonCodes[r.IntN(len(reasonCodes))]
		case u < 45:
			kind = "paused"
			a.Status, a.PauseDate = "paused", g.p(t)
			a.ResumeDate = g.p(addMonths(t, 2))
			a.NextBillingAt, a.MRR = a.ResumeDate, g.p(0)
		case u < 60:
			kind = "non_renewing"
			a.Status, a.CancelledAt, a.NextBillingAt = "non_renewing", a.CurrentTermEnd, nil
			s.x.cancelSched = g.p(t)
		default:
			kind = "quantity"
			l := &s.x.lines[0]
			l.qty += 1 + r.Int64N(3)
			g.setLines(s, a.PlanID != "")
			restart(false)
		}
	case "non_renewing":
		if r.IntN(2) == 0 {
			kind = "cancelled"
			a.Status, a.CancelledAt, a.MRR = "cancelled", g.p(t), g.p(0)
		} else {
			kind = "reactivated"
			a.Status, a.CancelledAt, a.RemainingBillingCycles, s.x.cancelSched = "active", nil, nil, nil
			a.NextBillingAt = a.CurrentTermEnd
		}
	case "in_trial":
		kind = "trial_converted"
		a.TrialEnd, a.ActivatedAt = g.p(t), g.p(t)
		s.x.trialAction = false
		restart(true)
	case "future":
		kind = "started"
		a.StartedAt, a.ActivatedAt = g.p(t), g.p(t)
		restart(true)
	case "paused":
		kind = "resumed"
		restart(false)
	default:
		kind = "touched" // a note or a custom field edited: only updated_at moves
	}
	a.UpdatedAt, a.ResourceVersion = g.p(t+3), rv(r, t+3)
	s.changed = true
	g.counts["day2.subscriptions_"+kind]++
}
