// Package catalog is the item price catalog shared by the fixtures (genfixtures) and
// the synthetic sites (gen): the same plans, addons and charges in the same order, so
// both cover every currency, billing period, pricing model and item type alike.
package catalog

// Price is one Chargebee item price, in the list API's terms.
type Price struct {
	ID, Name, ExternalName, ItemID, ItemFamilyID, ItemType, Currency string
	Price                                                            int64
	Period                                                           int
	PeriodUnit, PricingModel, Status                                 string
}

// Prices is the catalog, in creation order.
var Prices = []Price{
	{"starter-USD-monthly", "Starter USD Monthly", "Starter", "starter", "saas", "plan", "USD", 1900, 1, "month", "flat_fee", "active"},
	{"starter-USD-yearly", "Starter USD Yearly", "Starter", "starter", "saas", "plan", "USD", 19000, 1, "year", "flat_fee", "active"},
	{"starter-EUR-monthly", "Starter EUR Monthly", "Starter", "starter", "saas", "plan", "EUR", 1700, 1, "month", "flat_fee", "active"},
	{"starter-EUR-yearly", "Starter EUR Yearly", "Starter", "starter", "saas", "plan", "EUR", 17000, 1, "year", "flat_fee", "active"},
	{"starter-USD-monthly-v1", "Starter USD Monthly (2023 price)", "Starter", "starter", "saas", "plan", "USD", 1500, 1, "month", "flat_fee", "archived"},
	{"pro-USD-monthly", "Pro USD Monthly", "Pro", "pro", "saas", "plan", "USD", 4900, 1, "month", "per_unit", "active"},
	{"pro-USD-quarterly", "Pro USD Quarterly", "Pro", "pro", "saas", "plan", "USD", 13900, 3, "month", "per_unit", "active"},
	{"pro-USD-yearly", "Pro USD Yearly", "Pro", "pro", "saas", "plan", "USD", 49000, 1, "year", "per_unit", "active"},
	{"pro-EUR-monthly", "Pro EUR Monthly", "Pro", "pro", "saas", "plan", "EUR", 4500, 1, "month", "per_unit", "active"},
	{"pro-EUR-semiannual", "Pro EUR Semiannual", "Pro", "pro", "saas", "plan", "EUR", 24900, 6, "month", "per_unit", "active"},
	{"pro-EUR-yearly", "Pro EUR Yearly", "Pro", "pro", "saas", "plan", "EUR", 45000, 1, "year", "per_unit", "active"},
	{"basic-JPY-monthly", "Basic JPY Monthly", "Basic", "basic", "saas", "plan", "JPY", 1500, 1, "month", "flat_fee", "active"},
	{"basic-JPY-yearly", "Basic JPY Yearly", "Basic", "basic", "saas", "plan", "JPY", 15000, 1, "year", "flat_fee", "active"},
	{"gold-KWD-monthly", "Gold KWD Monthly", "Gold", "gold", "saas", "plan", "KWD", 9500, 1, "month", "flat_fee", "active"},
	{"gold-KWD-yearly", "Gold KWD Yearly", "Gold", "gold", "saas", "plan", "KWD", 95000, 1, "year", "flat_fee", "active"},
	{"daily-pass-USD-daily", "Daily Pass USD", "Daily Pass", "daily-pass", "passes", "plan", "USD", 300, 1, "day", "flat_fee", "active"},
	{"daily-pass-EUR-daily", "Daily Pass EUR", "Daily Pass", "daily-pass", "passes", "plan", "EUR", 280, 1, "day", "flat_fee", "active"},
	{"weekly-box-EUR-weekly", "Weekly Box EUR Weekly", "Weekly Box", "weekly-box", "boxes", "plan", "EUR", 2500, 1, "week", "per_unit", "active"},
	{"weekly-box-USD-biweekly", "Weekly Box USD Every 2 Weeks", "Weekly Box", "weekly-box", "boxes", "plan", "USD", 4800, 2, "week", "per_unit", "active"},
	{"extra-seat-USD-monthly", "Extra Seat USD Monthly", "Extra seat", "extra-seat", "saas", "addon", "USD", 1000, 1, "month", "per_unit", "active"},
	{"extra-seat-USD-yearly", "Extra Seat USD Yearly", "Extra seat", "extra-seat", "saas", "addon", "USD", 10000, 1, "year", "per_unit", "active"},
	{"extra-seat-EUR-monthly", "Extra Seat EUR Monthly", "Extra seat", "extra-seat", "saas", "addon", "EUR", 900, 1, "month", "per_unit", "active"},
	{"extra-seat-EUR-yearly", "Extra Seat EUR Yearly", "Extra seat", "extra-seat", "saas", "addon", "EUR", 9000, 1, "year", "per_unit", "active"},
	{"priority-support-USD-monthly", "Priority Support USD Monthly", "Priority support", "priority-support", "saas", "addon", "USD", 2900, 1, "month", "flat_fee", "active"},
	{"priority-support-USD-quarterly", "Priority Support USD Quarterly", "Priority support", "priority-support", "saas", "addon", "USD", 7900, 3, "month", "flat_fee", "active"},
	{"storage-pack-JPY-monthly", "Storage Pack JPY Monthly", "Storage pack", "storage-pack", "saas", "addon", "JPY", 500, 1, "month", "per_unit", "active"},
	{"storage-pack-KWD-monthly", "Storage Pack KWD Monthly", "Storage pack", "storage-pack", "saas", "addon", "KWD", 2000, 1, "month", "per_unit", "active"},
	{"setup-fee-USD", "Setup Fee USD", "Setup fee", "setup-fee", "saas", "charge", "USD", 9900, 0, "", "flat_fee", "active"},
	{"setup-fee-EUR", "Setup Fee EUR", "Setup fee", "setup-fee", "saas", "charge", "EUR", 8900, 0, "", "flat_fee", "active"},
}
