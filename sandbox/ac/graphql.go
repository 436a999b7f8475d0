package acsandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/cb2ac/cb2ac/sandbox/ac/acschema"
)

// The Recurring Payments endpoint. A request is parsed and validated by gqlparser
// against acschema's schema.graphql (written from AC's reference), then run by
// walking the validated document: the chosen operation's one top-level field, its
// arguments with the variables substituted (gqlinput.go checks their values against
// the same schema) and its selection set.

// sandboxRules are the specification's validation rules but ValuesOfCorrectType:
// the values of literals are checked when the request runs (coerce, coerceRecord),
// against the same schema, so that a bad value is answered as AC answers it: a
// BAD_USER_INPUT error naming the record and the field, or "Validation errors".
var sandboxRules = func() *rules.Rules {
	r := rules.NewDefaultRules()
	r.RemoveRule(rules.ValuesOfCorrectTypeRule.Name)
	return r
}()

// ---- request ----

// gqlRequest is a parsed GraphQL-over-HTTP body. httpErr means the body is not a
// GraphQL request at all (400); parseErr a query that does not parse and invalid one
// that does not validate (200 + errors).
type gqlRequest struct {
	httpErr  string
	parseErr *gqlerror.Error
	invalid  gqlerror.List
	doc      *ast.QueryDocument
	opName   string
	rawVars  map[string]any

	op      *ast.OperationDefinition
	opErr   string               // no operation could be chosen
	vars    map[string]*gqlValue // the operation's variables: provided or defaulted
	varErrs []gqlErr             // required variables missing or null
	top     []*collected         // the operation's top-level fields
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
		if err := dec.Decode(&g.rawVars); err != nil {
			g.httpErr = "\"variables\" must be a JSON object: " + err.Error()
			return g
		}
	}
	g.doc, g.parseErr = acschema.Parse(*raw.Query)
	if g.parseErr != nil {
		return g
	}
	g.invalid = validator.ValidateWithRules(acschema.Schema(), g.doc, sandboxRules)
	g.chooseOperation()
	if g.op != nil {
		g.resolveVariables()
		g.top = collectFields(g.doc, g.op.SelectionSet, g.vars)
	}
	return g
}

// chooseOperation picks the operation to run: the one named by operationName, or
// the document's only one.
func (g *gqlRequest) chooseOperation() {
	ops := g.doc.Operations
	switch {
	case g.opName != "":
		for _, op := range ops {
			if op.Name == g.opName {
				g.op = op
				return
			}
		}
		g.opErr = fmt.Sprintf("Unknown operation named \"%s\".", g.opName)
	case len(ops) == 1:
		g.op = ops[0]
	case len(ops) == 0:
		g.opErr = "The document has no operation."
	default:
		g.opErr = "Must provide operation name if query contains multiple operations."
	}
}

// resolveVariables takes each declared variable's value from the request, or its
// default; a required one missing or null is an error of the request.
func (g *gqlRequest) resolveVariables() {
	g.vars = map[string]*gqlValue{}
	for _, vd := range g.op.VariableDefinitions {
		raw, given := g.rawVars[vd.Variable]
		line, col := pos(vd.Position)
		switch {
		case given && raw == nil && vd.Type.NonNull:
			g.varErrs = append(g.varErrs, gqlErr{Message: fmt.Sprintf("Variable \"$%s\" of non-null type \"%s\" must not be null.", vd.Variable, vd.Type),
				Locations: loc(line, col), Extensions: map[string]any{"code": "BAD_USER_INPUT"}})
		case given:
			g.vars[vd.Variable] = jsonToValue(raw)
		case vd.DefaultValue != nil:
			if d := resolveValue(vd.DefaultValue, nil); d != nil {
				g.vars[vd.Variable] = d
			}
		case vd.Type.NonNull:
			g.varErrs = append(g.varErrs, gqlErr{Message: fmt.Sprintf("Variable \"$%s\" of required type \"%s\" was not provided.", vd.Variable, vd.Type),
				Locations: loc(line, col), Extensions: map[string]any{"code": "BAD_USER_INPUT"}})
		}
	}
}

