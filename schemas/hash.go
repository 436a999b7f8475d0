package schemas

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// HashContact and HashRecurringPayment are the row hash and field hashes of a
// transform row: the row hash is xxhash of exactly the bytes json.Marshal writes for
// the record (every synced snapshot holds hashes made that way, so not one byte may
// differ), and each field hash is xxhash of that field's value within them, as
// Payload renders it. The JSON is written by hand per type, not by reflection, into
// a reused buffer, each field hashed as it is written and named by a constant (a
// custom field's fields.<title> built once per title): json.Marshal and a scan
// that allocated every key were a quarter of transform's CPU at a million
// customers. Hand-written rather than generated: two types, and JSON's rules
// (omitempty, nil against empty, HTML escapes) are not the Arrow codec's;
// TestHashAgreement fills every field of both types by reflection and holds these
// to json.Marshal, so a field added to either type and not here fails it.

// rowHasher is the per-call scratch: the JSON, and the field hashes before they
// are copied out for the row in field order.
type rowHasher struct {
	buf    []byte
	fields FieldHashes // the fixed fields written, in write order
	slots  []uint8     // each one's slot: its place among its type's fields (fieldOrder)
	next   uint8       // the slot of the next fixed field, written or left out
	custom FieldHashes // a contact's custom fields, in the row's order
	// The last custom field names seen and their sorted order: every contact of a
	// run has the config's fields in the config's order.
	lastCustom []string
	customPerm []int
}

var hashers = sync.Pool{New: func() any { return &rowHasher{buf: make([]byte, 0, 2048)} }}

// fieldOrder is where each fixed field of a type goes in the sorted field hashes:
// the order is the type's, known before any row, so no row sorts its names.
type fieldOrder struct {
	names    []string // in write order (the slot order)
	rank     []uint8  // slot → place in sorted order
	customAt int      // the place of the custom fields (fields.<title>) in sorted order
}

func newFieldOrder(names ...string) *fieldOrder {
	o := &fieldOrder{names: names, rank: make([]uint8, len(names))}
	sorted := slices.Sorted(slices.Values(names))
	for slot, n := range names {
		o.rank[slot] = uint8(slices.Index(sorted, n))
	}
	o.customAt, _ = slices.BinarySearch(sorted, "fields.")
	return o
}

var (
	contactOrder = newFieldOrder("customerId", "email", "firstName", "lastName", "phone", "orgname", "listStatus", "deleted", "erased")
	rpOrder      = newFieldOrder("storeRecurringPaymentId", "email", "normalizedStatus", "storeStatus", "storeCustomerId",
		"billingInterval", "billingIntervalCount", "paymentAmount", "discountAmount", "taxAmount", "lastPaymentStatus",
		"lastPaymentDate", "startDate", "renewalDate", "nextPaymentDate", "anchorDate", "cancelledDate",
		"paymentMethodExpiration", "currency", "storeCreatedDate", "storeModifiedDate", "isTrial", "cancelAtPeriodEnd",
		"totalCycles", "billingAddress", "shippingAddress", "customerData", "lineItemNames", "lineItemSkus",
		"lineItemCategories", "lineItemStorePrimaryIds", "name", "shippingAmount", "storeExternalId", "notes",
		"lineItemBrands", "lineItemTags", "deleted")
)

// customNames interns fields.<title>: titles come from the config, a few dozen at
// most, and every contact has each.
var customNames sync.Map // title → fields.<title>

// customName is the field name HashPayload gave a title: the title after a JSON
// round trip (an invalid UTF-8 byte becomes U+FFFD).
func customName(title string) string {
	if n, ok := customNames.Load(title); ok {
		return n.(string)
	}
	b, _ := json.Marshal(title)
	var t string
	_ = json.Unmarshal(b, &t) // json.Marshal's output always decodes
	n, _ := customNames.LoadOrStore(title, "fields."+t)
	return n.(string)
}

// HashContact is the row hash and field hashes of a contact (sorted by field).
func HashContact(c *Contact) (uint64, FieldHashes) {
	h := hashers.Get().(*rowHasher)
	defer hashers.Put(h)
	h.contact(c)
	return h.done(contactOrder)
}

// contact writes c's JSON into h.buf, its field hashes into h.fields.
func (h *rowHasher) contact(c *Contact) {
	h.reset()
	h.str("customerId", c.CustomerID, false)
	h.str("email", c.Email, true)
	h.str("firstName", c.FirstName, true)
	h.str("lastName", c.LastName, true)
	h.str("phone", c.Phone, true)
	h.str("orgname", c.Company, true)
	h.str("listStatus", c.ListStatus, true)
	h.boolean("deleted", c.Deleted, true)
	h.key("fields", true)
	if c.Fields == nil {
		h.buf = append(h.buf, "null"...) // no custom field: none counted, as in Payload
	} else {
		h.buf = append(h.buf, '[')
		for i := range c.Fields {
			f := &c.Fields[i]
			if i > 0 {
				h.buf = append(h.buf, ',')
			}
			h.buf = append(h.buf, `{"title":`...)
			h.buf = appendJSONString(h.buf, f.Title)
			h.buf = append(h.buf, `,"value":`...)
			start := len(h.buf)
			h.buf = appendJSONString(h.buf, f.Value)
			h.custom = append(h.custom, FieldHash{Field: customName(f.Title), Hash: xxhash.Sum64(h.buf[start:])})
			h.buf = append(h.buf, '}')
		}
		h.buf = append(h.buf, ']')
	}
	h.key("row_hash", true)
	h.buf = strconv.AppendUint(h.buf, c.RowHash, 10)
	if c.Erased {
		h.boolean("erased", true, true)
	} else {
		h.next++ // omitempty
	}
	if c.ACContactID != nil {
		h.key("acContactId", true)
		h.buf = strconv.AppendInt(h.buf, *c.ACContactID, 10)
	}
	h.buf = append(h.buf, '}')
}

