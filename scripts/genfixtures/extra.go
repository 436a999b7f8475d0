package main

// The lists and shapes added when the fixtures were rebuilt from Chargebee's own
// models (chargebee-go v3.48.0, testdata/chargebee/chargebee-model-fields.tsv):
// payment sources, credit notes, items, the day-2 changes that touch only one of
// them, and the Product Catalog 1.0 site.

import (
	"fmt"
	"math/big"
	"path/filepath"
	"sort"
	"strings"
)

// decAmount multiplies a decimal unit price by a decimal quantity (multi-decimal
// pricing): the exact product as amount_in_decimal, and the amount in cents
// (rounded half away from zero) that invoice totals use.
func decAmount(price, qty string) (string, int64) {
	p, ok1 := new(big.Rat).SetString(price)
	q, ok2 := new(big.Rat).SetString(qty)
	if !ok1 || !ok2 {
		panic("bad decimal " + price + " × " + qty)
	}
	r := new(big.Rat).Mul(p, q)
	exact := strings.TrimRight(strings.TrimRight(r.FloatString(6), "0"), ".")
	cents := new(big.Rat).Mul(r, big.NewRat(100, 1))
	var n int64
	fmt.Sscan(cents.FloatString(0), &n)
	return exact, n
}

// eraseCustomer is what "Clear personal data" leaves of a customer: pii_cleared
// cleared and the personal fields gone, the billing address reduced to where it
// is (what tax needs), the payment method removed.
func eraseCustomer(m obj) {
	for _, k := range []string{"email", "first_name", "last_name", "phone", "company", "primary_payment_source_id", "payment_method"} {
		delete(m, k)
	}
	if a, ok := m["billing_address"].(obj); ok {
		for _, k := range []string{"first_name", "last_name", "email", "company", "phone", "line1", "line2", "line3"} {
			delete(a, k)
		}
	}
	for k := range m {
		if strings.HasPrefix(k, "cf_") {
			delete(m, k)
		}
	}
	m["pii_cleared"] = "cleared"
	m["card_status"] = "no_card"
}

// contractTerm is a 12-cycle contract on a subscription (subscription.contract_term).
func (g *gen) contractTerm(s *sub) obj {
	start := s.bnd(max(0, s.billed-1))
	if s.unit != "year" {
		panic("the contract term scenario expects a yearly plan")
	}
	return obj{
		"id": "ct_" + g.rid(14), "status": "active", "contract_start": start, "contract_end": s.bnd(max(0, s.billed-1) + 3),
		"billing_cycle": int64(3), "action_at_term_end": "renew", "total_contract_value": s.recurringAmount() * 3,
		"cancellation_cutoff_period": int64(30), "created_at": start, "subscription_id": s.id,
		"remaining_billing_cycles": int64(2), "object": "contract_term",
	}
}

// buildCreditNotes writes the credit notes the invoices asked for, numbered in
// date order, and records each on its invoice.
func (g *gen) buildCreditNotes() {
	type job struct {
		in *inv
		cn cnSpec
	}
	var jobs []job
	for _, in := range g.invs {
		for _, cn := range in.cns {
			jobs = append(jobs, job{in, cn})
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].cn.when < jobs[j].cn.when })
	for _, j := range jobs {
		g.creditNotes = append(g.creditNotes, g.creditNote(j.in, j.cn))
	}
}

