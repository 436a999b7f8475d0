package chargebee

import "github.com/cb2ac/cb2ac/schemas"

// Record converts the API customer, with the card of its list entry (may be nil),
// into the extract record.
func (c *Customer) Record(card *Card) schemas.Customer {
	r := schemas.Customer{
		ID: c.ID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
		Phone: c.Phone, Company: c.Company, AutoCollection: c.AutoCollection,
		Locale: c.Locale, PreferredCurrencyCode: c.PreferredCurrencyCode,
		CardStatus: c.CardStatus, PrimaryPaymentSource: c.PrimaryPaymentSourceID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ResourceVersion: c.ResourceVersion,
		Deleted: c.Deleted, CustomFields: c.CustomFields, PIICleared: c.PIICleared,
	}
	if c.PaymentMethod != nil {
		r.PaymentMethodType = c.PaymentMethod.Type
	}
	if c.BillingAddress != nil {
		r.BillingAddress = *c.BillingAddress
	}
	if card != nil {
		r.CardPaymentSourceID, r.CardType, r.CardLast4 = card.PaymentSourceID, card.CardType, card.Last4
		r.CardExpiryMonth, r.CardExpiryYear = card.ExpiryMonth, card.ExpiryYear
	}
	return r
}

// Record converts the API subscription, with the card of its list entry (may be nil),
// into the extract record. Product Catalog 1.0 plans and addons become items so later
// stages see one shape.
func (s *Subscription) Record(card *Card) schemas.Subscription {
	r := schemas.Subscription{
		ID: s.ID, CustomerID: s.CustomerID, Status: s.Status, CancelReason: s.CancelReason,
		CancelReasonCode: s.CancelReasonCode, PaymentSourceID: s.PaymentSourceID,
		CurrencyCode: s.CurrencyCode, BillingPeriod: s.BillingPeriod,
		BillingPeriodUnit: s.BillingPeriodUnit, RemainingBillingCycles: s.RemainingBillingCycles,
		MRR: s.MRR, DueInvoicesCount: s.DueInvoicesCount, TotalDues: s.TotalDues,
		AutoCollection: s.AutoCollection, PlanID: s.PlanID, GiftID: s.GiftID,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, StartDate: s.StartDate,
		StartedAt: s.StartedAt, ActivatedAt: s.ActivatedAt, TrialStart: s.TrialStart,
		TrialEnd: s.TrialEnd, CurrentTermStart: s.CurrentTermStart,
		CurrentTermEnd: s.CurrentTermEnd, NextBillingAt: s.NextBillingAt,
		CancelledAt: s.CancelledAt, PauseDate: s.PauseDate, ResumeDate: s.ResumeDate,
		ResourceVersion: s.ResourceVersion, Deleted: s.Deleted, CustomFields: s.CustomFields,
	}
	if s.ShippingAddress != nil {
		r.ShippingAddress = *s.ShippingAddress
	}
	if s.ContractTerm != nil {
		r.ContractBillingCycles = s.ContractTerm.BillingCycle
	}
	for _, it := range s.SubscriptionItems {
		r.Items = append(r.Items, schemas.Item{
			ItemPriceID: it.ItemPriceID, ItemType: it.ItemType, Quantity: it.Quantity,
			UnitPrice: it.UnitPrice, Amount: it.Amount, BillingCycles: it.BillingCycles,
			UnitPriceInDecimal: it.UnitPriceInDecimal, AmountInDecimal: it.AmountInDecimal,
			QuantityInDecimal: it.QuantityInDecimal,
		})
	}
	if len(s.SubscriptionItems) == 0 && s.PlanID != "" {
		q := s.PlanQuantity
		if q == 0 {
			q = 1
		}
		r.Items = append(r.Items, schemas.Item{
			ItemPriceID: s.PlanID, ItemType: "plan", Quantity: q, UnitPrice: s.PlanUnitPrice, Amount: s.PlanAmount,
			UnitPriceInDecimal: s.PlanUnitPriceInDecimal, AmountInDecimal: s.PlanAmountInDecimal,
			QuantityInDecimal: s.PlanQuantityInDecimal,
		})
		for _, a := range s.Addons {
			r.Items = append(r.Items, schemas.Item{
				ItemPriceID: a.ID, ItemType: "addon", Quantity: a.Quantity, UnitPrice: a.UnitPrice, Amount: a.Amount,
				UnitPriceInDecimal: a.UnitPriceInDecimal, AmountInDecimal: a.AmountInDecimal,
				QuantityInDecimal: a.QuantityInDecimal,
			})
		}
	}
	if card != nil {
		r.CardType, r.CardStatus, r.CardLast4 = card.CardType, card.Status, card.Last4
		r.CardExpiryMonth, r.CardExpiryYear = card.ExpiryMonth, card.ExpiryYear
	}
	return r
}

