package filter

import (
	"strconv"
	"strings"
	"time"
)

// Query is a parsed $filter: a condition tree and an optional sort order.
// A Query holds no reference to the text it was parsed from; it is safe to
// share between goroutines as long as nobody modifies it.
type Query struct {
	// Expr is the condition. It is never nil in a Query returned by Parse.
	Expr Node
	// OrderBy is the trailing "order by" clause; nil when there is none.
	OrderBy OrderBy
}

// String returns the query as canonical filter text: every string value in
// single quotes, one space around operators, AND/OR/EXCEPT in capitals,
// parentheses only where the tree needs them. Like the input, the output is
// read left to right: "a = 1 OR b = 2 AND c = 3" is (a OR b) AND c.
// Parse(q.String()) gives an equivalent tree with the same String, so the
// text can be stored (as for $savedfilter) and parsed again. Vector values,
// which only Bind produces, are the exception: they print for logs and do
// not parse.
func (q *Query) String() string {
	if q == nil {
		return ""
	}
	var b strings.Builder
	writeNode(&b, q.Expr)
	if len(q.OrderBy) > 0 {
		b.WriteString(" order by ")
		b.WriteString(q.OrderBy.String())
	}
	return b.String()
}

// Node is one condition of the tree: a *Comparison, a *Logical or a *Not.
// No other type implements it.
type Node interface {
	// String returns the condition as canonical filter text (see Query.String).
	String() string
	node()
}

// Comparison is one condition "path op value", such as salary > 20000.
type Comparison struct {
	Path  Path
	Op    Op
	Value Value
	// Pos is the byte offset of the path in the text given to Parse.
	Pos int
}

// Logical joins two conditions with AND, OR or EXCEPT.
//
// Chains are left-associative with one level of precedence, as 4D reads
// them: "a OR b AND c" is Logical{And, Logical{Or, a, b}, c}.
type Logical struct {
	Op    LogicalOp
	Left  Node
	Right Node
	// Pos is the byte offset of the operator in the text given to Parse.
	Pos int
}

// Not negates a condition: NOT(X).
type Not struct {
	X Node
	// Pos is the byte offset of the NOT keyword in the text given to Parse.
	Pos int
}

func (*Comparison) node() {}
func (*Logical) node()    {}
func (*Not) node()        {}

// String returns the comparison as canonical filter text.
func (c *Comparison) String() string {
	var b strings.Builder
	writeNode(&b, c)
	return b.String()
}

// String returns the condition as canonical filter text.
func (l *Logical) String() string {
	var b strings.Builder
	writeNode(&b, l)
	return b.String()
}

// String returns the negation as canonical filter text.
func (n *Not) String() string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

// writeNode prints n. Because chains are left-associative, only a Logical on
// the right of another Logical needs parentheses. Adding them on the left
// too, for readers used to SQL precedence, would nest a long mixed chain
// deeper than MaxDepth and its text would no longer parse.
func writeNode(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case *Comparison:
		b.WriteString(n.Path.String())
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		n.Value.write(b, n.Op.Wildcards())
	case *Logical:
		writeNode(b, n.Left)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		if _, ok := n.Right.(*Logical); ok {
			b.WriteByte('(')
			writeNode(b, n.Right)
			b.WriteByte(')')
		} else {
			writeNode(b, n.Right)
		}
	case *Not:
		b.WriteString("NOT(")
		writeNode(b, n.X)
		b.WriteByte(')')
	}
}

// Path is an attribute path: the names separated by dots in employer.name.
// Names are case-sensitive.
type Path []Segment

// Segment is one name of a Path with its optional suffix.
type Segment struct {
	// Name is the attribute or object property name, as written.
	Name string
	// Collection is set for name[] and name[x]: the attribute is a
	// collection and the rest of the path applies to its elements.
	Collection bool
	// Link is the lowercase letter of name[x] (0 when absent). Conditions
	// that use the same letter must match the same collection element.
	Link byte
	// Class is n in name{n}, a class index n >= 1 that makes a separate
	// join through a many-to-many relation (0 when absent).
	Class int
}

// String returns the path as written in a filter: hobbies[].name.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// String returns the segment as written in a filter: name, name[], name[a]
// or name{2}.
func (s Segment) String() string {
	switch {
	case s.Link != 0:
		return s.Name + "[" + string(rune(s.Link)) + "]"
	case s.Collection:
		return s.Name + "[]"
	case s.Class > 0:
		return s.Name + "{" + strconv.Itoa(s.Class) + "}"
	}
	return s.Name
}

// Op is a comparison operator.
type Op uint8