// HashRecurringPayment is the row hash and field hashes of a recurring payment
// (sorted by field).
func HashRecurringPayment(r *RecurringPayment) (uint64, FieldHashes) {
	h := hashers.Get().(*rowHasher)
	defer hashers.Put(h)
	h.recurringPayment(r)
	return h.done(rpOrder)
}

// recurringPayment writes r's JSON into h.buf, its field hashes into h.fields.
func (h *rowHasher) recurringPayment(r *RecurringPayment) {
	h.reset()
	h.key("legacyConnectionId", false)
	if r.LegacyConnectionID == nil {
		h.buf = append(h.buf, "null"...)
	} else {
		h.buf = strconv.AppendInt(h.buf, *r.LegacyConnectionID, 10)
	}
	h.str("storeRecurringPaymentId", r.StoreRecurringPaymentID, true)
	h.str("email", r.Email, true)
	h.str("normalizedStatus", r.NormalizedStatus, true)
	h.str("storeStatus", r.StoreStatus, true)
	h.str("storeCustomerId", r.StoreCustomerID, true)
	h.str("billingInterval", r.BillingInterval, true)
	h.int("billingIntervalCount", r.BillingIntervalCount)
	h.str("paymentAmount", r.PaymentAmount, true)
	h.optStr("discountAmount", r.DiscountAmount)
	h.optStr("taxAmount", r.TaxAmount)
	h.optStr("lastPaymentStatus", r.LastPaymentStatus)
	h.optStr("lastPaymentDate", r.LastPaymentDate)
	h.optStr("startDate", r.StartDate)
	h.optStr("renewalDate", r.RenewalDate)
	h.optStr("nextPaymentDate", r.NextPaymentDate)
	h.optStr("anchorDate", r.AnchorDate)
	h.optStr("cancelledDate", r.CancelledDate)
	h.optStr("paymentMethodExpiration", r.PaymentMethodExpiration)
	h.str("currency", r.Currency, true)
	h.optStr("storeCreatedDate", r.StoreCreatedDate)
	h.optStr("storeModifiedDate", r.StoreModifiedDate)
	h.boolean("isTrial", r.IsTrial, true)
	h.boolean("cancelAtPeriodEnd", r.CancelAtPeriodEnd, true)
	h.int("totalCycles", r.TotalCycles)
	h.address("billingAddress", r.BillingAddress)
	h.address("shippingAddress", r.ShippingAddress)
	h.customerData(&r.CustomerData)
	h.list("lineItemNames", r.LineItemNames, false)
	h.list("lineItemSkus", r.LineItemSkus, false)
	h.list("lineItemCategories", r.LineItemCategories, false)
	h.list("lineItemStorePrimaryIds", r.LineItemStorePrimaryIDs, false)
	h.optStr("name", r.Name)
	h.optStr("shippingAmount", r.ShippingAmount)
	h.optStr("storeExternalId", r.StoreExternalID)
	h.list("notes", r.Notes, true)
	h.list("lineItemBrands", r.LineItemBrands, true)
	h.list("lineItemTags", r.LineItemTags, true)
	h.boolean("deleted", r.Deleted, true)
	h.key("row_hash", true)
	h.buf = strconv.AppendUint(h.buf, r.RowHash, 10)
	h.buf = append(h.buf, '}')
}

// key writes "name": (after a comma unless it is the object's first key).
func (h *rowHasher) key(name string, comma bool) {
	if comma {
		h.buf = append(h.buf, ',')
	}
	h.buf = append(h.buf, '"')
	h.buf = append(h.buf, name...) // every name here is plain ASCII: no escapes
	h.buf = append(h.buf, '"', ':')
}

func (h *rowHasher) reset() {
	h.buf, h.fields, h.slots, h.next, h.custom = append(h.buf[:0], '{'), h.fields[:0], h.slots[:0], 0, h.custom[:0]
}

// add records the hash of the value written since start under the field name, in
// the next slot.
func (h *rowHasher) add(name string, start int) {
	h.fields = append(h.fields, FieldHash{Field: name, Hash: xxhash.Sum64(h.buf[start:])})
	h.slots = append(h.slots, h.next)
	h.next++
}

func (h *rowHasher) str(name, v string, comma bool) {
	h.key(name, comma)
	start := len(h.buf)
	h.buf = appendJSONString(h.buf, v)
	h.add(name, start)
}

