package main

import (
	"strconv"
	"unicode/utf8"

	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// jw appends JSON to a byte slice. The pages hold millions of objects, and
// encoding/json over maps (what genfixtures uses) would take most of a run; this
// writes the same bytes: keys in sorted order (the caller's job, checked by the
// tests), HTML characters unescaped, and with indent on, encoding/json's two-space
// layout.
type jw struct {
	b      []byte
	indent bool
	depth  int
	n      [16]int // values written so far at each depth
}

func (w *jw) nl() {
	w.b = append(w.b, '\n')
	for range w.depth {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *jw) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.n[w.depth] = 0
}

func (w *jw) close(c byte) {
	had := w.n[w.depth] > 0
	w.depth--
	if had && w.indent {
		w.nl()
	}
	w.b = append(w.b, c)
}

// elem starts an array element.
func (w *jw) elem() {
	if w.n[w.depth] > 0 {
		w.b = append(w.b, ',')
	}
	w.n[w.depth]++
	if w.indent {
		w.nl()
	}
}

func (w *jw) key(k string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	if w.indent {
		w.b = append(w.b, ' ')
	}
}

func (w *jw) str(s string) {
	w.b = append(w.b, '"')
	if plain(s) {
		w.b = append(w.b, s...)
	} else {
		w.b = appendEscaped(w.b, s)
	}
	w.b = append(w.b, '"')
}

func (w *jw) kstr(k, v string) { w.key(k); w.str(v) }

func (w *jw) kstrOpt(k, v string) {
	if v != "" {
		w.kstr(k, v)
	}
}

func (w *jw) kint(k string, v int64) { w.key(k); w.b = strconv.AppendInt(w.b, v, 10) }

func (w *jw) kintp(k string, v *int64) {
	if v != nil {
		w.kint(k, *v)
	}
}

func (w *jw) kbool(k string, v bool) { w.key(k); w.b = strconv.AppendBool(w.b, v) }

// plain reports whether s needs no escaping under encoding/json's rules with HTML
// escaping off.
func plain(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == 0xE2 { // 0xE2 leads U+2028 and U+2029
			return false
		}
		ascii = ascii && c < 0x80
	}
	return ascii || utf8.ValidString(s)
}

func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xF])
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			b = utf8.AppendRune(b, r) // an invalid byte arrives as U+FFFD, as in encoding/json
		}
	}
	return b
}

// ---------------------------------------------------------------- objects

func encAddress(w *jw, k string, a *chargebee.Address) {
	w.key(k)
	w.open('{')
	w.kstr("city", a.City)
	w.kstrOpt("company", a.Company)
	w.kstr("country", a.Country)
	w.kstrOpt("first_name", a.FirstName)
	w.kstrOpt("last_name", a.LastName)
	w.kstr("line1", a.Line1)
	w.kstrOpt("line2", a.Line2)
	w.kstr("object", k)
	w.kstrOpt("state", a.State)
	w.kstrOpt("state_code", a.StateCode)
	w.kstr("validation_status", "not_validated")
	w.kstr("zip", a.Zip)
	w.close('}')
}

func encCard(w *jw, c *custOut) {
	if c.card == nil {
		return
	}
	w.key("card")
	w.open('{')
	if a := c.c.BillingAddress; a != nil {
		w.kstr("billing_addr1", a.Line1)
		w.kstr("billing_city", a.City)
		w.kstr("billing_country", a.Country)
		w.kstr("billing_zip", a.Zip)
	}
	w.kstr("card_type", c.card.CardType)
	w.kstr("customer_id", c.c.ID)
	w.kintp("expiry_month", c.card.ExpiryMonth)
	w.kintp("expiry_year", c.card.ExpiryYear)
	w.kstr("first_name", c.c.FirstName)
	w.kstr("funding_type", c.x.funding)
	w.kstr("gateway", c.x.pmGateway)
	w.kstr("gateway_account_id", c.x.pmAccount)
	w.kstr("iin", c.x.iin)
	w.kstr("last4", c.card.Last4)
	w.kstr("last_name", c.c.LastName)
	w.kstr("masked_number", c.x.masked)
	w.kstr("object", "card")
	w.kstr("payment_source_id", c.c.PrimaryPaymentSourceID)
	w.kstr("status", c.card.Status)
	w.close('}')
}

