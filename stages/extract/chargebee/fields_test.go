package chargebee

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sdkFieldsFile holds the field names and Go types of the resources cb2ac reads, as
// the official Go SDK declares them (copied from the team's reference; see its
// header).
const sdkFieldsFile = "../../../testdata/chargebee/chargebee-model-fields.tsv"

// sdkStruct names one response struct of the SDK: models/<resource>, type <name>.
type sdkStruct struct{ resource, name string }

func (s sdkStruct) String() string { return s.resource + "." + s.name }

// sdkFields is resource.struct → json field → the SDK's Go type.
type sdkFields map[sdkStruct]map[string]string

func loadSDKFields(t *testing.T) sdkFields {
	t.Helper()
	f, err := os.Open(sdkFieldsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := sdkFields{}
	sc := bufio.NewScanner(f)
	header := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("%s: bad line %q", sdkFieldsFile, line)
		}
		if !header {
			if strings.Join(cols, ",") != "resource,struct,json_field,go_type" {
				t.Fatalf("%s: header %q", sdkFieldsFile, line)
			}
			header = true
			continue
		}
		k := sdkStruct{cols[0], cols[1]}
		if out[k] == nil {
			out[k] = map[string]string{}
		}
		out[k][cols[2]] = cols[3]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// entryResources maps each key of a list entry (Entry's json tags) to the SDK
// resource it holds. Nested structs are mapped by the SDK itself: a field whose SDK
// type is *BillingAddress or []*LineItem is checked against that struct of the same
// resource.
var entryResources = map[string]sdkStruct{
	"customer":       {"customer", "Customer"},
	"subscription":   {"subscription", "Subscription"},
	"card":           {"card", "Card"},
	"invoice":        {"invoice", "Invoice"},
	"credit_note":    {"creditnote", "CreditNote"},
	"payment_source": {"paymentsource", "PaymentSource"},
	"item_price":     {"itemprice", "ItemPrice"},
	"item":           {"item", "Item"},
	"plan":           {"plan", "Plan"},
	"addon":          {"addon", "Addon"},
	"gift":           {"gift", "Gift"},
}

// checkFields walks every json tag of t (a struct, or a pointer or slice of one),
// recursively, against the SDK struct want, and returns one message per name or
// type the SDK does not declare there.
func checkFields(sdk sdkFields, t reflect.Type, want sdkStruct, path string) []string {
	t = elem(t)
	fields, ok := sdk[want]
	if !ok {
		return []string{fmt.Sprintf("%s: no SDK struct %s in the fact file", path, want)}
	}
	if t.Kind() != reflect.Struct {
		return []string{fmt.Sprintf("%s: %s is not a struct, the SDK's %s is", path, t, want)}
	}
	var errs []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			errs = append(errs, fmt.Sprintf("%s.%s: no json tag (decoded under the Go name, which Chargebee never sends)", path, f.Name))
			continue
		}
		p := path + "." + tag
		goType, ok := fields[tag]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: %s has no field %q (chargebee-go v3.48.0)", p, want, tag))
			continue
		}
		errs = append(errs, checkType(sdk, f.Type, goType, want.resource, p)...)
	}
	return errs
}

// checkType checks that our field's Go type can hold the SDK's: a string for a string
// or an enum, an integer for int32/int64, a bool for a bool, a struct (or a slice of
// them) for a *Struct or []*Struct, recursing into it.
func checkType(sdk sdkFields, t reflect.Type, goType, resource, path string) []string {
	bare := strings.TrimPrefix(strings.TrimPrefix(goType, "[]"), "*")
	isSlice := strings.HasPrefix(goType, "[]")
	if isSlice != (t.Kind() == reflect.Slice) {
		return []string{fmt.Sprintf("%s: ours is %s, the SDK's %s", path, t, goType)}
	}
	e := elem(t)
	bad := func() []string { return []string{fmt.Sprintf("%s: ours is %s, the SDK's %s", path, t, goType)} }
	switch {
	case e.Kind() == reflect.Struct:
		if !strings.HasPrefix(strings.TrimPrefix(goType, "[]"), "*") {
			return bad()
		}
		return checkFields(sdk, e, sdkStruct{resource, bare}, path)
	case bare == "string" || strings.Contains(bare, "Enum.") || strings.HasPrefix(bare, "enum."):
		if e.Kind() != reflect.String {
			return bad()
		}
	case bare == "int32" || bare == "int64":
		if e.Kind() != reflect.Int64 {
			return bad()
		}
	case bare == "bool":
		if e.Kind() != reflect.Bool {
			return bad()
		}
	case bare == "float64":
		if e.Kind() != reflect.Float64 {
			return bad()
		}
	default:
		return bad()
	}
	return nil
}

