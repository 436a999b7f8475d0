// Package chargebee holds the Chargebee API v2 list types and their decoding. The
// folder-of-pages source and the API client decode through the same types, so a page
// file and an HTTP response body give the same records.
package chargebee

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/cb2ac/cb2ac/schemas"
)

// Page is one list response: {"list":[...], "next_offset":"..."}.
type Page struct {
	List       []Entry `json:"list"`
	NextOffset string  `json:"next_offset,omitempty"`

	// Date is the server's Date header of the answer (Unix seconds; 0 when absent
	// or unreadable): Chargebee's clock, not this host's. Set by Client.ListPage.
	Date int64 `json:"-"`

	// Unknown counts the keys of the page's resources that Chargebee's SDK does not
	// declare (schema drift), nil when there are none.
	Unknown Unknown `json:"-"`
}

// Entry is one element of a list: resources wrapped by their type name.
type Entry struct {
	Customer      *Customer      `json:"customer,omitempty"`
	Subscription  *Subscription  `json:"subscription,omitempty"`
	Card          *Card          `json:"card,omitempty"`
	Invoice       *Invoice       `json:"invoice,omitempty"`
	CreditNote    *CreditNote    `json:"credit_note,omitempty"`
	PaymentSource *PaymentSource `json:"payment_source,omitempty"`
	ItemPrice     *ItemPrice     `json:"item_price,omitempty"`
	Item          *Item          `json:"item,omitempty"`
	Plan          *Plan          `json:"plan,omitempty"`
	Addon         *CatalogAddon  `json:"addon,omitempty"`
	Gift          *Gift          `json:"gift,omitempty"`
}

// DecodePage reads one list page. Anything that is not a list envelope is an error:
// silently reading zero records from a changed API shape would look like mass deletion.
func DecodePage(r io.Reader) (*Page, error) {
	var env struct {
		List       *[]Entry `json:"list"`
		NextOffset string   `json:"next_offset"`
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read page: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&env); err != nil {
		var te *json.UnmarshalTypeError
		if asTypeError(err, &te) && te.Field == "" {
			return nil, fmt.Errorf("not a Chargebee list page: the document is a JSON %s, not an object with a \"list\" array", te.Value)
		}
		if asTypeError(err, &te) {
			if eerr := entryError(b); eerr != nil {
				return nil, eerr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("truncated JSON: unexpected end of input")
		}
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if env.List == nil {
		return nil, fmt.Errorf("not a Chargebee list page: no \"list\" array")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("bad JSON: trailing data after the list page")
	}
	return &Page{List: *env.List, NextOffset: env.NextOffset, Unknown: unknownKeys(b)}, nil
}

// entryError names the first list entry that does not decode, by index, record and
// field, so that one bad value among a page's hundred records can be found in
// Chargebee. It re-reads the page only on that error path.
func entryError(page []byte) error {
	var env struct {
		List []json.RawMessage `json:"list"`
	}
	if json.Unmarshal(page, &env) != nil {
		return nil
	}
	for i, raw := range env.List {
		var e Entry
		err := json.Unmarshal(raw, &e)
		if err == nil {
			continue
		}
		var te *json.UnmarshalTypeError
		if !asTypeError(err, &te) {
			return fmt.Errorf("list entry %d%s: %w", i, entryName(raw), err)
		}
		what := te.Field
		if what == "" {
			what = "the entry"
		}
		return fmt.Errorf("list entry %d%s: %s is a JSON %s, want %s", i, entryName(raw), what, te.Value, kindName(te.Type))
	}
	return nil
}

// entryName is " (customer cus_1)" for an entry whose record has a string id.
func entryName(raw json.RawMessage) string {
	var objs map[string]struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &objs) != nil {
		return ""
	}
	for _, k := range []string{"customer", "subscription", "invoice", "credit_note", "payment_source", "item_price", "item", "plan", "addon", "gift"} {
		var id string
		if o, ok := objs[k]; ok && json.Unmarshal(o.ID, &id) == nil && id != "" {
			return fmt.Sprintf(" (%s %s)", k, id)
		}
	}
	return ""
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("an integer that fits in %d bits", t.Bits())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	}
	return t.String()
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = t
	}
	return ok
}