// fieldName is the top-level field, for the request log.
func (g *gqlRequest) fieldName() string {
	if g == nil || len(g.top) != 1 {
		return ""
	}
	return g.top[0].name
}

// collected is one response key of a selection set: its fields merged (a key may be
// selected more than once, directly or through fragments), @skip and @include
// applied.
type collected struct {
	key, name string
	field     *ast.Field // the first field selected under this key
	sel       ast.SelectionSet
}

func collectFields(doc *ast.QueryDocument, set ast.SelectionSet, vars map[string]*gqlValue) []*collected {
	var out []*collected
	byKey := map[string]*collected{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				if skipped(s.Directives, vars) {
					continue
				}
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				if c := byKey[key]; c != nil {
					c.sel = append(c.sel, s.SelectionSet...)
					continue
				}
				c := &collected{key: key, name: s.Name, field: s, sel: append(ast.SelectionSet(nil), s.SelectionSet...)}
				byKey[key] = c
				out = append(out, c)
			case *ast.InlineFragment:
				if !skipped(s.Directives, vars) {
					walk(s.SelectionSet)
				}
			case *ast.FragmentSpread:
				if fd := doc.Fragments.ForName(s.Name); fd != nil && !skipped(s.Directives, vars) {
					walk(fd.SelectionSet)
				}
			}
		}
	}
	walk(set)
	return out
}

// skipped applies @skip(if:) and @include(if:).
func skipped(dirs ast.DirectiveList, vars map[string]*gqlValue) bool {
	cond := func(name string) (bool, bool) {
		d := dirs.ForName(name)
		if d == nil {
			return false, false
		}
		v := resolveValue(d.Arguments.ForName("if").Value, vars)
		return v != nil && v.kind == vBool && v.raw == "true", true
	}
	if skip, ok := cond("skip"); ok && skip {
		return true
	}
	if include, ok := cond("include"); ok && !include {
		return true
	}
	return false
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

func pos(p *ast.Position) (line, col int) {
	if p == nil {
		return 0, 0
	}
	return p.Line, p.Column
}

func validationErr(msg string, line, col int) gqlErr {
	return gqlErr{Message: msg, Locations: loc(line, col), Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}
}

// fromGQLParser turns gqlparser's errors into the sandbox's, graphql-js style: the
// message, the locations and extensions.code.
func fromGQLParser(errs gqlerror.List, code string) []gqlErr {
	out := make([]gqlErr, 0, len(errs))
	for _, e := range errs {
		ge := gqlErr{Message: e.Message, Extensions: map[string]any{"code": code}}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, gqlLoc{l.Line, l.Column})
		}
		if code == "GRAPHQL_PARSE_FAILED" {
			ge.Message = "Syntax Error: " + e.Message
			if len(ge.Locations) > 0 {
				ge.Message += fmt.Sprintf(" (line %d, column %d)", ge.Locations[0].Line, ge.Locations[0].Column)
			}
		}
		out = append(out, ge)
	}
	return out
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
	switch {
	case g.httpErr != "":
		return reply(http.StatusBadRequest, map[string]any{"errors": []gqlErr{{Message: g.httpErr, Extensions: map[string]any{"code": "BAD_REQUEST"}}}})
	case g.parseErr != nil:
		return gqlReply(fromGQLParser(gqlerror.List{g.parseErr}, "GRAPHQL_PARSE_FAILED"), nil, false)
	case len(g.invalid) > 0:
		return gqlReply(fromGQLParser(g.invalid, "GRAPHQL_VALIDATION_FAILED"), nil, false)
	case g.opErr != "":
		return gqlReply([]gqlErr{validationErr(g.opErr, 0, 0)}, nil, false)
	case len(g.varErrs) > 0:
		return gqlReply(g.varErrs, nil, false)
	}
	if len(g.top) != 1 {
		line, col := 0, 0
		if len(g.top) > 1 {
			line, col = pos(g.top[1].field.Position)
		}
		return gqlReply([]gqlErr{validationErr("The sandbox runs one top-level field per operation.", line, col)}, nil, false)
	}
	f := g.top[0]
	line, col := pos(f.field.Position)
	switch {
	case strings.HasPrefix(f.name, "__"):
		return gqlReply([]gqlErr{validationErr("Introspection is not supported by the sandbox.", line, col)}, nil, false)
	case g.op.Operation == ast.Mutation && f.name == "bulkUpsertRecurringPayments":
		return s.bulkUpsert(g, f, ri)
	case g.op.Operation == ast.Query && f.name == "searchRecurringPayment":
		return s.searchRP(g, f)
	}
	return gqlReply([]gqlErr{validationErr(fmt.Sprintf("Cannot query field \"%s\" on type \"%s\".", f.name, g.op.Operation), line, col)}, nil, false)
}

