package chargebee

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sdkTopFields is generated from the fact file; this keeps the two the same.
func TestSDKFieldsAreTheTSVs(t *testing.T) {
	sdk := loadSDKFields(t)
	want := map[string]string{}
	for key, st := range entryResources {
		want[key] = strings.Join(slices.Sorted(func(yield func(string) bool) {
			for f := range sdk[st] {
				if !yield(f) {
					return
				}
			}
		}), " ")
	}
	if !reflect.DeepEqual(sdkTopFields, want) {
		var b strings.Builder
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range want {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(&b, "\t%q: %q,\n", k, want[k])
		}
		t.Errorf("sdkfields.go differs from %s; its table should read:\n%s", sdkFieldsFile, b.String())
	}
}

// Keys the SDK does not declare are counted per resource of the entries; keys it
// declares (read by our types or not), custom fields, nested keys and resources of
// no list are not (before: every one was dropped in silence).
func TestDecodePageCountsUnknownFields(t *testing.T) {
	cases := []struct {
		name, page string
		want       Unknown
	}{
		{"none", `{"list":[{"customer":{"id":"c1","net_term_days":0,"cf_x":"1","billing_address":{"zz":1}}}]}`, nil},
		{"empty list", `{"list":[]}`, nil},
		{"top-level unknown, counted per entry", `{"list":[
			{"customer":{"id":"c1","loyalty_tier":"gold","x":[1,{"a":"}"}]},"card":{"last4":"4242","wallet":"apple"}},
			{"customer":{"id":"c2","loyalty_tier":null}},
			{"customer":{"id":"c3","loyalty_tier":"a\"b"}}],"next_offset":"x"}`,
			Unknown{"customer": {"loyalty_tier": 3, "x": 1}, "card": {"wallet": 1}}},
		{"unknown wrapper is not a resource's drift", `{"list":[{"subscription":{"id":"s1"},"thing":{"foo":1}}]}`, nil},
		{"white space and escapes", "{ \"list\" : [ { \"invoice\" : { \"id\" : \"i\\u0031\" , \"new_total\" : 1e3 } } ] }",
			Unknown{"invoice": {"new_total": 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage(strings.NewReader(tc.page))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Unknown, tc.want) {
				t.Errorf("Unknown = %v, want %v", p.Unknown, tc.want)
			}
		})
	}
	// Cut anywhere, the scan ends without a panic (DecodePage refuses such pages
	// first; the scan must hold on its own too).
	page := []byte(cases[2].page)
	for i := range page {
		unknownKeys(page[:i])
	}
}

// BenchmarkDecodePage measures the drift scan against the decode of a fixture page
// (100 customers): go test -run x -bench DecodePage ./stages/extract/chargebee/
func BenchmarkDecodePage(b *testing.B) {
	page, err := os.ReadFile("../../../fixtures/chargebee/subscriptions/page-001.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			if _, err := DecodePage(strings.NewReader(string(page))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			unknownKeys(page)
		}
	})
}