// Address is a billing or shipping address.
type Address = schemas.Address

// The resource types below decode the fields cb2ac uses, under the names the
// official SDKs give them (chargebee-go v3.48.0 models/<resource>/<resource>.go;
// TestFieldsAreChargebees holds every json tag to testdata/chargebee/chargebee-model-fields.tsv).

// Customer is the `customer` resource (the fields cb2ac uses).
type Customer struct {
	ID                     string `json:"id"`
	FirstName              string `json:"first_name"`
	LastName               string `json:"last_name"`
	Email                  string `json:"email"`
	Phone                  string `json:"phone"`
	Company                string `json:"company"`
	AutoCollection         string `json:"auto_collection"`
	Locale                 string `json:"locale"`
	PreferredCurrencyCode  string `json:"preferred_currency_code"`
	CardStatus             string `json:"card_status"`
	PrimaryPaymentSourceID string `json:"primary_payment_source_id"`
	PaymentMethod          *struct {
		Type string `json:"type"`
	} `json:"payment_method"`
	BillingAddress *Address `json:"billing_address"`
	// PIICleared is active, scheduled_for_clear or cleared (customerEnum.PiiCleared).
	PIICleared      string `json:"pii_cleared"`
	CreatedAt       *int64 `json:"created_at"`
	UpdatedAt       *int64 `json:"updated_at"`
	ResourceVersion int64  `json:"resource_version"`
	Deleted         bool   `json:"deleted"`
	CustomFields    string `json:"-"`
}

// UnmarshalJSON keeps the cf_* custom fields as a JSON object string.
func (c *Customer) UnmarshalJSON(b []byte) error {
	type plain Customer
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	cf, err := customFields(b)
	c.CustomFields = cf
	return err
}

// Card is the `card` resource: the customer's primary card, as it comes beside a
// customer or a subscription in their list entries.
type Card struct {
	PaymentSourceID string `json:"payment_source_id"`
	Status          string `json:"status"`
	CardType        string `json:"card_type"`
	Last4           string `json:"last4"`
	ExpiryMonth     *int64 `json:"expiry_month"`
	ExpiryYear      *int64 `json:"expiry_year"`
}

// SubscriptionItem is a Product Catalog 2.0 item. With multi-decimal pricing the
// *_in_decimal strings carry the exact values.
type SubscriptionItem struct {
	ItemPriceID        string `json:"item_price_id"`
	ItemType           string `json:"item_type"`
	Quantity           int64  `json:"quantity"`
	QuantityInDecimal  string `json:"quantity_in_decimal"`
	UnitPrice          *int64 `json:"unit_price"`
	UnitPriceInDecimal string `json:"unit_price_in_decimal"`
	Amount             *int64 `json:"amount"`
	AmountInDecimal    string `json:"amount_in_decimal"`
	BillingCycles      *int64 `json:"billing_cycles"`
}

// Addon is a Product Catalog 1.0 addon of a subscription (subscription.addons[]).
type Addon struct {
	ID                 string `json:"id"`
	Quantity           int64  `json:"quantity"`
	QuantityInDecimal  string `json:"quantity_in_decimal"`
	UnitPrice          *int64 `json:"unit_price"`
	UnitPriceInDecimal string `json:"unit_price_in_decimal"`
	Amount             *int64 `json:"amount"`
	AmountInDecimal    string `json:"amount_in_decimal"`
}

// ContractTerm is subscription.contract_term (the fields cb2ac uses).
type ContractTerm struct {
	BillingCycle *int64 `json:"billing_cycle"`
}

