package main

// The Product Catalog 1.0 site (fixtures/chargebee-pc1): a small site that still
// sells plans and addons, so subscriptions carry plan_id / plan_quantity /
// plan_unit_price / plan_amount / addons[] and invoices bill entity types plan,
// addon, plan_setup and adhoc. It has no item prices or items: a real site is one
// catalog version or the other. Ids are cus_1xxx, sub_1xxx, inv_1xxxx so a test
// loading both sites never mixes them up.

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
)

var pc1People = []person{
	{h: "p_ava", first: "Ava", last: "Mitchell", email: "ava.mitchell@example.com", country: "US", company: "Mitchell Legal"},
	{h: "p_ben", first: "Ben", last: "Harper", email: "ben.harper@example.com", country: "US"},
	{h: "p_cora", first: "Cora", last: "Lindgren", email: "cora.lindgren@example.com", country: "DE", pay: "dd"},
	{h: "p_dev", first: "Dev", last: "Raman", email: "dev.raman@example.com", country: "GB", pay: "paypal"},
	{h: "p_elin", first: "Elin", last: "Novak", email: "elin.novak@example.com", country: "FR"},
	{h: "p_finn", first: "Finn", last: "Walsh", email: "finn.walsh@example.com", country: "US", pay: "none", company: "Walsh Builders"},
	{h: "p_gia", first: "Gia", last: "Romano", email: "gia.romano@example.com", country: "US", cardStatus: "expiring"},
	{h: "p_hugo", first: "Hugo", last: "Brandt", email: "hugo.brandt@example.com", country: "DE"},
}

var pc1Scenarios = []scen{
	{h: "p_ava", status: "active", pc1: "premium-yearly", pc1Addons: []item{it("extra-user-annual", 3)}, created: "2026-02-10T15:00:00Z"},
	{h: "p_ben", status: "active", pc1: "basic-monthly", pc1Addons: []item{it("extra-user", 2)}, inv: "adhoc"},
	{h: "p_cora", status: "active", pc1: "team-quarterly", pc1Addons: []item{it("support-eur-quarterly", 1)}},
	{h: "p_dev", status: "active", pc1: "basic-monthly"},
	{h: "p_elin", status: "non_renewing", pc1: "basic-monthly-eur"},
	{h: "p_finn", status: "active", pc1: "basic-monthly"},
	{h: "p_gia", status: "cancelled", pc1: "basic-monthly", endAgo: 50, terms: 4, reason: "not_paid"},
	{h: "p_hugo", status: "in_trial", pc1: "team-quarterly", trial: 30},
}

// buildPC1 builds the PC 1.0 site with its own random source.
func buildPC1() *gen {
	g := &gen{main: rand.New(rand.NewPCG(20261122, 20250210)), byH: map[string]*cust{}, priceMap: map[string]*itemPrice{}, now: day1Now, cnByInv: map[string][]obj{}}
	g.more = g.main
	g.rng = g.main
	for i := range pc1People {
		p := pc1People[i]
		c := &cust{p: &p}
		g.custs = append(g.custs, c)
		g.byH[p.h] = c
	}
	for i := range pc1Scenarios {
		sc := pc1Scenarios[i]
		c := g.byH[sc.h]
		s := &sub{sc: &sc, idx: i, c: c}
		c.subs = append(c.subs, s)
		g.subs = append(g.subs, s)
		g.items(s)
		g.timeline(s)
	}
	for _, c := range g.custs {
		c.created = c.subs[0].created - g.between(60, 1800)
	}
	sort.SliceStable(g.custs, func(i, j int) bool { return g.custs[i].created < g.custs[j].created })
	for i, c := range g.custs {
		c.id = fmt.Sprintf("cus_%04d", 1001+i)
		g.customerObj(c)
	}
	sort.SliceStable(g.subs, func(i, j int) bool { return g.subs[i].created < g.subs[j].created })
	for i, s := range g.subs {
		s.id = fmt.Sprintf("sub_%04d", 1001+i)
		g.subObj(s)
	}
	for _, s := range g.subs {
		g.subInvoices(s)
	}
	sort.SliceStable(g.invs, func(i, j int) bool {
		if g.invs[i].date != g.invs[j].date {
			return g.invs[i].date < g.invs[j].date
		}
		return g.invs[i].seq < g.invs[j].seq
	})
	for i, in := range g.invs {
		in.id = fmt.Sprintf("inv_%05d", 10001+i)
		in.m["id"] = in.id
	}
	for _, s := range g.subs {
		g.finishSub(s)
	}
	g.buildPaymentSources()
	return g
}

// legacyObj is a plan or addon as /plans and /addons list it.
func (g *gen) legacyObj(p legacyPlan, n int) obj {
	updated := ts("2024-03-01T09:00:00Z") + int64(n)*3600
	m := obj{
		"id": p.id, "name": p.name, "invoice_name": p.invoiceName, "price": p.price, "currency_code": p.cur,
		"period": int64(p.period), "period_unit": p.unit, "pricing_model": "per_unit", "status": "active",
		"enabled_in_portal": true, "is_shippable": false, "updated_at": updated, "resource_version": g.rv(updated),
		"channel": "web", "object": "plan",
	}
	if p.addon {
		m["object"] = "addon"
		m["type"] = "quantity"
		m["charge_type"] = "recurring"
		m["included_in_mrr"] = true
		return m
	}
	m["charge_model"] = "per_unit"
	m["free_quantity"] = int64(0)
	m["enabled_in_hosted_pages"] = true
	m["addon_applicability"] = "all"
	m["giftable"] = false
	if p.setup > 0 {
		m["setup_cost"] = p.setup
	}
	return m
}

func (g *gen) writePC1(dir string) {
	var ce, se, ie, pe, ae, ple []any
	for _, c := range g.custs {
		e := obj{"customer": c.m}
		if c.card != nil {
			e["card"] = c.card
		}
		ce = append(ce, e)
	}
	writePages(filepath.Join(dir, "customers"), ce, func(i int) int64 { return g.custs[i].created })
	for _, s := range g.subs {
		e := obj{"subscription": s.m, "customer": s.c.m}
		if s.c.card != nil {
			e["card"] = s.c.card
		}
		se = append(se, e)
	}
	writePages(filepath.Join(dir, "subscriptions"), se, func(i int) int64 { return g.subs[i].created })
	for _, in := range g.invs {
		ie = append(ie, obj{"invoice": in.m})
	}
	writePages(filepath.Join(dir, "invoices"), ie, func(i int) int64 { return g.invs[i].date })
	for i, p := range legacyPlans {
		if p.addon {
			ae = append(ae, obj{"addon": g.legacyObj(p, i)})
		} else {
			ple = append(ple, obj{"plan": g.legacyObj(p, i)})
		}
	}
	writePages(filepath.Join(dir, "plans"), ple, func(i int) int64 { return 0 })
	writePages(filepath.Join(dir, "addons"), ae, func(i int) int64 { return 0 })
	for _, ps := range g.paySources {
		pe = append(pe, obj{"payment_source": ps})
	}
	writePages(filepath.Join(dir, "payment_sources"), pe, func(i int) int64 { return 0 })
}