// encCustomer writes a customer object; a is c's customer or its duplicate copy.
func encCustomer(w *jw, c *custOut, a *chargebee.Customer) {
	w.key("customer")
	w.open('{')
	w.kbool("allow_direct_debit", c.x.allowDD)
	w.kstr("auto_collection", a.AutoCollection)
	if a.BillingAddress != nil {
		encAddress(w, "billing_address", a.BillingAddress)
	}
	w.kstr("card_status", a.CardStatus)
	for _, kv := range c.x.cf {
		w.kstr(kv[0], kv[1])
	}
	w.kstr("channel", "web")
	w.kstrOpt("company", a.Company)
	w.kintp("created_at", a.CreatedAt)
	w.kbool("deleted", a.Deleted)
	w.kstrOpt("email", a.Email)
	w.kint("excess_payments", 0)
	w.kstr("first_name", a.FirstName)
	w.kstr("id", a.ID)
	w.kstr("last_name", a.LastName)
	w.kstr("locale", a.Locale)
	w.kint("net_term_days", c.x.netTerm)
	w.kstr("object", "customer")
	if a.PaymentMethod != nil {
		w.key("payment_method")
		w.open('{')
		w.kstr("gateway", c.x.pmGateway)
		w.kstr("gateway_account_id", c.x.pmAccount)
		w.kstr("object", "payment_method")
		w.kstr("reference_id", c.x.pmRef)
		w.kstr("status", cardOr(c, "valid"))
		w.kstr("type", a.PaymentMethod.Type)
		w.close('}')
	}
	w.kstrOpt("phone", a.Phone)
	w.kstr("pii_cleared", "active")
	w.kstr("preferred_currency_code", a.PreferredCurrencyCode)
	w.kstrOpt("primary_payment_source_id", a.PrimaryPaymentSourceID)
	w.kint("promotional_credits", 0)
	w.kint("refundable_credits", 0)
	w.kint("resource_version", a.ResourceVersion)
	w.kstr("taxability", "taxable")
	w.kint("unbilled_charges", 0)
	w.kintp("updated_at", a.UpdatedAt)
	w.close('}')
}

func cardOr(c *custOut, def string) string {
	if c.card != nil {
		return c.card.Status
	}
	return def
}

// customerEntry is a customers list entry: {card?, customer}.
func customerEntry(w *jw, c *custOut, a *chargebee.Customer) {
	w.open('{')
	encCard(w, c)
	encCustomer(w, c, a)
	w.close('}')
}

func encSubscription(w *jw, s *subOut) {
	a, c := &s.s, s.cust
	w.key("subscription")
	w.open('{')
	w.kintp("activated_at", a.ActivatedAt)
	if len(a.Addons) > 0 {
		w.key("addons")
		w.open('[')
		for _, ad := range a.Addons {
			w.elem()
			w.open('{')
			w.kintp("amount", ad.Amount)
			w.kstr("id", ad.ID)
			w.kstr("object", "addon")
			w.kint("quantity", ad.Quantity)
			w.kintp("unit_price", ad.UnitPrice)
			w.close('}')
		}
		w.close(']')
	}
	w.kstr("auto_collection", a.AutoCollection)
	w.kint("billing_period", a.BillingPeriod)
	w.kstr("billing_period_unit", a.BillingPeriodUnit)
	if s.x.businessUnit {
		w.kstr("business_entity_id", "acme-eu")
	}
	w.kstrOpt("cancel_reason", a.CancelReason)
	w.kstrOpt("cancel_reason_code", s.x.reasonCode)
	w.kintp("cancel_schedule_created_at", s.x.cancelSched)
	w.kintp("cancelled_at", a.CancelledAt)
	for _, kv := range s.x.cf {
		w.kstr(kv[0], kv[1])
	}
	w.kstr("channel", "web")
	w.kintp("created_at", a.CreatedAt)
	w.kstr("currency_code", a.CurrencyCode)
	w.kintp("current_term_end", a.CurrentTermEnd)
	w.kintp("current_term_start", a.CurrentTermStart)
	w.kstr("customer_id", a.CustomerID)
	w.kbool("deleted", a.Deleted)
	w.kint("due_invoices_count", a.DueInvoicesCount)
	w.kintp("due_since", s.x.dueSince)
	w.kstrOpt("gift_id", a.GiftID)
	w.kbool("has_scheduled_changes", false)
	w.kstr("id", a.ID)
	w.kintp("mrr", a.MRR)
	w.kint("net_term_days", c.x.netTerm)
	w.kintp("next_billing_at", a.NextBillingAt)
	w.kstr("object", "subscription")
	w.kintp("pause_date", a.PauseDate)
	w.kstrOpt("payment_source_id", s.x.paySource)
	if a.PlanID != "" {
		w.kintp("plan_amount", a.PlanAmount)
		w.kint("plan_free_quantity", 0)
		w.kstr("plan_id", a.PlanID)
		w.kint("plan_quantity", a.PlanQuantity)
		w.kintp("plan_unit_price", a.PlanUnitPrice)
	}
	w.kintp("remaining_billing_cycles", a.RemainingBillingCycles)
	w.kint("resource_version", a.ResourceVersion)
	w.kintp("resume_date", a.ResumeDate)
	if a.ShippingAddress != nil {
		encAddress(w, "shipping_address", a.ShippingAddress)
	}
	w.kintp("start_date", a.StartDate)
	w.kintp("started_at", a.StartedAt)
	w.kstr("status", a.Status)
	if len(a.SubscriptionItems) > 0 {
		w.key("subscription_items")
		w.open('[')
		for _, it := range a.SubscriptionItems {
			w.elem()
			w.open('{')
			w.kintp("amount", it.Amount)
			w.kintp("billing_cycles", it.BillingCycles)
			if it.ItemType == "charge" {
				w.kstr("charge_on_event", "subscription_creation")
				w.kbool("charge_once", true)
			}
			w.kint("free_quantity", 0)
			w.kstr("item_price_id", it.ItemPriceID)
			w.kstr("item_type", it.ItemType)
			w.kstr("object", "subscription_item")
			w.kint("quantity", it.Quantity)
			w.kintp("unit_price", it.UnitPrice)
			w.close('}')
		}
		w.close(']')
	}
	w.kintp("total_dues", a.TotalDues)
	w.kintp("trial_end", a.TrialEnd)
	if s.x.trialAction {
		w.kstr("trial_end_action", "site_default")
	}
	w.kintp("trial_start", a.TrialStart)
	w.kintp("updated_at", a.UpdatedAt)
	w.close('}')
}