// Subscription is the `subscription` resource.
type Subscription struct {
	ID                     string             `json:"id"`
	CustomerID             string             `json:"customer_id"`
	Status                 string             `json:"status"`
	CancelReason           string             `json:"cancel_reason"`
	CancelReasonCode       string             `json:"cancel_reason_code"`
	CurrencyCode           string             `json:"currency_code"`
	BillingPeriod          int64              `json:"billing_period"`
	BillingPeriodUnit      string             `json:"billing_period_unit"`
	RemainingBillingCycles *int64             `json:"remaining_billing_cycles"`
	MRR                    *int64             `json:"mrr"`
	DueInvoicesCount       int64              `json:"due_invoices_count"`
	TotalDues              *int64             `json:"total_dues"`
	AutoCollection         string             `json:"auto_collection"`
	GiftID                 string             `json:"gift_id"`
	PaymentSourceID        string             `json:"payment_source_id"`
	ContractTerm           *ContractTerm      `json:"contract_term"`
	SubscriptionItems      []SubscriptionItem `json:"subscription_items"`
	PlanID                 string             `json:"plan_id"`
	PlanQuantity           int64              `json:"plan_quantity"`
	PlanQuantityInDecimal  string             `json:"plan_quantity_in_decimal"`
	PlanUnitPrice          *int64             `json:"plan_unit_price"`
	PlanUnitPriceInDecimal string             `json:"plan_unit_price_in_decimal"`
	PlanAmount             *int64             `json:"plan_amount"`
	PlanAmountInDecimal    string             `json:"plan_amount_in_decimal"`
	Addons                 []Addon            `json:"addons"`
	CreatedAt              *int64             `json:"created_at"`
	UpdatedAt              *int64             `json:"updated_at"`
	StartDate              *int64             `json:"start_date"`
	StartedAt              *int64             `json:"started_at"`
	ActivatedAt            *int64             `json:"activated_at"`
	TrialStart             *int64             `json:"trial_start"`
	TrialEnd               *int64             `json:"trial_end"`
	CurrentTermStart       *int64             `json:"current_term_start"`
	CurrentTermEnd         *int64             `json:"current_term_end"`
	NextBillingAt          *int64             `json:"next_billing_at"`
	CancelledAt            *int64             `json:"cancelled_at"`
	PauseDate              *int64             `json:"pause_date"`
	ResumeDate             *int64             `json:"resume_date"`
	ShippingAddress        *Address           `json:"shipping_address"`
	ResourceVersion        int64              `json:"resource_version"`
	Deleted                bool               `json:"deleted"`
	CustomFields           string             `json:"-"`
}

// UnmarshalJSON keeps the cf_* custom fields as a JSON object string.
func (s *Subscription) UnmarshalJSON(b []byte) error {
	type plain Subscription
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	cf, err := customFields(b)
	s.CustomFields = cf
	return err
}

// InvoiceDiscount is invoice.discounts[]. entity_type promotional_credits and
// prorated_credits are credits that Chargebee lists among the discounts
// (invoiceEnum.DiscountEntityType).
type InvoiceDiscount struct {
	Amount     int64  `json:"amount"`
	EntityType string `json:"entity_type"`
}

// InvoiceLineItemDiscount is invoice.line_item_discounts[]; discount_type takes the
// same values as discounts[].entity_type.
type InvoiceLineItemDiscount struct {
	DiscountType   string `json:"discount_type"`
	DiscountAmount int64  `json:"discount_amount"`
}

// InvoiceLineItem is invoice.line_items[] (the fields cb2ac uses).
type InvoiceLineItem struct {
	ID                      string `json:"id"`
	SubscriptionID          string `json:"subscription_id"`
	EntityType              string `json:"entity_type"`
	EntityID                string `json:"entity_id"`
	DateFrom                *int64 `json:"date_from"`
	DateTo                  *int64 `json:"date_to"`
	Amount                  *int64 `json:"amount"`
	AmountInDecimal         string `json:"amount_in_decimal"`
	TaxAmount               *int64 `json:"tax_amount"`
	DiscountAmount          *int64 `json:"discount_amount"`
	ItemLevelDiscountAmount *int64 `json:"item_level_discount_amount"`
}

