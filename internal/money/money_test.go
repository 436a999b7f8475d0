package money

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	cases := []struct {
		minor    int64
		currency string
		want     string
	}{
		{1999, "USD", "19.99"},
		{0, "USD", "0.00"},
		{5, "EUR", "0.05"},
		{100000, "eur", "1000.00"},
		{15, "JPY", "15"},
		{0, "JPY", "0"},
		// Chargebee's units: three-decimal currencies are × 100 like any other
		// (KWD 950.00 is 95000), ISO zero-decimal currencies that Chargebee does not
		// list as zero-decimal too; only JPY, KRW, XAF and XOF are whole units.
		{95000, "KWD", "950.00"},
		{7, "KWD", "0.07"},
		{123456789, "BHD", "1234567.89"},
		{150000, "CLP", "1500.00"},
		{990, "ISK", "9.90"},
		{5000, "KRW", "5000"},
		{2500, "XOF", "2500"},
		{1, "CLF", "0.01"},
		{-5, "USD", "-0.05"},
		{-1500, "JPY", "-1500"},
		{math.MaxInt64, "USD", "92233720368547758.07"},
		{math.MinInt64, "USD", "-92233720368547758.08"},
	}
	for _, tc := range cases {
		got, err := Format(tc.minor, tc.currency)
		if err != nil || got != tc.want {
			t.Errorf("Format(%d, %s) = %q, %v; want %q", tc.minor, tc.currency, got, err, tc.want)
		}
	}
	if _, err := Format(1, "XYZ"); err == nil {
		t.Error("unknown currency accepted")
	}
}

func TestFormatDecimal(t *testing.T) {
	cases := []struct{ in, cur, want string }{
		{"9.995", "USD", "9.995"},
		{"10", "USD", "10.00"},
		{"10.50000", "USD", "10.50"},
		{"0.0001", "EUR", "0.0001"},
		{"15", "JPY", "15"},
		{"15.50", "JPY", "15.5"},
		{"950.125", "KWD", "950.125"},
		{"-1.5", "USD", "-1.50"},
		{"007.1", "USD", "7.10"},
	}
	for _, tc := range cases {
		got, err := FormatDecimal(tc.in, tc.cur)
		if err != nil || got != tc.want {
			t.Errorf("FormatDecimal(%q, %s) = %q, %v; want %q", tc.in, tc.cur, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "1e5", "1,5", "1.", ".5", "abc", "1.2.3", "+1"} {
		if got, err := FormatDecimal(bad, "USD"); err == nil {
			t.Errorf("FormatDecimal(%q) = %q, want an error", bad, got)
		}
	}
	if _, err := FormatDecimal("1", "XYZ"); err == nil {
		t.Error("unknown currency accepted")
	}
}

func BenchmarkFormat(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Format(int64(i), "USD")
	}
}