// optStr is a *string with omitempty: nil is left out (a pointer to "" is not).
func (h *rowHasher) optStr(name string, v *string) {
	if v != nil {
		h.str(name, *v, true)
	} else {
		h.next++
	}
}

func (h *rowHasher) int(name string, v int64) {
	h.key(name, true)
	start := len(h.buf)
	h.buf = strconv.AppendInt(h.buf, v, 10)
	h.add(name, start)
}

func (h *rowHasher) boolean(name string, v, comma bool) {
	h.key(name, comma)
	start := len(h.buf)
	h.buf = strconv.AppendBool(h.buf, v)
	h.add(name, start)
}

// list writes a string list: nil is null, unless omitempty, which leaves out an
// empty list as well.
func (h *rowHasher) list(name string, l StringList, omitempty bool) {
	if omitempty && len(l) == 0 {
		h.next++
		return
	}
	h.key(name, true)
	start := len(h.buf)
	if l == nil {
		h.buf = append(h.buf, "null"...)
	} else {
		h.buf = append(h.buf, '[')
		for i, s := range l {
			if i > 0 {
				h.buf = append(h.buf, ',')
			}
			h.buf = appendJSONString(h.buf, s)
		}
		h.buf = append(h.buf, ']')
	}
	h.add(name, start)
}

// sub writes a member of a nested object whose members are all omitempty strings.
func (h *rowHasher) sub(first *bool, name, v string) {
	if v == "" {
		return
	}
	h.key(name, !*first)
	*first = false
	h.buf = appendJSONString(h.buf, v)
}

func (h *rowHasher) address(name string, a *ACAddress) {
	if a == nil {
		h.next++ // omitempty
		return
	}
	h.key(name, true)
	start := len(h.buf)
	h.buf = append(h.buf, '{')
	first := true
	h.sub(&first, "firstName", a.FirstName)
	h.sub(&first, "lastName", a.LastName)
	h.sub(&first, "company", a.Company)
	h.sub(&first, "address1", a.Address1)
	h.sub(&first, "address2", a.Address2)
	h.sub(&first, "city", a.City)
	h.sub(&first, "province", a.Province)
	h.sub(&first, "postal", a.Postal)
	h.sub(&first, "country", a.Country)
	h.sub(&first, "phone", a.Phone)
	h.sub(&first, "address3", a.Address3)
	h.buf = append(h.buf, '}')
	h.add(name, start)
}

func (h *rowHasher) customerData(d *CustomerData) {
	const name = "customerData"
	h.key(name, true)
	start := len(h.buf)
	h.buf = append(h.buf, '{')
	first := true
	h.sub(&first, "firstName", d.FirstName)
	h.sub(&first, "lastName", d.LastName)
	h.sub(&first, "phone", d.Phone)
	h.sub(&first, "company", d.Company)
	if d.AcceptsMarketing != nil {
		h.key("acceptsMarketing", !first)
		first = false
		h.buf = strconv.AppendBool(h.buf, *d.AcceptsMarketing)
	}
	h.sub(&first, "smsMarketingState", d.SMSMarketingState)
	h.sub(&first, "smsOptInLevel", d.SMSOptInLevel)
	h.sub(&first, "smsConsentUpdatedDate", d.SMSConsentUpdatedDate)
	h.buf = append(h.buf, '}')
	h.add(name, start)
}

// done returns the hash of the JSON written and the field hashes in field order:
// the fixed ones placed by their rank, the custom ones sorted once per run.
func (h *rowHasher) done(o *fieldOrder) (uint64, FieldHashes) {
	var at [256]uint8 // rank → index in h.fields + 1
	for i, slot := range h.slots {
		at[o.rank[slot]] = uint8(i + 1)
	}
	out := make(FieldHashes, 0, len(h.fields)+len(h.custom))
	for r := range len(o.names) + 1 {
		if r == o.customAt {
			for _, i := range h.customOrder() {
				out = append(out, h.custom[i])
			}
		}
		if r < len(o.names) && at[r] > 0 {
			out = append(out, h.fields[at[r]-1])
		}
	}
	return xxhash.Sum64(h.buf), out
}

// customOrder is the sorted order of h.custom, worked out again only when the names
// differ from the last row's (interned, so comparing them is cheap).
func (h *rowHasher) customOrder() []int {
	same := len(h.custom) == len(h.lastCustom)
	for i := 0; same && i < len(h.custom); i++ {
		same = h.custom[i].Field == h.lastCustom[i]
	}
	if same {
		return h.customPerm
	}
	h.lastCustom, h.customPerm = h.lastCustom[:0], h.customPerm[:0]
	for i, f := range h.custom {
		h.lastCustom = append(h.lastCustom, f.Field)
		h.customPerm = append(h.customPerm, i)
	}
	slices.SortStableFunc(h.customPerm, func(a, b int) int { return strings.Compare(h.custom[a].Field, h.custom[b].Field) })
	return h.customPerm
}

// appendJSONString appends s as encoding/json writes a string (its HTML escaping
// on): < > & and control characters as \u00XX except \b \f \n \r \t, invalid UTF-8
// byte by byte as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
