package money

import (
	"math"
	"math/big"
	"testing"
)

func TestFormatRat(t *testing.T) {
	sum := func(cur string, parts ...any) *big.Rat {
		t.Helper()
		s := new(big.Rat)
		for _, p := range parts {
			var r *big.Rat
			var err error
			switch v := p.(type) {
			case string:
				r, err = ParseDecimal(v, cur)
			case int64:
				r, err = Rat(v, cur)
			case int:
				r, err = Rat(int64(v), cur)
			}
			if err != nil {
				t.Fatal(err)
			}
			s.Add(s, r)
		}
		return s
	}
	cases := []struct {
		cur  string
		r    *big.Rat
		want string
	}{
		{"USD", sum("USD", 1999), "19.99"},
		{"USD", sum("USD", 1500), "15.00"},
		{"USD", sum("USD", "9.995", 1000), "19.995"},
		// 0.1 + 0.2 is 0.3 exactly, not 0.30000000000000004.
		{"USD", sum("USD", "0.1", "0.2"), "0.30"},
		{"USD", sum("USD", "0.0001", "0.0002"), "0.0003"},
		{"JPY", sum("JPY", 15), "15"},
		{"JPY", sum("JPY", "15.5"), "15.5"},
		{"KWD", sum("KWD", 95000), "950.00"},
		{"KWD", sum("KWD", "950.125"), "950.125"},
		{"CLP", sum("CLP", 150000), "1500.00"},
		{"USD", sum("USD", -5), "-0.05"},
		{"USD", sum("USD", "-1.005", "1.005"), "0.00"},
		{"USD", sum("USD", math.MaxInt64, math.MaxInt64), "184467440737095516.14"},
		{"USD", new(big.Rat).Mul(sum("USD", "0.333"), big.NewRat(3, 1)), "0.999"},
	}
	for _, tc := range cases {
		got, err := FormatRat(tc.r, tc.cur)
		if err != nil || got != tc.want {
			t.Errorf("FormatRat(%s, %s) = %q, %v; want %q", tc.r.RatString(), tc.cur, got, err, tc.want)
		}
	}
	// Format and FormatRat agree on every integer amount.
	for _, cur := range []string{"USD", "JPY", "KWD", "CLP", "XOF"} {
		for _, v := range []int64{0, 1, 9, 10, 99, 100, 101, 1999, -1, -100, 123456789, math.MinInt64} {
			r, _ := Rat(v, cur)
			a, _ := Format(v, cur)
			b, err := FormatRat(r, cur)
			if err != nil || a != b {
				t.Errorf("%d %s: Format %q, FormatRat %q %v", v, cur, a, b, err)
			}
		}
	}
	if _, err := FormatRat(big.NewRat(1, 3), "USD"); err == nil {
		t.Error("a third formatted")
	}
	if _, err := FormatRat(big.NewRat(1, 1), "XXX"); err == nil {
		t.Error("unknown currency formatted")
	}
	for _, bad := range []string{"", "1e3", "1,5", "abc", "1."} {
		if _, err := ParseDecimal(bad, "USD"); err == nil {
			t.Errorf("ParseDecimal(%q) accepted", bad)
		}
	}
}
