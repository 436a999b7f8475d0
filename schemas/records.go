// Package schemas declares one Go type per file kind cb2ac writes, with its Parquet
// columns (`parquet` tags) and CSV columns (`csv` tags), and the Table that reads and
// writes it. Stages meet only here and in files.
//
// Extract and validate files keep Chargebee's names and units (snake_case, Unix
// seconds, integer minor units) so a data engineer can compare them with the API;
// transform files use ActiveCampaign's names and formats, so a row reads like the
// request it becomes.
package schemas

import "github.com/cb2ac/cb2ac/internal/money"

// Address is a Chargebee billing or shipping address.
type Address struct {
	FirstName string `parquet:"first_name" csv:"first_name" json:"first_name,omitempty"`
	LastName  string `parquet:"last_name" csv:"last_name" json:"last_name,omitempty"`
	Email     string `parquet:"email" csv:"email" json:"email,omitempty"`
	Company   string `parquet:"company" csv:"company" json:"company,omitempty"`
	Phone     string `parquet:"phone" csv:"phone" json:"phone,omitempty"`
	Line1     string `parquet:"line1" csv:"line1" json:"line1,omitempty"`
	Line2     string `parquet:"line2" csv:"line2" json:"line2,omitempty"`
	Line3     string `parquet:"line3" csv:"line3" json:"line3,omitempty"`
	City      string `parquet:"city" csv:"city" json:"city,omitempty"`
	StateCode string `parquet:"state_code" csv:"state_code" json:"state_code,omitempty"`
	State     string `parquet:"state" csv:"state" json:"state,omitempty"`
	Country   string `parquet:"country" csv:"country" json:"country,omitempty"`
	Zip       string `parquet:"zip" csv:"zip" json:"zip,omitempty"`
}

// Customer is a Chargebee customer as extracted. CustomFields holds the cf_* keys as
// a JSON object (query it in DuckDB with json_extract_string).
type Customer struct {
	ID                    string  `parquet:"id" csv:"id"`
	Email                 string  `parquet:"email" csv:"email"`
	FirstName             string  `parquet:"first_name" csv:"first_name"`
	LastName              string  `parquet:"last_name" csv:"last_name"`
	Phone                 string  `parquet:"phone" csv:"phone"`
	Company               string  `parquet:"company" csv:"company"`
	AutoCollection        string  `parquet:"auto_collection,dict" csv:"auto_collection"`
	Locale                string  `parquet:"locale,dict" csv:"locale"`
	PreferredCurrencyCode string  `parquet:"preferred_currency_code,dict" csv:"preferred_currency_code"`
	CardStatus            string  `parquet:"card_status,dict" csv:"card_status"`
	PaymentMethodType     string  `parquet:"payment_method_type,dict" csv:"payment_method_type"`
	PrimaryPaymentSource  string  `parquet:"primary_payment_source_id" csv:"primary_payment_source_id"`
	BillingAddress        Address `parquet:"billing_address" csv:"billing_address"`
	CreatedAt             *int64  `parquet:"created_at,timestamp" csv:"created_at"`
	UpdatedAt             *int64  `parquet:"updated_at,timestamp" csv:"updated_at"`
	ResourceVersion       int64   `parquet:"resource_version" csv:"resource_version"`
	Deleted               bool    `parquet:"deleted" csv:"deleted"`
	CustomFields          string  `parquet:"custom_fields" csv:"custom_fields"`
	// PIICleared is Chargebee's pii_cleared: active, scheduled_for_clear or cleared
	// (the customer's personal data was erased; transform and load propagate it).
	PIICleared string `parquet:"pii_cleared,dict" csv:"pii_cleared"`
	// The card that came with the customer in the customers list entry: the
	// customer's primary card, as of the customer's last change.
	CardPaymentSourceID string `parquet:"card_payment_source_id" csv:"card_payment_source_id"`
	CardType            string `parquet:"card_type,dict" csv:"card_type"`
	CardLast4           string `parquet:"card_last4" csv:"card_last4"`
	CardExpiryMonth     *int64 `parquet:"card_expiry_month" csv:"card_expiry_month"`
	CardExpiryYear      *int64 `parquet:"card_expiry_year" csv:"card_expiry_year"`
}

// Erased reports whether Chargebee has cleared the customer's personal data.
func (c *Customer) Erased() bool { return c.PIICleared == "cleared" }

