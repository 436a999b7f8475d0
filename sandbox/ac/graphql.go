package acsandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The Recurring Payments schema, from reference/ac-recurring-payments.txt.

type fkind int

const (
	fString fkind = iota
	fInt
	fBool
	fDecimal
	fDate
	fEnum
	fStringList
	fAddress
	fCustomerData
)

type fspec struct {
	kind     fkind
	enumType string
	enum     []string
	required bool
}

func (f fspec) typeName() string {
	switch f.kind {
	case fInt:
		return "Int"
	case fBool:
		return "Boolean"
	case fDecimal:
		return "BigDecimal"
	case fEnum:
		return f.enumType
	case fStringList:
		return "[String]"
	case fAddress:
		return "AddressInput"
	case fCustomerData:
		return "RecurringPaymentCustomerData"
	}
	return "String"
}

var (
	normalizedStatuses  = []string{"ACTIVE", "CANCELLED", "EXPIRED", "PAYMENT_FAILED", "PAUSED", "PENDING"}
	billingIntervals    = []string{"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
	lastPaymentStatuses = []string{"COMPLETED", "DECLINED", "PARTIALLY_REFUNDED", "PENDING", "REFUNDED"}
	smsMarketingStates  = []string{"NOT_SUBSCRIBED", "PENDING", "REDACTED", "SUBSCRIBED", "UNSUBSCRIBED"}
	smsOptInLevels      = []string{"CONFIRMED_OPT_IN", "SINGLE_OPT_IN", "UNKNOWN"}
)

var rpInputFields = func() map[string]fspec {
	m := map[string]fspec{
		"legacyConnectionId":      {kind: fInt, required: true},
		"storeRecurringPaymentId": {kind: fString, required: true},
		"normalizedStatus":        {kind: fEnum, enumType: "RecurringPaymentStatus", enum: normalizedStatuses},
		"billingInterval":         {kind: fEnum, enumType: "RecurringPaymentBillingInterval", enum: billingIntervals},
		"lastPaymentStatus":       {kind: fEnum, enumType: "RecurringPaymentPaymentStatus", enum: lastPaymentStatuses},
		"billingIntervalCount":    {kind: fInt},
		"totalCycles":             {kind: fInt},
		"isTrial":                 {kind: fBool},
		"cancelAtPeriodEnd":       {kind: fBool},
		"billingAddress":          {kind: fAddress},
		"shippingAddress":         {kind: fAddress},
		"customerData":            {kind: fCustomerData},
	}
	// name: the plan name; it is not in AC's recurring payments reference page
	// (UNVERIFIED), so the sandbox accepts it as a plain String.
	for _, n := range []string{"email", "storeStatus", "storeCustomerId", "originOrderId", "currency", "storeExternalId", "name"} {
		m[n] = fspec{kind: fString}
	}
	// suppressAutomations: AC's WooCommerce plugin sends it on every recurring payment
	// (true for its historical sync). An input flag, not a stored field.
	m["suppressAutomations"] = fspec{kind: fBool}
	for _, n := range []string{"paymentAmount", "discountAmount", "taxAmount", "shippingAmount"} {
		m[n] = fspec{kind: fDecimal}
	}
	for _, n := range []string{"lastPaymentDate", "startDate", "renewalDate", "nextPaymentDate", "anchorDate",
		"cancelledDate", "paymentMethodExpiration", "storeCreatedDate", "storeModifiedDate"} {
		m[n] = fspec{kind: fDate}
	}
	for _, n := range []string{"notes", "lineItemCategories", "lineItemNames", "lineItemSkus", "lineItemBrands",
		"lineItemTags", "lineItemStorePrimaryIds"} {
		m[n] = fspec{kind: fStringList}
	}
	return m
}()

// addressFields: AddressInput as AC's reference example and its WooCommerce plugin
// (Ecom_Address) send it, plus address3 and email, which the issue lists as
// accepted by AC.
var addressFields = []string{"firstName", "lastName", "company", "address1", "address2", "address3", "city", "province", "postal", "country", "phone", "email"}

// inputOnly are RecurringPaymentInput fields that searchRecurringPayment does not
// return.
var inputOnly = map[string]bool{"suppressAutomations": true, "name": true}

var customerDataFields = map[string]fspec{
	"firstName":             {kind: fString},
	"lastName":              {kind: fString},
	"phone":                 {kind: fString},
	"company":               {kind: fString},
	"acceptsMarketing":      {kind: fBool},
	"smsMarketingState":     {kind: fEnum, enumType: "SmsMarketingState", enum: smsMarketingStates},
	"smsOptInLevel":         {kind: fEnum, enumType: "SmsOptInLevel", enum: smsOptInLevels},
	"smsConsentUpdatedDate": {kind: fDate},
}

// rpFilterFields are RecurringPaymentFilter's attributes; the sandbox filters on the
// first four.
var (
	rpFilterSupported = map[string]string{"id": "String", "legacyConnectionId": "Int", "storeRecurringPaymentId": "String", "email": "String"}
	rpFilterKnown     = []string{"normalizedStatus", "storeStatus", "storeCustomerId", "billingInterval", "billingIntervalCount",
		"paymentAmount", "discountAmount", "taxAmount", "shippingAmount", "lastPaymentStatus", "lastPaymentDate", "startDate",
		"renewalDate", "nextPaymentDate", "anchorDate", "cancelledDate", "paymentMethodExpiration", "currency",
		"storeCreatedDate", "storeModifiedDate", "isTrial", "cancelAtPeriodEnd", "totalCycles", "notes", "storeExternalId",
		"billingAddress", "shippingAddress", "lineItemCategories", "lineItemNames", "lineItemSkus", "lineItemBrands",
		"lineItemTags", "lineItemStorePrimaryIds"}
	filterOperators = []string{"EQ", "NEQ", "GT", "GTE", "LT", "LTE", "CONTAINS", "IN", "NOT_IN", "STARTS_WITH", "ENDS_WITH", "IS_NULL", "IS_NOT_NULL"}
)

var knownInputTypes = map[string]bool{
	"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true, "BigDecimal": true,
	"RecurringPaymentInput": true, "RecurringPaymentFilter": true, "AddressInput": true,
	"RecurringPaymentCustomerData": true, "RecurringPaymentStatus": true, "RecurringPaymentBillingInterval": true,
	"RecurringPaymentPaymentStatus": true, "SmsMarketingState": true, "SmsOptInLevel": true,
	"StringFieldFilter": true, "IntFieldFilter": true, "FilterOperator": true,
}

var (
	// dateRe: the reference's form 2019-11-16T10:48:23Z, and the same instant as
	// AC's WooCommerce plugin sends it (PHP DATE_ATOM: +00:00) or with milliseconds
	// (JavaScript's toISOString, used by other AC clients).
	dateRe    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|\+00:00)$`)
	decimalRe = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
)

// ---- request ----

// gqlRequest is a parsed GraphQL-over-HTTP body. httpErr means the body is not a
// GraphQL request at all (400); parseErr a query that does not parse (200 + errors).
type gqlRequest struct {
	httpErr  string
	parseErr error
	op       *gqlOperation
	opName   string
	vars     map[string]any
}

func parseGQLRequest(body []byte) *gqlRequest {
	g := &gqlRequest{}
	var raw struct {
		Query         *string         `json:"query"`
		Variables     json.RawMessage `json:"variables"`
		OperationName *string         `json:"operationName"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		g.httpErr = "The request body must be a JSON object with a \"query\" string: " + err.Error()
		return g
	}
	if raw.Query == nil || strings.TrimSpace(*raw.Query) == "" {
		g.httpErr = "The request body has no \"query\"."
		return g
	}
	if raw.OperationName != nil {
		g.opName = *raw.OperationName
	}
	if v := bytes.TrimSpace(raw.Variables); len(v) > 0 && !bytes.Equal(v, []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&g.vars); err != nil {
			g.httpErr = "\"variables\" must be a JSON object: " + err.Error()
			return g
		}
	}
	g.op, g.parseErr = parseDocument(*raw.Query)
	return g
}

