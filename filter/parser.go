package filter

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what Parse accepts, so that hostile input can neither exhaust
// the stack nor produce SQL that the database refuses.
const (
	// MaxLength is the longest text Parse and ParseOrderBy accept, in bytes.
	MaxLength = 64 << 10
	// MaxDepth is the deepest nesting of parentheses and NOT( ) accepted.
	MaxDepth = 100
	// MaxConditions is the most comparisons one filter may hold. A chain
	// of n conditions is a tree n deep; 500 keeps the SQL compiled from it
	// well under SQLite's default expression depth limit of 1000.
	MaxConditions = 500
	// MaxPlaceholder is the highest placeholder number, :128, the number
	// of values 4D's query() accepts.
	MaxPlaceholder = 128
)

// Parse reads a $filter value. It accepts, and ignores, one pair of double
// quotes around the whole text (as in $filter="lastName=Smith"); positions
// in errors still count from the start of s. Use Unquote for other
// parameters that clients may quote the same way.
//
// On failure the error is a *SyntaxError. Parse does not panic, whatever s
// holds.
func Parse(s string) (*Query, error) {
	p, err := newParser(s, false)
	if err != nil {
		return nil, err
	}
	return p.parseQuery()
}

// Unquote returns s without one pair of enclosing double quotes, and
// without the white space around them, if s has them; otherwise s
// unchanged. REST clients often send $filter="...", $orderby="..." and
// $savedfilter="..." quoted this way. Parse and ParseOrderBy call it
// themselves.
func Unquote(s string) string {
	lo, hi, ok := quoteBounds(s)
	if !ok {
		return s
	}
	return s[lo:hi]
}

// quoteBounds returns the part of s inside its enclosing double quotes, or
// all of s when it is not quoted. ok is false when s starts with a double
// quote and does not end with one.
func quoteBounds(s string) (lo, hi int, ok bool) {
	i, j := 0, len(s)
	for i < j {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	for j > i {
		r, size := utf8.DecodeLastRuneInString(s[i:j])
		if !unicode.IsSpace(r) {
			break
		}
		j -= size
	}
	if j-i >= 2*len(escDouble) && strings.HasPrefix(s[i:j], escDouble) && strings.HasSuffix(s[i:j], escDouble) {
		return i + len(escDouble), j - len(escDouble), true // \u0022…\u0022, 4D's escaped form
	}
	if i == j || s[i] != '"' {
		return 0, len(s), true
	}
	if j-i < 2 || s[j-1] != '"' {
		return 0, len(s), false
	}
	return i + 1, j - 1, true
}

// parser is a recursive-descent parser over a lexer.
type parser struct {
	full       string // the text given to Parse, for columns
	orderBy    bool   // parsing an $orderby value
	lx         lexer
	conditions int // comparisons read so far
}

func newParser(s string, orderBy bool) (*parser, error) {
	p := &parser{full: s, orderBy: orderBy}
	if len(s) > MaxLength {
		return nil, p.errorf(MaxLength, "the text is %d bytes long; the maximum is %d", len(s), MaxLength)
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, p.errorf(i, "invalid UTF-8")
	}
	lo, hi, ok := quoteBounds(s)
	if !ok {
		return nil, p.errorf(strings.IndexByte(s, '"'), "the text starts with a double quote but does not end with one")
	}
	p.lx = lexer{src: s[:hi], pos: lo}
	return p, nil
}

// errorf returns a *SyntaxError at byte offset pos.
func (p *parser) errorf(pos int, format string, args ...any) *SyntaxError {
	pos = min(max(pos, 0), len(p.full))
	return &SyntaxError{
		Pos:     pos,
		Column:  p.column(pos),
		Msg:     fmt.Sprintf(format, args...),
		orderBy: p.orderBy,
	}
}

// column returns the 1-based column of byte offset pos.
func (p *parser) column(pos int) int {
	return utf8.RuneCountInString(p.full[:pos]) + 1
}

// describe names a token for an error message: end of input, or a short
// quoted piece of the text.
func describe(t token) string {
	if t.kind == tokEOF {
		return "end of input"
	}
	s := t.text
	const maxRunes = 20
	if utf8.RuneCountInString(s) > maxRunes {
		n := 0
		for i := range s {
			if n == maxRunes {
				s = s[:i] + "..."
				break
			}
			n++
		}
	}
	return strconv.Quote(s)
}

// parseQuery reads the whole input: expr [order by ...].
func (p *parser) parseQuery() (*Query, error) {
	expr, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	q := &Query{Expr: expr}
	t := p.lx.next()
	switch {
	case t.kind == tokEOF:
		return q, nil
	case t.isWord("order"):
		by := p.lx.next()
		if !by.isWord("by") {
			return nil, p.errorf(by.pos, "expected \"by\" after %q, found %s", t.text, describe(by))
		}
		q.OrderBy, err = p.parseOrderList(t.text + " " + by.text)
		if err != nil {
			return nil, err
		}
		return q, nil
	}
	return nil, p.errorf(t.pos, "expected AND, OR, EXCEPT, order by or end of input, found %s", describe(t))
}

// parseExpr reads operand {conj operand}. All conjunctions have the same
// precedence and group to the left, as 4D evaluates them.
func (p *parser) parseExpr(depth int) (Node, error) {
	left, err := p.parseOperand(depth, "")
	if err != nil {
		return nil, err
	}
	for {
		save := p.lx.pos
		t := p.lx.next()
		var op LogicalOp
		switch {
		case t.kind == tokAnd || t.isWord("and"):
			op = And
		case t.kind == tokOr || t.isWord("or"):
			op = Or
		case t.isWord("except"):
			op = Except
		default:
			p.lx.pos = save
			return left, nil
		}
		right, err := p.parseOperand(depth, t.text)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: op, Left: left, Right: right, Pos: t.pos}
	}
}