func (g *gen) creditNote(in *inv, sp cnSpec) obj {
	g.cnSeq++
	im := in.m
	total := sp.amount
	var tax int64
	if t := im["total"].(int64); t > 0 {
		tax = total * im["tax"].(int64) / t
	}
	li0 := asList(im["line_items"])[0].(obj)
	line := obj{
		"id": "li_" + g.rid(17), "date_from": li0["date_from"], "date_to": li0["date_to"], "unit_amount": total - tax, "quantity": int64(1),
		"amount": total - tax, "pricing_model": "flat_fee", "is_taxed": tax > 0, "tax_amount": tax, "discount_amount": int64(0),
		"item_level_discount_amount": int64(0), "entity_type": li0["entity_type"], "description": li0["description"],
		"customer_id": im["customer_id"], "reference_line_item_id": li0["id"], "object": "line_item",
	}
	if id, ok := li0["entity_id"]; ok {
		line["entity_id"] = id
	}
	if sid, ok := li0["subscription_id"]; ok {
		line["subscription_id"] = sid
	}
	cn := obj{
		"id": fmt.Sprintf("CN-%05d", g.cnSeq), "customer_id": im["customer_id"], "reference_invoice_id": in.id,
		"type": "refundable", "reason_code": sp.reason, "status": sp.status, "date": sp.when, "price_type": "tax_exclusive",
		"currency_code": im["currency_code"], "total": total, "sub_total": total - tax, "amount_allocated": int64(0),
		"amount_refunded": int64(0), "amount_available": int64(0), "generated_at": sp.when, "channel": "web",
		"round_off_amount": int64(0), "fractional_correction": int64(0), "line_items": []any{line}, "deleted": false,
		"object": "credit_note",
	}
	if sid, ok := im["subscription_id"]; ok {
		cn["subscription_id"] = sid
	}
	updated := sp.when
	switch sp.status {
	case "refunded":
		at := sp.when + 120
		cn["amount_refunded"] = total
		cn["refunded_at"] = at
		cn["linked_refunds"] = []any{obj{"txn_id": "txn_" + g.rid(16), "applied_amount": total, "applied_at": at, "txn_status": "success", "txn_date": at, "txn_amount": total, "object": "linked_refund"}}
		updated = at
	case "refund_due":
		cn["amount_available"] = total
	case "adjusted":
		to := sp.allocateTo
		cn["amount_allocated"] = total
		cn["allocations"] = []any{obj{"invoice_id": to.id, "allocated_amount": total, "allocated_at": to.date, "invoice_date": to.date, "invoice_status": to.m["status"], "object": "allocation"}}
		to.m["applied_credits"] = []any{obj{"cn_id": cn["id"], "applied_amount": total, "applied_at": to.date, "cn_reason_code": sp.reason, "cn_date": sp.when, "cn_status": "adjusted", "object": "applied_credit"}}
		updated = to.date
	case "voided":
		cn["voided_at"] = sp.when + 3600
		updated = sp.when + 3600
	}
	cn["updated_at"] = updated
	cn["resource_version"] = g.rv(updated)
	g.issueCreditNote(in, cn)
	// Issuing a credit note updates the invoice it refers to (issued_credit_notes).
	if im["updated_at"].(int64) < sp.when && sp.when <= day1Now {
		im["updated_at"] = sp.when
		im["resource_version"] = g.rv(sp.when)
	}
	return cn
}

// buildPaymentSources writes one payment source per customer with a payment
// method: the card of the customer's list entry, a PayPal billing agreement or a
// direct-debit mandate.
func (g *gen) buildPaymentSources() {
	for _, c := range g.custs {
		if ps := g.paymentSource(c); ps != nil {
			g.paySources = append(g.paySources, ps)
		}
	}
}

