package money

import (
	"fmt"
	"math/big"
)

// Exact sums of mixed amounts. With multi-decimal pricing Chargebee sends an
// item's exact value as a `*_in_decimal` string (major units, more decimals than
// the integer fields can hold); a subscription's per-cycle amount may add such
// values to integer ones. Sums and products are taken on big.Rat, which is exact
// for decimal strings (a rational whose denominator has only the factors 2 and 5),
// and written with FormatRat; nothing passes through a float.

// ParseDecimal reads a Chargebee `*_in_decimal` string (checked as FormatDecimal
// checks it) as an exact value in major units.
func ParseDecimal(s, currency string) (*big.Rat, error) {
	norm, err := FormatDecimal(s, currency)
	if err != nil {
		return nil, err
	}
	r, ok := new(big.Rat).SetString(norm)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal amount", s)
	}
	return r, nil
}

// Rat is a Chargebee integer amount (Format's units) as an exact value in major
// units: (1999, USD) → 19.99, (15, JPY) → 15.
func Rat(minor int64, currency string) (*big.Rat, error) {
	exp, ok := Exponent(currency)
	if !ok {
		return nil, fmt.Errorf("unknown currency %q", currency)
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)
	return new(big.Rat).SetFrac(big.NewInt(minor), den), nil
}

// maxDecimals bounds FormatRat's search for the decimals of a value: sums of
// Chargebee's decimal strings never need more.
const maxDecimals = 40

// FormatRat writes an exact major-unit value as FormatDecimal writes a decimal
// string: at least the currency's decimals, trailing zeros beyond them dropped
// (19.99 USD → "19.99", 9.995 USD → "9.995", 15 JPY → "15"). A value with no finite
// decimal form (a third) is an error: amounts built from Chargebee's decimals
// never are.
func FormatRat(r *big.Rat, currency string) (string, error) {
	if _, ok := Exponent(currency); !ok {
		return "", fmt.Errorf("unknown currency %q", currency)
	}
	num := new(big.Int).Set(r.Num())
	den := r.Denom()
	ten := big.NewInt(10)
	d := 0
	for ; d <= maxDecimals; d++ {
		q, m := new(big.Int).QuoRem(num, den, new(big.Int))
		if m.Sign() == 0 {
			num = q
			break
		}
		num.Mul(num, ten)
	}
	if d > maxDecimals {
		return "", fmt.Errorf("%s has no finite decimal form", r.RatString())
	}
	neg := num.Sign() < 0
	digits := new(big.Int).Abs(num).String()
	if d > 0 {
		if len(digits) <= d {
			digits = fmt.Sprintf("%0*s", d+1, digits)
		}
		digits = digits[:len(digits)-d] + "." + digits[len(digits)-d:]
	}
	if neg {
		digits = "-" + digits
	}
	return FormatDecimal(digits, currency)
}
