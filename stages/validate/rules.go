package validate

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Error codes written to errors.csv. The first nine are README "Validation rules"; the rest name
// problems those do not cover, so no record is dropped without a code.
const (
	MissingEmail     = "missing_email"
	InvalidEmail     = "invalid_email"
	NoSubscription   = "no_subscription"
	DuplicateEmail   = "duplicate_email"
	DuplicateID      = "duplicate_id"
	UnknownStatus    = "unknown_status"
	BadAmount        = "bad_amount"
	BadDate          = "bad_date"
	UnknownCurrency  = "unknown_currency"
	BadInterval      = "bad_interval"      // billing_period_unit not day/week/month/year, or billing_period < 1
	UnknownCustomer  = "unknown_customer"  // a subscription whose customer is not in the snapshot
	MissingID        = "missing_id"        // a record without an id cannot be keyed
	CustomerRejected = "customer_rejected" // a subscription whose customer was rejected
	CurrencyMismatch = "currency_mismatch" // an invoice in another currency than its subscription
)

// Statuses are Chargebee's subscription statuses (complete list of the API v2 enum).
var Statuses = map[string]bool{
	"future": true, "in_trial": true, "active": true, "non_renewing": true,
	"paused": true, "cancelled": true, "transferred": true,
}

// InvoiceStatuses are Chargebee's invoice statuses (complete list of the API v2 enum,
// testdata/chargebee/chargebee-model-enums.tsv).
var InvoiceStatuses = map[string]bool{
	"paid": true, "posted": true, "payment_due": true, "not_paid": true, "voided": true, "pending": true,
}

// BillingUnits are Chargebee's billing_period_unit values.
var BillingUnits = map[string]bool{"day": true, "week": true, "month": true, "year": true}

// Timestamps outside [2000-01-01, 2100-01-01) are treated as corrupt: Chargebee did
// not exist before 2011, and a date past 2100 is a unit mistake (milliseconds) or junk.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

func badTime(t *int64) bool { return t != nil && (*t < minTime || *t >= maxTime) }

// CheckEmail returns "" for an address ActiveCampaign will accept, else the reason.
// AC rejects what its importer calls an "incorrect format"; this check is deliberately
// conservative (ASCII, one @, a dotted domain of valid labels) so that a record fails
// here with a clear message rather than later inside a 250-contact import batch.
func CheckEmail(email string) string {
	if !utf8.ValidString(email) {
		return "not valid UTF-8"
	}
	if len(email) > 254 {
		return "longer than 254 characters"
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "no @"
	}
	local, domain := email[:at], email[at+1:]
	if local == "" {
		return "nothing before the @"
	}
	if len(local) > 64 {
		return "part before the @ is longer than 64 characters"
	}
	if strings.Contains(local, "@") {
		return "more than one @"
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "misplaced dot before the @"
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c >= 0x80 {
			return "non-ASCII character before the @"
		}
		if !(isAlnum(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return "character " + quoteByte(c) + " not allowed before the @"
		}
	}
	if domain == "" {
		return "nothing after the @"
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "domain has no dot"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "domain has an empty or too long label"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "domain label starts or ends with a hyphen"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if c >= 0x80 {
				return "non-ASCII domain (use its xn-- form)"
			}
			if !isAlnum(c) && c != '-' {
				return "character " + quoteByte(c) + " not allowed in the domain"
			}
		}
	}
	if tld := labels[len(labels)-1]; len(tld) < 2 || isDigits(tld) {
		return "domain has no valid top-level domain"
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func quoteByte(c byte) string {
	if c == ' ' {
		return "space"
	}
	if c < 0x20 || c == 0x7f {
		return "control"
	}
	return "'" + string(c) + "'"
}