// InvoiceLinkedPayment is invoice.linked_payments[].
type InvoiceLinkedPayment struct {
	TxnID         string `json:"txn_id"`
	TxnStatus     string `json:"txn_status"`
	TxnDate       *int64 `json:"txn_date"`
	AppliedAmount *int64 `json:"applied_amount"`
}

// InvoiceDunningAttempt is invoice.dunning_attempts[].
type InvoiceDunningAttempt struct {
	TransactionID string `json:"transaction_id"`
	TxnStatus     string `json:"txn_status"`
	CreatedAt     *int64 `json:"created_at"`
	TxnAmount     *int64 `json:"txn_amount"`
}

// InvoiceIssuedCreditNote is invoice.issued_credit_notes[].
type InvoiceIssuedCreditNote struct {
	CnTotal  int64  `json:"cn_total"`
	CnStatus string `json:"cn_status"`
}

// Invoice is the `invoice` resource.
type Invoice struct {
	ID                string                    `json:"id"`
	CustomerID        string                    `json:"customer_id"`
	SubscriptionID    string                    `json:"subscription_id"`
	Recurring         bool                      `json:"recurring"`
	Status            string                    `json:"status"`
	PriceType         string                    `json:"price_type"`
	DunningStatus     string                    `json:"dunning_status"`
	CurrencyCode      string                    `json:"currency_code"`
	Date              *int64                    `json:"date"`
	DueDate           *int64                    `json:"due_date"`
	PaidAt            *int64                    `json:"paid_at"`
	UpdatedAt         *int64                    `json:"updated_at"`
	Total             *int64                    `json:"total"`
	SubTotal          *int64                    `json:"sub_total"`
	Tax               *int64                    `json:"tax"`
	AmountPaid        *int64                    `json:"amount_paid"`
	AmountDue         *int64                    `json:"amount_due"`
	Discounts         []InvoiceDiscount         `json:"discounts"`
	LineItemDiscounts []InvoiceLineItemDiscount `json:"line_item_discounts"`
	LineItems         []InvoiceLineItem         `json:"line_items"`
	LinkedPayments    []InvoiceLinkedPayment    `json:"linked_payments"`
	DunningAttempts   []InvoiceDunningAttempt   `json:"dunning_attempts"`
	IssuedCreditNotes []InvoiceIssuedCreditNote `json:"issued_credit_notes"`
	IsGifted          bool                      `json:"is_gifted"`
	ResourceVersion   int64                     `json:"resource_version"`
	Deleted           bool                      `json:"deleted"`
}

// CreditNote is the `credit_note` resource (/credit_notes).
type CreditNote struct {
	ID                 string `json:"id"`
	CustomerID         string `json:"customer_id"`
	SubscriptionID     string `json:"subscription_id"`
	ReferenceInvoiceID string `json:"reference_invoice_id"`
	Type               string `json:"type"`
	Status             string `json:"status"`
	ReasonCode         string `json:"reason_code"`
	CurrencyCode       string `json:"currency_code"`
	Date               *int64 `json:"date"`
	Total              *int64 `json:"total"`
	AmountRefunded     *int64 `json:"amount_refunded"`
	AmountAllocated    *int64 `json:"amount_allocated"`
	RefundedAt         *int64 `json:"refunded_at"`
	VoidedAt           *int64 `json:"voided_at"`
	UpdatedAt          *int64 `json:"updated_at"`
	ResourceVersion    int64  `json:"resource_version"`
	Deleted            bool   `json:"deleted"`
}

// PaymentSourceCard is payment_source.card.
type PaymentSourceCard struct {
	Brand       string `json:"brand"`
	FundingType string `json:"funding_type"`
	Last4       string `json:"last4"`
	ExpiryMonth *int64 `json:"expiry_month"`
	ExpiryYear  *int64 `json:"expiry_year"`
}