// Item is one subscription item. Product Catalog 1.0 subscriptions are normalised into
// the same shape at extract (the plan becomes the item of type "plan", addons follow).
type Item struct {
	ItemPriceID string `parquet:"item_price_id" csv:"item_price_id" json:"item_price_id"`
	ItemType    string `parquet:"item_type" csv:"item_type" json:"item_type"`
	Quantity    int64  `parquet:"quantity" csv:"quantity" json:"quantity"`
	UnitPrice   *int64 `parquet:"unit_price" csv:"unit_price" json:"unit_price,omitempty"`
	Amount      *int64 `parquet:"amount" csv:"amount" json:"amount,omitempty"`
	// BillingCycles is how many times the item bills in all (absent = forever).
	BillingCycles *int64 `parquet:"billing_cycles" csv:"billing_cycles" json:"billing_cycles,omitempty"`
	// With multi-decimal pricing Chargebee sends the exact values as decimal
	// strings in major units (unit_price_in_decimal, amount_in_decimal,
	// quantity_in_decimal); they win over the integer fields.
	UnitPriceInDecimal string `parquet:"unit_price_in_decimal" csv:"unit_price_in_decimal" json:"unit_price_in_decimal,omitempty"`
	AmountInDecimal    string `parquet:"amount_in_decimal" csv:"amount_in_decimal" json:"amount_in_decimal,omitempty"`
	QuantityInDecimal  string `parquet:"quantity_in_decimal" csv:"quantity_in_decimal" json:"quantity_in_decimal,omitempty"`
}

// Items is a subscription's item list; in CSV it is one JSON cell.
type Items []Item

// Total is the per-cycle amount of the items: the sum of their amounts (unit price ×
// quantity, at least 1, where Chargebee gave no amount). ok is false when the total
// does not fit in 64 bits: validate rejects such a subscription, so transform never
// sends a wrapped-around amount.
func (items Items) Total() (total int64, ok bool) {
	for _, it := range items {
		var v int64
		switch {
		case it.Amount != nil:
			v = *it.Amount
		case it.UnitPrice != nil:
			if v, ok = money.Mul(*it.UnitPrice, max(it.Quantity, 1)); !ok {
				return 0, false
			}
		}
		if total, ok = money.Add(total, v); !ok {
			return 0, false
		}
	}
	return total, true
}

// Subscription is a Chargebee subscription as extracted, with the card that came
// with it in the list entry.
type Subscription struct {
	ID           string `parquet:"id" csv:"id"`
	CustomerID   string `parquet:"customer_id" csv:"customer_id"`
	Status       string `parquet:"status,dict" csv:"status"`
	CancelReason string `parquet:"cancel_reason,dict" csv:"cancel_reason"`
	// CancelReasonCode is the site-defined reason picked on a manual cancellation.
	CancelReasonCode       string  `parquet:"cancel_reason_code,dict" csv:"cancel_reason_code"`
	CurrencyCode           string  `parquet:"currency_code,dict" csv:"currency_code"`
	BillingPeriod          int64   `parquet:"billing_period" csv:"billing_period"`
	BillingPeriodUnit      string  `parquet:"billing_period_unit,dict" csv:"billing_period_unit"`
	RemainingBillingCycles *int64  `parquet:"remaining_billing_cycles" csv:"remaining_billing_cycles"`
	MRR                    *int64  `parquet:"mrr" csv:"mrr"`
	DueInvoicesCount       int64   `parquet:"due_invoices_count" csv:"due_invoices_count"`
	TotalDues              *int64  `parquet:"total_dues" csv:"total_dues"`
	AutoCollection         string  `parquet:"auto_collection,dict" csv:"auto_collection"`
	PlanID                 string  `parquet:"plan_id" csv:"plan_id"`
	Items                  Items   `parquet:"items" csv:"items"`
	GiftID                 string  `parquet:"gift_id" csv:"gift_id"`
	CreatedAt              *int64  `parquet:"created_at,timestamp" csv:"created_at"`
	UpdatedAt              *int64  `parquet:"updated_at,timestamp" csv:"updated_at"`
	StartDate              *int64  `parquet:"start_date,timestamp" csv:"start_date"`
	StartedAt              *int64  `parquet:"started_at,timestamp" csv:"started_at"`
	ActivatedAt            *int64  `parquet:"activated_at,timestamp" csv:"activated_at"`
	TrialStart             *int64  `parquet:"trial_start,timestamp" csv:"trial_start"`
	TrialEnd               *int64  `parquet:"trial_end,timestamp" csv:"trial_end"`
	CurrentTermStart       *int64  `parquet:"current_term_start,timestamp" csv:"current_term_start"`
	CurrentTermEnd         *int64  `parquet:"current_term_end,timestamp" csv:"current_term_end"`
	NextBillingAt          *int64  `parquet:"next_billing_at,timestamp" csv:"next_billing_at"`
	CancelledAt            *int64  `parquet:"cancelled_at,timestamp" csv:"cancelled_at"`
	PauseDate              *int64  `parquet:"pause_date,timestamp" csv:"pause_date"`
	ResumeDate             *int64  `parquet:"resume_date,timestamp" csv:"resume_date"`
	ShippingAddress        Address `parquet:"shipping_address" csv:"shipping_address"`
	CardType               string  `parquet:"card_type,dict" csv:"card_type"`
	CardStatus             string  `parquet:"card_status,dict" csv:"card_status"`
	CardLast4              string  `parquet:"card_last4" csv:"card_last4"`
	CardExpiryMonth        *int64  `parquet:"card_expiry_month" csv:"card_expiry_month"`
	CardExpiryYear         *int64  `parquet:"card_expiry_year" csv:"card_expiry_year"`
	ResourceVersion        int64   `parquet:"resource_version" csv:"resource_version"`
	Deleted                bool    `parquet:"deleted" csv:"deleted"`
	CustomFields           string  `parquet:"custom_fields" csv:"custom_fields"`
	// PaymentSourceID is the payment source the subscription is charged to (empty:
	// the customer's primary one).
	PaymentSourceID string `parquet:"payment_source_id" csv:"payment_source_id"`
	// ContractBillingCycles is contract_term.billing_cycle: the cycles of the
	// current contract term, when the subscription has one.
	ContractBillingCycles *int64 `parquet:"contract_billing_cycles" csv:"contract_billing_cycles"`
}