// parseOperand reads a comparison, a parenthesized expression or NOT( ).
// after is the conjunction before it, for error messages.
func (p *parser) parseOperand(depth int, after string) (Node, error) {
	t := p.lx.next()
	switch {
	case t.is("("):
		if depth >= MaxDepth {
			return nil, p.errorf(t.pos, "parentheses and NOT( ) are nested more than %d deep", MaxDepth)
		}
		x, err := p.parseExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expectClose(t); err != nil {
			return nil, err
		}
		return x, nil
	case t.isWord("not") && p.nextIs('('):
		open := p.lx.next()
		if depth >= MaxDepth {
			return nil, p.errorf(open.pos, "parentheses and NOT( ) are nested more than %d deep", MaxDepth)
		}
		x, err := p.parseExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expectClose(open); err != nil {
			return nil, err
		}
		return &Not{X: x, Pos: t.pos}, nil
	case t.kind == tokWord:
		return p.parseComparison(t)
	}
	if after != "" {
		return nil, p.errorf(t.pos, "expected a condition after %q, found %s", after, describe(t))
	}
	return nil, p.errorf(t.pos, "expected a condition (an attribute path, \"(\" or NOT( )), found %s", describe(t))
}

// nextIs reports whether the next character after white space is c.
func (p *parser) nextIs(c byte) bool {
	save := p.lx.pos
	p.lx.skipSpace()
	ok := p.lx.peekByte() == c
	p.lx.pos = save
	return ok
}

// expectClose reads the ")" that closes open.
func (p *parser) expectClose(open token) error {
	t := p.lx.next()
	switch {
	case t.is(")"):
		return nil
	case t.kind == tokEOF:
		return p.errorf(t.pos, "expected \")\" to close the \"(\" at column %d, found end of input", p.column(open.pos))
	}
	return p.errorf(t.pos, "expected AND, OR, EXCEPT or \")\", found %s", describe(t))
}

// parseComparison reads path op value; first is the path's first name.
func (p *parser) parseComparison(first token) (Node, error) {
	path, err := p.parsePath(first)
	if err != nil {
		return nil, err
	}
	pathText := p.lx.src[first.pos:p.lx.pos]
	afterPath := p.lx.pos
	op, opText, err := p.parseOp(pathText)
	if err != nil {
		if len(path) == 1 && strings.EqualFold(pathText, "not") {
			// NOT without its parentheses, as in NOT a=1.
			p.lx.pos = afterPath
			t := p.peek()
			return nil, p.errorf(t.pos, "expected \"(\" after %q, found %s", pathText, describe(t))
		}
		return nil, err
	}
	v, err := p.parseValue(op, opText)
	if err != nil {
		return nil, err
	}
	p.conditions++
	if p.conditions > MaxConditions {
		return nil, p.errorf(first.pos, "more than %d conditions", MaxConditions)
	}
	return &Comparison{Path: path, Op: op, Value: v, Pos: first.pos}, nil
}

// peek returns the next token without reading it.
func (p *parser) peek() token {
	save := p.lx.pos
	t := p.lx.next()
	p.lx.pos = save
	return t
}

