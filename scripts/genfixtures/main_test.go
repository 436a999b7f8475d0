package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// generate writes the fixtures into a fresh folder and returns it.
func generate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run(dir)
	return dir
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Two runs write the same bytes, and those are the committed fixtures: a change
// to the generator is a change to fixtures/ in the same commit.
func TestDeterministicAndCommitted(t *testing.T) {
	a, b := readTree(t, generate(t)), readTree(t, generate(t))
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for name, x := range a {
		if !bytes.Equal(x, b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	committed := readTree(t, "../../fixtures")
	for name, x := range a {
		if !bytes.Equal(x, committed[name]) {
			t.Errorf("fixtures/%s is not what the generator writes: run go run ./scripts/genfixtures", name)
		}
	}
	for name := range committed {
		if _, ok := a[name]; !ok {
			t.Errorf("fixtures/%s is not written by the generator", name)
		}
	}
}

// sdkModel is the chargebee-go v3.48.0 model as testdata/chargebee holds it:
// struct fields (json name → Go type) per resource, and enum values.
type sdkModel struct {
	fields map[string]map[string]string // "resource.Struct" → json field → go type
	enums  map[string][]string          // "resource.EnumType" → values
}

func readTSV(t *testing.T, name string, cols int, each func([]string)) {
	t.Helper()
	f, err := os.Open(filepath.Join("../../testdata/chargebee", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if first { // the header
			first = false
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != cols {
			t.Fatalf("%s: %q", name, line)
		}
		each(c)
	}
}

func loadModel(t *testing.T) *sdkModel {
	m := &sdkModel{fields: map[string]map[string]string{}, enums: map[string][]string{}}
	readTSV(t, "chargebee-model-fields.tsv", 4, func(c []string) {
		k := c[0] + "." + c[1]
		if m.fields[k] == nil {
			m.fields[k] = map[string]string{}
		}
		m.fields[k][c[2]] = c[3]
	})
	readTSV(t, "chargebee-model-enums.tsv", 3, func(c []string) {
		m.enums[c[0]+"."+c[1]] = append(m.enums[c[0]+"."+c[1]], c[2])
	})
	// The SDK's shared enums (package enum) are not in the TSV; these are the
	// values of the ones the fixtures use, from chargebee-go v3.48.0 enum/<name>.go.
	for k, v := range map[string]string{
		"Type":              "card paypal_express_checkout amazon_payments direct_debit generic",
		"Gateway":           "stripe braintree adyen paypal_express_checkout gocardless chargebee not_applicable",
		"Channel":           "web app_store play_store",
		"PricingModel":      "flat_fee per_unit tiered volume stairstep",
		"AutoCollection":    "on off",
		"ValidationStatus":  "not_validated valid partially_valid invalid",
		"PriceType":         "tax_exclusive tax_inclusive",
		"Taxability":        "taxable exempt",
		"ItemType":          "plan addon charge",
		"ChargeOnEvent":     "subscription_creation subscription_trial_start plan_activation subscription_activation contract_termination on_demand",
		"DunningType":       "auto_collect offline direct_debit",
		"RetryEngine":       "chargebee flexpay successplus",
		"TrialEndAction":    "site_default plan_default activate_subscription cancel_subscription",
		"DirectDebitScheme": "ach bacs sepa_core autogiro becs becs_nz pad not_applicable",
		"PeriodUnit":        "day week month year",
	} {
		m.enums["enum."+k] = strings.Fields(v)
	}
	return m
}

// entryResources maps the keys of a list entry to the SDK resource and struct.
var entryResources = map[string]string{
	"customer": "customer.Customer", "card": "card.Card", "subscription": "subscription.Subscription",
	"invoice": "invoice.Invoice", "credit_note": "creditnote.CreditNote", "payment_source": "paymentsource.PaymentSource",
	"item_price": "itemprice.ItemPrice", "item": "item.Item", "plan": "plan.Plan", "addon": "addon.Addon", "gift": "gift.Gift",
}

// deliberate are the values the fixtures break on purpose (fixtures/README.md,
// "Deliberately bad records"): object id → field.
var deliberate = map[string]string{"sub_bad_unknown_status": "status"}

// check walks one object against its SDK struct: every key must be a field of the
// struct (or a cf_ custom field where the struct has custom_field), every nested
// object a struct of the same resource, and every enum value one the SDK declares.
func (m *sdkModel) check(where, structKey string, v map[string]any, errs *[]string) {
	fields := m.fields[structKey]
	if fields == nil {
		*errs = append(*errs, fmt.Sprintf("%s: no SDK struct %s", where, structKey))
		return
	}
	res := strings.Split(structKey, ".")[0]
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := v[k]
		typ, ok := fields[k]
		if !ok {
			if _, cf := fields["custom_field"]; cf && strings.HasPrefix(k, "cf_") {
				continue
			}
			*errs = append(*errs, fmt.Sprintf("%s: %s has no field %q", where, structKey, k))
			continue
		}
		at := where + "." + k
		if id, _ := v["id"].(string); deliberate[id] == k {
			continue
		}
		base := strings.TrimPrefix(strings.TrimPrefix(typ, "[]"), "*")
		switch {
		case strings.Contains(base, "Enum.") || strings.HasPrefix(base, "enum."):
			ek := base
			if i := strings.Index(base, "Enum."); i > 0 {
				ek = strings.ToLower(base[:i]) + "." + base[i+5:]
			}
			s, isStr := val.(string)
			if !isStr || !slices.Contains(m.enums[ek], s) {
				*errs = append(*errs, fmt.Sprintf("%s: %v is not a value of %s", at, val, ek))
			}
		case base == "string":
			if _, ok := val.(string); !ok {
				*errs = append(*errs, fmt.Sprintf("%s: %v is not a string", at, val))
			}
		case base == "int64" || base == "int32" || base == "float64":
			if _, ok := val.(json.Number); !ok {
				*errs = append(*errs, fmt.Sprintf("%s: %v is not a number", at, val))
			}
		case base == "bool":
			if _, ok := val.(bool); !ok {
				*errs = append(*errs, fmt.Sprintf("%s: %v is not a bool", at, val))
			}
		case m.fields[res+"."+base] != nil:
			if strings.HasPrefix(typ, "[]") {
				list, ok := val.([]any)
				if !ok {
					*errs = append(*errs, fmt.Sprintf("%s: not a list", at))
					continue
				}
				for i, x := range list {
					o, _ := x.(map[string]any)
					m.check(fmt.Sprintf("%s[%d]", at, i), res+"."+base, o, errs)
				}
			} else if o, ok := val.(map[string]any); ok {
				m.check(at, res+"."+base, o, errs)
			} else {
				*errs = append(*errs, fmt.Sprintf("%s: not an object", at))
			}
		}
	}
}

// Every fixture object uses only the field names, types and enum values of the
// official Go SDK's models.
func TestFixturesMatchSDKModels(t *testing.T) {
	m := loadModel(t)
	dir := generate(t)
	var errs []string
	files := 0
	for name, b := range readTree(t, dir) {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		files++
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var page struct {
			List []map[string]map[string]any `json:"list"`
		}
		if err := dec.Decode(&page); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, e := range page.List {
			for k, o := range e {
				sk, ok := entryResources[k]
				if !ok {
					errs = append(errs, fmt.Sprintf("%s[%d]: unknown entry key %q", name, i, k))
					continue
				}
				m.check(fmt.Sprintf("%s[%d].%s", name, i, k), sk, o, &errs)
			}
		}
	}
	if files == 0 {
		t.Fatal("no pages written")
	}
	sort.Strings(errs)
	for i, e := range errs {
		if i == 40 {
			t.Errorf("... and %d more", len(errs)-40)
			break
		}
		t.Error(e)
	}
}
