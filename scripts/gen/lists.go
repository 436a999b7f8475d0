package main

import (
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// The lists the extract stage reads besides customers, subscriptions, invoices,
// item prices and gifts: each customer's payment source, a credit note for every
// refund, and the catalog's items (Product Catalog 2.0) and plans and addons (1.0).
// Transform takes a subscription's payment method from its payment source, an
// invoice's refunds from its credit notes, and a line's product name from the
// catalog, so a generated site without them would skip those paths.

// apiPaymentSource is the customer's primary payment source, as /payment_sources
// lists it; ok is false for a customer without one (auto_collection off). It is
// added just after sign-up and deleted with its customer.
func apiPaymentSource(c *custOut) (ps chargebee.PaymentSource, ok bool) {
	a := &c.c
	if a.PrimaryPaymentSourceID == "" || a.PaymentMethod == nil {
		return ps, false
	}
	created := deref(a.CreatedAt) + 30
	updated := created
	if a.Deleted {
		updated = deref(a.UpdatedAt)
	}
	ps = chargebee.PaymentSource{
		ID: a.PrimaryPaymentSourceID, CustomerID: a.ID, Type: a.PaymentMethod.Type, Status: "valid",
		Gateway: c.x.pmGateway, CreatedAt: &created, UpdatedAt: &updated, ResourceVersion: updated*1000 + 1,
		Deleted: a.Deleted,
	}
	if cd := c.card; cd != nil {
		ps.Status = cd.Status
		ps.Card = &chargebee.PaymentSourceCard{Brand: cd.CardType, FundingType: c.x.funding, Last4: cd.Last4,
			ExpiryMonth: cd.ExpiryMonth, ExpiryYear: cd.ExpiryYear}
	}
	return ps, true
}

// paymentSourceChanged: in a day-2 change set, the payment sources of new
// customers and of deleted ones.
func paymentSourceChanged(c *custOut) bool {
	return c.changed && (c.c.Deleted || deref(c.c.CreatedAt) > day1Now)
}

// apiCreditNote is the refundable credit note of a refunded invoice, refunded in
// full at once; ok is false for an invoice without a refund. It is deleted with
// its invoice.
func apiCreditNote(in *invOut) (cn chargebee.CreditNote, ok bool) {
	x := in.x.cn
	if x == nil {
		return cn, false
	}
	v := &in.v
	updated := x.date
	if v.Deleted {
		updated = deref(v.UpdatedAt)
	}
	return chargebee.CreditNote{
		ID: x.id, CustomerID: v.CustomerID, SubscriptionID: v.SubscriptionID, ReferenceInvoiceID: v.ID,
		Type: "refundable", Status: "refunded", ReasonCode: "product_unsatisfactory", CurrencyCode: v.CurrencyCode,
		Date: &x.date, Total: &x.total, AmountRefunded: &x.total, AmountAllocated: ptr(0), RefundedAt: &x.date,
		UpdatedAt: &updated, ResourceVersion: updated*1000 + 2, Deleted: v.Deleted,
	}, true
}

// creditNoteChanged: in a day-2 change set, refunds made on day 2 and the credit
// notes of deleted invoices.
func creditNoteChanged(in *invOut) bool {
	return in.changed && in.x.cn != nil && (in.x.cn.date > day1Now || in.v.Deleted)
}

// apiItems are the products behind the catalog's item prices, in the order their
// first price was created.
var apiItems = func() []chargebee.Item {
	var out []chargebee.Item
	seen := map[string]bool{}
	for _, p := range catalog {
		if seen[p.item] {
			continue
		}
		seen[p.item] = true
		out = append(out, chargebee.Item{ID: p.item, Name: p.ext, ExternalName: p.ext, Type: p.typ,
			ItemFamilyID: p.family, Status: "active", UpdatedAt: ptr(p.created), ResourceVersion: p.created*1000 + 3})
	}
	return out
}()

// legacyUpdated is when the Product Catalog 1.0 plans and addons last changed:
// before the site moved to 2.0.
var legacyUpdated = mustTime("2023-12-15T10:00:00Z")

// apiPlans and apiAddons are the Product Catalog 1.0 plans and addons.
var apiPlans, apiAddons = func() (plans []chargebee.Plan, addons []chargebee.CatalogAddon) {
	for k, lp := range legacyPlans {
		rv := legacyUpdated*1000 + 1 + int64(k)
		if lp.addon {
			addons = append(addons, chargebee.CatalogAddon{ID: lp.id, Name: lp.name, InvoiceName: lp.name, CurrencyCode: lp.cur,
				Price: ptr(lp.price), Period: lp.period, PeriodUnit: lp.unit, Status: "active", UpdatedAt: ptr(legacyUpdated), ResourceVersion: rv})
			continue
		}
		plans = append(plans, chargebee.Plan{ID: lp.id, Name: lp.name, InvoiceName: lp.name, CurrencyCode: lp.cur,
			Price: ptr(lp.price), Period: lp.period, PeriodUnit: lp.unit, Status: "active", UpdatedAt: ptr(legacyUpdated), ResourceVersion: rv})
	}
	return plans, addons
}()

// The pages' entries, keys in sorted order (see jw).

func paymentSourceEntry(w *jw, c *custOut, ps *chargebee.PaymentSource) {
	w.open('{')
	w.key("payment_source")
	w.open('{')
	if cd := ps.Card; cd != nil {
		w.key("card")
		w.open('{')
		w.kstr("brand", cd.Brand)
		w.kintp("expiry_month", cd.ExpiryMonth)
		w.kintp("expiry_year", cd.ExpiryYear)
		w.kstr("first_name", c.c.FirstName)
		w.kstr("funding_type", cd.FundingType)
		w.kstr("iin", c.x.iin)
		w.kstr("last4", cd.Last4)
		w.kstr("last_name", c.c.LastName)
		w.kstr("masked_number", c.x.masked)
		w.kstr("object", "card")
		w.close('}')
	}
	w.kintp("created_at", ps.CreatedAt)
	w.kstr("customer_id", ps.CustomerID)
	w.kbool("deleted", ps.Deleted)
	w.kstr("gateway", ps.Gateway)
	w.kstr("gateway_account_id", c.x.pmAccount)
	w.kstr("id", ps.ID)
	w.kstr("issuing_country", c.x.cty.code)
	w.kstr("object", "payment_source")
	w.kstr("reference_id", c.x.pmRef)
	w.kint("resource_version", ps.ResourceVersion)
	w.kstr("status", ps.Status)
	w.kstr("type", ps.Type)
	w.kintp("updated_at", ps.UpdatedAt)
	w.close('}')
	w.close('}')
}

func creditNoteEntry(w *jw, cn *chargebee.CreditNote) {
	w.open('{')
	w.key("credit_note")
	w.open('{')
	w.kintp("amount_allocated", cn.AmountAllocated)
	w.kint("amount_available", 0)
	w.kintp("amount_refunded", cn.AmountRefunded)
	w.kstr("channel", "web")
	w.kstr("currency_code", cn.CurrencyCode)
	w.kstr("customer_id", cn.CustomerID)
	w.kintp("date", cn.Date)
	w.kbool("deleted", cn.Deleted)
	w.kintp("generated_at", cn.Date)
	w.kstr("id", cn.ID)
	w.kstr("object", "credit_note")
	w.kstr("price_type", "tax_exclusive")
	w.kstr("reason_code", cn.ReasonCode)
	w.kstr("reference_invoice_id", cn.ReferenceInvoiceID)
	w.kintp("refunded_at", cn.RefundedAt)
	w.kint("resource_version", cn.ResourceVersion)
	w.kstr("status", cn.Status)
	w.kstrOpt("subscription_id", cn.SubscriptionID)
	w.kintp("total", cn.Total)
	w.kstr("type", cn.Type)
	w.kintp("updated_at", cn.UpdatedAt)
	w.close('}')
	w.close('}')
}

func itemEntry(w *jw, it *chargebee.Item) {
	w.open('{')
	w.key("item")
	w.open('{')
	w.kstr("channel", "web")
	w.kbool("deleted", it.Deleted)
	w.kstr("external_name", it.ExternalName)
	w.kstr("id", it.ID)
	w.kstr("item_family_id", it.ItemFamilyID)
	w.kstr("name", it.Name)
	w.kstr("object", "item")
	w.kint("resource_version", it.ResourceVersion)
	w.kstr("status", it.Status)
	w.kstr("type", it.Type)
	w.kintp("updated_at", it.UpdatedAt)
	w.close('}')
	w.close('}')
}

// legacyEntry is a plans or addons list entry (object "plan" or "addon").
func legacyEntry(w *jw, object, id, name, cur string, price *int64, period int64, unit, status string, updated *int64, rv int64) {
	w.open('{')
	w.key(object)
	w.open('{')
	w.kstr("currency_code", cur)
	w.kstr("id", id)
	w.kstr("invoice_name", name)
	w.kstr("name", name)
	w.kstr("object", object)
	w.kint("period", period)
	w.kstr("period_unit", unit)
	w.kintp("price", price)
	w.kint("resource_version", rv)
	w.kstr("status", status)
	w.kintp("updated_at", updated)
	w.close('}')
	w.close('}')
}