// InvoiceLine is one invoice line item, with the fields that say what it bills
// (entity_type: plan_item_price / plan on a renewal) and for which subscription
// (consolidated invoices name it only here).
type InvoiceLine struct {
	ID              string `parquet:"id" csv:"id" json:"id"`
	SubscriptionID  string `parquet:"subscription_id" csv:"subscription_id" json:"subscription_id,omitempty"`
	EntityType      string `parquet:"entity_type" csv:"entity_type" json:"entity_type"`
	EntityID        string `parquet:"entity_id" csv:"entity_id" json:"entity_id,omitempty"`
	DateFrom        *int64 `parquet:"date_from,timestamp" csv:"date_from" json:"date_from,omitempty"`
	DateTo          *int64 `parquet:"date_to,timestamp" csv:"date_to" json:"date_to,omitempty"`
	Amount          *int64 `parquet:"amount" csv:"amount" json:"amount,omitempty"`
	AmountInDecimal string `parquet:"amount_in_decimal" csv:"amount_in_decimal" json:"amount_in_decimal,omitempty"`
	TaxAmount       *int64 `parquet:"tax_amount" csv:"tax_amount" json:"tax_amount,omitempty"`
	// DiscountAmount is discount_amount + item_level_discount_amount.
	DiscountAmount *int64 `parquet:"discount_amount" csv:"discount_amount" json:"discount_amount,omitempty"`
}

// InvoicePayment is one payment attempt on an invoice: a linked_payments entry or
// a dunning_attempts entry (both name a transaction and its status).
type InvoicePayment struct {
	TxnID     string `parquet:"txn_id" csv:"txn_id" json:"txn_id"`
	TxnStatus string `parquet:"txn_status" csv:"txn_status" json:"txn_status"`
	TxnDate   *int64 `parquet:"txn_date,timestamp" csv:"txn_date" json:"txn_date,omitempty"`
	Amount    *int64 `parquet:"amount" csv:"amount" json:"amount,omitempty"`
}

// InvoiceLines and InvoicePayments are list columns; in CSV each is one JSON cell.
type (
	InvoiceLines    []InvoiceLine
	InvoicePayments []InvoicePayment
)

