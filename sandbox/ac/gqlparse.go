package acsandbox

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A hand-written parser for the subset of GraphQL the Recurring Payments API needs:
// one operation (query or mutation, optionally named, optionally with variable
// definitions and defaults), fields with aliases, arguments and selection sets, and
// every literal kind. Fragments and directives are refused with a clear message
// rather than half-supported.

type tokKind int

const (
	tEOF tokKind = iota
	tPunct
	tName
	tInt
	tFloat
	tString
)

type token struct {
	kind      tokKind
	val       string
	line, col int
}

type gqlError struct {
	msg       string
	line, col int
}

func (e *gqlError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("Syntax Error: %s (line %d, column %d)", e.msg, e.line, e.col)
	}
	return "Syntax Error: " + e.msg
}

type lexer struct {
	src       string
	pos       int
	line, col int
}

func (l *lexer) errf(line, col int, format string, args ...any) *gqlError {
	return &gqlError{msg: fmt.Sprintf(format, args...), line: line, col: col}
}

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.pos < len(l.src); i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

func isNameStart(c byte) bool { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
func isNameChar(c byte) bool  { return isNameStart(c) || (c >= '0' && c <= '9') }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

func (l *lexer) next() (token, error) {
	// Whitespace, commas, comments and the BOM are insignificant.
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			l.advance(1)
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
		case strings.HasPrefix(l.src[l.pos:], "\uFEFF"):
			l.pos += len("\uFEFF")
		default:
			goto tok
		}
	}
	return token{kind: tEOF, line: l.line, col: l.col}, nil
tok:
	line, col := l.line, l.col
	c := l.src[l.pos]
	switch {
	case strings.HasPrefix(l.src[l.pos:], "..."):
		l.advance(3)
		return token{kind: tPunct, val: "...", line: line, col: col}, nil
	case strings.IndexByte("!$&()=:@[]{}|", c) >= 0:
		l.advance(1)
		return token{kind: tPunct, val: string(c), line: line, col: col}, nil
	case isNameStart(c):
		start := l.pos
		for l.pos < len(l.src) && isNameChar(l.src[l.pos]) {
			l.advance(1)
		}
		return token{kind: tName, val: l.src[start:l.pos], line: line, col: col}, nil
	case c == '-' || isDigit(c):
		return l.number(line, col)
	case c == '"':
		if strings.HasPrefix(l.src[l.pos:], `"""`) {
			return l.blockString(line, col)
		}
		return l.str(line, col)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, l.errf(line, col, "Unexpected character %q.", r)
}

func (l *lexer) number(line, col int) (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.advance(1)
	}
	digits := func() int {
		n := 0
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.advance(1)
			n++
		}
		return n
	}
	intStart := l.pos
	if digits() == 0 {
		return token{}, l.errf(line, col, "Invalid number, expected digit after %q.", l.src[start:l.pos])
	}
	if l.src[intStart] == '0' && l.pos-intStart > 1 {
		return token{}, l.errf(line, col, "Invalid number, unexpected digit after 0: %q.", l.src[start:l.pos])
	}
	kind := tInt
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		kind = tFloat
		l.advance(1)
		if digits() == 0 {
			return token{}, l.errf(line, col, "Invalid number, expected digit after '.': %q.", l.src[start:l.pos])
		}
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		kind = tFloat
		l.advance(1)
		if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
			l.advance(1)
		}
		if digits() == 0 {
			return token{}, l.errf(line, col, "Invalid number, expected digit in exponent: %q.", l.src[start:l.pos])
		}
	}
	if l.pos < len(l.src) && (isNameStart(l.src[l.pos]) || l.src[l.pos] == '.') {
		return token{}, l.errf(line, col, "Invalid number, unexpected character %q after %q.", l.src[l.pos], l.src[start:l.pos])
	}
	return token{kind: kind, val: l.src[start:l.pos], line: line, col: col}, nil
}