// arg resolves a field's argument; nil when it is absent (or a variable without
// value).
func (g *gqlRequest) arg(f *collected, name string) *gqlValue {
	a := f.field.Arguments.ForName(name)
	if a == nil {
		return nil
	}
	return resolveValue(a.Value, g.vars)
}

func (s *Server) bulkUpsert(g *gqlRequest, f *collected, ri *reqInfo) response {
	path := []any{f.key}
	badInput := func(ies []inputErr) response {
		var out []gqlErr
		for _, e := range ies {
			ext := map[string]any{"code": "BAD_USER_INPUT"}
			if e.index >= 0 {
				ext["index"] = e.index
			}
			if e.field != "" {
				ext["field"] = e.field
			}
			out = append(out, gqlErr{Message: e.msg, Locations: loc(e.line, e.col), Path: path, Extensions: ext})
		}
		return gqlReply(out, nil, true)
	}
	list := g.arg(f, "recurringPayments")
	if list == nil {
		line, col := pos(f.field.Position)
		return gqlReply([]gqlErr{validationErr("Field \"bulkUpsertRecurringPayments\" argument \"recurringPayments\" of type \"[RecurringPaymentInput]\" is required, but it was not provided.", line, col)}, nil, false)
	}
	if list.kind == vNull {
		return badInput([]inputErr{{msg: "recurringPayments must not be null", index: -1, line: list.line, col: list.col}})
	}
	items := list.list
	if list.kind != vList {
		items = []*gqlValue{list}
	}
	var ies []inputErr
	records := make([]map[string]any, 0, len(items))
	for i, it := range items {
		if it.kind == vNull {
			ies = append(ies, inputErr{msg: fmt.Sprintf("recurringPayments[%d] must not be null", i), index: i, line: it.line, col: it.col})
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
	for _, sel := range collectFields(g.doc, f.sel, g.vars) {
		switch sel.name {
		case "recordId":
			result = append(result, kv{sel.key, b.ID})
		case "__typename":
			result = append(result, kv{sel.key, "BulkAsync"})
		}
	}
	return reply(http.StatusOK, orderedObj{{"data", orderedObj{{f.key, result}}}})
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

type rpFilter struct {
	field string
	value any
}

// rpFilterSupported are the RecurringPaymentFilter attributes the sandbox filters on.
var rpFilterSupported = map[string]bool{"id": true, "legacyConnectionId": true, "storeRecurringPaymentId": true, "email": true}

func (s *Server) searchRP(g *gqlRequest, f *collected) response {
	path := []any{f.key}
	bad := func(at *gqlValue, msg string) response {
		return gqlReply([]gqlErr{{Message: msg, Locations: loc(at.line, at.col), Path: path, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}, nil, true)
	}
	var filters []rpFilter
	if fv := g.arg(f, "filter"); fv != nil && fv.kind != vNull {
		filterDef := schemaType("RecurringPaymentFilter")
		if fv.kind != vObject {
			return bad(fv, "filter: Expected type \"RecurringPaymentFilter\" to be an object, got "+describe(fv))
		}
		for _, ff := range fv.fields {
			fd := filterDef.Fields.ForName(ff.name)
			if fd == nil {
				return bad(ff.val, fmt.Sprintf("Field \"%s\" is not defined by type \"%s\"", ff.name, filterDef.Name))
			}
			if !rpFilterSupported[ff.name] {
				return bad(ff.val, fmt.Sprintf("filter.%s: the sandbox filters on id, legacyConnectionId, storeRecurringPaymentId and email only", ff.name))
			}
			flt, ie := parseFieldFilter(ff.name, schemaType(fd.Type.Name()), ff.val)
			if ie != nil {
				return bad(&gqlValue{line: ie.line, col: ie.col}, ie.msg)
			}
			filters = append(filters, flt)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	sel := collectFields(g.doc, f.sel, g.vars)
	results := []orderedObj{}
	for _, rp := range s.st.RPs {
		if !matchRP(rp, filters) {
			continue
		}
		results = append(results, g.rpOutput(rp, sel))
	}
	return reply(http.StatusOK, orderedObj{{"data", orderedObj{{f.key, results}}}})
}

// parseFieldFilter reads {value: ..., filterOperator: EQ} against its filter type
// (StringFieldFilter, IntFieldFilter); only EQ is supported.
func parseFieldFilter(name string, def *ast.Definition, v *gqlValue) (rpFilter, *inputErr) {
	fail := func(at *gqlValue, format string, args ...any) (rpFilter, *inputErr) {
		return rpFilter{}, (&inputErr{msg: fmt.Sprintf(format, args...), index: -1}).at(at)
	}
	if v.kind != vObject {
		return fail(v, "filter.%s: Expected type \"%s\" to be an object, got %s", name, def.Name, describe(v))
	}
	opField := def.Fields.ForName("filterOperator")
	opDef := schemaType(opField.Type.Name())
	var val, opVal *gqlValue
	op := ""
	if opField.DefaultValue != nil {
		op = opField.DefaultValue.Raw
	}
	for _, f := range v.fields {
		switch f.name {
		case "value":
			val = f.val
		case "filterOperator":
			switch {
			case f.val.kind == vEnum, f.val.kind == vString && f.val.fromVar:
				op, opVal = f.val.raw, f.val
			default:
				return fail(f.val, "filter.%s.filterOperator: Enum \"%s\" cannot represent non-enum value: %s", name, opDef.Name, describe(f.val))
			}
		default:
			return fail(f.val, "filter.%s: Field \"%s\" is not defined by type \"%s\"", name, f.name, def.Name)
		}
	}
	if op != "EQ" {
		if opDef.EnumValues.ForName(op) != nil {
			return fail(opVal, "filter.%s.filterOperator: the sandbox supports EQ only, got %s", name, op)
		}
		return fail(opVal, "filter.%s.filterOperator: Value \"%s\" does not exist in \"%s\" enum", name, op, opDef.Name)
	}
	if val == nil || val.kind == vNull {
		return fail(v, "filter.%s.value: a value is required", name)
	}
	out, ie := coerce(val, def.Fields.ForName("value").Type, false, -1, "filter."+name+".value")
	if ie != nil {
		return rpFilter{}, ie
	}
	return rpFilter{field: name, value: out}, nil
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

// rpOutput renders the selected fields in selection order, each as its type in the
// schema says. BigDecimal goes out as a JSON number carrying the decimal text as
// stored (UNVERIFIED; clients should accept a number or a string), Int as a number,
// enums and dates as strings, an Address as an object.
func (g *gqlRequest) rpOutput(rp *rpRec, sel []*collected) orderedObj {
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
			if !present || raw == nil || f.field.Definition == nil {
				break
			}
			switch t := f.field.Definition.Type; {
			case t.NamedType == "BigDecimal":
				v = raw
				if s, ok := raw.(string); ok {
					v = json.Number(s)
				}
			case schemaType(t.Name()).Kind == ast.Object:
				addr, _ := raw.(map[string]any)
				obj := orderedObj{}
				for _, sf := range collectFields(g.doc, f.sel, g.vars) {
					if sf.name == "__typename" {
						obj = append(obj, kv{sf.key, t.Name()})
						continue
					}
					obj = append(obj, kv{sf.key, addr[sf.name]})
				}
				v = obj
			default:
				v = raw
			}
		}
		out = append(out, kv{f.key, v})
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