// Invoice is a Chargebee invoice as extracted. Discount is the sum of the invoice's
// discounts that are discounts (coupons and manual discounts, not the
// promotional_credits and prorated_credits entries Chargebee also lists there);
// Credits is the sum of those credit entries. AmountRefunded is the sum of its
// refunded credit notes as the invoice lists them (issued_credit_notes); transform
// reads refunds from the credit notes themselves.
type Invoice struct {
	ID              string `parquet:"id" csv:"id"`
	CustomerID      string `parquet:"customer_id" csv:"customer_id"`
	SubscriptionID  string `parquet:"subscription_id" csv:"subscription_id"`
	Recurring       bool   `parquet:"recurring" csv:"recurring"`
	Status          string `parquet:"status,dict" csv:"status"`
	DunningStatus   string `parquet:"dunning_status,dict" csv:"dunning_status"`
	CurrencyCode    string `parquet:"currency_code,dict" csv:"currency_code"`
	Date            *int64 `parquet:"date,timestamp" csv:"date"`
	DueDate         *int64 `parquet:"due_date,timestamp" csv:"due_date"`
	PaidAt          *int64 `parquet:"paid_at,timestamp" csv:"paid_at"`
	UpdatedAt       *int64 `parquet:"updated_at,timestamp" csv:"updated_at"`
	Total           *int64 `parquet:"total" csv:"total"`
	SubTotal        *int64 `parquet:"sub_total" csv:"sub_total"`
	Tax             *int64 `parquet:"tax" csv:"tax"`
	Discount        *int64 `parquet:"discount" csv:"discount"`
	AmountPaid      *int64 `parquet:"amount_paid" csv:"amount_paid"`
	AmountDue       *int64 `parquet:"amount_due" csv:"amount_due"`
	AmountRefunded  *int64 `parquet:"amount_refunded" csv:"amount_refunded"`
	IsGifted        bool   `parquet:"is_gifted" csv:"is_gifted"`
	ResourceVersion int64  `parquet:"resource_version" csv:"resource_version"`
	Deleted         bool   `parquet:"deleted" csv:"deleted"`
	// Credits is the sum of the promotional_credits and prorated_credits entries of
	// discounts[] (Chargebee lists credits there; they are not discounts).
	Credits *int64 `parquet:"credits" csv:"credits"`
	// LineItems say what the invoice bills and for which subscription.
	LineItems InvoiceLines `parquet:"line_items" csv:"line_items"`
	// Payments are the invoice's linked_payments; DunningAttempts its
	// dunning_attempts (auto-collection retries after a failure).
	Payments        InvoicePayments `parquet:"linked_payments" csv:"linked_payments"`
	DunningAttempts InvoicePayments `parquet:"dunning_attempts" csv:"dunning_attempts"`
	// PriceType is tax_exclusive or tax_inclusive.
	PriceType string `parquet:"price_type,dict" csv:"price_type"`
}

// CreditNote is a Chargebee credit note. Refunds live here: a refundable credit
// note against an invoice (reference_invoice_id) records what was paid back in
// amount_refunded.
type CreditNote struct {
	ID                 string `parquet:"id" csv:"id"`
	CustomerID         string `parquet:"customer_id" csv:"customer_id"`
	SubscriptionID     string `parquet:"subscription_id" csv:"subscription_id"`
	ReferenceInvoiceID string `parquet:"reference_invoice_id" csv:"reference_invoice_id"`
	Type               string `parquet:"type,dict" csv:"type"`
	Status             string `parquet:"status,dict" csv:"status"`
	ReasonCode         string `parquet:"reason_code,dict" csv:"reason_code"`
	CurrencyCode       string `parquet:"currency_code,dict" csv:"currency_code"`
	Date               *int64 `parquet:"date,timestamp" csv:"date"`
	Total              *int64 `parquet:"total" csv:"total"`
	AmountRefunded     *int64 `parquet:"amount_refunded" csv:"amount_refunded"`
	AmountAllocated    *int64 `parquet:"amount_allocated" csv:"amount_allocated"`
	RefundedAt         *int64 `parquet:"refunded_at,timestamp" csv:"refunded_at"`
	VoidedAt           *int64 `parquet:"voided_at,timestamp" csv:"voided_at"`
	UpdatedAt          *int64 `parquet:"updated_at,timestamp" csv:"updated_at"`
	ResourceVersion    int64  `parquet:"resource_version" csv:"resource_version"`
	Deleted            bool   `parquet:"deleted" csv:"deleted"`
}

// PaymentSource is a Chargebee payment source (a card, a direct-debit mandate, a
// PayPal account...). It is its own resource with its own updated_at, so a card
// change is seen by an incremental read even when the customer did not change.
type PaymentSource struct {
	ID              string `parquet:"id" csv:"id"`
	CustomerID      string `parquet:"customer_id" csv:"customer_id"`
	Type            string `parquet:"type,dict" csv:"type"`
	Status          string `parquet:"status,dict" csv:"status"`
	Gateway         string `parquet:"gateway,dict" csv:"gateway"`
	CardBrand       string `parquet:"card_brand,dict" csv:"card_brand"`
	CardFundingType string `parquet:"card_funding_type,dict" csv:"card_funding_type"`
	CardLast4       string `parquet:"card_last4" csv:"card_last4"`
	CardExpiryMonth *int64 `parquet:"card_expiry_month" csv:"card_expiry_month"`
	CardExpiryYear  *int64 `parquet:"card_expiry_year" csv:"card_expiry_year"`
	CreatedAt       *int64 `parquet:"created_at,timestamp" csv:"created_at"`
	UpdatedAt       *int64 `parquet:"updated_at,timestamp" csv:"updated_at"`
	ResourceVersion int64  `parquet:"resource_version" csv:"resource_version"`
	Deleted         bool   `parquet:"deleted" csv:"deleted"`
}

