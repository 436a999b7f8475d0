package money

import "testing"

var (
	sinkStr   string
	sinkKnown bool
)

// BenchmarkFormatCurrencies formats amounts the way transform does (one call per
// amount, discount, tax and MRR), in each exponent class and for a negative value.
func BenchmarkFormatCurrencies(b *testing.B) {
	for _, c := range []struct {
		name     string
		minor    int64
		currency string
	}{
		{"USD", 16700, "USD"},
		{"USD_cents_only", 5, "USD"},
		{"JPY_zero_decimal", 1500, "JPY"},
		{"KWD_three_decimal", 9500, "KWD"},
		{"EUR_negative", -2000, "EUR"},
		{"lower_case_code", 4900, "usd"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := Format(c.minor, c.currency)
				if err != nil {
					b.Fatal(err)
				}
				sinkStr = s
			}
		})
	}
}

// BenchmarkKnown is validate's currency check, run on every subscription and invoice.
func BenchmarkKnown(b *testing.B) {
	codes := []string{"USD", "EUR", "JPY", "KWD", "XYZ", "usd"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sinkKnown = Known(codes[i])
		if i++; i == len(codes) {
			i = 0
		}
	}
}