func (l *lexer) str(line, col int) (token, error) {
	l.advance(1)
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '"':
			l.advance(1)
			return token{kind: tString, val: b.String(), line: line, col: col}, nil
		case c == '\n' || c == '\r':
			return token{}, l.errf(l.line, l.col, "Unterminated string.")
		case c == '\\':
			if l.pos+1 >= len(l.src) {
				return token{}, l.errf(l.line, l.col, "Unterminated string.")
			}
			esc := l.src[l.pos+1]
			simple := map[byte]string{'"': `"`, '\\': `\`, '/': "/", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t"}
			if s, ok := simple[esc]; ok {
				b.WriteString(s)
				l.advance(2)
				continue
			}
			if esc == 'u' && l.pos+6 <= len(l.src) {
				n, err := strconv.ParseUint(l.src[l.pos+2:l.pos+6], 16, 32)
				if err == nil {
					b.WriteRune(rune(n))
					l.advance(6)
					continue
				}
			}
			return token{}, l.errf(l.line, l.col, "Invalid character escape sequence.")
		default:
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			b.WriteRune(r)
			l.advance(size)
		}
	}
	return token{}, l.errf(l.line, l.col, "Unterminated string.")
}

func (l *lexer) blockString(line, col int) (token, error) {
	l.advance(3)
	var raw strings.Builder
	for l.pos < len(l.src) {
		switch {
		case strings.HasPrefix(l.src[l.pos:], `\"""`):
			raw.WriteString(`"""`)
			l.advance(4)
		case strings.HasPrefix(l.src[l.pos:], `"""`):
			l.advance(3)
			return token{kind: tString, val: dedentBlock(raw.String()), line: line, col: col}, nil
		default:
			raw.WriteByte(l.src[l.pos])
			l.advance(1)
		}
	}
	return token{}, l.errf(l.line, l.col, "Unterminated string.")
}

// dedentBlock is the spec's BlockStringValue: common indentation and blank first and
// last lines removed.
func dedentBlock(raw string) string {
	lines := strings.Split(strings.ReplaceAll(raw, "\r\n", "\n"), "\n")
	common := -1
	for i, ln := range lines {
		if i == 0 {
			continue
		}
		ind := len(ln) - len(strings.TrimLeft(ln, " \t"))
		if ind < len(ln) && (common < 0 || ind < common) {
			common = ind
		}
	}
	if common > 0 {
		for i := 1; i < len(lines); i++ {
			if len(lines[i]) >= common {
				lines[i] = lines[i][common:]
			} else {
				lines[i] = ""
			}
		}
	}
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// AST.

type valKind int

const (
	vVar valKind = iota
	vInt
	vFloat
	vString
	vBool
	vNull
	vEnum
	vList
	vObject
)

type objField struct {
	name string
	val  *gqlValue
}

type gqlValue struct {
	kind      valKind
	raw       string // text of int/float/string/enum, variable name, "true"/"false"
	list      []*gqlValue
	fields    []objField
	line, col int
	// fromVar marks values that came from the JSON variables, where enums arrive as
	// strings; varType is the declared type at the point a variable was substituted.
	fromVar bool
	varName string
	varType *typeRef
}

type typeRef struct {
	name    string
	elem    *typeRef // list element type when name is ""
	nonNull bool
}

func (t *typeRef) String() string {
	s := t.name
	if t.elem != nil {
		s = "[" + t.elem.String() + "]"
	}
	if t.nonNull {
		s += "!"
	}
	return s
}

func (t *typeRef) base() string {
	for t.elem != nil {
		t = t.elem
	}
	return t.name
}

type varDef struct {
	name string
	typ  *typeRef
	def  *gqlValue
	line int
	col  int
}

type gqlArg struct {
	name string
	val  *gqlValue
}

type gqlField struct {
	alias, name string
	args        []gqlArg
	sel         []*gqlField
	hasSel      bool
	line, col   int
}

func (f *gqlField) key() string {
	if f.alias != "" {
		return f.alias
	}
	return f.name
}

type gqlOperation struct {
	kind string // "query" or "mutation"
	name string
	vars []varDef
	sel  []*gqlField
}

type parser struct {
	lx  *lexer
	tok token
}

func parseDocument(src string) (*gqlOperation, error) {
	p := &parser{lx: &lexer{src: src, line: 1, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, p.errf("Unexpected <EOF>: the document has no operation.")
	}
	op, err := p.operation()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		if p.tok.kind == tName && p.tok.val == "fragment" {
			return nil, p.errf("Fragments are not supported by the sandbox.")
		}
		return nil, p.errf("Only one operation per document is supported by the sandbox; found more after the first.")
	}
	return op, nil
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errf(format string, args ...any) *gqlError {
	return &gqlError{msg: fmt.Sprintf(format, args...), line: p.tok.line, col: p.tok.col}
}

func (p *parser) desc() string {
	switch p.tok.kind {
	case tEOF:
		return "<EOF>"
	case tString:
		return strconv.Quote(p.tok.val)
	}
	return `"` + p.tok.val + `"`
}

func (p *parser) is(punct string) bool { return p.tok.kind == tPunct && p.tok.val == punct }

func (p *parser) expect(punct string) error {
	if !p.is(punct) {
		return p.errf("Expected %q, found %s.", punct, p.desc())
	}
	return p.advance()
}

func (p *parser) name() (string, error) {
	if p.tok.kind != tName {
		return "", p.errf("Expected Name, found %s.", p.desc())
	}
	n := p.tok.val
	return n, p.advance()
}

func (p *parser) operation() (*gqlOperation, error) {
	op := &gqlOperation{kind: "query"}
	if p.is("{") {
		sel, err := p.selectionSet()
		op.sel = sel
		return op, err
	}
	if p.tok.kind != tName {
		return nil, p.errf("Unexpected %s.", p.desc())
	}
	switch p.tok.val {
	case "query", "mutation":
		op.kind = p.tok.val
	case "subscription":
		return nil, p.errf("Subscriptions are not supported.")
	case "fragment":
		return nil, p.errf("Fragments are not supported by the sandbox.")
	default:
		return nil, p.errf("Unexpected %s.", p.desc())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tName {
		op.name = p.tok.val
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.is("(") {
		vars, err := p.varDefs()
		if err != nil {
			return nil, err
		}
		op.vars = vars
	}
	if p.is("@") {
		return nil, p.errf("Directives are not supported by the sandbox.")
	}
	sel, err := p.selectionSet()
	op.sel = sel
	return op, err
}

func (p *parser) varDefs() ([]varDef, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out []varDef
	for !p.is(")") {
		line, col := p.tok.line, p.tok.col
		if err := p.expect("$"); err != nil {
			return nil, err
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		typ, err := p.typeRef()
		if err != nil {
			return nil, err
		}
		vd := varDef{name: name, typ: typ, line: line, col: col}
		if p.is("=") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if vd.def, err = p.value(true); err != nil {
				return nil, err
			}
		}
		if p.is("@") {
			return nil, p.errf("Directives are not supported by the sandbox.")
		}
		out = append(out, vd)
	}
	if len(out) == 0 {
		return nil, p.errf("Expected a variable definition, found \")\".")
	}
	return out, p.advance()
}

func (p *parser) typeRef() (*typeRef, error) {
	var t *typeRef
	if p.is("[") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		elem, err := p.typeRef()
		if err != nil {
			return nil, err
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		t = &typeRef{elem: elem}
	} else {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		t = &typeRef{name: n}
	}
	if p.is("!") {
		t.nonNull = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (p *parser) selectionSet() ([]*gqlField, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []*gqlField
	for !p.is("}") {
		if p.is("...") {
			return nil, p.errf("Fragments are not supported by the sandbox.")
		}
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, p.errf("Expected Name, found \"}\".")
	}
	return out, p.advance()
}

func (p *parser) field() (*gqlField, error) {
	f := &gqlField{line: p.tok.line, col: p.tok.col}
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	if p.is(":") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		f.alias = n
		if n, err = p.name(); err != nil {
			return nil, err
		}
	}
	f.name = n
	if p.is("(") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		for !p.is(")") {
			an, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.value(false)
			if err != nil {
				return nil, err
			}
			f.args = append(f.args, gqlArg{name: an, val: v})
		}
		if len(f.args) == 0 {
			return nil, p.errf("Expected Name, found \")\".")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.is("@") {
		return nil, p.errf("Directives are not supported by the sandbox.")
	}
	if p.is("{") {
		f.hasSel = true
		if f.sel, err = p.selectionSet(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// value parses a literal; const forbids variables (default values).
func (p *parser) value(isConst bool) (*gqlValue, error) {
	v := &gqlValue{line: p.tok.line, col: p.tok.col}
	switch {
	case p.is("$"):
		if isConst {
			return nil, p.errf("Unexpected variable in a constant value.")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.name()
		v.kind, v.raw = vVar, n
		return v, err
	case p.is("["):
		v.kind = vList
		if err := p.advance(); err != nil {
			return nil, err
		}
		for !p.is("]") {
			if p.tok.kind == tEOF {
				return nil, p.errf("Expected \"]\", found <EOF>.")
			}
			item, err := p.value(isConst)
			if err != nil {
				return nil, err
			}
			v.list = append(v.list, item)
		}
		return v, p.advance()
	case p.is("{"):
		v.kind = vObject
		if err := p.advance(); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for !p.is("}") {
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			if seen[n] {
				return nil, p.errf("There can be only one input field named %q.", n)
			}
			seen[n] = true
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			fv, err := p.value(isConst)
			if err != nil {
				return nil, err
			}
			v.fields = append(v.fields, objField{name: n, val: fv})
		}
		return v, p.advance()
	case p.tok.kind == tInt:
		v.kind, v.raw = vInt, p.tok.val
	case p.tok.kind == tFloat:
		v.kind, v.raw = vFloat, p.tok.val
	case p.tok.kind == tString:
		v.kind, v.raw = vString, p.tok.val
	case p.tok.kind == tName:
		switch p.tok.val {
		case "true", "false":
			v.kind, v.raw = vBool, p.tok.val
		case "null":
			v.kind = vNull
		default:
			v.kind, v.raw = vEnum, p.tok.val
		}
	default:
		return nil, p.errf("Unexpected %s.", p.desc())
	}
	return v, p.advance()
}