// parsePath reads name{suffix}{"." name{suffix}}, with no space inside;
// first is the first name, already read.
func (p *parser) parsePath(first token) (Path, error) {
	var path Path
	seg := Segment{Name: first.text}
	for {
		switch p.lx.peekByte() {
		case '[':
			if err := p.parseCollection(&seg); err != nil {
				return nil, err
			}
		case '{':
			if err := p.parseClass(&seg); err != nil {
				return nil, err
			}
		}
		path = append(path, seg)
		if p.lx.peekByte() != '.' {
			return path, nil
		}
		dot := p.lx.pos
		p.lx.pos++
		t, ok := p.lx.name()
		if !ok {
			found := "a space"
			if next := p.peek(); next.pos == p.lx.pos {
				found = describe(next)
			}
			return nil, p.errorf(dot+1, "expected an attribute name after %q, found %s", p.lx.src[first.pos:dot+1], found)
		}
		seg = Segment{Name: t.text}
	}
}

// parseCollection reads the [] or [x] after a name, at pos.
func (p *parser) parseCollection(seg *Segment) error {
	s, i := p.lx.src, p.lx.pos
	switch {
	case i+1 < len(s) && s[i+1] == ']':
		seg.Collection = true
		p.lx.pos = i + 2
		return nil
	case i+2 < len(s) && s[i+2] == ']' && isASCIILetter(s[i+1]):
		seg.Collection = true
		seg.Link = s[i+1] | 0x20 // lower case
		p.lx.pos = i + 3
		return nil
	}
	return p.errorf(i, "expected \"[]\" or a linking letter such as \"[a]\" after %q", seg.Name)
}

// parseClass reads the {n} after a name, at pos.
func (p *parser) parseClass(seg *Segment) error {
	s, i := p.lx.src, p.lx.pos
	j := i + 1
	for j < len(s) && j-i <= 10 && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i+1 || j-i > 10 || j >= len(s) || s[j] != '}' {
		return p.errorf(i, "expected a class index such as \"{2}\" after %q", seg.Name)
	}
	n, _ := strconv.Atoi(s[i+1 : j]) // at most 9 digits: cannot fail
	if n == 0 {
		return p.errorf(i+1, "a class index starts at 1, found \"{0}\"")
	}
	seg.Class = n
	p.lx.pos = j + 1
	return nil
}

func isASCIILetter(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z'
}

var compareOps = map[string]Op{
	"=":   OpEqual,
	"==":  OpEqual,
	"===": OpStrictEqual,
	"#":   OpNotEqual,
	"!=":  OpNotEqual,
	"!==": OpStrictNotEqual,
	"<":   OpLess,
	"<=":  OpLessEqual,
	">":   OpGreater,
	">=":  OpGreaterEqual,
	"%":   OpKeyword,
}

// parseOp reads a comparison operator after the path pathText. It returns
// the operator and its text as written.
func (p *parser) parseOp(pathText string) (Op, string, error) {
	t := p.lx.next()
	switch {
	case t.kind == tokCompare:
		return compareOps[t.text], t.text, nil
	case t.isWord("is"):
		save := p.lx.pos
		if n := p.lx.next(); n.isWord("not") {
			return OpStrictNotEqual, p.lx.src[t.pos:n.end], nil
		}
		p.lx.pos = save
		return OpStrictEqual, t.text, nil
	case t.isWord("in"):
		return OpIn, t.text, nil
	case t.isWord("begin"):
		return OpBegin, t.text, nil
	}
	return 0, "", p.errorf(t.pos, "expected a comparison operator after %q, found %s", pathText, describe(t))
}

// parseValue reads the value after op (written opText).
func (p *parser) parseValue(op Op, opText string) (Value, error) {
	t := p.lx.nextValue()
	if op == OpIn {
		switch {
		case t.is("["):
			return p.parseList(t)
		case t.kind == tokPlaceholder:
			return p.placeholder(t)
		}
		return Value{}, p.errorf(t.pos, "expected a list \"[...]\" or a placeholder after %q, found %s", opText, describe(t))
	}
	if t.is("[") {
		return Value{}, p.errorf(t.pos, "a list \"[...]\" can follow only IN, not %q", opText)
	}
	v, err := p.scalar(t, op, opText)
	if err != nil {
		return Value{}, err
	}
	if v.Kind == KindNull && !op.allowsNull() {
		return Value{}, p.errorf(t.pos, "null can follow only =, ==, ===, IS, #, !=, !== or IS NOT, not %q", opText)
	}
	return v, nil
}

