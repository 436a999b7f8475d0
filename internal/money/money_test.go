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
		{1250, "KWD", "1.250"},
		{7, "KWD", "0.007"},
		{123456789, "BHD", "123456.789"},
		{1, "CLF", "0.0001"},
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

func BenchmarkFormat(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Format(int64(i), "USD")
	}
}