// PaymentSource is the `payment_source` resource (/payment_sources).
type PaymentSource struct {
	ID              string             `json:"id"`
	CustomerID      string             `json:"customer_id"`
	Type            string             `json:"type"`
	Status          string             `json:"status"`
	Gateway         string             `json:"gateway"`
	Card            *PaymentSourceCard `json:"card"`
	CreatedAt       *int64             `json:"created_at"`
	UpdatedAt       *int64             `json:"updated_at"`
	ResourceVersion int64              `json:"resource_version"`
	Deleted         bool               `json:"deleted"`
}

// ItemPrice is the `item_price` resource (Product Catalog 2.0).
type ItemPrice struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	ExternalName    string `json:"external_name"`
	ItemID          string `json:"item_id"`
	ItemFamilyID    string `json:"item_family_id"`
	ItemType        string `json:"item_type"`
	CurrencyCode    string `json:"currency_code"`
	Price           *int64 `json:"price"`
	PriceInDecimal  string `json:"price_in_decimal"`
	Period          int64  `json:"period"`
	PeriodUnit      string `json:"period_unit"`
	BillingCycles   *int64 `json:"billing_cycles"`
	PricingModel    string `json:"pricing_model"`
	Status          string `json:"status"`
	CreatedAt       *int64 `json:"created_at"`
	UpdatedAt       *int64 `json:"updated_at"`
	ResourceVersion int64  `json:"resource_version"`
	Deleted         bool   `json:"deleted"`
}

// Item is the `item` resource (Product Catalog 2.0, /items).
type Item struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	ExternalName    string `json:"external_name"`
	Type            string `json:"type"`
	ItemFamilyID    string `json:"item_family_id"`
	Status          string `json:"status"`
	UpdatedAt       *int64 `json:"updated_at"`
	ResourceVersion int64  `json:"resource_version"`
	Deleted         bool   `json:"deleted"`
}

// Plan is the `plan` resource (Product Catalog 1.0, /plans). It has no deleted
// field: a deleted plan has status "deleted" (planEnum.Status).
type Plan struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	InvoiceName     string `json:"invoice_name"`
	CurrencyCode    string `json:"currency_code"`
	Price           *int64 `json:"price"`
	PriceInDecimal  string `json:"price_in_decimal"`
	Period          int64  `json:"period"`
	PeriodUnit      string `json:"period_unit"`
	BillingCycles   *int64 `json:"billing_cycles"`
	Status          string `json:"status"`
	UpdatedAt       *int64 `json:"updated_at"`
	ResourceVersion int64  `json:"resource_version"`
}

// CatalogAddon is the `addon` resource (Product Catalog 1.0, /addons). Like a plan
// it has no deleted field (status "deleted"), and unlike a plan no billing_cycles.
type CatalogAddon struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	InvoiceName     string `json:"invoice_name"`
	CurrencyCode    string `json:"currency_code"`
	Price           *int64 `json:"price"`
	PriceInDecimal  string `json:"price_in_decimal"`
	Period          int64  `json:"period"`
	PeriodUnit      string `json:"period_unit"`
	Status          string `json:"status"`
	UpdatedAt       *int64 `json:"updated_at"`
	ResourceVersion int64  `json:"resource_version"`
}

// Gift is the `gift` resource.
type Gift struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Gifter struct {
		CustomerID string `json:"customer_id"`
	} `json:"gifter"`
	GiftReceiver struct {
		CustomerID     string `json:"customer_id"`
		SubscriptionID string `json:"subscription_id"`
	} `json:"gift_receiver"`
	UpdatedAt       *int64 `json:"updated_at"`
	ResourceVersion int64  `json:"resource_version"`
}

// customFields returns the object's cf_* keys as a JSON object with sorted keys, or ""
// when there are none. The cheap byte check skips the map decode for most objects.
func customFields(b []byte) (string, error) {
	if !bytes.Contains(b, []byte(`"cf_`)) {
		return "", nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return "", err
	}
	cf := make(map[string]json.RawMessage)
	for k, v := range all {
		if strings.HasPrefix(k, "cf_") {
			cf[k] = v
		}
	}
	if len(cf) == 0 {
		return "", nil
	}
	out, err := json.Marshal(cf) // map keys are sorted: stable across runs
	return string(out), err
}
