package acschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSchemaLoads(t *testing.T) {
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
	s := Schema()
	for _, name := range []string{"RecurringPaymentInput", "RecurringPaymentFilter", "BulkAsync", "RecurringPayment",
		"RecurringPaymentCustomerData", "AddressInput", "StringFieldFilter", "BigDecimal"} {
		if s.Types[name] == nil {
			t.Errorf("type %s missing", name)
		}
	}
	if s.Mutation.Fields.ForName("bulkUpsertRecurringPayments") == nil || s.Query.Fields.ForName("searchRecurringPayment") == nil {
		t.Fatal("root fields missing")
	}
}

func TestValidateNamesLineAndColumn(t *testing.T) {
	errs := Validate("mutation {\n  bulkUpsertRecurringPayments(recurringPayments: []) { recordID }\n}")
	if len(errs) != 1 || !strings.Contains(errs[0].Message, `"recordID"`) || errs[0].Locations[0].Line != 2 {
		t.Fatalf("%v", errs)
	}
	if errs := Validate("query {"); len(errs) != 1 || len(errs[0].Locations) == 0 {
		t.Fatalf("a syntax error: %v", errs)
	}
}

// AC's two documented examples, verbatim from the reference (the sandbox's
// testdata), validate against the schema with every rule of the specification.
func TestReferenceExamplesValidate(t *testing.T) {
	for _, name := range []string{"bulkUpsertRecurringPayments.example.graphql", "searchRecurringPayment.example.graphql"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if errs := Validate(string(b)); len(errs) > 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
}
