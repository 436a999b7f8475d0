package ac

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cb2ac/cb2ac/sandbox/ac/acschema"
	"github.com/cb2ac/cb2ac/schemas"
)

// The client's GraphQL texts are validated against the schema document the AC
// sandbox serves (sandbox/ac/acschema/schema.graphql, written from AC's Recurring
// Payments reference) with every rule of the GraphQL specification, so a misspelt
// field, argument, type or enum value fails here, in CI, not against AC.

// clientTexts are every query and mutation text the client sends.
func clientTexts() map[string]string {
	return map[string]string{
		"bulkUpsertRecurringPayments":                 upsertMutation,
		"searchRecurringPayment":                      searchQuery(false),
		"searchRecurringPayment by connection and id": searchQuery(true),
	}
}

func TestGraphQLTextsValidateAgainstACSchema(t *testing.T) {
	for name, q := range clientTexts() {
		if errs := acschema.Validate(q); len(errs) > 0 {
			t.Errorf("%s does not validate against AC's schema:\n%v\n%s", name, errs, q)
		}
	}
}

// The same check refuses each misspelling: it would catch one in the client's texts.
func TestGraphQLSchemaCatchesMisspelling(t *testing.T) {
	cases := []struct {
		name, text, old, new, want string
	}{
		{"selected BulkAsync field", upsertMutation, "{ recordId }", "{ recordID }", `Cannot query field "recordID" on type "BulkAsync"`},
		{"mutation name", upsertMutation, "bulkUpsertRecurringPayments(", "bulkUpsertRecurringPayment(", `Cannot query field "bulkUpsertRecurringPayment" on type "Mutation"`},
		{"argument name", upsertMutation, "(recurringPayments: $", "(recurringPayment: $", `Unknown argument "recurringPayment"`},
		{"input type", upsertMutation, "[RecurringPaymentInput!]!", "[RecurringPaymentsInput!]!", `Unknown type "RecurringPaymentsInput"`},
		{"selected RecurringPayment field", searchQuery(true), " lineItemSkus ", " lineItemSku ", `Cannot query field "lineItemSku" on type "RecurringPayment"`},
		{"filter attribute", searchQuery(true), "legacyConnectionId: {", "legacyConnectionID: {", `"legacyConnectionID"`},
		{"filter operator", searchQuery(false), "filterOperator: EQ", "filterOperator: EQUALS", `"EQUALS"`},
		{"variable type", searchQuery(true), "$conn: Int!", "$conn: String!", `Variable "$conn" of type "String!" used in position expecting type "Int"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(tc.text, tc.old) != 1 {
				t.Fatalf("%q occurs %d times in the text", tc.old, strings.Count(tc.text, tc.old))
			}
			errs := acschema.Validate(strings.Replace(tc.text, tc.old, tc.new, 1))
			if len(errs) == 0 {
				t.Fatal("the misspelt text validates")
			}
			if !strings.Contains(errs.Error(), tc.want) {
				t.Fatalf("errors %q do not name %s", errs.Error(), tc.want)
			}
			if len(errs[0].Locations) == 0 || errs[0].Locations[0].Line == 0 {
				t.Fatalf("error without a line and column: %+v", errs[0])
			}
		})
	}
}

// fill sets every field of v (a pointer to a struct) to a non-empty value, so that
// RecurringPaymentInput sends every field it can.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i))
		}
	case reflect.String:
		v.SetString("2024-02-14T10:48:23Z")
	case reflect.Int64, reflect.Int:
		v.SetInt(3)
	case reflect.Uint64:
		v.SetUint(3)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	}
}

// Every field RecurringPaymentInput sends (its keys come from the transform row's
// JSON tags) is a RecurringPaymentInput field of AC's schema, of the right type.
func TestRecurringPaymentInputValidatesAgainstACSchema(t *testing.T) {
	var rp schemas.RecurringPayment
	fill(reflect.ValueOf(&rp).Elem())
	rp.NormalizedStatus, rp.BillingInterval = "ACTIVE", "MONTHLY"
	*rp.LastPaymentStatus = "COMPLETED"
	rp.CustomerData.SMSMarketingState, rp.CustomerData.SMSOptInLevel = "SUBSCRIBED", "SINGLE_OPT_IN"
	in := RecurringPaymentInput(15, &rp)
	// Through JSON, as the client sends it.
	var sent map[string]any
	b, _ := json.Marshal(in)
	if err := json.Unmarshal(b, &sent); err != nil {
		t.Fatal(err)
	}
	vars := func(rec map[string]any) map[string]any {
		return map[string]any{"recurringPayments": []any{rec}}
	}
	if err := acschema.ValidateRequest(upsertMutation, vars(sent)); err != nil {
		t.Fatalf("RecurringPaymentInput (%d fields) does not validate: %v", len(sent), err)
	}
	for _, tc := range []struct{ name, key string }{
		{"misspelt field", "nextPaymentdate"},
		{"misspelt address field", "billingAddress.postcode"},
	} {
		bad := map[string]any{}
		for k, v := range sent {
			bad[k] = v
		}
		if parent, child, nested := strings.Cut(tc.key, "."); nested {
			addr := map[string]any{child: "x"}
			bad[parent] = addr
		} else {
			bad[tc.key] = "2024-02-14T10:48:23Z"
		}
		err := acschema.ValidateRequest(upsertMutation, vars(bad))
		if err == nil || !strings.Contains(err.Error(), tc.key[strings.LastIndex(tc.key, ".")+1:]) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