func (g *gen) paymentSource(c *cust) obj {
	pm, ok := c.m["payment_method"].(obj)
	if !ok || c.pmID == "" {
		return nil
	}
	created := c.created + g.between(60, 900)
	ps := obj{
		"id": c.pmID, "customer_id": c.id, "type": pm["type"], "reference_id": pm["reference_id"], "status": pm["status"],
		"gateway": pm["gateway"], "gateway_account_id": pm["gateway_account_id"], "created_at": created, "updated_at": created,
		"resource_version": g.rv(created), "deleted": false, "object": "payment_source",
	}
	switch pm["type"] {
	case "card":
		k := c.card
		ps["issuing_country"] = c.p.country
		ps["card"] = obj{
			"first_name": k["first_name"], "last_name": k["last_name"], "iin": k["iin"], "last4": k["last4"],
			"brand": k["card_type"], "funding_type": k["funding_type"], "expiry_month": k["expiry_month"], "expiry_year": k["expiry_year"],
			"masked_number": k["masked_number"], "object": "card",
		}
		for _, f := range []string{"billing_addr1", "billing_city", "billing_country", "billing_zip"} {
			if v, ok := k[f]; ok {
				ps["card"].(obj)[f] = v
			}
		}
	case "paypal_express_checkout":
		ps["paypal"] = obj{"email": c.m["email"], "agreement_id": pm["reference_id"], "object": "paypal"}
	case "direct_debit":
		ps["bank_account"] = obj{
			"last4": g.digits(4), "name_on_account": c.p.first + " " + c.p.last, "first_name": c.p.first, "last_name": c.p.last,
			"direct_debit_scheme": "sepa_core", "bank_name": g.pick([]string{"Deutsche Bank", "BNP Paribas", "Banco Santander"}),
			"mandate_id": pm["reference_id"], "object": "bank_account",
		}
	}
	if c.p.deleted {
		ps["deleted"] = true
		ps["updated_at"] = c.updated
		ps["resource_version"] = g.rv(c.updated)
	}
	return ps
}

// items are the products behind the item prices, in creation order (the order of
// their first price).
func (g *gen) itemObjs() []obj {
	var out []obj
	seen := map[string]obj{}
	for _, p := range g.prices {
		if it, ok := seen[p.item]; ok {
			if p.updated > it["updated_at"].(int64) {
				it["updated_at"] = p.updated
				it["resource_version"] = g.rv(p.updated)
			}
			continue
		}
		it := obj{
			"id": p.item, "name": p.ext, "external_name": p.ext, "type": p.typ, "item_family_id": p.family, "status": "active",
			"updated_at": p.created, "resource_version": g.rv(p.created), "is_shippable": p.family == "boxes", "is_giftable": p.typ == "plan",
			"enabled_for_checkout": true, "enabled_in_portal": true, "metered": false, "channel": "web", "deleted": false, "object": "item",
		}
		if p.typ == "plan" {
			it["item_applicability"] = "all"
		}
		if p.typ == "addon" {
			it["unit"] = "unit"
		}
		seen[p.item] = it
		out = append(out, it)
	}
	return out
}

