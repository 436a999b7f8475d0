package chargebee

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodePage feeds arbitrary bytes to the page decoder that both the pages source
// and the API client use: it must return a page or an error, never panic, and every
// record it returns must convert to its extract row.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"list":[],"next_offset":null}`))
	f.Add([]byte(`{"list":[{"invoice":{"id":"i","discounts":[{"amount":1,"entity_type":"promotional_credits"}],"line_items":[{"id":"l","discount_amount":1}]}},{"payment_source":{"id":"p","card":{"last4":"1"}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		page, err := DecodePage(bytes.NewReader(b))
		if err != nil {
			if page != nil {
				t.Fatalf("a page and an error: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		for _, e := range page.List {
			cf := ""
			if e.Customer != nil {
				cf = e.Customer.Record(e.Card).CustomFields
			}
			if e.Subscription != nil {
				r := e.Subscription.Record(e.Card)
				if len(r.Items) < len(e.Subscription.SubscriptionItems) {
					t.Fatalf("subscription %q lost items", r.ID)
				}
			}
			if e.Invoice != nil {
				e.Invoice.Record()
			}
			if e.ItemPrice != nil {
				e.ItemPrice.Record()
			}
			if e.Gift != nil {
				e.Gift.Record()
			}
			if e.CreditNote != nil {
				e.CreditNote.Record()
			}
			if e.PaymentSource != nil {
				e.PaymentSource.Record()
			}
			if e.Item != nil {
				e.Item.Record()
			}
			if e.Plan != nil {
				e.Plan.Record()
			}
			if e.Addon != nil {
				e.Addon.Record()
			}
			// custom_fields is queried with DuckDB's JSON functions: it must be an
			// object or empty.
			var m map[string]json.RawMessage
			if cf != "" && json.Unmarshal([]byte(cf), &m) != nil {
				t.Fatalf("custom_fields %q is not a JSON object", cf)
			}
		}
	})
}