// fieldName is the top-level field, for the request log.
func (g *gqlRequest) fieldName() string {
	if g == nil || g.op == nil || len(g.op.sel) != 1 {
		return ""
	}
	return g.op.sel[0].name
}

// ---- errors ----

type gqlErr struct {
	Message    string         `json:"message"`
	Locations  []gqlLoc       `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type gqlLoc struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func loc(line, col int) []gqlLoc {
	if line <= 0 {
		return nil
	}
	return []gqlLoc{{line, col}}
}

func validationErr(msg string, line, col int) gqlErr {
	return gqlErr{Message: msg, Locations: loc(line, col), Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}
}

// inputErr is a problem with one input value: index is the record (-1 for an
// argument as a whole), field its dotted path inside the record.
type inputErr struct {
	msg   string
	index int
	field string
	// validation marks errors of the document (variable types) rather than of data.
	validation bool
	// content marks a value of the right GraphQL type that AC's own checks refuse
	// (a date not in its format, an empty id, an unknown connection, a fail-email):
	// AC answers those as "Validation errors" naming the record.
	content bool
}

// ---- value helpers ----

func jsonToValue(v any) *gqlValue {
	out := &gqlValue{fromVar: true}
	switch x := v.(type) {
	case nil:
		out.kind = vNull
	case string:
		out.kind, out.raw = vString, x
	case bool:
		out.kind, out.raw = vBool, strconv.FormatBool(x)
	case json.Number:
		out.kind, out.raw = vInt, string(x)
		if strings.ContainsAny(string(x), ".eE") {
			out.kind = vFloat
		}
	case []any:
		out.kind = vList
		for _, it := range x {
			out.list = append(out.list, jsonToValue(it))
		}
	case map[string]any:
		out.kind = vObject
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.fields = append(out.fields, objField{name: k, val: jsonToValue(x[k])})
		}
	default:
		out.kind, out.raw = vString, fmt.Sprint(x)
	}
	return out
}

// describe renders a value for an error message, GraphQL style.
func describe(v *gqlValue) string {
	switch v.kind {
	case vString:
		return strconv.Quote(v.raw)
	case vNull:
		return "null"
	case vList:
		parts := make([]string, len(v.list))
		for i, it := range v.list {
			parts[i] = describe(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case vObject:
		parts := make([]string, len(v.fields))
		for i, f := range v.fields {
			parts[i] = f.name + ": " + describe(f.val)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case vVar:
		return "$" + v.raw
	}
	return v.raw
}

// resolver substitutes variables into argument literals.
type resolver struct {
	defs   map[string]varDef
	values map[string]*gqlValue // provided or defaulted; absent = not provided
	used   map[string]bool
}

func newResolver(op *gqlOperation, vars map[string]any) (*resolver, []gqlErr) {
	rs := &resolver{defs: map[string]varDef{}, values: map[string]*gqlValue{}, used: map[string]bool{}}
	var errs []gqlErr
	for _, vd := range op.vars {
		if _, dup := rs.defs[vd.name]; dup {
			errs = append(errs, validationErr(fmt.Sprintf("There can be only one variable named \"$%s\".", vd.name), vd.line, vd.col))
			continue
		}
		rs.defs[vd.name] = vd
		if !knownInputTypes[vd.typ.base()] {
			errs = append(errs, validationErr(fmt.Sprintf("Unknown type \"%s\".", vd.typ.base()), vd.line, vd.col))
			continue
		}
		raw, given := vars[vd.name]
		switch {
		case given && raw == nil && vd.typ.nonNull:
			errs = append(errs, gqlErr{Message: fmt.Sprintf("Variable \"$%s\" of non-null type \"%s\" must not be null.", vd.name, vd.typ),
				Locations: loc(vd.line, vd.col), Extensions: map[string]any{"code": "BAD_USER_INPUT"}})
		case given:
			v := jsonToValue(raw)
			v.varName, v.varType = vd.name, vd.typ
			rs.values[vd.name] = v
		case vd.def != nil:
			d := *vd.def
			d.varName, d.varType = vd.name, vd.typ
			rs.values[vd.name] = &d
		case vd.typ.nonNull:
			errs = append(errs, gqlErr{Message: fmt.Sprintf("Variable \"$%s\" of required type \"%s\" was not provided.", vd.name, vd.typ),
				Locations: loc(vd.line, vd.col), Extensions: map[string]any{"code": "BAD_USER_INPUT"}})
		}
	}
	return rs, errs
}

// resolve returns v with variables replaced; nil means "not provided".
func (rs *resolver) resolve(v *gqlValue) (*gqlValue, *gqlErr) {
	switch v.kind {
	case vVar:
		if _, ok := rs.defs[v.raw]; !ok {
			e := validationErr(fmt.Sprintf("Variable \"$%s\" is not defined.", v.raw), v.line, v.col)
			return nil, &e
		}
		rs.used[v.raw] = true
		return rs.values[v.raw], nil
	case vList:
		out := *v
		out.list = nil
		for _, it := range v.list {
			r, err := rs.resolve(it)
			if err != nil {
				return nil, err
			}
			if r == nil {
				r = &gqlValue{kind: vNull, line: it.line, col: it.col}
			}
			out.list = append(out.list, r)
		}
		return &out, nil
	case vObject:
		out := *v
		out.fields = nil
		for _, f := range v.fields {
			r, err := rs.resolve(f.val)
			if err != nil {
				return nil, err
			}
			if r != nil { // an object field whose variable was not provided is absent
				out.fields = append(out.fields, objField{name: f.name, val: r})
			}
		}
		return &out, nil
	}
	return v, nil
}

func (rs *resolver) unused() []gqlErr {
	var errs []gqlErr
	for name, vd := range rs.defs {
		if !rs.used[name] {
			errs = append(errs, validationErr(fmt.Sprintf("Variable \"$%s\" is never used.", name), vd.line, vd.col))
		}
	}
	return errs
}

// checkVarType enforces that a variable's declared type fits where it is used.
func checkVarType(v *gqlValue, want string, index int, field string) *inputErr {
	if v.varType == nil {
		return nil
	}
	got := v.varType.base()
	gotList := v.varType.elem != nil
	wantList := strings.HasPrefix(want, "[")
	wantBase := strings.Trim(want, "[]!")
	if got != wantBase || gotList != wantList {
		return &inputErr{msg: fmt.Sprintf("Variable \"$%s\" of type \"%s\" used in position expecting type \"%s\".", v.varName, v.varType, want),
			index: index, field: field, validation: true}
	}
	return nil
}

func inList(s string, set []string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// coerce turns one input value into its stored Go form, enforcing the contract.
func coerce(v *gqlValue, spec fspec, index int, field string) (any, *inputErr) {
	fail := func(format string, args ...any) (any, *inputErr) {
		return nil, &inputErr{msg: field + ": " + fmt.Sprintf(format, args...), index: index, field: field}
	}
	if e := checkVarType(v, spec.typeName(), index, field); e != nil {
		return nil, e
	}
	if v.kind == vNull {
		if spec.required {
			return fail("required field of type \"%s!\" must not be null", spec.typeName())
		}
		return nil, nil
	}
	switch spec.kind {
	case fString:
		if v.kind != vString {
			return fail("String cannot represent a non string value: %s", describe(v))
		}
		if spec.required && strings.TrimSpace(v.raw) == "" {
			e := &inputErr{msg: field + ": must not be empty", index: index, field: field, content: true}
			return nil, e
		}
		return v.raw, nil
	case fInt:
		switch {
		case v.kind == vInt:
		case v.kind == vFloat && v.fromVar:
			if f, err := strconv.ParseFloat(v.raw, 64); err != nil || f != math.Trunc(f) {
				return fail("Int cannot represent non-integer value: %s", describe(v))
			}
		default:
			return fail("Int cannot represent non-integer value: %s", describe(v))
		}
		f, err := strconv.ParseFloat(v.raw, 64)
		if err != nil || f > math.MaxInt32 || f < math.MinInt32 {
			return fail("Int cannot represent non 32-bit signed integer value: %s", describe(v))
		}
		return int64(f), nil
	case fBool:
		if v.kind != vBool {
			return fail("Boolean cannot represent a non boolean value: %s", describe(v))
		}
		return v.raw == "true", nil
	case fDecimal:
		switch v.kind {
		case vInt, vFloat:
			return v.raw, nil
		case vString:
			if decimalRe.MatchString(v.raw) {
				return v.raw, nil
			}
		}
		return fail("BigDecimal cannot represent %s: expected a number or a decimal string such as \"20.00\"", describe(v))
	case fDate:
		if v.kind != vString {
			return fail("String cannot represent a non string value: %s", describe(v))
		}
		if !dateRe.MatchString(v.raw) {
			return nil, &inputErr{msg: fmt.Sprintf("%s: %s is not in the format 2019-11-16T10:48:23Z", field, strconv.Quote(v.raw)), index: index, field: field, content: true}
		}
		if _, err := time.Parse(time.RFC3339Nano, v.raw); err != nil {
			return nil, &inputErr{msg: fmt.Sprintf("%s: %s is not a valid date", field, strconv.Quote(v.raw)), index: index, field: field, content: true}
		}
		return v.raw, nil
	case fEnum:
		switch {
		case v.kind == vEnum, v.kind == vString && v.fromVar:
		case v.kind == vString:
			return fail("Enum \"%s\" cannot represent non-enum value: %s. Did you mean the enum value \"%s\"?", spec.enumType, describe(v), v.raw)
		default:
			return fail("Enum \"%s\" cannot represent non-enum value: %s", spec.enumType, describe(v))
		}
		if !inList(v.raw, spec.enum) {
			return fail("Value \"%s\" does not exist in \"%s\" enum (one of %s)", v.raw, spec.enumType, strings.Join(spec.enum, ", "))
		}
		return v.raw, nil
	case fStringList:
		items := v.list
		if v.kind != vList {
			items = []*gqlValue{v} // GraphQL input coercion: a single value is a list of one
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			if it.kind != vString {
				return nil, &inputErr{msg: fmt.Sprintf("%s[%d]: String cannot represent a non string value: %s", field, i, describe(it)), index: index, field: field}
			}
			out = append(out, it.raw)
		}
		return out, nil
	case fAddress, fCustomerData:
		obj := v
		// The reference types the addresses as [AddressInput] but its example sends one
		// object; accept a list of one as well and store the object.
		if v.kind == vList && len(v.list) == 1 {
			obj = v.list[0]
		}
		if obj.kind != vObject {
			return fail("Expected type \"%s\" to be an object, got %s", spec.typeName(), describe(v))
		}
		out := map[string]any{}
		for _, f := range obj.fields {
			sub := fspec{kind: fString}
			if spec.kind == fCustomerData {
				s, ok := customerDataFields[f.name]
				if !ok {
					return fail("Field \"%s\" is not defined by type \"%s\"", f.name, spec.typeName())
				}
				sub = s
			} else if !inList(f.name, addressFields) {
				return fail("Field \"%s\" is not defined by type \"%s\"", f.name, spec.typeName())
			}
			val, err := coerce(f.val, sub, index, field+"."+f.name)
			if err != nil {
				return nil, err
			}
			out[f.name] = val
		}
		return out, nil
	}
	return fail("unsupported field kind")
}

// coerceRecord checks one RecurringPaymentInput.
func coerceRecord(v *gqlValue, index int) (map[string]any, []inputErr) {
	if e := checkVarType(v, "RecurringPaymentInput", index, ""); e != nil {
		return nil, []inputErr{*e}
	}
	if v.kind != vObject {
		return nil, []inputErr{{msg: fmt.Sprintf("recurringPayments[%d]: Expected type \"RecurringPaymentInput\" to be an object, got %s", index, describe(v)), index: index}}
	}
	var errs []inputErr
	rec := map[string]any{}
	for _, f := range v.fields {
		spec, ok := rpInputFields[f.name]
		if !ok {
			errs = append(errs, inputErr{msg: fmt.Sprintf("Field \"%s\" is not defined by type \"RecurringPaymentInput\"", f.name), index: index, field: f.name})
			continue
		}
		val, err := coerce(f.val, spec, index, f.name)
		if err != nil {
			errs = append(errs, *err)
			continue
		}
		rec[f.name] = val
	}
	for _, name := range []string{"legacyConnectionId", "storeRecurringPaymentId"} {
		if _, ok := rec[name]; !ok && !hasErrFor(errs, name) {
			errs = append(errs, inputErr{msg: fmt.Sprintf("Field \"RecurringPaymentInput.%s\" of required type \"%s!\" was not provided.", name, rpInputFields[name].typeName()),
				index: index, field: name})
		}
	}
	// email is a plain String in the contract, and the documented example itself sends
	// "[email protected]" (an address mangled by the docs' web page), so its format is
	// not checked here; only a valid address creates a contact when applied.
	return rec, errs
}

func hasErrFor(errs []inputErr, field string) bool {
	for _, e := range errs {
		if e.field == field {
			return true
		}
	}
	return false
}

// normalizeRPFields restores the Go types of stored fields after a JSON round trip.
func normalizeRPFields(m map[string]any) map[string]any {
	for k, v := range m {
		spec, ok := rpInputFields[k]
		if !ok || v == nil {
			continue
		}
		switch spec.kind {
		case fInt:
			if n, ok := v.(json.Number); ok {
				i, _ := n.Int64()
				m[k] = i
			}
		case fStringList:
			if list, ok := v.([]any); ok {
				out := make([]string, 0, len(list))
				for _, it := range list {
					s, _ := it.(string)
					out = append(out, s)
				}
				m[k] = out
			}
		}
	}
	return m
}

// ---- execution ----

func gqlReply(errs []gqlErr, data any, withData bool) response {
	body := orderedObj{{"errors", errs}}
	if withData {
		body = append(body, kv{"data", data})
	}
	return reply(http.StatusOK, body)
}

// graphql serves POST /api/3/ecom/graphql. How AC reports errors is UNVERIFIED; the
// sandbox answers like a standard GraphQL server: 400 only when the body is not a
// GraphQL request, otherwise 200 with errors[] (GRAPHQL_PARSE_FAILED,
// GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT with "data": null).
func (s *Server) graphql(r *http.Request, ri *reqInfo) response {
	g := ri.gql
	if g == nil {
		g = parseGQLRequest(ri.body)
	}
	if g.httpErr != "" {
		return reply(http.StatusBadRequest, map[string]any{"errors": []gqlErr{{Message: g.httpErr, Extensions: map[string]any{"code": "BAD_REQUEST"}}}})
	}
	if g.parseErr != nil {
		e := gqlErr{Message: g.parseErr.Error(), Extensions: map[string]any{"code": "GRAPHQL_PARSE_FAILED"}}
		var pe *gqlError
		if errors.As(g.parseErr, &pe) {
			e.Locations = loc(pe.line, pe.col)
		}
		return gqlReply([]gqlErr{e}, nil, false)
	}
	op := g.op
	if g.opName != "" && g.opName != op.name {
		return gqlReply([]gqlErr{{Message: fmt.Sprintf("Unknown operation named \"%s\".", g.opName), Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}}, nil, false)
	}
	if len(op.sel) != 1 {
		f := op.sel[min(1, len(op.sel)-1)]
		return gqlReply([]gqlErr{validationErr("The sandbox runs one top-level field per operation.", f.line, f.col)}, nil, false)
	}
	f := op.sel[0]
	rootType := map[string]string{"query": "Query", "mutation": "Mutation"}[op.kind]
	switch {
	case strings.HasPrefix(f.name, "__"):
		return gqlReply([]gqlErr{validationErr("Introspection is not supported by the sandbox.", f.line, f.col)}, nil, false)
	case op.kind == "mutation" && f.name == "bulkUpsertRecurringPayments":
		return s.bulkUpsert(g, f, ri)
	case op.kind == "query" && f.name == "searchRecurringPayment":
		return s.searchRP(g, f)
	}
	return gqlReply([]gqlErr{validationErr(fmt.Sprintf("Cannot query field \"%s\" on type \"%s\".", f.name, rootType), f.line, f.col)}, nil, false)
}

// args resolves a field's arguments; unknown names are validation errors.
func resolveArgs(g *gqlRequest, f *gqlField, allowed ...string) (map[string]*gqlValue, *resolver, []gqlErr) {
	rs, errs := newResolver(g.op, g.vars)
	out := map[string]*gqlValue{}
	for _, a := range f.args {
		if !inList(a.name, allowed) {
			errs = append(errs, validationErr(fmt.Sprintf("Unknown argument \"%s\" on field \"%s\".", a.name, f.name), a.val.line, a.val.col))
			continue
		}
		v, err := rs.resolve(a.val)
		if err != nil {
			errs = append(errs, *err)
			continue
		}
		if v != nil {
			out[a.name] = v
		}
	}
	errs = append(errs, rs.unused()...)
	return out, rs, errs
}

func (s *Server) bulkUpsert(g *gqlRequest, f *gqlField, ri *reqInfo) response {
	args, _, errs := resolveArgs(g, f, "recurringPayments")
	if errs == nil {
		errs = checkSelection(f, map[string]bool{"recordId": true, "__typename": true}, nil, "BulkAsync")
	}
	if len(errs) > 0 {
		return gqlReply(errs, nil, false)
	}
	path := []any{f.key()}
	badInput := func(ies []inputErr) response {
		var out []gqlErr
		for _, e := range ies {
			code := "BAD_USER_INPUT"
			if e.validation {
				code = "GRAPHQL_VALIDATION_FAILED"
			}
			ext := map[string]any{"code": code}
			if e.index >= 0 {
				ext["index"] = e.index
			}
			if e.field != "" {
				ext["field"] = e.field
			}
			out = append(out, gqlErr{Message: e.msg, Path: path, Extensions: ext})
		}
		return gqlReply(out, nil, true)
	}
	list, ok := args["recurringPayments"]
	if !ok {
		return gqlReply([]gqlErr{validationErr("Field \"bulkUpsertRecurringPayments\" argument \"recurringPayments\" of type \"[RecurringPaymentInput]\" is required, but it was not provided.", f.line, f.col)}, nil, false)
	}
	if e := checkVarType(list, "[RecurringPaymentInput]", -1, ""); e != nil {
		return badInput([]inputErr{*e})
	}
	if list.kind == vNull {
		return badInput([]inputErr{{msg: "recurringPayments must not be null", index: -1}})
	}
	items := list.list
	if list.kind != vList {
		items = []*gqlValue{list}
	}
	var ies []inputErr
	records := make([]map[string]any, 0, len(items))
	for i, it := range items {
		if it.kind == vNull {
			ies = append(ies, inputErr{msg: fmt.Sprintf("recurringPayments[%d] must not be null", i), index: i})
			continue
		}
		rec, errs := coerceRecord(it, i)
		ies = append(ies, errs...)
		records = append(records, rec)
	}
	for i, rec := range records {
		if e, ok := rec["email"].(string); ok && s.failEmail(e) {
			ies = append(ies, inputErr{msg: fmt.Sprintf("email: %s is in the sandbox's fail-emails set", e), index: i, field: "email", content: true})
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ies) == 0 {
		for i, rec := range records {
			id, _ := rec["legacyConnectionId"].(int64)
			if s.st.connection(strconv.FormatInt(id, 10)) == nil {
				ies = append(ies, inputErr{msg: fmt.Sprintf("legacyConnectionId: no connection with id %d", id), index: i, field: "legacyConnectionId", content: true})
			}
		}
	}
	if len(ies) > 0 {
		sort.SliceStable(ies, func(a, b int) bool { return ies[a].index < ies[b].index })
		if resp, ok := validationErrors(ies, records); ok {
			return resp
		}
		return badInput(ies)
	}
	now := s.now()
	seq, _ := strconv.ParseInt(s.st.nextID("job"), 10, 64)
	b := &rpBatchRec{ID: newUUID(), Seq: seq, Status: "waiting", Count: len(records), Failure: []string{}, Created: now, Pending: records,
		Drop: s.takeRPBatchDrop()}
	s.st.RPBatches = append(s.st.RPBatches, b)
	s.armLocked()
	s.touch()
	keys := make([]string, len(records))
	for i, rec := range records {
		keys[i], _ = rec["storeRecurringPaymentId"].(string)
	}
	ri.wrote(keys...)
	result := orderedObj{}
	for _, sel := range f.sel {
		switch sel.name {
		case "recordId":
			result = append(result, kv{sel.key(), b.ID})
		case "__typename":
			result = append(result, kv{sel.key(), "BulkAsync"})
		}
	}
	return reply(http.StatusOK, orderedObj{{"data", orderedObj{{f.key(), result}}}})
}

// validationErrors answers data errors as AC does (AC's WooCommerce plugin reads
// this shape): errors[0].message "Validation errors", and in errors[0].extensions
// one key per refused record, "<index>-storeRecurringPaymentId-<id>", whose value is
// the message. Nothing of the batch is saved. Only when every error is a content
// error of a record with an id; type errors stay GraphQL errors of the request.
func validationErrors(ies []inputErr, records []map[string]any) (response, bool) {
	ext := map[string]any{}
	for _, e := range ies {
		if !e.content || e.index < 0 || e.index >= len(records) {
			return response{}, false
		}
		id, _ := records[e.index]["storeRecurringPaymentId"].(string)
		if strings.TrimSpace(id) == "" {
			return response{}, false
		}
		k := fmt.Sprintf("%d-storeRecurringPaymentId-%s", e.index, id)
		if prev, ok := ext[k].(string); ok {
			ext[k] = prev + "; " + e.msg
		} else {
			ext[k] = e.msg
		}
	}
	return gqlReply([]gqlErr{{Message: "Validation errors", Extensions: ext}}, nil, true), true
}

// applyRPBatchLocked upserts a batch by (legacyConnectionId, storeRecurringPaymentId).
// Fields present in the input overwrite, explicit nulls clear, absent ones are kept
// (AC's merge behaviour is not documented). The email creates the contact when none
// exists, and customerData's names, phone and company update it, per the reference.
func (s *Server) applyRPBatchLocked(b *rpBatchRec, now time.Time) {
	if b.Drop {
		b.Pending, b.Status, b.Completed = nil, "failed", &now
		return
	}
	st := s.st
	for _, rec := range b.Pending {
		conn, _ := rec["legacyConnectionId"].(int64)
		storeID, _ := rec["storeRecurringPaymentId"].(string)
		if st.connection(strconv.FormatInt(conn, 10)) == nil {
			b.Failure = append(b.Failure, storeID)
			continue
		}
		key := rpKey(conn, storeID)
		rp := st.rpByKey[key]
		if rp == nil {
			rp = &rpRec{ID: st.nextID("recurringPayment"), LegacyConnectionID: conn, StoreRecurringPaymentID: storeID, Fields: map[string]any{}, Created: now}
			st.RPs = append(st.RPs, rp)
			st.rpByKey[key] = rp
		}
		for k, v := range rec {
			rp.Fields[k] = v
		}
		rp.SuppressAutomations, _ = rec["suppressAutomations"].(bool)
		delete(rp.Fields, "suppressAutomations")
		rp.Updated = now
		email, _ := rec["email"].(string)
		if !validEmail(email) {
			continue
		}
		c := st.contactByEmail[emailKey(email)]
		if c == nil {
			c = st.newContact(email, now)
		}
		if cd, ok := rec["customerData"].(map[string]any); ok {
			for k, dst := range map[string]*string{"firstName": &c.FirstName, "lastName": &c.LastName, "phone": &c.Phone, "company": &c.OrgName} {
				if v, ok := cd[k].(string); ok && v != "" {
					*dst = v
				}
			}
		}
		c.Updated = now
	}
	b.Pending = nil
	b.Status = "completed"
	b.Completed = &now
}

// checkSelection validates a selection set against an output type. sub lists the
// object-typed fields and their own allowed sub-fields.
func checkSelection(f *gqlField, allowed map[string]bool, sub map[string][]string, typeName string) []gqlErr {
	if !f.hasSel {
		return []gqlErr{validationErr(fmt.Sprintf("Field \"%s\" of type \"%s\" must have a selection of subfields.", f.name, typeName), f.line, f.col)}
	}
	var errs []gqlErr
	for _, sel := range f.sel {
		if len(sel.args) > 0 {
			errs = append(errs, validationErr(fmt.Sprintf("Unknown argument \"%s\" on field \"%s.%s\".", sel.args[0].name, typeName, sel.name), sel.line, sel.col))
			continue
		}
		if subs, isObj := sub[sel.name]; isObj {
			allowedSub := map[string]bool{"__typename": true}
			for _, n := range subs {
				allowedSub[n] = true
			}
			errs = append(errs, checkSelection(sel, allowedSub, nil, "Address")...)
			continue
		}
		if !allowed[sel.name] {
			errs = append(errs, validationErr(fmt.Sprintf("Cannot query field \"%s\" on type \"%s\".", sel.name, typeName), sel.line, sel.col))
			continue
		}
		if sel.hasSel {
			errs = append(errs, validationErr(fmt.Sprintf("Field \"%s\" must not have a selection since its type has no subfields.", sel.name), sel.line, sel.col))
		}
	}
	return errs
}

type rpFilter struct {
	field string
	value any
}

func (s *Server) searchRP(g *gqlRequest, f *gqlField) response {
	args, _, errs := resolveArgs(g, f, "filter")
	allowed := map[string]bool{"id": true, "__typename": true}
	for name, spec := range rpInputFields {
		if spec.kind != fCustomerData && spec.kind != fAddress && !inputOnly[name] {
			allowed[name] = true
		}
	}
	sub := map[string][]string{"billingAddress": addressFields, "shippingAddress": addressFields}
	if errs == nil {
		errs = checkSelection(f, allowed, sub, "RecurringPayment")
	}
	if len(errs) > 0 {
		return gqlReply(errs, nil, false)
	}
	path := []any{f.key()}
	bad := func(msg string) response {
		return gqlReply([]gqlErr{{Message: msg, Path: path, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}, nil, true)
	}
	var filters []rpFilter
	if fv, ok := args["filter"]; ok && fv.kind != vNull {
		if e := checkVarType(fv, "RecurringPaymentFilter", -1, "filter"); e != nil {
			return bad(e.msg)
		}
		if fv.kind != vObject {
			return bad("filter: Expected type \"RecurringPaymentFilter\" to be an object, got " + describe(fv))
		}
		for _, ff := range fv.fields {
			typ, supported := rpFilterSupported[ff.name]
			if !supported {
				if inList(ff.name, rpFilterKnown) {
					return bad(fmt.Sprintf("filter.%s: the sandbox filters on id, legacyConnectionId, storeRecurringPaymentId and email only", ff.name))
				}
				return bad(fmt.Sprintf("Field \"%s\" is not defined by type \"RecurringPaymentFilter\"", ff.name))
			}
			flt, msg := parseFieldFilter(ff.name, typ, ff.val)
			if msg != "" {
				return bad(msg)
			}
			filters = append(filters, flt)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	results := []orderedObj{}
	for _, rp := range s.st.RPs {
		if !matchRP(rp, filters) {
			continue
		}
		results = append(results, rpOutput(rp, f.sel))
	}
	return reply(http.StatusOK, orderedObj{{"data", orderedObj{{f.key(), results}}}})
}

// parseFieldFilter reads {value: ..., filterOperator: EQ}; only EQ is supported.
func parseFieldFilter(name, typ string, v *gqlValue) (rpFilter, string) {
	filterType := typ + "FieldFilter"
	if v.kind != vObject {
		return rpFilter{}, fmt.Sprintf("filter.%s: Expected type \"%s\" to be an object, got %s", name, filterType, describe(v))
	}
	var val *gqlValue
	op := "EQ"
	for _, f := range v.fields {
		switch f.name {
		case "value":
			val = f.val
		case "filterOperator":
			switch {
			case f.val.kind == vEnum, f.val.kind == vString && f.val.fromVar:
				op = f.val.raw
			default:
				return rpFilter{}, fmt.Sprintf("filter.%s.filterOperator: Enum \"FilterOperator\" cannot represent non-enum value: %s", name, describe(f.val))
			}
		default:
			return rpFilter{}, fmt.Sprintf("filter.%s: Field \"%s\" is not defined by type \"%s\"", name, f.name, filterType)
		}
	}
	if op != "EQ" {
		if inList(op, filterOperators) {
			return rpFilter{}, fmt.Sprintf("filter.%s.filterOperator: the sandbox supports EQ only, got %s", name, op)
		}
		return rpFilter{}, fmt.Sprintf("filter.%s.filterOperator: Value \"%s\" does not exist in \"FilterOperator\" enum", name, op)
	}
	if val == nil || val.kind == vNull {
		return rpFilter{}, fmt.Sprintf("filter.%s.value: a value is required", name)
	}
	spec := fspec{kind: fString}
	if typ == "Int" {
		spec = fspec{kind: fInt}
	}
	out, ie := coerce(val, spec, -1, "filter."+name+".value")
	if ie != nil {
		return rpFilter{}, ie.msg
	}
	return rpFilter{field: name, value: out}, ""
}

func matchRP(rp *rpRec, filters []rpFilter) bool {
	for _, f := range filters {
		switch f.field {
		case "id":
			if rp.ID != f.value {
				return false
			}
		case "legacyConnectionId":
			if rp.LegacyConnectionID != f.value {
				return false
			}
		case "storeRecurringPaymentId":
			if rp.StoreRecurringPaymentID != f.value {
				return false
			}
		case "email":
			e, _ := rp.Fields["email"].(string)
			if emailKey(e) != emailKey(f.value.(string)) {
				return false
			}
		}
	}
	return true
}

// rpOutput renders the selected fields in selection order. BigDecimal goes out as a
// JSON number carrying the decimal text as stored (UNVERIFIED; clients should accept
// a number or a string), Int as a number, enums and dates as strings.
func rpOutput(rp *rpRec, sel []*gqlField) orderedObj {
	out := orderedObj{}
	for _, f := range sel {
		var v any
		switch f.name {
		case "__typename":
			v = "RecurringPayment"
		case "id":
			v = rp.ID
		default:
			raw, present := rp.Fields[f.name]
			if !present || raw == nil {
				v = nil
				break
			}
			switch rpInputFields[f.name].kind {
			case fDecimal:
				v = json.Number(raw.(string))
			case fAddress:
				addr, _ := raw.(map[string]any)
				obj := orderedObj{}
				for _, sf := range f.sel {
					if sf.name == "__typename" {
						obj = append(obj, kv{sf.key(), "Address"})
						continue
					}
					obj = append(obj, kv{sf.key(), addr[sf.name]})
				}
				v = obj
			default:
				v = raw
			}
		}
		out = append(out, kv{f.key(), v})
	}
	return out
}

// orderedObj is a JSON object that keeps its key order: GraphQL answers fields in
// the order they were selected.
type orderedObj []kv

type kv struct {
	k string
	v any
}

func (o orderedObj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", e.k, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
