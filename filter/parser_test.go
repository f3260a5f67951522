package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustParse parses s or fails the test.
func mustParse(tb testing.TB, s string) *Query {
	tb.Helper()
	q, err := Parse(s)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", s, err)
	}
	return q
}

// comparison returns the query's condition, which must be a single
// comparison.
func comparison(tb testing.TB, s string) *Comparison {
	tb.Helper()
	c, ok := mustParse(tb, s).Expr.(*Comparison)
	if !ok {
		tb.Fatalf("Parse(%q): condition is not a single comparison", s)
	}
	return c
}

// shape prints a tree with every Logical in parentheses, to show grouping.
func shape(n Node) string {
	switch n := n.(type) {
	case *Comparison:
		return n.Path.String()
	case *Logical:
		return "(" + shape(n.Left) + " " + n.Op.String() + " " + shape(n.Right) + ")"
	case *Not:
		return "NOT[" + shape(n.X) + "]"
	}
	return "?"
}

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"SpecBegin", `"lastName begin j"`, `lastName begin 'j'`},
		{"SpecAndNotEqual", `"salary>20000 AND employer.name!=acme"`, `salary > 20000 AND employer.name != 'acme'`},
		{"SpecPlaceholder", `"lastName=:1"`, `lastName = :1`},
		{"SpecWildcard", `"lastName='A@'"`, `lastName = 'A@'`},
		{"SpecBeginUpper", `"firstName BEGIN a"`, `firstName begin 'a'`},
		{"SpecPlaceholders", `"firstName=:1 AND salary>:2"`, `firstName = :1 AND salary > :2`},
		{"SpecNotEqualEmpty", `"lastName!=''"`, `lastName != ''`},
		{"SpecSavedFilter", `"employer.name=Apple"`, `employer.name = 'Apple'`},
		{"SpecID", `"ID>320"`, `ID > 320`},
		{"SpecVector", `"VectorAtt>=:1"`, `VectorAtt >= :1`},
		{"SpecWholeQuery", `"salary>50000 AND employer.name=Acme@"`, `salary > 50000 AND employer.name = 'Acme@'`},
		{"SpecParentheses", `(employee.age >= 30 OR employee.age <= 65) AND (employee.salary <= 10000 OR employee.status = 'Manager')`,
			`employee.age >= 30 OR employee.age <= 65 AND (employee.salary <= 10000 OR employee.status = 'Manager')`},
		{"SpecCollection", `info.coll[].val != :1`, `info.coll[].val != :1`},
		{"SpecLinked", `places.locations[a].kind= :1 and places.locations[a].city= :2`, `places.locations[a].kind = :1 AND places.locations[a].city = :2`},
		{"SpecManyToMany", `roles.actor.lastName = :1 AND roles.actor{2}.lastName = :2`, `roles.actor.lastName = :1 AND roles.actor{2}.lastName = :2`},
		{"SpecSingleQuotes", `employee.name = 'smith' AND employee.firstname = 'john'`, `employee.name = 'smith' AND employee.firstname = 'john'`},
		{"SpecContains", `name = "@Smith@"`, `name = '@Smith@'`},
		{"SpecNull", `spouse = null`, `spouse = null`},
		{"UnquotedWithSpaces", `  "a=1"  `, `a = 1`},
		{"NoSpaces", `a=1&b=2|c=3`, `a = 1 AND b = 2 OR c = 3`},
		{"DoubledSymbols", `a==1&&b=2||c=3`, `a = 1 AND b = 2 OR c = 3`},
		{"LowerWords", `a=1 and b=2 or c=3 except d=4`, `a = 1 AND b = 2 OR c = 3 EXCEPT d = 4`},
		{"MixedCaseWords", `a=1 And b=2 Or c=3 Except d=4`, `a = 1 AND b = 2 OR c = 3 EXCEPT d = 4`},
		{"NotLower", `not(a=1)`, `NOT(a = 1)`},
		{"NotSpace", `NOT (a=1)`, `NOT(a = 1)`},
		{"NotInChain", `a=1 AND NOT(b=2 OR c=3)`, `a = 1 AND NOT(b = 2 OR c = 3)`},
		{"NestedNot", `NOT(NOT(a=1))`, `NOT(NOT(a = 1))`},
		{"RedundantParentheses", `((a=1))`, `a = 1`},
		{"LeftGroupDropped", `(a=1 OR b=2) AND c=3`, `a = 1 OR b = 2 AND c = 3`},
		{"RightGroupKept", `a=1 OR (b=2 AND c=3)`, `a = 1 OR (b = 2 AND c = 3)`},
		{"TabsAndNewlines", "a\t=\n1\r\nAND\tb=2", `a = 1 AND b = 2`},
		{"UnicodeSpace", "a\u00a0=\u30001", `a = 1`},
		{"UnicodeName", `nom.prénom = 'Zoë'`, `nom.prénom = 'Zoë'`},
		{"UnderscoreDollar", `_a.$b1 = 1`, `_a.$b1 = 1`},
		{"KeywordAsAttribute", `order = 1 AND not = 2 AND and = 3 AND begin begin x`, `order = 1 AND not = 2 AND and = 3 AND begin begin 'x'`},
		{"OrderBy", `a=1 order by lastName`, `a = 1 order by lastName`},
		{"OrderByDirections", `a=1 ORDER BY lastName DESC, employer.name asc, b`, `a = 1 order by lastName desc, employer.name, b`},
		{"OrderByInsideQuotes", `"a=1 order by x desc"`, `a = 1 order by x desc`},
		{"IsNotCase", `a is not 1`, `a !== 1`},
		{"IsFollowedByValueNot_", `a IS not_b`, `a === 'not_b'`},
		{"InLower", `a in [1,2]`, `a IN [1, 2]`},
		{"InPlaceholder", `a IN :3`, `a IN :3`},
		{"EmptyList", `a IN []`, `a IN []`},
		{"ListMixed", `a IN [1, 'x@', "y", :2, 2020-01-01, 1.5, true, b@]`, `a IN [1, 'x@', 'y', :2, 2020-01-01, 1.5, true, 'b@']`},
		{"PlaceholderLeadingZero", `a = :01`, `a = :1`},
		{"ClassLeadingZero", `a{07}.b = 1`, `a{7}.b = 1`},
		{"LinkUpperCase", `a[B].c = 1`, `a[b].c = 1`},
		{"ConsecutiveWildcards", `a = 'x@@y@@'`, `a = 'x@y@'`},
		{"EscapedAtKept", `a = 'x\@y@'`, `a = 'x\@y@'`},
		{"StrictKeepsAt", `a === 'x@'`, `a === 'x@'`},
		{"StrictEscapedAt", `a === 'x\@'`, `a === 'x@'`},
		{"BeginKeepsAt", `a begin 'x@'`, `a begin 'x@'`},
		{"Escapes", `a = 'it\'s \\ "q"' AND b = "say \"hi\" it's"`, `a = 'it\'s \\ "q"' AND b = 'say "hi" it\'s'`},
		{"UnknownEscapeKept", `a = 'C:\dir'`, `a = 'C:\\dir'`},
		{"BareWithPunctuation", `a = x.y-z:w/v#1%{}`, `a = 'x.y-z:w/v#1%{}'`},
		{"BareNonASCII", `a = Zoë`, `a = 'Zoë'`},
		{"NumberKeepsText", `a = 1.50 AND b = -0 AND c = 007`, `a = 1.50 AND b = -0 AND c = 007`},
		{"NotANumber", `a = 1. AND b = .5 AND c = 1e5 AND d = +1`, `a = '1.' AND b = '.5' AND c = '1e5' AND d = '+1'`},
		{"BoolCaseSensitive", `a = TRUE AND b = False`, `a = 'TRUE' AND b = 'False'`},
		{"NullCaseSensitive", `a = NULL`, `a = 'NULL'`},
		{"QuotedKeywordsAreStrings", `a = 'true' AND b = 'null' AND c = '12'`, `a = 'true' AND b = 'null' AND c = '12'`},
		{"QuotedDate", `a = '2024-02-29' AND b = "2024-02-29"`, `a = 2024-02-29 AND b = 2024-02-29`},
		{"InvalidDateIsString", `a = 2023-02-29`, `a = '2023-02-29'`},
		{"DateWithWildcardIsString", `a = '2024-02-29@'`, `a = '2024-02-29@'`},
		{"AllOperators", `a=1 AND a==1 AND a===1 AND a IS 1 AND a#1 AND a!=1 AND a!==1 AND a IS NOT 1 AND a<1 AND a>1 AND a<=1 AND a>=1 AND a IN [1] AND a%1 AND a begin 1`,
			`a = 1 AND a = 1 AND a === 1 AND a === 1 AND a != 1 AND a != 1 AND a !== 1 AND a !== 1 AND a < 1 AND a > 1 AND a <= 1 AND a >= 1 AND a IN [1] AND a % 1 AND a begin 1`},
		{"NegativeAfterOperator", `a>-5`, `a > -5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := mustParse(t, tt.in)
			if got := q.String(); got != tt.want {
				t.Fatalf("Parse(%q).String()\n got %s\nwant %s", tt.in, got, tt.want)
			}
			again := mustParse(t, tt.want)
			if got := again.String(); got != tt.want {
				t.Fatalf("canonical text %q parses to %q", tt.want, got)
			}
		})
	}
}

func TestParseOperators(t *testing.T) {
	tests := []struct {
		op   string
		want Op
	}{
		{"=", OpEqual}, {"==", OpEqual},
		{"===", OpStrictEqual}, {" IS ", OpStrictEqual}, {" is ", OpStrictEqual},
		{"#", OpNotEqual}, {"!=", OpNotEqual},
		{"!==", OpStrictNotEqual}, {" IS NOT ", OpStrictNotEqual}, {" Is  Not ", OpStrictNotEqual},
		{"<", OpLess}, {"<=", OpLessEqual}, {">", OpGreater}, {">=", OpGreaterEqual},
		{"%", OpKeyword},
		{" begin ", OpBegin}, {" BEGIN ", OpBegin}, {" Begin ", OpBegin},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.op), func(t *testing.T) {
			c := comparison(t, "a"+tt.op+"x")
			if c.Op != tt.want {
				t.Fatalf("op %q parsed as %v, want %v", tt.op, c.Op, tt.want)
			}
		})
	}
	for _, in := range []string{"a IN [x]", "a in [x]", "a In :1"} {
		if c := comparison(t, in); c.Op != OpIn {
			t.Errorf("%q parsed as %v, want IN", in, c.Op)
		}
	}
}

func TestParseValues(t *testing.T) {
	date := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name string
		in   string
		want Value
	}{
		{"BareString", `a = Smith`, Value{Kind: KindString, Str: "Smith"}},
		{"SingleQuoted", `a = 'John Smith'`, Value{Kind: KindString, Str: "John Smith"}},
		{"DoubleQuoted", `a = "John Smith"`, Value{Kind: KindString, Str: "John Smith"}},
		{"EmptyString", `a = ''`, Value{Kind: KindString, Str: ""}},
		{"EscapedQuote", `a = 'O\'Reilly'`, Value{Kind: KindString, Str: "O'Reilly"}},
		{"UnicodeWrappedText", `\u0022a = Smith\u0022`, Value{Kind: KindString, Str: "Smith"}},
		{"QuoteInBareWord", `a = O'Reilly`, Value{Kind: KindString, Str: "O'Reilly"}},
		{"UnicodeDoubleQuoted", `a = \u0022John Smith\u0022`, Value{Kind: KindString, Str: "John Smith"}},
		{"UnicodeSingleQuoted", `a=\u0027John Smith\u0027`, Value{Kind: KindString, Str: "John Smith"}},
		{"UnicodeQuoteInside", `a = \u0022O\u0027Reilly\u0022`, Value{Kind: KindString, Str: "O'Reilly"}},
		{"UnicodeQuoteInRawQuotes", `a = "say \u0022hi\u0022"`, Value{Kind: KindString, Str: `say "hi"`}},
		{"UnicodeQuoteInBareWord", `a = O\u0027Reilly`, Value{Kind: KindString, Str: "O'Reilly"}},
		{"UnicodeQuotedDate", `a > \u00222020-04-10\u0022`, Value{Kind: KindDate, Str: "2020-04-10", Date: date("2020-04-10")}},
		{"UnicodeQuotedWildcard", `a = \u0022Smi@\u0022`, Value{Kind: KindString, Str: "Smi@", Wildcard: true, Pattern: []string{"Smi", ""}}},
		{"Int", `a = 42`, Value{Kind: KindInt, Str: "42", Int: 42, Float: 42}},
		{"NegativeInt", `a = -42`, Value{Kind: KindInt, Str: "-42", Int: -42, Float: -42}},
		{"Float", `a = 3.25`, Value{Kind: KindFloat, Str: "3.25", Float: 3.25}},
		{"NegativeFloat", `a = -0.5`, Value{Kind: KindFloat, Str: "-0.5", Float: -0.5}},
		{"IntTooBigIsFloat", `a = 9223372036854775808`, Value{Kind: KindFloat, Str: "9223372036854775808", Float: 9223372036854775808}},
		{"MaxInt", `a = 9223372036854775807`, Value{Kind: KindInt, Str: "9223372036854775807", Int: 9223372036854775807, Float: 9223372036854775807}},
		{"True", `a = true`, Value{Kind: KindBool, Str: "true", Bool: true}},
		{"False", `a = false`, Value{Kind: KindBool, Str: "false"}},
		{"Null", `a = null`, Value{Kind: KindNull, Str: "null"}},
		{"BareDate", `a = 2020-04-10`, Value{Kind: KindDate, Str: "2020-04-10", Date: date("2020-04-10")}},
		{"QuotedDate", `a > '2020-04-10'`, Value{Kind: KindDate, Str: "2020-04-10", Date: date("2020-04-10")}},
		{"DoubleQuotedDate", `a < "2020-04-10"`, Value{Kind: KindDate, Str: "2020-04-10", Date: date("2020-04-10")}},
		{"Placeholder", `a = :12`, Value{Kind: KindPlaceholder, Placeholder: 12}},
		{"MaxPlaceholder", `a = :128`, Value{Kind: KindPlaceholder, Placeholder: 128}},
		{"WildcardTrailing", `a = 'A@'`, Value{Kind: KindString, Str: "A@", Wildcard: true, Pattern: []string{"A", ""}}},
		{"WildcardLeading", `a = @son`, Value{Kind: KindString, Str: "@son", Wildcard: true, Pattern: []string{"", "son"}}},
		{"WildcardBoth", `a # "@mit@"`, Value{Kind: KindString, Str: "@mit@", Wildcard: true, Pattern: []string{"", "mit", ""}}},
		{"WildcardMiddle", `a == 'a@b'`, Value{Kind: KindString, Str: "a@b", Wildcard: true, Pattern: []string{"a", "b"}}},
		{"WildcardEscaped", `a = 'a\@b@'`, Value{Kind: KindString, Str: "a@b@", Wildcard: true, Pattern: []string{"a@b", ""}}},
		{"WildcardAllEscaped", `a = 'a\@b'`, Value{Kind: KindString, Str: "a@b"}},
		{"WildcardCollapsed", `a = '@@x@@@y'`, Value{Kind: KindString, Str: "@@x@@@y", Wildcard: true, Pattern: []string{"", "x", "y"}}},
		{"StrictNoWildcard", `a === 'A@'`, Value{Kind: KindString, Str: "A@"}},
		{"StrictNotNoWildcard", `a IS NOT A@`, Value{Kind: KindString, Str: "A@"}},
		{"KeywordNoWildcard", `a % 'A@'`, Value{Kind: KindString, Str: "A@"}},
		{"BeginNoWildcard", `a begin A@`, Value{Kind: KindString, Str: "A@"}},
		{"LessNoWildcard", `a < A@`, Value{Kind: KindString, Str: "A@"}},
		{"List", `a IN [1, 'x@', :2, 2020-04-10]`, Value{Kind: KindList, List: []Value{
			{Kind: KindInt, Str: "1", Int: 1, Float: 1},
			{Kind: KindString, Str: "x@", Wildcard: true, Pattern: []string{"x", ""}},
			{Kind: KindPlaceholder, Placeholder: 2},
			{Kind: KindDate, Str: "2020-04-10", Date: date("2020-04-10")},
		}}},
		{"EmptyList", `a IN []`, Value{Kind: KindList, List: []Value{}}},
		{"ListWithSpaces", `a IN [ 1 , 2 ]`, Value{Kind: KindList, List: []Value{
			{Kind: KindInt, Str: "1", Int: 1, Float: 1},
			{Kind: KindInt, Str: "2", Int: 2, Float: 2},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := comparison(t, tt.in).Value
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) value\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValueMatch(t *testing.T) {
	tests := []struct {
		in   string
		want Match
	}{
		{`a = x`, MatchExact},
		{`a = 'x\@'`, MatchExact},
		{`a === 'x@'`, MatchExact},
		{`a = 1`, MatchExact},
		{`a = x@`, MatchPrefix},
		{`a = @x`, MatchSuffix},
		{`a = @x@`, MatchContains},
		{`a = @`, MatchAny},
		{`a = @@`, MatchAny},
		{`a = x@y`, MatchPattern},
		{`a = @x@y@`, MatchPattern},
		{`a = x@y@`, MatchPattern},
	}
	for _, tt := range tests {
		if got := comparison(t, tt.in).Value.Match(); got != tt.want {
			t.Errorf("%q: Match() = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParsePaths(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Path
	}{
		{"Simple", `lastName = x`, Path{{Name: "lastName"}}},
		{"Relation", `employer.name = x`, Path{{Name: "employer"}, {Name: "name"}}},
		{"CaseKept", `Employer.Name = x`, Path{{Name: "Employer"}, {Name: "Name"}}},
		{"Collection", `extraInfo.hobbies[].name = x`, Path{{Name: "extraInfo"}, {Name: "hobbies", Collection: true}, {Name: "name"}}},
		{"Linked", `places.locations[A].city = x`, Path{{Name: "places"}, {Name: "locations", Collection: true, Link: 'a'}, {Name: "city"}}},
		{"ClassIndex", `roles.actor{2}.lastName = x`, Path{{Name: "roles"}, {Name: "actor", Class: 2}, {Name: "lastName"}}},
		{"CollectionLast", `tags[] = x`, Path{{Name: "tags", Collection: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := comparison(t, tt.in).Path
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) path\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePrecedence(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"OrThenAndLeftToRight", `a=1 OR b=1 AND c=1`, `((a OR b) AND c)`},
		{"AndThenOrLeftToRight", `a=1 AND b=1 OR c=1`, `((a AND b) OR c)`},
		{"ExceptSameLevel", `a=1 EXCEPT b=1 OR c=1`, `((a EXCEPT b) OR c)`},
		{"OrExcept", `a=1 OR b=1 EXCEPT c=1`, `((a OR b) EXCEPT c)`},
		{"LongChainLeftAssociative", `a=1 & b=1 | c=1 & d=1`, `(((a AND b) OR c) AND d)`},
		{"ParenthesesGroupRight", `a=1 OR (b=1 AND c=1)`, `(a OR (b AND c))`},
		{"ParenthesesGroupLeft", `(a=1 OR b=1) AND c=1`, `((a OR b) AND c)`},
		{"NotBindsItsGroup", `NOT(a=1) AND b=1`, `(NOT[a] AND b)`},
		{"NotOverChain", `NOT(a=1 OR b=1) AND c=1`, `(NOT[(a OR b)] AND c)`},
		{"NotOnRight", `a=1 OR NOT(b=1 AND c=1)`, `(a OR NOT[(b AND c)])`},
		{"Nested", `(a=1 AND (b=1 OR (c=1 EXCEPT d=1)))`, `(a AND (b OR (c EXCEPT d)))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := mustParse(t, tt.in)
			if got := shape(q.Expr); got != tt.want {
				t.Fatalf("Parse(%q) grouped as %s, want %s", tt.in, got, tt.want)
			}
			if got := shape(mustParse(t, q.String()).Expr); got != tt.want {
				t.Fatalf("canonical %q grouped as %s, want %s", q.String(), got, tt.want)
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	q := mustParse(t, `"a=1 AND NOT(b=2)"`)
	l := q.Expr.(*Logical)
	if c := l.Left.(*Comparison); c.Pos != 1 {
		t.Errorf("a: Pos = %d, want 1", c.Pos)
	}
	if l.Pos != 5 {
		t.Errorf("AND: Pos = %d, want 5", l.Pos)
	}
	n := l.Right.(*Not)
	if n.Pos != 9 {
		t.Errorf("NOT: Pos = %d, want 9", n.Pos)
	}
	if c := n.X.(*Comparison); c.Pos != 13 {
		t.Errorf("b: Pos = %d, want 13", c.Pos)
	}
}

func TestParseOrderByClause(t *testing.T) {
	q := mustParse(t, `a=1 order by employer.name DESC, lastName`)
	want := OrderBy{
		{Path: Path{{Name: "employer"}, {Name: "name"}}, Desc: true},
		{Path: Path{{Name: "lastName"}}},
	}
	if !reflect.DeepEqual(q.OrderBy, want) {
		t.Fatalf("OrderBy = %#v, want %#v", q.OrderBy, want)
	}
	if q := mustParse(t, `a=1`); q.OrderBy != nil {
		t.Fatalf("OrderBy = %#v without order by, want nil", q.OrderBy)
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + "a=1" + strings.Repeat(")", MaxDepth+1)
	deepNot := strings.Repeat("NOT(", MaxDepth+1) + "a=1" + strings.Repeat(")", MaxDepth+1)
	many := strings.Repeat("a=1 AND ", MaxConditions) + "a=1"
	long := "a=" + strings.Repeat("x", MaxLength)
	tests := []struct {
		name string
		in   string
		want string
		pos  int
	}{
		{"ErrEmpty", ``, `filter: at column 1: expected a condition (an attribute path, "(" or NOT( )), found end of input`, 0},
		{"ErrBlank", `   `, `filter: at column 4: expected a condition (an attribute path, "(" or NOT( )), found end of input`, 3},
		{"ErrEmptyQuotes", `""`, `filter: at column 2: expected a condition (an attribute path, "(" or NOT( )), found end of input`, 1},
		{"ErrUnclosedOuterQuote", `"a=1`, `filter: at column 1: the text starts with a double quote but does not end with one`, 0},
		{"ErrLoneQuote", ` " `, `filter: at column 2: the text starts with a double quote but does not end with one`, 1},
		{"ErrMissingValue", `salary >= `, `filter: at column 11: expected a value after ">=", found end of input`, 10},
		{"ErrMissingValueQuoted", `"salary >= "`, `filter: at column 12: expected a value after ">=", found end of input`, 11},
		{"ErrMissingValueBeforeAnd", `a= AND b=1`, `filter: at column 8: expected AND, OR, EXCEPT, order by or end of input, found "b"`, 7},
		{"ErrMissingOperator", `lastName Smith`, `filter: at column 10: expected a comparison operator after "lastName", found "Smith"`, 9},
		{"ErrMissingOperatorEnd", `employer.name`, `filter: at column 14: expected a comparison operator after "employer.name", found end of input`, 13},
		{"ErrBangAlone", `a ! 1`, `filter: at column 3: expected a comparison operator after "a", found "!"`, 2},
		{"ErrDiamond", `a <> 1`, `filter: at column 4: expected a value after "<", found ">"`, 3},
		{"ErrFourEquals", `a ==== 1`, `filter: at column 6: expected a value after "===", found "="`, 5},
		{"ErrIsNotNoValue", `a IS NOT`, `filter: at column 9: expected a value after "IS NOT", found end of input`, 8},
		{"ErrTwoValues", `name = John Smith`, `filter: at column 13: expected AND, OR, EXCEPT, order by or end of input, found "Smith"`, 12},
		{"ErrTwoStrings", `a = 'x' 'y'`, `filter: at column 9: expected AND, OR, EXCEPT, order by or end of input, found "'y'"`, 8},
		{"ErrDoubledQuoteNotEscape", `a = 'it''s'`, `filter: at column 9: expected AND, OR, EXCEPT, order by or end of input, found "'s'"`, 8},
		{"ErrUnclosedUnicodeQuote", `a = \u0022Smith`, `filter: at column 5: expected a closing "\\u0022" for the string that starts here, found end of input`, 4},
		{"ErrTrailingParen", `a = 1 )`, `filter: at column 7: expected AND, OR, EXCEPT, order by or end of input, found ")"`, 6},
		{"ErrConditionAfterAnd", `a=1 AND`, `filter: at column 8: expected a condition after "AND", found end of input`, 7},
		{"ErrConditionAfterSymbol", `a=1 || = 2`, `filter: at column 8: expected a condition after "||", found "="`, 7},
		{"ErrTripleAmpersand", `a=1 &&& b=2`, `filter: at column 7: expected a condition after "&&", found "&"`, 6},
		{"ErrStartsWithOperator", `= 1`, `filter: at column 1: expected a condition (an attribute path, "(" or NOT( )), found "="`, 0},
		{"ErrStartsWithNumber", `1 = a`, `filter: at column 1: expected a condition (an attribute path, "(" or NOT( )), found "1"`, 0},
		{"ErrStartsWithString", `'a' = 1`, `filter: at column 1: expected a condition (an attribute path, "(" or NOT( )), found "'a'"`, 0},
		{"ErrUnclosedParen", `(a=1`, `filter: at column 5: expected ")" to close the "(" at column 1, found end of input`, 4},
		{"ErrUnclosedNot", `a=1 AND NOT(b=1`, `filter: at column 16: expected ")" to close the "(" at column 12, found end of input`, 15},
		{"ErrJunkInParen", `(a=1 b=2)`, `filter: at column 6: expected AND, OR, EXCEPT or ")", found "b"`, 5},
		{"ErrEmptyParen", `()`, `filter: at column 2: expected a condition (an attribute path, "(" or NOT( )), found ")"`, 1},
		{"ErrNotWithoutParen", `NOT a=1`, `filter: at column 5: expected "(" after "NOT", found "a"`, 4},
		{"ErrNotAtEnd", `a=1 AND not`, `filter: at column 12: expected "(" after "not", found end of input`, 11},
		{"ErrUnclosedString", `a = 'abc`, `filter: at column 5: expected a closing "'" for the string that starts here, found end of input`, 4},
		{"ErrUnclosedDoubleString", `a = "abc\"`, `filter: at column 5: expected a closing "\"" for the string that starts here, found end of input`, 4},
		{"ErrUnclosedStringInQuotes", `"a = 'abc"`, `filter: at column 6: expected a closing "'" for the string that starts here, found end of input`, 5},
		{"ErrInWithoutList", `a IN x`, `filter: at column 6: expected a list "[...]" or a placeholder after "IN", found "x"`, 5},
		{"ErrInEnd", `a in`, `filter: at column 5: expected a list "[...]" or a placeholder after "in", found end of input`, 4},
		{"ErrListWithoutIn", `a = [1]`, `filter: at column 5: a list "[...]" can follow only IN, not "="`, 4},
		{"ErrListUnclosed", `a IN [1, 2`, `filter: at column 11: expected "]" to close the list at column 6, found end of input`, 10},
		{"ErrListTrailingComma", `a IN [1,]`, `filter: at column 9: expected a value in the list, found "]"`, 8},
		{"ErrListMissingComma", `a IN [1 2]`, `filter: at column 9: expected "," or "]" in the list, found "2"`, 8},
		{"ErrListNested", `a IN [[1]]`, `filter: at column 7: lists cannot be nested`, 6},
		{"ErrListNull", `a IN [1, null]`, `filter: at column 10: null cannot be a list element`, 9},
		{"ErrNullOrdered", `a > null`, `filter: at column 5: null can follow only =, ==, ===, IS, #, !=, !== or IS NOT, not ">"`, 4},
		{"ErrNullBegin", `a begin null`, `filter: at column 9: null can follow only =, ==, ===, IS, #, !=, !== or IS NOT, not "begin"`, 8},
		{"ErrPlaceholderZero", `a = :0`, `filter: at column 5: placeholders start at :1, found ":0"`, 4},
		{"ErrPlaceholderTooBig", `a = :129`, `filter: at column 5: placeholder ":129" is above the maximum :128`, 4},
		{"ErrPlaceholderHuge", `a = :99999999999999999999999`, `filter: at column 5: placeholder ":9999999999999999999..." is above the maximum :128`, 4},
		{"ErrPlaceholderNamed", `a = :name`, `filter: at column 5: expected a placeholder number such as ":1", found ":name"`, 4},
		{"ErrPlaceholderEmpty", `a = :`, `filter: at column 5: expected a placeholder number such as ":1", found ":"`, 4},
		{"ErrPlaceholderSuffix", `a = :1x`, `filter: at column 5: expected a placeholder number such as ":1", found ":1x"`, 4},
		{"ErrPlaceholderAsPath", `:1 = a`, `filter: at column 1: expected a condition (an attribute path, "(" or NOT( )), found ":"`, 0},
		{"ErrNumberOutOfRange", `a = 1` + strings.Repeat("0", 400) + `.5`, `filter: at column 5: number "10000000000000000000..." is out of range`, 4},
		{"ErrPathTrailingDot", `a. = 1`, `filter: at column 3: expected an attribute name after "a.", found a space`, 2},
		{"ErrPathDotEnd", `employer.`, `filter: at column 10: expected an attribute name after "employer.", found end of input`, 9},
		{"ErrPathDigit", `a.1b = 1`, `filter: at column 3: expected an attribute name after "a.", found "1b"`, 2},
		{"ErrPathBadCollection", `a[1].b = 1`, `filter: at column 2: expected "[]" or a linking letter such as "[a]" after "a"`, 1},
		{"ErrPathUnclosedCollection", `a[`, `filter: at column 2: expected "[]" or a linking letter such as "[a]" after "a"`, 1},
		{"ErrPathBadClass", `a{x}.b = 1`, `filter: at column 2: expected a class index such as "{2}" after "a"`, 1},
		{"ErrPathClassZero", `a{0}.b = 1`, `filter: at column 3: a class index starts at 1, found "{0}"`, 2},
		{"ErrPathClassTooLong", `a{1234567890}.b = 1`, `filter: at column 2: expected a class index such as "{2}" after "a"`, 1},
		{"ErrOrderWithoutBy", `a=1 order lastName`, `filter: at column 11: expected "by" after "order", found "lastName"`, 10},
		{"ErrOrderByNothing", `a=1 order by`, `filter: at column 13: expected an attribute path after "order by", found end of input`, 12},
		{"ErrOrderByComma", `a=1 order by a,`, `filter: at column 16: expected an attribute path after ",", found end of input`, 15},
		{"ErrOrderByJunk", `a=1 order by a up`, `filter: at column 16: expected asc, desc, "," or end of input after "a", found "up"`, 15},
		{"ErrOrderByAfterDirection", `a=1 order by a desc b`, `filter: at column 21: expected "," or end of input, found "b"`, 20},
		{"ErrOrderByAlone", `order by a`, `filter: at column 7: expected a comparison operator after "order", found "by"`, 6},
		{"ErrOrderByInParens", `(a=1 order by b)`, `filter: at column 6: expected AND, OR, EXCEPT or ")", found "order"`, 5},
		{"ErrLongTokenShortened", `a=1 ` + strings.Repeat("z", 50), `filter: at column 5: expected AND, OR, EXCEPT, order by or end of input, found "zzzzzzzzzzzzzzzzzzzz..."`, 4},
		{"ErrColumnCountsCharacters", `prénom = Zoë Zoë`, `filter: at column 14: expected AND, OR, EXCEPT, order by or end of input, found "Zoë"`, 15},
		{"ErrInvalidUTF8", "a = '\xff'", `filter: at column 6: invalid UTF-8`, 5},
		{"ErrTooDeep", deep, `filter: at column 101: parentheses and NOT( ) are nested more than 100 deep`, 100},
		{"ErrTooDeepNot", deepNot, `filter: at column 404: parentheses and NOT( ) are nested more than 100 deep`, 403},
		{"ErrTooManyConditions", many, `filter: at column 4001: more than 500 conditions`, 4000},
		{"ErrTooLong", long, `filter: at column 65537: the text is 65538 bytes long; the maximum is 65536`, 65536},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error %s", tt.in, q, tt.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error is %T, want *SyntaxError", tt.in, err)
			}
			if err.Error() != tt.want {
				t.Fatalf("Parse(%q) error\n got %s\nwant %s", tt.in, err, tt.want)
			}
			if se.Pos != tt.pos {
				t.Fatalf("Parse(%q) error at byte %d, want %d", tt.in, se.Pos, tt.pos)
			}
		})
	}
}

func TestParseLimitsOK(t *testing.T) {
	t.Run("OKMaxDepth", func(t *testing.T) {
		mustParse(t, strings.Repeat("(", MaxDepth)+"a=1"+strings.Repeat(")", MaxDepth))
		mustParse(t, strings.Repeat("NOT(", MaxDepth)+"a=1"+strings.Repeat(")", MaxDepth))
	})
	t.Run("OKMaxConditions", func(t *testing.T) {
		q := mustParse(t, strings.Repeat("a=1 OR ", MaxConditions-1)+"a=1")
		mustParse(t, q.String())
	})
	t.Run("OKMaxLength", func(t *testing.T) {
		mustParse(t, "a="+strings.Repeat("x", MaxLength-2))
	})
	t.Run("OKLongMixedChainRoundTrips", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("a=1")
		for i := range MaxConditions - 1 {
			if i%2 == 0 {
				b.WriteString(" OR a=1")
			} else {
				b.WriteString(" AND a=1")
			}
		}
		q := mustParse(t, b.String())
		if got := mustParse(t, q.String()).String(); got != q.String() {
			t.Fatal("canonical text of a long mixed chain does not round-trip")
		}
	})
}

func TestUnquote(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"a=1"`, `a=1`},
		{` "a=1" `, `a=1`},
		{`""`, ``},
		{`a=1`, `a=1`},
		{`a="x"`, `a="x"`},
		{`"a=1`, `"a=1`},
		{`"`, `"`},
		{`""a=1""`, `"a=1"`},
		{``, ``},
	}
	for _, tt := range tests {
		if got := Unquote(tt.in); got != tt.want {
			t.Errorf("Unquote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOpString(t *testing.T) {
	for op := OpEqual; op <= OpBegin; op++ {
		if s := op.String(); strings.HasPrefix(s, "Op(") {
			t.Errorf("Op %d has no name", op)
		}
	}
	if got := Op(0).String(); got != "Op(0)" {
		t.Errorf("Op(0).String() = %q", got)
	}
	if got := LogicalOp(9).String(); got != "LogicalOp(9)" {
		t.Errorf("LogicalOp(9).String() = %q", got)
	}
	if got := ValueKind(0).String(); got != "ValueKind(0)" {
		t.Errorf("ValueKind(0).String() = %q", got)
	}
	if got := KindDate.String(); got != "date" {
		t.Errorf("KindDate.String() = %q", got)
	}
}

var benchFilters = []struct{ name, in string }{
	{"Simple", `"lastName begin j"`},
	{"Typical", `"salary>20000 AND employer.name!=acme@ AND hired >= 2020-01-01 order by lastName desc, firstName"`},
	{"Placeholders", `"firstName=:1 AND salary>:2 AND dept IN :3"`},
	{"Nested", `(a=1 OR (b='x@' AND NOT(c IN [1, 2, 3, 'four']))) EXCEPT d.e[].f === 'g\'h'`},
}

func BenchmarkParse(b *testing.B) {
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.in)))
			for b.Loop() {
				if _, err := Parse(bf.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