// CatalogItem is a Product Catalog 2.0 item: the product an item price prices.
type CatalogItem struct {
	ID              string `parquet:"id" csv:"id"`
	Name            string `parquet:"name" csv:"name"`
	ExternalName    string `parquet:"external_name" csv:"external_name"`
	Type            string `parquet:"type,dict" csv:"type"`
	ItemFamilyID    string `parquet:"item_family_id,dict" csv:"item_family_id"`
	Status          string `parquet:"status,dict" csv:"status"`
	UpdatedAt       *int64 `parquet:"updated_at,timestamp" csv:"updated_at"`
	ResourceVersion int64  `parquet:"resource_version" csv:"resource_version"`
	Deleted         bool   `parquet:"deleted" csv:"deleted"`
}

// CatalogPlan is a Product Catalog 1.0 plan or addon (/plans, /addons): the
// subscription's plan_id and addons[].id name one.
type CatalogPlan struct {
	ID              string `parquet:"id" csv:"id"`
	Name            string `parquet:"name" csv:"name"`
	InvoiceName     string `parquet:"invoice_name" csv:"invoice_name"`
	CurrencyCode    string `parquet:"currency_code,dict" csv:"currency_code"`
	Price           *int64 `parquet:"price" csv:"price"`
	PriceInDecimal  string `parquet:"price_in_decimal" csv:"price_in_decimal"`
	Period          int64  `parquet:"period" csv:"period"`
	PeriodUnit      string `parquet:"period_unit,dict" csv:"period_unit"`
	BillingCycles   *int64 `parquet:"billing_cycles" csv:"billing_cycles"`
	Status          string `parquet:"status,dict" csv:"status"`
	UpdatedAt       *int64 `parquet:"updated_at,timestamp" csv:"updated_at"`
	ResourceVersion int64  `parquet:"resource_version" csv:"resource_version"`
	Deleted         bool   `parquet:"deleted" csv:"deleted"`
}

// ItemPrice is a Chargebee (Product Catalog 2.0) item price.
type ItemPrice struct {
	ID              string `parquet:"id" csv:"id"`
	Name            string `parquet:"name" csv:"name"`
	ExternalName    string `parquet:"external_name" csv:"external_name"`
	ItemID          string `parquet:"item_id" csv:"item_id"`
	ItemFamilyID    string `parquet:"item_family_id,dict" csv:"item_family_id"`
	ItemType        string `parquet:"item_type,dict" csv:"item_type"`
	CurrencyCode    string `parquet:"currency_code,dict" csv:"currency_code"`
	Price           *int64 `parquet:"price" csv:"price"`
	Period          int64  `parquet:"period" csv:"period"`
	PeriodUnit      string `parquet:"period_unit,dict" csv:"period_unit"`
	PricingModel    string `parquet:"pricing_model,dict" csv:"pricing_model"`
	Status          string `parquet:"status,dict" csv:"status"`
	CreatedAt       *int64 `parquet:"created_at,timestamp" csv:"created_at"`
	UpdatedAt       *int64 `parquet:"updated_at,timestamp" csv:"updated_at"`
	ResourceVersion int64  `parquet:"resource_version" csv:"resource_version"`
	Deleted         bool   `parquet:"deleted" csv:"deleted"`
	// BillingCycles is the item price's default number of billing cycles (absent =
	// forever); a subscription item may override it.
	BillingCycles  *int64 `parquet:"billing_cycles" csv:"billing_cycles"`
	PriceInDecimal string `parquet:"price_in_decimal" csv:"price_in_decimal"`
}

// Gift links a gifter (a customer who may have no subscription of their own) to the
// gift subscription they paid for.
type Gift struct {
	ID               string `parquet:"id" csv:"id"`
	Status           string `parquet:"status,dict" csv:"status"`
	GifterCustomerID string `parquet:"gifter_customer_id" csv:"gifter_customer_id"`
	ReceiverCustomer string `parquet:"receiver_customer_id" csv:"receiver_customer_id"`
	SubscriptionID   string `parquet:"subscription_id" csv:"subscription_id"`
	UpdatedAt        *int64 `parquet:"updated_at,timestamp" csv:"updated_at"`
	ResourceVersion  int64  `parquet:"resource_version" csv:"resource_version"`
}