func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

// Every field name cb2ac decodes is one the official SDK declares for that resource
// (and nested struct), with a Go type that can hold it: a misspelt or invented name
// would decode as nothing, forever, without an error.
func TestFieldsAreChargebees(t *testing.T) {
	sdk := loadSDKFields(t)
	entry := reflect.TypeOf(Entry{})
	for i := range entry.NumField() {
		f := entry.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		want, ok := entryResources[key]
		if !ok {
			t.Errorf("Entry.%s (%q): no SDK resource mapped in entryResources", f.Name, key)
			continue
		}
		for _, msg := range checkFields(sdk, f.Type, want, key) {
			t.Error(msg)
		}
	}
	if len(entryResources) != entry.NumField() {
		t.Errorf("entryResources maps %d keys, Entry has %d fields", len(entryResources), entry.NumField())
	}
}

// The check catches what it is for: a wrong name at the top or deep down, a scalar
// of the wrong kind, a nested struct where the SDK has a scalar.
func TestFieldsCheckCatchesWrongNames(t *testing.T) {
	sdk := loadSDKFields(t)
	type contractTerm struct {
		BillingCycles *int64 `json:"billing_cycles"` // the SDK's is billing_cycle
	}
	cases := []struct {
		name string
		typ  any
		want sdkStruct
		errs []string
	}{
		{"wrong name in a slice of structs", struct {
			ID         string `json:"id"`
			ReasonCode string `json:"cancel_reason_code"`
			Items      []struct {
				Amount *int64 `json:"amount_in_decimal_x,omitempty"`
			} `json:"subscription_items"`
		}{}, sdkStruct{"subscription", "Subscription"}, []string{`subscription_items.amount_in_decimal_x: subscription.SubscriptionItem has no field "amount_in_decimal_x"`}},
		{"all right", struct {
			ID    string `json:"id"`
			Items []struct {
				Amount *int64 `json:"amount"`
			} `json:"subscription_items"`
			CF string `json:"-"`
		}{}, sdkStruct{"subscription", "Subscription"}, nil},
		{"misspelt", struct {
			Code string `json:"cancel_reason_codes"`
		}{}, sdkStruct{"subscription", "Subscription"}, []string{`cancel_reason_codes: subscription.Subscription has no field`}},
		{"nested misspelt", struct {
			CT *contractTerm `json:"contract_term"`
		}{}, sdkStruct{"subscription", "Subscription"}, []string{`contract_term.billing_cycles: subscription.ContractTerm has no field "billing_cycles"`}},
		{"other resource's field", struct {
			BillingCycles *int64 `json:"billing_cycles"` // a plan's, not an addon's
		}{}, sdkStruct{"addon", "Addon"}, []string{`addon.Addon has no field "billing_cycles"`}},
		{"wrong kind", struct {
			Price string `json:"price"`
		}{}, sdkStruct{"plan", "Plan"}, []string{"price: ours is string, the SDK's int64"}},
		{"struct for a scalar", struct {
			ID struct{} `json:"id"`
		}{}, sdkStruct{"plan", "Plan"}, []string{"id: ours is struct {}, the SDK's string"}},
		{"untagged", struct {
			Name string
		}{}, sdkStruct{"plan", "Plan"}, []string{"no json tag"}},
	}
	for _, c := range cases {
		got := checkFields(sdk, reflect.TypeOf(c.typ), c.want, "x")
		if len(got) != len(c.errs) {
			t.Errorf("%s: %d errors %q, want %d", c.name, len(got), got, len(c.errs))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.errs[i]) {
				t.Errorf("%s: %q, want it to say %q", c.name, got[i], c.errs[i])
			}
		}
	}
}
