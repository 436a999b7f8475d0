package chargebee

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

func i64(n int64) *int64 { return &n }

func decodeOne(t *testing.T, entry string) Entry {
	t.Helper()
	p, err := DecodePage(strings.NewReader(`{"list":[` + entry + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	return p.List[0]
}

func TestCustomerWithListCard(t *testing.T) {
	e := decodeOne(t, `{"customer":{"id":"c1","email":"","pii_cleared":"cleared","primary_payment_source_id":"pm_1","resource_version":7},
		"card":{"payment_source_id":"pm_1","status":"valid","card_type":"visa","last4":"4242","expiry_month":12,"expiry_year":2031,"object":"card"}}`)
	got := e.Customer.Record(e.Card)
	want := schemas.Customer{ID: "c1", PIICleared: "cleared", PrimaryPaymentSource: "pm_1", ResourceVersion: 7,
		CardPaymentSourceID: "pm_1", CardType: "visa", CardLast4: "4242", CardExpiryMonth: i64(12), CardExpiryYear: i64(2031)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if !got.Erased() {
		t.Error("pii_cleared=cleared is not Erased")
	}
	if r := e.Customer.Record(nil); r.CardType != "" || r.CardExpiryYear != nil {
		t.Errorf("no card: %+v", r)
	}
}

func TestSubscriptionNewFields(t *testing.T) {
	e := decodeOne(t, `{"subscription":{"id":"s1","customer_id":"c1","cancel_reason_code":"too_expensive","payment_source_id":"pm_2",
		"contract_term":{"id":"ct1","billing_cycle":12,"status":"active"},
		"subscription_items":[{"item_price_id":"p","item_type":"plan","quantity":1,"quantity_in_decimal":"1.5","unit_price":1000,"unit_price_in_decimal":"10.005","amount":1500,"amount_in_decimal":"15.0075"}]}}`)
	got := e.Subscription.Record(nil)
	if got.CancelReasonCode != "too_expensive" || got.PaymentSourceID != "pm_2" || got.ContractBillingCycles == nil || *got.ContractBillingCycles != 12 {
		t.Errorf("subscription %+v", got)
	}
	want := schemas.Item{ItemPriceID: "p", ItemType: "plan", Quantity: 1, UnitPrice: i64(1000), Amount: i64(1500),
		UnitPriceInDecimal: "10.005", AmountInDecimal: "15.0075", QuantityInDecimal: "1.5"}
	if len(got.Items) != 1 || !reflect.DeepEqual(got.Items[0], want) {
		t.Errorf("items %+v", got.Items)
	}

	// Product Catalog 1.0: the plan and addons become items, decimals included.
	e = decodeOne(t, `{"subscription":{"id":"s2","customer_id":"c1","plan_id":"basic","plan_quantity":2,"plan_quantity_in_decimal":"2.5",
		"plan_unit_price":100,"plan_unit_price_in_decimal":"1.004","plan_amount":250,"plan_amount_in_decimal":"2.51",
		"addons":[{"id":"extra","quantity":1,"quantity_in_decimal":"1.25","unit_price":50,"unit_price_in_decimal":"0.5","amount":62,"amount_in_decimal":"0.625"}]}}`)
	got = e.Subscription.Record(nil)
	wantItems := schemas.Items{
		{ItemPriceID: "basic", ItemType: "plan", Quantity: 2, UnitPrice: i64(100), Amount: i64(250), UnitPriceInDecimal: "1.004", AmountInDecimal: "2.51", QuantityInDecimal: "2.5"},
		{ItemPriceID: "extra", ItemType: "addon", Quantity: 1, UnitPrice: i64(50), Amount: i64(62), UnitPriceInDecimal: "0.5", AmountInDecimal: "0.625", QuantityInDecimal: "1.25"},
	}
	if !reflect.DeepEqual(got.Items, wantItems) || got.ContractBillingCycles != nil {
		t.Errorf("PC1 items %+v", got.Items)
	}
}

func TestInvoiceCreditsLinesPayments(t *testing.T) {
	e := decodeOne(t, `{"invoice":{"id":"i1","customer_id":"c1","price_type":"tax_inclusive",
		"discounts":[{"amount":100,"entity_type":"document_level_coupon","entity_id":"TEN"},{"amount":30,"entity_type":"item_level_discount"},
			{"amount":500,"entity_type":"promotional_credits"},{"amount":20,"entity_type":"prorated_credits"}],
		"line_item_discounts":[{"line_item_id":"li1","discount_type":"document_level_coupon","discount_amount":999}],
		"line_items":[{"id":"li1","subscription_id":"s1","entity_type":"plan_item_price","entity_id":"p","date_from":10,"date_to":20,
			"amount":1000,"amount_in_decimal":"10.00","tax_amount":80,"discount_amount":100,"item_level_discount_amount":30,"unit_amount":1000,"quantity":1},
			{"id":"li2","entity_type":"adhoc","amount":5}],
		"linked_payments":[{"txn_id":"txn_1","applied_amount":470,"applied_at":30,"txn_status":"success","txn_date":29,"txn_amount":600}],
		"dunning_attempts":[{"attempt":0,"transaction_id":"txn_0","dunning_type":"auto_collect","created_at":25,"txn_status":"failure","txn_amount":600}]}}`)
	got := e.Invoice.Record()
	if got.Discount == nil || *got.Discount != 130 || got.Credits == nil || *got.Credits != 520 || got.PriceType != "tax_inclusive" {
		t.Errorf("discount %v credits %v price type %q: want 130 (coupons and discounts only), 520 (credits)", got.Discount, got.Credits, got.PriceType)
	}
	wantLines := schemas.InvoiceLines{
		{ID: "li1", SubscriptionID: "s1", EntityType: "plan_item_price", EntityID: "p", DateFrom: i64(10), DateTo: i64(20),
			Amount: i64(1000), AmountInDecimal: "10.00", TaxAmount: i64(80), DiscountAmount: i64(130)},
		{ID: "li2", EntityType: "adhoc", Amount: i64(5)},
	}
	if !reflect.DeepEqual(got.LineItems, wantLines) {
		t.Errorf("line items\n got %+v\nwant %+v", got.LineItems, wantLines)
	}
	if want := (schemas.InvoicePayments{{TxnID: "txn_1", TxnStatus: "success", TxnDate: i64(29), Amount: i64(470)}}); !reflect.DeepEqual(got.Payments, want) {
		t.Errorf("payments %+v", got.Payments)
	}
	if want := (schemas.InvoicePayments{{TxnID: "txn_0", TxnStatus: "failure", TxnDate: i64(25), Amount: i64(600)}}); !reflect.DeepEqual(got.DunningAttempts, want) {
		t.Errorf("dunning attempts %+v", got.DunningAttempts)
	}

	// Only credits: no discount at all. No discounts[]: line_item_discounts[], split alike.
	for _, c := range []struct {
		body              string
		discount, credits *int64
	}{
		{`"discounts":[{"amount":500,"entity_type":"promotional_credits"}]`, nil, i64(500)},
		{`"line_item_discounts":[{"discount_type":"item_level_coupon","discount_amount":40},{"discount_type":"promotional_credits","discount_amount":7}]`, i64(40), i64(7)},
		{`"discounts":[]`, nil, nil},
	} {
		r := decodeOne(t, `{"invoice":{"id":"i2",`+c.body+`}}`).Invoice.Record()
		if !reflect.DeepEqual(r.Discount, c.discount) || !reflect.DeepEqual(r.Credits, c.credits) {
			t.Errorf("%s: discount %v credits %v", c.body, r.Discount, r.Credits)
		}
	}
}

func TestNewResources(t *testing.T) {
	p, err := DecodePage(strings.NewReader(`{"list":[
		{"credit_note":{"id":"cn1","customer_id":"c1","subscription_id":"s1","reference_invoice_id":"i1","type":"refundable","status":"refunded",
			"reason_code":"product_unsatisfactory","currency_code":"USD","date":5,"total":300,"amount_refunded":300,"amount_allocated":0,
			"refunded_at":6,"voided_at":7,"updated_at":8,"resource_version":9,"deleted":false}},
		{"payment_source":{"id":"pm_1","customer_id":"c1","type":"card","status":"valid","gateway":"stripe","created_at":1,"updated_at":2,"resource_version":3,"deleted":true,
			"card":{"brand":"visa","funding_type":"credit","last4":"4242","expiry_month":1,"expiry_year":2030,"object":"card"}}},
		{"item":{"id":"pro","name":"Pro","external_name":"Pro plan","type":"plan","item_family_id":"fam","status":"active","updated_at":4,"resource_version":5,"deleted":false}},
		{"plan":{"id":"basic","name":"Basic","invoice_name":"Basic plan","currency_code":"EUR","price":900,"price_in_decimal":"9.00","period":1,"period_unit":"month","billing_cycles":12,"status":"deleted","updated_at":3,"resource_version":4}},
		{"addon":{"id":"extra","name":"Extra","invoice_name":"Extra seat","currency_code":"EUR","price":100,"price_in_decimal":"1.00","period":1,"period_unit":"month","status":"active","updated_at":3,"resource_version":4}},
		{"item_price":{"id":"pro-USD","item_id":"pro","price":1000,"price_in_decimal":"10.00","billing_cycles":6}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.List[0].CreditNote.Record(), (schemas.CreditNote{ID: "cn1", CustomerID: "c1", SubscriptionID: "s1", ReferenceInvoiceID: "i1",
		Type: "refundable", Status: "refunded", ReasonCode: "product_unsatisfactory", CurrencyCode: "USD", Date: i64(5), Total: i64(300),
		AmountRefunded: i64(300), AmountAllocated: i64(0), RefundedAt: i64(6), VoidedAt: i64(7), UpdatedAt: i64(8), ResourceVersion: 9}); !reflect.DeepEqual(got, want) {
		t.Errorf("credit note\n got %+v\nwant %+v", got, want)
	}
	if got, want := p.List[1].PaymentSource.Record(), (schemas.PaymentSource{ID: "pm_1", CustomerID: "c1", Type: "card", Status: "valid", Gateway: "stripe",
		CardBrand: "visa", CardFundingType: "credit", CardLast4: "4242", CardExpiryMonth: i64(1), CardExpiryYear: i64(2030),
		CreatedAt: i64(1), UpdatedAt: i64(2), ResourceVersion: 3, Deleted: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("payment source\n got %+v\nwant %+v", got, want)
	}
	if got, want := p.List[2].Item.Record(), (schemas.CatalogItem{ID: "pro", Name: "Pro", ExternalName: "Pro plan", Type: "plan", ItemFamilyID: "fam",
		Status: "active", UpdatedAt: i64(4), ResourceVersion: 5}); !reflect.DeepEqual(got, want) {
		t.Errorf("item\n got %+v\nwant %+v", got, want)
	}
	if got, want := p.List[3].Plan.Record(), (schemas.CatalogPlan{ID: "basic", Name: "Basic", InvoiceName: "Basic plan", CurrencyCode: "EUR", Price: i64(900),
		PriceInDecimal: "9.00", Period: 1, PeriodUnit: "month", BillingCycles: i64(12), Status: "deleted", UpdatedAt: i64(3), ResourceVersion: 4, Deleted: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("plan\n got %+v\nwant %+v", got, want)
	}
	if got, want := p.List[4].Addon.Record(), (schemas.CatalogPlan{ID: "extra", Name: "Extra", InvoiceName: "Extra seat", CurrencyCode: "EUR", Price: i64(100),
		PriceInDecimal: "1.00", Period: 1, PeriodUnit: "month", Status: "active", UpdatedAt: i64(3), ResourceVersion: 4}); !reflect.DeepEqual(got, want) {
		t.Errorf("addon\n got %+v\nwant %+v", got, want)
	}
	if got := p.List[5].ItemPrice.Record(); got.PriceInDecimal != "10.00" || got.BillingCycles == nil || *got.BillingCycles != 6 {
		t.Errorf("item price %+v", got)
	}
}