// ValidationError is one row of errors.csv: a record that was not carried on, and why.
// Load's errors.csv has the same columns.
type ValidationError struct {
	RunID      string `parquet:"run_id" csv:"run_id"`
	Stage      string `parquet:"stage" csv:"stage"`
	Entity     string `parquet:"entity" csv:"entity"`
	RecordID   string `parquet:"record_id" csv:"record_id"`
	CustomerID string `parquet:"customer_id" csv:"customer_id"`
	Email      string `parquet:"email" csv:"email"`
	Code       string `parquet:"code" csv:"code"`
	Field      string `parquet:"field" csv:"field"`
	Message    string `parquet:"message" csv:"message"`
}

// FieldValue is one custom contact field value, named by the field's title (the AC
// field id is known only to load).
type FieldValue struct {
	Title string `parquet:"title" csv:"title" json:"title"`
	Value string `parquet:"value" csv:"value" json:"value"`
}

// FieldValues is a contact's custom fields; in CSV it is one JSON cell.
type FieldValues []FieldValue

// Contact is an ActiveCampaign contact to upsert, keyed by Chargebee customer id.
type Contact struct {
	CustomerID string      `parquet:"customerId" csv:"customerId" json:"customerId"`
	Email      string      `parquet:"email" csv:"email" json:"email"`
	FirstName  string      `parquet:"firstName" csv:"firstName" json:"firstName"`
	LastName   string      `parquet:"lastName" csv:"lastName" json:"lastName"`
	Phone      string      `parquet:"phone" csv:"phone" json:"phone"`
	Company    string      `parquet:"orgname" csv:"orgname" json:"orgname"`
	ListStatus string      `parquet:"listStatus,dict" csv:"listStatus" json:"listStatus"`
	Deleted    bool        `parquet:"deleted" csv:"deleted" json:"deleted"`
	Fields     FieldValues `parquet:"fields" csv:"fields" json:"fields"`
	RowHash    uint64      `parquet:"row_hash" csv:"row_hash" json:"row_hash"`
	// Erased: Chargebee cleared the customer's personal data. The row is a delete
	// (Deleted is true, the personal fields are empty) that load handles by
	// on_customer_erased instead of on_customer_deleted.
	Erased bool `parquet:"erased" csv:"erased" json:"erased,omitempty"`
	// ACContactID is the id of the customer's AC contact: null in transform files
	// (only load knows it), filled by load in load/synced/ once AC named it (a
	// contact/sync, a PUT, or a lookup that adopted the contact). Changes address
	// the contact by it, so an email handed between customers never moves the wrong
	// contact. omitempty keeps it out of row_hash, as it is not payload.
	ACContactID *int64 `parquet:"acContactId" csv:"acContactId" json:"acContactId,omitempty"`
	// FieldHashes: one hash per AC field (HashContact), so load classifies and
	// names an update's fields from this column, never the full rows. Not payload:
	// json:"-" keeps it out of row_hash. Older files read it empty.
	FieldHashes FieldHashes `parquet:"field_hashes" csv:"field_hashes" json:"-"`
}

// ACAddress is AC's AddressInput.
type ACAddress struct {
	FirstName string `parquet:"firstName" csv:"firstName" json:"firstName,omitempty"`
	LastName  string `parquet:"lastName" csv:"lastName" json:"lastName,omitempty"`
	Company   string `parquet:"company" csv:"company" json:"company,omitempty"`
	Address1  string `parquet:"address1" csv:"address1" json:"address1,omitempty"`
	Address2  string `parquet:"address2" csv:"address2" json:"address2,omitempty"`
	City      string `parquet:"city" csv:"city" json:"city,omitempty"`
	Province  string `parquet:"province" csv:"province" json:"province,omitempty"`
	Postal    string `parquet:"postal" csv:"postal" json:"postal,omitempty"`
	Country   string `parquet:"country" csv:"country" json:"country,omitempty"`
	Phone     string `parquet:"phone" csv:"phone" json:"phone,omitempty"`
	// Address3 holds Chargebee's line3 (added after schema version 1: omitempty keeps
	// the row hash of rows without it unchanged).
	Address3 string `parquet:"address3" csv:"address3" json:"address3,omitempty"`
}

// CustomerData is AC's RecurringPaymentCustomerData. AcceptsMarketing is set only
// when the config maps a field to marketing consent.
type CustomerData struct {
	FirstName        string `parquet:"firstName" csv:"firstName" json:"firstName,omitempty"`
	LastName         string `parquet:"lastName" csv:"lastName" json:"lastName,omitempty"`
	Phone            string `parquet:"phone" csv:"phone" json:"phone,omitempty"`
	Company          string `parquet:"company" csv:"company" json:"company,omitempty"`
	AcceptsMarketing *bool  `parquet:"acceptsMarketing" csv:"acceptsMarketing" json:"acceptsMarketing,omitempty"`
	// SMS consent (RecurringPaymentCustomerData in AC's recurring payments reference):
	// smsMarketingState NOT_SUBSCRIBED|PENDING|REDACTED|SUBSCRIBED|UNSUBSCRIBED,
	// smsOptInLevel CONFIRMED_OPT_IN|SINGLE_OPT_IN|UNKNOWN, smsConsentUpdatedDate a
	// date like the others. Empty = not sent.
	SMSMarketingState     string `parquet:"smsMarketingState,dict" csv:"smsMarketingState" json:"smsMarketingState,omitempty"`
	SMSOptInLevel         string `parquet:"smsOptInLevel,dict" csv:"smsOptInLevel" json:"smsOptInLevel,omitempty"`
	SMSConsentUpdatedDate string `parquet:"smsConsentUpdatedDate,time" csv:"smsConsentUpdatedDate" json:"smsConsentUpdatedDate,omitempty"`
}