// day2Extras are the day-2 changes that touch one list only.
func (g *gen) day2Extras(custEntries []*cust, changedCust map[string]obj) []*cust {
	g.drawFor(true)
	defer g.drawFor(false)
	// A card change only: the card updater gave emily's card a new expiry. The
	// payment source changes; the customer and subscription do not.
	{
		c := g.byH["emily"]
		var ps obj
		for _, x := range g.paySources {
			if x["id"] == c.pmID {
				ps = deepCopy(x).(obj)
			}
		}
		if ps == nil || ps["type"] != "card" {
			panic("emily has no card payment source")
		}
		when := ts("2026-11-20T06:15:00Z")
		card := ps["card"].(obj)
		old := fmt.Sprintf("%v/%v", card["expiry_month"], card["expiry_year"])
		card["expiry_month"], card["expiry_year"] = int64(9), int64(2031)
		ps["status"] = "valid"
		ps["updated_at"] = when
		ps["resource_version"] = g.rv(when)
		g.d2PaySources = append(g.d2PaySources, ps)
		g.d2Notes = append(g.d2Notes, [2]string{"card change only", fmt.Sprintf("payment source %s of %s: expiry %s → 9/2031; customer and subscriptions not in the change set", c.pmID, c.id, old)})
	}
	// A refund only: a credit note against a paid invoice of aero's; the invoice
	// itself is not in the change set.
	{
		s := g.byH["aero"].subs[0]
		in := s.latestRecurring()
		if in.m["status"] != "paid" {
			panic("aero's latest invoice is not paid")
		}
		saved := in.m
		in.m = deepCopy(in.m).(obj) // leave the day-1 invoice as it is
		cn := g.creditNote(in, cnSpec{status: "refunded", amount: in.m["total"].(int64) * 3 / 10, when: ts("2026-11-20T12:40:00Z"), reason: "service_unsatisfactory"})
		in.m = saved
		g.d2CNs = append(g.d2CNs, cn)
		g.d2Notes = append(g.d2Notes, [2]string{"credit note only", fmt.Sprintf("%s refunds %d of paid invoice %s (%s of %s); nothing else changed", cn["id"], cn["total"], in.id, s.id, s.c.id)})
	}
	// An erasure: lea, synced on day 1, has her personal data cleared.
	{
		c := g.byH["lea"]
		when := ts("2026-11-20T15:05:00Z")
		cm := deepCopy(c.m).(obj)
		eraseCustomer(cm)
		cm["updated_at"] = when
		cm["resource_version"] = g.rv(when)
		changedCust[c.id] = cm
		custEntries = append(custEntries, c)
		g.d2Notes = append(g.d2Notes, [2]string{"erasure", fmt.Sprintf("%s (was %s): pii_cleared cleared, name, email, phone, company and address lines removed", c.id, c.m["email"])})
	}
	// A charge invoice newer than the renewal of the same day (jessica's, 10:00).
	{
		var s *sub
		for _, x := range g.byH["jessica"].subs {
			s = x
		}
		p := g.priceMap["onboarding-USD"]
		d := ts("2026-11-20T18:30:00Z")
		in := g.nextInvoice(s, s.c, d, []lineSpec{{entityType: "charge_item_price", entityID: p.id, itemType: "charge", desc: p.ext, model: p.model, unit: p.price, qty: 1, charge: true}}, invOpts{recurring: true, termFinalized: true, from: d, to: d})
		g.setPaid(in, d+35)
		g.d2Notes = append(g.d2Notes, [2]string{"charge after the renewal", fmt.Sprintf("%s: paid one-off charge invoice %s (onboarding-USD, recurring true) at 18:30, after the same day's renewal invoice", s.id, in.id)})
	}
	return custEntries
}

// writeExtras writes the lists added with the SDK-shaped fixtures.
func (g *gen) writeExtras(d1, d2 string) {
	var pe []any
	for _, ps := range g.paySources {
		pe = append(pe, obj{"payment_source": ps})
	}
	sort.SliceStable(pe, func(i, j int) bool {
		return pe[i].(obj)["payment_source"].(obj)["created_at"].(int64) < pe[j].(obj)["payment_source"].(obj)["created_at"].(int64)
	})
	writePages(filepath.Join(d1, "payment_sources"), pe, func(i int) int64 {
		return pe[i].(obj)["payment_source"].(obj)["created_at"].(int64)
	})
	var ce []any
	for _, cn := range g.creditNotes {
		ce = append(ce, obj{"credit_note": cn})
	}
	writePages(filepath.Join(d1, "credit_notes"), ce, func(i int) int64 { return ce[i].(obj)["credit_note"].(obj)["date"].(int64) })
	// Items newest first, like item prices; they have no created_at, so the order is
	// that of creation, reversed.
	its := g.itemObjs()
	var ie []any
	for i := len(its) - 1; i >= 0; i-- {
		ie = append(ie, obj{"item": its[i]})
	}
	writePages(filepath.Join(d1, "items"), ie, func(i int) int64 { return 0 })

	var p2, c2 []any
	for _, ps := range g.d2PaySources {
		p2 = append(p2, obj{"payment_source": ps})
	}
	writePages(filepath.Join(d2, "payment_sources"), p2, func(i int) int64 { return 0 })
	for _, cn := range g.d2CNs {
		c2 = append(c2, obj{"credit_note": cn})
	}
	writePages(filepath.Join(d2, "credit_notes"), c2, func(i int) int64 { return 0 })
}
