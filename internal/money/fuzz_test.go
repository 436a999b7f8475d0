package money

import (
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// FuzzFormat: for a known currency the decimal string has exactly the currency's
// exponent of decimals and reads back, digits only, as the same minor units; an
// unknown one is an error. No input panics.
func FuzzFormat(f *testing.F) {
	f.Add(int64(1999), "USD")
	f.Fuzz(func(t *testing.T, minor int64, currency string) {
		s, err := Format(minor, currency)
		exp, known := Exponent(currency)
		if !known {
			if err == nil {
				t.Fatalf("Format(%d, %q) = %q for an unknown currency", minor, currency, s)
			}
			return
		}
		if err != nil {
			t.Fatalf("Format(%d, %q): %v", minor, currency, err)
		}
		whole, frac, dot := strings.Cut(s, ".")
		if dot != (exp > 0) || len(frac) != exp || whole == "" || whole == "-" {
			t.Fatalf("Format(%d, %q) = %q: want %d decimals", minor, currency, s, exp)
		}
		back, err := strconv.ParseInt(whole+frac, 10, 64)
		if err != nil || back != minor {
			t.Fatalf("Format(%d, %q) = %q reads back as %d, %v", minor, currency, s, back, err)
		}
	})
}

// FuzzAddMul checks the overflow-checked arithmetic against math/big.
func FuzzAddMul(f *testing.F) {
	f.Add(int64(1999), int64(3))
	f.Fuzz(func(t *testing.T, a, b int64) {
		check := func(op string, got int64, ok bool, want *big.Int) {
			fits := want.IsInt64()
			if ok != fits || ok && got != want.Int64() {
				t.Fatalf("%s(%d, %d) = %d, %v; want %s (fits: %v)", op, a, b, got, ok, want, fits)
			}
		}
		s, ok := Add(a, b)
		check("Add", s, ok, new(big.Int).Add(big.NewInt(a), big.NewInt(b)))
		p, ok := Mul(a, b)
		check("Mul", p, ok, new(big.Int).Mul(big.NewInt(a), big.NewInt(b)))
	})
}
