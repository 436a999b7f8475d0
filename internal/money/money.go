// Package money turns Chargebee's integer minor units into exact decimal strings.
// Money never passes through a float: the exponent of the currency (ISO 4217) says
// where the decimal point goes.
package money

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// exponents lists ISO 4217 currencies whose minor unit is not 2 decimals.
var exponents = map[string]int{
	// zero-decimal
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	// three-decimal
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// four-decimal
	"CLF": 4, "UYW": 4,
}

// twoDecimal lists the remaining active ISO 4217 currency codes (2 decimals).
var twoDecimal = strings.Fields(`AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV
BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB
EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD
KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER
ZAR ZMW ZWG ZWL`)

func init() {
	for _, c := range twoDecimal {
		exponents[c] = 2
	}
}

// Exponent returns the number of decimals of a currency and whether it is known.
func Exponent(currency string) (int, bool) {
	e, ok := exponents[strings.ToUpper(currency)]
	return e, ok
}

// Known reports whether the currency code is an ISO 4217 code.
func Known(currency string) bool {
	_, ok := Exponent(currency)
	return ok
}

// Format writes minor units as a decimal string in the currency's exponent:
// (1999, USD) → "19.99", (15, JPY) → "15", (1250, KWD) → "1.250", (-5, USD) → "-0.05".
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