// parseList reads the elements of a list after its "[", open.
func (p *parser) parseList(open token) (Value, error) {
	list := Value{Kind: KindList, List: []Value{}}
	t := p.lx.nextValue()
	if t.is("]") {
		return list, nil
	}
	for {
		if t.is("[") {
			return Value{}, p.errorf(t.pos, "lists cannot be nested")
		}
		v, err := p.scalar(t, OpIn, "")
		if err != nil {
			return Value{}, err
		}
		if v.Kind == KindNull {
			return Value{}, p.errorf(t.pos, "null cannot be a list element")
		}
		list.List = append(list.List, v)
		t = p.lx.next()
		switch {
		case t.is("]"):
			return list, nil
		case t.is(","):
			t = p.lx.nextValue()
		case t.kind == tokEOF:
			return Value{}, p.errorf(t.pos, "expected \"]\" to close the list at column %d, found end of input", p.column(open.pos))
		default:
			return Value{}, p.errorf(t.pos, "expected \",\" or \"]\" in the list, found %s", describe(t))
		}
	}
}

// scalar reads a constant or a placeholder from t. opText is the operator
// before it, or "" for a list element, for error messages.
func (p *parser) scalar(t token, op Op, opText string) (Value, error) {
	switch t.kind {
	case tokString:
		w := quoteWidth(t.text)
		str, pieces := unescape(t.text[w : len(t.text)-w])
		if pieces == nil || !op.Wildcards() {
			if d, ok := parseDate(str); ok {
				return Value{Kind: KindDate, Str: str, Date: d}, nil
			}
		}
		return stringValue(str, pieces, op), nil
	case tokUnclosed:
		return Value{}, p.errorf(t.pos, "expected a closing %s for the string that starts here, found end of input", strconv.Quote(t.text[:quoteWidth(t.text)]))
	case tokPlaceholder:
		return p.placeholder(t)
	case tokBare:
		return p.bare(t, op)
	}
	if opText == "" {
		return Value{}, p.errorf(t.pos, "expected a value in the list, found %s", describe(t))
	}
	return Value{}, p.errorf(t.pos, "expected a value after %q, found %s", opText, describe(t))
}

// placeholder reads :N.
func (p *parser) placeholder(t token) (Value, error) {
	digits := t.text[1:]
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return Value{}, p.errorf(t.pos, "expected a placeholder number such as \":1\", found %s", describe(t))
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > MaxPlaceholder {
		return Value{}, p.errorf(t.pos, "placeholder %s is above the maximum :%d", describe(t), MaxPlaceholder)
	}
	if n == 0 {
		return Value{}, p.errorf(t.pos, "placeholders start at :1, found %s", describe(t))
	}
	return Value{Kind: KindPlaceholder, Placeholder: n}, nil
}

// bare reads an unquoted constant: true, false, null, a number, a date, or
// else a string.
func (p *parser) bare(t token, op Op) (Value, error) {
	s := unescapeQuotes(t.text)
	switch s {
	case "true", "false":
		return Value{Kind: KindBool, Str: s, Bool: s == "true"}, nil
	case "null":
		return Value{Kind: KindNull, Str: s}, nil
	}
	if isNumber(s) {
		if !strings.Contains(s, ".") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return Value{Kind: KindInt, Str: s, Int: n, Float: float64(n)}, nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Value{}, p.errorf(t.pos, "number %s is out of range", describe(t))
		}
		return Value{Kind: KindFloat, Str: s, Float: f}, nil
	}
	if d, ok := parseDate(s); ok {
		return Value{Kind: KindDate, Str: s, Date: d}, nil
	}
	var pieces []string
	if strings.IndexByte(s, '@') >= 0 {
		pieces = strings.Split(s, "@")
	}
	return stringValue(s, pieces, op), nil
}

// stringValue makes a KindString; pieces are the parts between unescaped @
// (nil when there is none).
func stringValue(str string, pieces []string, op Op) Value {
	v := Value{Kind: KindString, Str: str}
	if len(pieces) > 1 && op.Wildcards() {
		v.Wildcard = true
		v.Pattern = collapse(pieces)
	}
	return v
}

// collapse drops the empty inner pieces, which come from consecutive
// wildcards: "A@@b" matches what "A@b" matches.
func collapse(pieces []string) []string {
	out := make([]string, 0, len(pieces))
	for i, s := range pieces {
		if s == "" && i > 0 && i < len(pieces)-1 {
			continue
		}
		out = append(out, s)
	}
	return out
}

// isNumber reports whether s is -?digits[.digits].
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(s, ".")
	return allDigits(intPart) && (!hasDot || allDigits(frac))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDate reads a valid YYYY-MM-DD date.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(time.DateOnly) || s[4] != '-' || s[7] != '-' ||
		!allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}