// RecurringPayment is one AC Recurring Payment (RecurringPaymentInput), keyed by
// legacyConnectionId + storeRecurringPaymentId. Column names are AC's field names.
// LegacyConnectionID is null here: only load knows the AC connection id. Money is a
// decimal string, dates are `2019-11-16T10:48:23Z`; null means "not sent".
type RecurringPayment struct {
	LegacyConnectionID      *int64       `parquet:"legacyConnectionId" csv:"legacyConnectionId" json:"legacyConnectionId"`
	StoreRecurringPaymentID string       `parquet:"storeRecurringPaymentId" csv:"storeRecurringPaymentId" json:"storeRecurringPaymentId"`
	Email                   string       `parquet:"email" csv:"email" json:"email"`
	NormalizedStatus        string       `parquet:"normalizedStatus,dict" csv:"normalizedStatus" json:"normalizedStatus"`
	StoreStatus             string       `parquet:"storeStatus,dict" csv:"storeStatus" json:"storeStatus"`
	StoreCustomerID         string       `parquet:"storeCustomerId" csv:"storeCustomerId" json:"storeCustomerId"`
	BillingInterval         string       `parquet:"billingInterval,dict" csv:"billingInterval" json:"billingInterval"`
	BillingIntervalCount    int64        `parquet:"billingIntervalCount" csv:"billingIntervalCount" json:"billingIntervalCount"`
	PaymentAmount           string       `parquet:"paymentAmount,decimal" csv:"paymentAmount" json:"paymentAmount"`
	DiscountAmount          *string      `parquet:"discountAmount,decimal" csv:"discountAmount" json:"discountAmount,omitempty"`
	TaxAmount               *string      `parquet:"taxAmount,decimal" csv:"taxAmount" json:"taxAmount,omitempty"`
	LastPaymentStatus       *string      `parquet:"lastPaymentStatus,dict" csv:"lastPaymentStatus" json:"lastPaymentStatus,omitempty"`
	LastPaymentDate         *string      `parquet:"lastPaymentDate,time" csv:"lastPaymentDate" json:"lastPaymentDate,omitempty"`
	StartDate               *string      `parquet:"startDate,time" csv:"startDate" json:"startDate,omitempty"`
	RenewalDate             *string      `parquet:"renewalDate,time" csv:"renewalDate" json:"renewalDate,omitempty"`
	NextPaymentDate         *string      `parquet:"nextPaymentDate,time" csv:"nextPaymentDate" json:"nextPaymentDate,omitempty"`
	AnchorDate              *string      `parquet:"anchorDate,time" csv:"anchorDate" json:"anchorDate,omitempty"`
	CancelledDate           *string      `parquet:"cancelledDate,time" csv:"cancelledDate" json:"cancelledDate,omitempty"`
	PaymentMethodExpiration *string      `parquet:"paymentMethodExpiration,time" csv:"paymentMethodExpiration" json:"paymentMethodExpiration,omitempty"`
	Currency                string       `parquet:"currency,dict" csv:"currency" json:"currency"`
	StoreCreatedDate        *string      `parquet:"storeCreatedDate,time" csv:"storeCreatedDate" json:"storeCreatedDate,omitempty"`
	StoreModifiedDate       *string      `parquet:"storeModifiedDate,time" csv:"storeModifiedDate" json:"storeModifiedDate,omitempty"`
	IsTrial                 bool         `parquet:"isTrial" csv:"isTrial" json:"isTrial"`
	CancelAtPeriodEnd       bool         `parquet:"cancelAtPeriodEnd" csv:"cancelAtPeriodEnd" json:"cancelAtPeriodEnd"`
	TotalCycles             int64        `parquet:"totalCycles" csv:"totalCycles" json:"totalCycles"`
	BillingAddress          *ACAddress   `parquet:"billingAddress" csv:"billingAddress" json:"billingAddress,omitempty"`
	ShippingAddress         *ACAddress   `parquet:"shippingAddress" csv:"shippingAddress" json:"shippingAddress,omitempty"`
	CustomerData            CustomerData `parquet:"customerData" csv:"customerData" json:"customerData"`
	LineItemNames           StringList   `parquet:"lineItemNames" csv:"lineItemNames" json:"lineItemNames"`
	LineItemSkus            StringList   `parquet:"lineItemSkus" csv:"lineItemSkus" json:"lineItemSkus"`
	LineItemCategories      StringList   `parquet:"lineItemCategories" csv:"lineItemCategories" json:"lineItemCategories"`
	LineItemStorePrimaryIDs StringList   `parquet:"lineItemStorePrimaryIds" csv:"lineItemStorePrimaryIds" json:"lineItemStorePrimaryIds"`
	// Columns added after schema version 1 (AC's RecurringPaymentInput names; `name`
	// is the plan name, not in AC's reference page). All omitempty, so rows
	// that leave them unset keep their row hash, and older files read them as unset.
	Name            *string    `parquet:"name" csv:"name" json:"name,omitempty"`
	ShippingAmount  *string    `parquet:"shippingAmount,decimal" csv:"shippingAmount" json:"shippingAmount,omitempty"`
	StoreExternalID *string    `parquet:"storeExternalId" csv:"storeExternalId" json:"storeExternalId,omitempty"`
	Notes           StringList `parquet:"notes" csv:"notes" json:"notes,omitempty"`
	LineItemBrands  StringList `parquet:"lineItemBrands" csv:"lineItemBrands" json:"lineItemBrands,omitempty"`
	LineItemTags    StringList `parquet:"lineItemTags" csv:"lineItemTags" json:"lineItemTags,omitempty"`
	Deleted         bool       `parquet:"deleted" csv:"deleted" json:"deleted"`
	RowHash         uint64     `parquet:"row_hash" csv:"row_hash" json:"row_hash"`
	// FieldHashes: as Contact's.
	FieldHashes FieldHashes `parquet:"field_hashes" csv:"field_hashes" json:"-"`
}

