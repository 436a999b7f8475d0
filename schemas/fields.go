package schemas

// ContactField is an AC custom contact field cb2ac fills. Transform writes values by
// Title; load creates the missing fields (Title, Type, Perstag) and writes by AC id.
type ContactField struct {
	Title   string `yaml:"title" json:"title"`
	Perstag string `yaml:"perstag,omitempty" json:"perstag,omitempty"`
	Type    string `yaml:"type,omitempty" json:"type,omitempty"` // AC field type: text (default), date, number, ...
	// Source names the Chargebee attribute for a mapped field: customer.<column> or
	// subscription.<column> (the extract column names, cf_* custom fields included,
	// dotted for nested columns such as customer.billing_address.city). The subscription
	// is the customer's primary one (see transform).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
}

// DefaultFields are the 18 fields every sync fills, as Chargebee's own AC integration
// does. Dates are AC `date` fields (YYYY-MM-DD).
var DefaultFields = []ContactField{
	{Title: "Chargebee Customer ID", Perstag: "CB_CUSTOMER_ID", Type: "text"},
	{Title: "Subscription ID", Perstag: "CB_SUBSCRIPTION_ID", Type: "text"},
	{Title: "Subscription Status", Perstag: "CB_SUBSCRIPTION_STATUS", Type: "text"},
	{Title: "Plan", Perstag: "CB_PLAN", Type: "text"},
	{Title: "Plan Amount", Perstag: "CB_PLAN_AMOUNT", Type: "text"},
	{Title: "Currency", Perstag: "CB_CURRENCY", Type: "text"},
	{Title: "Billing Period", Perstag: "CB_BILLING_PERIOD", Type: "text"},
	{Title: "MRR", Perstag: "CB_MRR", Type: "text"},
	{Title: "Trial End", Perstag: "CB_TRIAL_END", Type: "date"},
	{Title: "Next Billing Date", Perstag: "CB_NEXT_BILLING_DATE", Type: "date"},
	{Title: "Subscription Created", Perstag: "CB_SUBSCRIPTION_CREATED", Type: "date"},
	{Title: "Cancelled At", Perstag: "CB_CANCELLED_AT", Type: "date"},
	{Title: "Cancel Reason", Perstag: "CB_CANCEL_REASON", Type: "text"},
	{Title: "Country", Perstag: "CB_COUNTRY", Type: "text"},
	{Title: "Customer Created", Perstag: "CB_CUSTOMER_CREATED", Type: "date"},
	{Title: "Auto Collection", Perstag: "CB_AUTO_COLLECTION", Type: "text"},
	{Title: "Payment Method", Perstag: "CB_PAYMENT_METHOD", Type: "text"},
	{Title: "Due Invoices", Perstag: "CB_DUE_INVOICES", Type: "text"},
}