// The comparison operators, with the symbols that spell them. String
// comparisons are case- and diacritic-insensitive for all of them (the
// compiler's business, noted here because it is part of their meaning).
const (
	// OpEqual is = or ==. An unescaped @ in a string value is a wildcard
	// (see Value.Wildcard).
	OpEqual Op = iota + 1
	// OpStrictEqual is === or IS: @ is an ordinary character.
	OpStrictEqual
	// OpNotEqual is # or !=, with wildcards like OpEqual. 4D defines it as
	// NOT(path = value): it never matches null, and on a collection path it
	// matches when no element equals the value.
	OpNotEqual
	// OpStrictNotEqual is !== or IS NOT: @ is an ordinary character.
	OpStrictNotEqual
	// OpLess is <.
	OpLess
	// OpLessEqual is <=.
	OpLessEqual
	// OpGreater is >.
	OpGreater
	// OpGreaterEqual is >=.
	OpGreaterEqual
	// OpIn is IN: the value is a list (or a placeholder bound to one) and
	// the condition holds when the attribute equals one of its elements,
	// wildcards included.
	OpIn
	// OpKeyword is %: the attribute contains the value as a keyword.
	OpKeyword
	// OpBegin is begin (any case): the attribute begins with the value.
	// @ is an ordinary character.
	OpBegin
)

var opNames = [...]string{
	OpEqual:          "=",
	OpStrictEqual:    "===",
	OpNotEqual:       "!=",
	OpStrictNotEqual: "!==",
	OpLess:           "<",
	OpLessEqual:      "<=",
	OpGreater:        ">",
	OpGreaterEqual:   ">=",
	OpIn:             "IN",
	OpKeyword:        "%",
	OpBegin:          "begin",
}

