// Package money turns Chargebee's integer amounts into exact decimal strings.
// Money never passes through a float.
//
// Chargebee's units are not ISO 4217's (API docs, "Currencies", both product
// catalogs: https://apidocs.chargebee.com/docs/api/currencies): an amount "in
// cents" is the major unit × 100 for every currency except Chargebee's
// zero-decimal currencies, whose amounts are whole major units. Chargebee
// supports at most two decimals in those integers, so a three-decimal ISO currency
// such as KWD is still × 100 (KWD 950.00 is 95000), and a currency ISO calls
// zero-decimal but Chargebee does not (CLP, ISK, VND...) is × 100 as well. With
// multi-decimal pricing the `*_in_decimal` strings carry exact major-unit values
// (FormatDecimal).
package money

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// zeroDecimal is the list the API docs give ("Chargebee currently supports below
// zero-decimal currencies: KRW, JPY, XAF, XOF"). Chargebee's supported-currencies
// page marks zero-decimal currencies with an asterisk; it is not in this
// repository's reference, so a currency it may add there is treated as × 100 until
// a live site shows otherwise (README "What transform sends").
var zeroDecimal = map[string]bool{"JPY": true, "KRW": true, "XAF": true, "XOF": true}

// iso4217 lists the active ISO 4217 codes: validate's unknown_currency rule.
var iso4217 = map[string]bool{}

func init() {
	for _, c := range strings.Fields(`AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD
BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK
DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
ZWL`) {
		iso4217[c] = true
	}
}

// Exponent returns the number of decimals of a Chargebee integer amount in the
// currency (0 for Chargebee's zero-decimal currencies, else 2) and whether the
// currency is a known ISO 4217 code.
func Exponent(currency string) (int, bool) {
	c := strings.ToUpper(currency)
	if !iso4217[c] {
		return 0, false
	}
	if zeroDecimal[c] {
		return 0, true
	}
	return 2, true
}

// Known reports whether the currency code is an ISO 4217 code.
func Known(currency string) bool {
	_, ok := Exponent(currency)
	return ok
}

// Format writes a Chargebee integer amount as a decimal string in major units:
// (1999, USD) → "19.99", (15, JPY) → "15", (95000, KWD) → "950.00",
// (-5, USD) → "-0.05".
func Format(minor int64, currency string) (string, error) {
	exp, ok := Exponent(currency)
	if !ok {
		return "", fmt.Errorf("unknown currency %q", currency)
	}
	neg := minor < 0
	// Work on the decimal digits, not on the value, so the smallest int64 is safe too.
	digits := strconv.FormatInt(minor, 10)
	if neg {
		digits = digits[1:]
	}
	if exp > 0 {
		if len(digits) <= exp {
			digits = strings.Repeat("0", exp-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if neg {
		return "-" + digits, nil
	}
	return digits, nil
}

// FormatDecimal checks and normalises a Chargebee `*_in_decimal` string (major
// units, as many decimals as the site's multi-decimal setting allows): at least the
// currency's decimals, trailing zeros beyond them dropped. ("9.995", USD) →
// "9.995"; ("10", USD) → "10.00"; ("10.50000", USD) → "10.50"; ("15", JPY) → "15".
func FormatDecimal(s, currency string) (string, error) {
	exp, ok := Exponent(currency)
	if !ok {
		return "", fmt.Errorf("unknown currency %q", currency)
	}
	v := strings.TrimSpace(s)
	neg := strings.HasPrefix(v, "-")
	if neg {
		v = v[1:]
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || !digitsOnly(whole) || !digitsOnly(frac) || (strings.Contains(v, ".") && frac == "") {
		return "", fmt.Errorf("%q is not a decimal amount", s)
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) < exp {
		frac += strings.Repeat("0", exp-len(frac))
	}
	out := whole
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Add returns a+b, and false when the sum does not fit in an int64. Amounts are
// summed (items, discounts) before they are formatted; a wrapped sum would be a
// plausible-looking wrong amount, so callers reject the record instead.
func Add(a, b int64) (int64, bool) {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		return 0, false
	}
	return s, true
}

// Mul returns a*b, and false when the product does not fit in an int64.
func Mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return p, true
}