// subscriptionEntry is a subscriptions list entry: {card?, customer, subscription},
// with the customer as it is now.
func subscriptionEntry(w *jw, s *subOut) {
	w.open('{')
	encCard(w, s.cust)
	encCustomer(w, s.cust, &s.cust.c)
	encSubscription(w, s)
	w.close('}')
}

func invoiceEntry(w *jw, in *invOut) {
	v, x := &in.v, &in.x
	w.open('{')
	w.key("invoice")
	w.open('{')
	w.kint("amount_adjusted", 0)
	w.kintp("amount_due", v.AmountDue)
	w.kintp("amount_paid", v.AmountPaid)
	w.kintp("amount_to_collect", v.AmountDue)
	w.kint("credits_applied", x.credits)
	w.kstr("currency_code", v.CurrencyCode)
	w.kstr("customer_id", v.CustomerID)
	w.kintp("date", v.Date)
	w.kbool("deleted", v.Deleted)
	if len(x.discounts) > 0 {
		w.key("discounts")
		w.open('[')
		for _, d := range x.discounts {
			w.elem()
			w.open('{')
			w.kint("amount", d.amount)
			w.kstr("description", d.desc)
			w.kstr("entity_id", d.id)
			w.kstr("entity_type", d.typ)
			w.kstr("object", "discount")
			w.close('}')
		}
		w.close(']')
	}
	w.kintp("due_date", v.DueDate)
	w.kstrOpt("dunning_status", v.DunningStatus)
	w.kbool("first_invoice", x.first)
	w.kbool("has_advance_charges", false)
	w.kstr("id", v.ID)
	w.kbool("is_gifted", v.IsGifted)
	if cn := x.cn; cn != nil {
		w.key("issued_credit_notes")
		w.open('[')
		w.elem()
		w.open('{')
		if cn.full {
			w.kstr("cn_create_reason_code", "Product Unsatisfactory")
		}
		w.kint("cn_date", cn.date)
		w.kstr("cn_id", cn.id)
		w.kstr("cn_reason_code", "product_unsatisfactory")
		w.kstr("cn_status", "refunded")
		w.kint("cn_total", cn.total)
		w.kstr("object", "issued_credit_note")
		w.close('}')
		w.close(']')
	}
	w.key("line_items")
	w.open('[')
	taxed := deref(v.Tax) > 0
	for k, l := range x.lines {
		w.elem()
		w.open('{')
		w.kint("amount", l.amount())
		w.kstr("customer_id", v.CustomerID)
		w.kint("date_from", x.from)
		if l.itemType == "charge" {
			w.kint("date_to", x.from)
		} else {
			w.kint("date_to", x.to)
		}
		w.kstr("description", l.desc)
		w.kstr("entity_id", l.id)
		w.kstr("entity_type", l.entityType)
		w.kstr("id", hashID("li_", x.seq, int64(k), 17))
		w.kbool("is_taxed", taxed)
		if x.itemDisc[k] > 0 {
			w.kint("item_level_discount_amount", x.itemDisc[k])
		}
		w.kstr("object", "line_item")
		w.kstr("pricing_model", l.model)
		w.kint("quantity", l.qty)
		w.kstr("subscription_id", v.SubscriptionID)
		w.kint("unit_amount", l.unit)
		w.close('}')
	}
	w.close(']')
	if paid := deref(v.AmountPaid); v.Status == "paid" && paid > 0 {
		w.key("linked_payments")
		w.open('[')
		w.elem()
		w.open('{')
		w.kint("applied_amount", paid)
		w.kint("applied_at", x.transactionAt)
		w.kstr("object", "linked_payment")
		w.kint("txn_amount", paid)
		w.kint("txn_date", x.transactionAt)
		w.kstr("txn_id", hashID("txn_", x.seq, -1, 16))
		w.kstr("txn_status", "success")
		w.close('}')
		w.close(']')
	}
	w.kint("net_term_days", x.netTerm)
	w.kintp("next_retry_at", x.nextRetry)
	w.kstr("object", "invoice")
	w.kintp("paid_at", v.PaidAt)
	w.kstr("price_type", "tax_exclusive")
	w.kbool("recurring", v.Recurring)
	w.kint("resource_version", v.ResourceVersion)
	w.kint("round_off_amount", 0)
	w.kstr("status", v.Status)
	w.kintp("sub_total", v.SubTotal)
	w.kstr("subscription_id", v.SubscriptionID)
	w.kintp("tax", v.Tax)
	w.kbool("term_finalized", x.final)
	w.kintp("total", v.Total)
	w.kintp("updated_at", v.UpdatedAt)
	w.kintp("voided_at", x.voidedAt)
	w.kint("write_off_amount", 0)
	w.close('}')
	w.close('}')
}