// String returns the operator's canonical spelling: "=", "===", "!=",
// "!==", "<", "<=", ">", ">=", "IN", "%" or "begin".
func (op Op) String() string {
	if int(op) < len(opNames) && opNames[op] != "" {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// Wildcards reports whether an unescaped @ in a string value is a wildcard
// with this operator: true for OpEqual, OpNotEqual and OpIn.
func (op Op) Wildcards() bool {
	return op == OpEqual || op == OpNotEqual || op == OpIn
}

// ordered reports whether op compares by order, the only operators that
// take a vector value.
func (op Op) ordered() bool {
	return op == OpLess || op == OpLessEqual || op == OpGreater || op == OpGreaterEqual
}

// allowsNull reports whether the null constant may follow op.
func (op Op) allowsNull() bool {
	return op == OpEqual || op == OpStrictEqual || op == OpNotEqual || op == OpStrictNotEqual
}

// LogicalOp is the operator of a Logical.
type LogicalOp uint8

// The logical operators. All three have the same precedence.
const (
	// And is AND, and, &, &&: both conditions hold.
	And LogicalOp = iota + 1
	// Or is OR, or, |, ||: either condition holds.
	Or
	// Except is EXCEPT, except: the left condition holds and the right one
	// does not.
	Except
)

// String returns "AND", "OR" or "EXCEPT".
func (op LogicalOp) String() string {
	switch op {
	case And:
		return "AND"
	case Or:
		return "OR"
	case Except:
		return "EXCEPT"
	}
	return "LogicalOp(" + strconv.Itoa(int(op)) + ")"
}

// ValueKind says which field of a Value holds it.
type ValueKind uint8

// The kinds of Value.
const (
	// KindString is text, in Str.
	KindString ValueKind = iota + 1
	// KindInt is a number without a fraction, in Int (and in Float).
	KindInt
	// KindFloat is a number with a fraction, or one too large for an
	// int64, in Float.
	KindFloat
	// KindBool is true or false, in Bool.
	KindBool
	// KindNull is the null keyword: it finds null and undefined values.
	KindNull
	// KindDate is a YYYY-MM-DD date, in Date.
	KindDate
	// KindList is the [v1, v2, ...] value of IN, in List.
	KindList
	// KindPlaceholder is :N, with N in Placeholder; Bind replaces it.
	KindPlaceholder
	// KindVector is a vector-similarity value, in Vector. Only Bind
	// produces it, from a {"vector": [...]} object in $params.
	KindVector
)

var kindNames = [...]string{
	KindString:      "string",
	KindInt:         "int",
	KindFloat:       "float",
	KindBool:        "bool",
	KindNull:        "null",
	KindDate:        "date",
	KindList:        "list",
	KindPlaceholder: "placeholder",
	KindVector:      "vector",
}

// String returns the kind's name: "string", "int", "date", ...
func (k ValueKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "ValueKind(" + strconv.Itoa(int(k)) + ")"
}

// Value is the right-hand side of a comparison. Kind says which fields are
// set; the others are zero.
//
// Str keeps the text of every scalar constant as written (unescaped for
// quoted strings), so that a compiler can convert it to the attribute's
// type, as 4D does: a date or a number compared with a text attribute is
// compared as text.
type Value struct {
	Kind ValueKind
	// Str is the text: for KindString the string itself, escapes resolved,
	// every @ kept as written; for KindInt, KindFloat, KindBool and
	// KindDate the constant as written (printed back by String when set).
	Str string
	// Int is the number of a KindInt.
	Int int64
	// Float is the number of a KindFloat, and float64(Int) for a KindInt.
	Float float64
	// Bool is the value of a KindBool.
	Bool bool
	// Date is a KindDate, at midnight UTC.
	Date time.Time
	// List holds the elements of a KindList: scalars and placeholders,
	// never lists.
	List []Value
	// Placeholder is N for :N (1-based index into $params).
	Placeholder int
	// Wildcard is set when a KindString has at least one @ wildcard: the
	// operator supports wildcards (Op.Wildcards) and the @ was not escaped
	// as \@.
	Wildcard bool
	// Pattern, when Wildcard is set, holds the literal pieces between the
	// wildcards: 'A@' gives ["A", ""], '@mit@' gives ["", "mit", ""],
	// 'a\@b@' gives ["a@b", ""]. Consecutive wildcards count as one, so
	// only the first and last pieces can be empty. Use Match for the
	// common shapes.
	Pattern []string
	// Vector is a KindVector.
	Vector *Vector
}

// Match is the shape of a string value's wildcards, as given by Value.Match.
type Match uint8

// The wildcard shapes.
const (
	// MatchExact: no wildcard; the value is compared as a whole.
	MatchExact Match = iota
	// MatchPrefix: 'abc@', begins with Pattern[0].
	MatchPrefix
	// MatchSuffix: '@abc', ends with Pattern[1].
	MatchSuffix
	// MatchContains: '@abc@', contains Pattern[1].
	MatchContains
	// MatchAny: '@' alone, any value.
	MatchAny
	// MatchPattern: any other placement, such as 'a@b' or '@a@b@'; see
	// Pattern.
	MatchPattern
)

// Match returns the shape of v's wildcards; MatchExact when v is not a
// KindString with Wildcard set.
func (v Value) Match() Match {
	if v.Kind != KindString || !v.Wildcard || len(v.Pattern) < 2 {
		return MatchExact
	}
	p := v.Pattern
	first, last := p[0], p[len(p)-1]
	switch {
	case len(p) == 2 && first == "" && last == "":
		return MatchAny
	case len(p) == 2 && last == "":
		return MatchPrefix
	case len(p) == 2 && first == "":
		return MatchSuffix
	case len(p) == 3 && first == "" && last == "":
		return MatchContains
	}
	return MatchPattern
}

// Metric is the distance used by a vector comparison.
type Metric string

// The vector metrics 4D offers.
const (
	MetricCosine    Metric = "cosine"    // cosine similarity, 4D's default
	MetricDot       Metric = "dot"       // dot product
	MetricEuclidean Metric = "euclidean" // Euclidean distance
)

// Vector is a vector-similarity value: the comparison holds when the
// similarity between the attribute's vector and Values, by Metric, compares
// with Threshold as the operator says.
type Vector struct {
	Values    []float64
	Metric    Metric
	Threshold float64
}

// String returns v as filter text. Strings are single-quoted with \' and
// \\ escapes; an @ that is not a wildcard is written \@.
func (v Value) String() string {
	var b strings.Builder
	v.write(&b, true)
	return b.String()
}

// write prints v. escapeAt says whether a literal @ must be written \@ to
// stay literal, which is only needed after an operator with wildcards.
func (v Value) write(b *strings.Builder, escapeAt bool) {
	switch v.Kind {
	case KindString:
		b.WriteByte('\'')
		if v.Wildcard {
			for i, piece := range v.Pattern {
				if i > 0 {
					b.WriteByte('@')
				}
				writeEscaped(b, piece, true)
			}
		} else {
			writeEscaped(b, v.Str, escapeAt)
		}
		b.WriteByte('\'')
	case KindInt:
		if v.Str != "" {
			b.WriteString(v.Str)
		} else {
			b.WriteString(strconv.FormatInt(v.Int, 10))
		}
	case KindFloat:
		if v.Str != "" {
			b.WriteString(v.Str)
		} else {
			b.WriteString(strconv.FormatFloat(v.Float, 'f', -1, 64))
		}
	case KindBool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case KindNull:
		b.WriteString("null")
	case KindDate:
		if v.Str != "" {
			b.WriteString(v.Str)
		} else {
			b.WriteString(v.Date.Format(time.DateOnly))
		}
	case KindList:
		b.WriteByte('[')
		for i, e := range v.List {
			if i > 0 {
				b.WriteString(", ")
			}
			e.write(b, escapeAt)
		}
		b.WriteByte(']')
	case KindPlaceholder:
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(v.Placeholder))
	case KindVector:
		if v.Vector == nil {
			b.WriteString("{}")
			return
		}
		b.WriteString("{vector: [")
		for i, f := range v.Vector.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
		b.WriteString("], metric: '")
		b.WriteString(string(v.Vector.Metric))
		b.WriteString("', threshold: ")
		b.WriteString(strconv.FormatFloat(v.Vector.Threshold, 'g', -1, 64))
		b.WriteByte('}')
	}
}

// writeEscaped writes s for a single-quoted string.
func writeEscaped(b *strings.Builder, s string, escapeAt bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '@' && escapeAt:
			b.WriteString(`\@`)
		default:
			b.WriteByte(c)
		}
	}
}