// StringList is a list column; in CSV it is one JSON cell.
type StringList []string

// The file kinds. Bump a Version when a column changes meaning, type or is removed,
// and keep reading the older form (codec.go bindReader); adding a column keeps the
// version (older files read it as its zero value).
//
// Version 2 of the Chargebee kinds: times are TIMESTAMP columns (version 1: Unix
// seconds as BIGINT). Every kind: "" is written as NULL, and the stamp columns
// run_id and extracted_at follow the record's (both read the same by cb2ac, so no
// bump). Contacts and recurring payments gain only typed twins and the stamp: they
// stay version 1, and a synced snapshot of version 1 diffs as before.
var (
	Customers         = NewTable[Customer]("customer", 2)
	Subscriptions     = NewTable[Subscription]("subscription", 2)
	Invoices          = NewTable[Invoice]("invoice", 2)
	ItemPrices        = NewTable[ItemPrice]("item_price", 2)
	Gifts             = NewTable[Gift]("gift", 2)
	CreditNotes       = NewTable[CreditNote]("credit_note", 2)
	PaymentSources    = NewTable[PaymentSource]("payment_source", 2)
	CatalogItems      = NewTable[CatalogItem]("item", 2)
	CatalogPlans      = NewTable[CatalogPlan]("plan", 2)
	CatalogAddons     = NewTable[CatalogPlan]("addon", 2)
	ValidationErrors  = NewTable[ValidationError]("validation_error", 1)
	Contacts          = NewTable[Contact]("contact", 1)
	RecurringPayments = NewTable[RecurringPayment]("recurring_payment", 1)
)

// PlanEntry is one row of load/plan.parquet and plan.csv: what load does with one
// record. Op is create, update, delete or unchanged; ChangedFields lists the changed
// columns of an update (custom fields as fields.<title>), and Changes the same
// fields with their old (synced) and new (transform) values, as terraform plan
// shows them. The values are the ones the transform and synced files beside the
// plan already hold; secrets are in neither.
type PlanEntry struct {
	Entity        string      `parquet:"entity,dict" csv:"entity"`
	Key           string      `parquet:"key" csv:"key"`
	Op            string      `parquet:"op,dict" csv:"op"`
	ChangedFields StringList  `parquet:"changed_fields" csv:"changed_fields"`
	Changes       PlanChanges `parquet:"changes" csv:"changes"`
}

// Plans is load's plan file kind. Version 2: changed_fields is a list (version 1:
// one "|"-joined string, still read). The changes column was added since: no
// bump, older plans read it empty.
var Plans = NewTable[PlanEntry]("plan", 2)