func itemPriceEntry(w *jw, p *itemPrice) {
	w.open('{')
	w.key("item_price")
	w.open('{')
	if p.status == "archived" {
		w.kint("archived_at", p.updated)
	}
	w.kstr("channel", "web")
	w.kint("created_at", p.created)
	w.kstr("currency_code", p.cur)
	w.kstr("external_name", p.ext)
	w.kint("free_quantity", 0)
	w.kstr("id", p.id)
	w.kbool("is_taxable", true)
	w.kstr("item_family_id", p.family)
	w.kstr("item_id", p.item)
	w.kstr("item_type", p.typ)
	w.kstr("name", p.name)
	w.kstr("object", "item_price")
	if p.unit != "" {
		w.kint("period", p.period)
		w.kstr("period_unit", p.unit)
	}
	w.kint("price", p.price)
	w.kstr("pricing_model", p.model)
	w.kint("resource_version", p.rv)
	w.kstr("status", p.status)
	w.kint("updated_at", p.updated)
	w.close('}')
	w.close('}')
}

// apiItemPrice is the catalog entry as the API types hold it.
func apiItemPrice(p *itemPrice) chargebee.ItemPrice {
	ip := chargebee.ItemPrice{
		ID: p.id, Name: p.name, ExternalName: p.ext, ItemID: p.item, ItemFamilyID: p.family,
		ItemType: p.typ, CurrencyCode: p.cur, Price: &p.price, PricingModel: p.model, Status: p.status,
		CreatedAt: &p.created, UpdatedAt: &p.updated, ResourceVersion: p.rv,
	}
	if p.unit != "" {
		ip.Period, ip.PeriodUnit = p.period, p.unit
	}
	return ip
}

// giftEntry is a gifts list entry: {gift, subscription}.
func giftEntry(w *jw, gf *giftOut) {
	w.open('{')
	w.key("gift")
	w.open('{')
	w.kbool("auto_claim", gf.autoClaim)
	rc := gf.receiver
	w.key("gift_receiver")
	w.open('{')
	w.kstr("customer_id", rc.c.ID)
	w.kstrOpt("email", rc.c.Email)
	w.kstr("first_name", rc.c.FirstName)
	w.kstr("last_name", rc.c.LastName)
	w.kstr("object", "gift_receiver")
	w.kstr("subscription_id", gf.sub.s.ID)
	w.close('}')
	w.key("gifter")
	w.open('{')
	w.kstr("customer_id", gf.g.Gifter.CustomerID)
	w.kstr("invoice_id", gf.invoiceID)
	w.kstr("note", gf.note)
	w.kstr("object", "gifter")
	w.kstr("signature", gf.sign)
	w.close('}')
	w.kstr("id", gf.g.ID)
	w.kbool("no_expiry", gf.autoClaim)
	w.kstr("object", "gift")
	w.kint("resource_version", gf.g.ResourceVersion)
	w.kint("scheduled_at", gf.scheduled)
	w.kstr("status", gf.g.Status)
	w.kintp("updated_at", gf.g.UpdatedAt)
	w.close('}')
	encSubscription(w, gf.sub)
	w.close('}')
}
