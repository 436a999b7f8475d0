// Package acschema holds the schema document (SDL) of the ActiveCampaign GraphQL
// operations cb2ac uses, written from AC's Recurring Payments reference: the AC
// sandbox validates the requests it serves against it, and stages/load/ac's tests
// validate the client's own query and mutation texts against it. It imports
// nothing of cb2ac, so either side may use it.
package acschema

import (
	_ "embed"
	"errors"
	"fmt"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// SDL is the schema document, schema.graphql.
//
//go:embed schema.graphql
var SDL string

// DateTime is the directive that marks the String fields whose format AC's
// reference fixes (2019-11-16T10:48:23Z).
const DateTime = "dateTime"

var load = sync.OnceValues(func() (*ast.Schema, error) {
	return gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: SDL, BuiltIn: false})
})

// Schema is the loaded schema. It panics if schema.graphql does not load, which
// this package's tests rule out.
func Schema() *ast.Schema {
	s, err := load()
	if err != nil {
		panic("acschema: schema.graphql: " + err.Error())
	}
	return s
}

// Parse parses a GraphQL request document. The error, when there is one, carries
// the line and column.
func Parse(query string) (*ast.QueryDocument, *gqlerror.Error) {
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: query})
	if err == nil {
		return doc, nil
	}
	var ge *gqlerror.Error
	if !errors.As(err, &ge) {
		ge = gqlerror.Wrap(err)
	}
	return nil, ge
}

// Validate parses query and validates it against the schema with every rule of the
// GraphQL specification (gqlparser's default rules). It returns nil when the
// document is valid; each error names the line and column.
func Validate(query string) gqlerror.List {
	doc, err := Parse(query)
	if err != nil {
		return gqlerror.List{err}
	}
	return validator.ValidateWithRules(Schema(), doc, rules.NewDefaultRules())
}

// ValidateRequest validates query as Validate does, then the variables' values
// against the types the operation declares (gqlparser's VariableValues: unknown input
// fields, enums, scalars, required fields). The query must hold one operation.
func ValidateRequest(query string, vars map[string]any) error {
	doc, perr := Parse(query)
	if perr != nil {
		return perr
	}
	if errs := validator.ValidateWithRules(Schema(), doc, rules.NewDefaultRules()); len(errs) > 0 {
		return errs
	}
	if len(doc.Operations) != 1 {
		return fmt.Errorf("acschema: %d operations in the document, want 1", len(doc.Operations))
	}
	_, err := validator.VariableValues(Schema(), doc.Operations[0], vars)
	return err
}
