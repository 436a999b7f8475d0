package chargebee

import "github.com/cb2ac/cb2ac/schemas"

// Record converts the API customer into the extract record.
func (c *Customer) Record() schemas.Customer {
	r := schemas.Customer{
		ID: c.ID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
		Phone: c.Phone, Company: c.Company, AutoCollection: c.AutoCollection,
		Locale: c.Locale, PreferredCurrencyCode: c.PreferredCurrencyCode,
		CardStatus: c.CardStatus, PrimaryPaymentSource: c.PrimaryPaymentSourceID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ResourceVersion: c.ResourceVersion,
		Deleted: c.Deleted, CustomFields: c.CustomFields,
	}
	if c.PaymentMethod != nil {
		r.PaymentMethodType = c.PaymentMethod.Type
	}
	if c.BillingAddress != nil {
		r.BillingAddress = *c.BillingAddress
	}
	return r
}

// Record converts the API subscription, with the card of its list entry (may be nil),
// into the extract record. Product Catalog 1.0 plans and addons become items so later
// stages see one shape.
func (s *Subscription) Record(card *Card) schemas.Subscription {
	r := schemas.Subscription{
		ID: s.ID, CustomerID: s.CustomerID, Status: s.Status, CancelReason: s.CancelReason,
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
	for _, it := range s.SubscriptionItems {
		r.Items = append(r.Items, schemas.Item{ItemPriceID: it.ItemPriceID, ItemType: it.ItemType, Quantity: it.Quantity, UnitPrice: it.UnitPrice, Amount: it.Amount, BillingCycles: it.BillingCycles})
	}
	if len(s.SubscriptionItems) == 0 && s.PlanID != "" {
		q := s.PlanQuantity
		if q == 0 {
			q = 1
		}
		r.Items = append(r.Items, schemas.Item{ItemPriceID: s.PlanID, ItemType: "plan", Quantity: q, UnitPrice: s.PlanUnitPrice, Amount: s.PlanAmount})
		for _, a := range s.Addons {
			r.Items = append(r.Items, schemas.Item{ItemPriceID: a.ID, ItemType: "addon", Quantity: a.Quantity, UnitPrice: a.UnitPrice, Amount: a.Amount})
		}
	}
	if card != nil {
		r.CardType, r.CardStatus, r.CardLast4 = card.CardType, card.Status, card.Last4
		r.CardExpiryMonth, r.CardExpiryYear = card.ExpiryMonth, card.ExpiryYear
	}
	return r
}

// Record converts the API invoice into the extract record.
func (in *Invoice) Record() schemas.Invoice {
	r := schemas.Invoice{
		ID: in.ID, CustomerID: in.CustomerID, SubscriptionID: in.SubscriptionID,
		Recurring: in.Recurring, Status: in.Status, DunningStatus: in.DunningStatus,
		CurrencyCode: in.CurrencyCode, Date: in.Date, DueDate: in.DueDate, PaidAt: in.PaidAt,
		UpdatedAt: in.UpdatedAt, Total: in.Total, SubTotal: in.SubTotal, Tax: in.Tax,
		AmountPaid: in.AmountPaid, AmountDue: in.AmountDue, IsGifted: in.IsGifted,
		ResourceVersion: in.ResourceVersion, Deleted: in.Deleted,
	}
	if len(in.Discounts) > 0 || len(in.LineItemDiscounts) > 0 {
		var d int64
		for _, x := range in.Discounts {
			d += x.Amount
		}
		if len(in.Discounts) == 0 {
			for _, x := range in.LineItemDiscounts {
				d += x.DiscountAmount
			}
		}
		r.Discount = &d
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