// Credit entries of discounts[] (entity_type) and line_item_discounts[]
// (discount_type): Chargebee lists applied credits beside the discounts
// (invoiceEnum.DiscountEntityType, LineItemDiscountDiscountType).
func isCredit(kind string) bool { return kind == "promotional_credits" || kind == "prorated_credits" }

// Record converts the API invoice into the extract record. Discount sums the
// discounts[] entries that are discounts and Credits those that are credits; an
// invoice with no discounts[] falls back on line_item_discounts[], split alike.
func (in *Invoice) Record() schemas.Invoice {
	r := schemas.Invoice{
		ID: in.ID, CustomerID: in.CustomerID, SubscriptionID: in.SubscriptionID,
		Recurring: in.Recurring, Status: in.Status, DunningStatus: in.DunningStatus,
		CurrencyCode: in.CurrencyCode, Date: in.Date, DueDate: in.DueDate, PaidAt: in.PaidAt,
		UpdatedAt: in.UpdatedAt, Total: in.Total, SubTotal: in.SubTotal, Tax: in.Tax,
		AmountPaid: in.AmountPaid, AmountDue: in.AmountDue, IsGifted: in.IsGifted,
		ResourceVersion: in.ResourceVersion, Deleted: in.Deleted, PriceType: in.PriceType,
	}
	var discount, credits int64
	var hasDiscount, hasCredits bool
	add := func(kind string, amount int64) {
		if isCredit(kind) {
			credits, hasCredits = credits+amount, true
		} else {
			discount, hasDiscount = discount+amount, true
		}
	}
	if len(in.Discounts) > 0 {
		for _, x := range in.Discounts {
			add(x.EntityType, x.Amount)
		}
	} else {
		for _, x := range in.LineItemDiscounts {
			add(x.DiscountType, x.DiscountAmount)
		}
	}
	if hasDiscount {
		r.Discount = &discount
	}
	if hasCredits {
		r.Credits = &credits
	}
	var refunded int64
	for _, cn := range in.IssuedCreditNotes {
		if cn.CnStatus == "refunded" {
			refunded += cn.CnTotal
		}
	}
	if refunded != 0 {
		r.AmountRefunded = &refunded
	}
	for _, li := range in.LineItems {
		l := schemas.InvoiceLine{
			ID: li.ID, SubscriptionID: li.SubscriptionID, EntityType: li.EntityType, EntityID: li.EntityID,
			DateFrom: li.DateFrom, DateTo: li.DateTo, Amount: li.Amount, AmountInDecimal: li.AmountInDecimal,
			TaxAmount: li.TaxAmount,
		}
		if li.DiscountAmount != nil || li.ItemLevelDiscountAmount != nil {
			d := deref(li.DiscountAmount) + deref(li.ItemLevelDiscountAmount)
			l.DiscountAmount = &d
		}
		r.LineItems = append(r.LineItems, l)
	}
	for _, p := range in.LinkedPayments {
		r.Payments = append(r.Payments, schemas.InvoicePayment{TxnID: p.TxnID, TxnStatus: p.TxnStatus, TxnDate: p.TxnDate, Amount: p.AppliedAmount})
	}
	for _, d := range in.DunningAttempts {
		r.DunningAttempts = append(r.DunningAttempts, schemas.InvoicePayment{TxnID: d.TransactionID, TxnStatus: d.TxnStatus, TxnDate: d.CreatedAt, Amount: d.TxnAmount})
	}
	return r
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Record converts the API credit note into the extract record.
func (cn *CreditNote) Record() schemas.CreditNote {
	return schemas.CreditNote{
		ID: cn.ID, CustomerID: cn.CustomerID, SubscriptionID: cn.SubscriptionID,
		ReferenceInvoiceID: cn.ReferenceInvoiceID, Type: cn.Type, Status: cn.Status,
		ReasonCode: cn.ReasonCode, CurrencyCode: cn.CurrencyCode, Date: cn.Date, Total: cn.Total,
		AmountRefunded: cn.AmountRefunded, AmountAllocated: cn.AmountAllocated,
		RefundedAt: cn.RefundedAt, VoidedAt: cn.VoidedAt, UpdatedAt: cn.UpdatedAt,
		ResourceVersion: cn.ResourceVersion, Deleted: cn.Deleted,
	}
}

// Record converts the API payment source into the extract record.
func (ps *PaymentSource) Record() schemas.PaymentSource {
	r := schemas.PaymentSource{
		ID: ps.ID, CustomerID: ps.CustomerID, Type: ps.Type, Status: ps.Status, Gateway: ps.Gateway,
		CreatedAt: ps.CreatedAt, UpdatedAt: ps.UpdatedAt, ResourceVersion: ps.ResourceVersion,
		Deleted: ps.Deleted,
	}
	if c := ps.Card; c != nil {
		r.CardBrand, r.CardFundingType, r.CardLast4 = c.Brand, c.FundingType, c.Last4
		r.CardExpiryMonth, r.CardExpiryYear = c.ExpiryMonth, c.ExpiryYear
	}
	return r
}

// Record converts the API item price into the extract record.
func (p *ItemPrice) Record() schemas.ItemPrice {
	return schemas.ItemPrice{
		ID: p.ID, Name: p.Name, ExternalName: p.ExternalName, ItemID: p.ItemID,
		ItemFamilyID: p.ItemFamilyID, ItemType: p.ItemType, CurrencyCode: p.CurrencyCode,
		Price: p.Price, Period: p.Period, PeriodUnit: p.PeriodUnit, PricingModel: p.PricingModel,
		Status: p.Status, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		ResourceVersion: p.ResourceVersion, Deleted: p.Deleted,
		BillingCycles: p.BillingCycles, PriceInDecimal: p.PriceInDecimal,
	}
}

// Record converts the API item into the extract record.
func (it *Item) Record() schemas.CatalogItem {
	return schemas.CatalogItem{
		ID: it.ID, Name: it.Name, ExternalName: it.ExternalName, Type: it.Type,
		ItemFamilyID: it.ItemFamilyID, Status: it.Status, UpdatedAt: it.UpdatedAt,
		ResourceVersion: it.ResourceVersion, Deleted: it.Deleted,
	}
}

// Record converts the API plan into the extract record; status "deleted" is the
// plan's deleted flag.
func (p *Plan) Record() schemas.CatalogPlan {
	return schemas.CatalogPlan{
		ID: p.ID, Name: p.Name, InvoiceName: p.InvoiceName, CurrencyCode: p.CurrencyCode,
		Price: p.Price, PriceInDecimal: p.PriceInDecimal, Period: p.Period, PeriodUnit: p.PeriodUnit,
		BillingCycles: p.BillingCycles, Status: p.Status, UpdatedAt: p.UpdatedAt,
		ResourceVersion: p.ResourceVersion, Deleted: p.Status == "deleted",
	}
}

// Record converts the API addon into the extract record (no billing_cycles: the
// addon resource has none).
func (a *CatalogAddon) Record() schemas.CatalogPlan {
	return schemas.CatalogPlan{
		ID: a.ID, Name: a.Name, InvoiceName: a.InvoiceName, CurrencyCode: a.CurrencyCode,
		Price: a.Price, PriceInDecimal: a.PriceInDecimal, Period: a.Period, PeriodUnit: a.PeriodUnit,
		Status: a.Status, UpdatedAt: a.UpdatedAt, ResourceVersion: a.ResourceVersion,
		Deleted: a.Status == "deleted",
	}
}

// Record converts the API gift into the extract record.
func (g *Gift) Record() schemas.Gift {
	return schemas.Gift{
		ID: g.ID, Status: g.Status, GifterCustomerID: g.Gifter.CustomerID,
		ReceiverCustomer: g.GiftReceiver.CustomerID, SubscriptionID: g.GiftReceiver.SubscriptionID,
		UpdatedAt: g.UpdatedAt, ResourceVersion: g.ResourceVersion,
	}
}
