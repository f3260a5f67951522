package postgres

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// This file compiles a bound filter tree (filter.Query) to a PostgreSQL
// condition, and a filter.OrderBy to an ORDER BY list.
//
// No text from the filter is ever written into the SQL: identifiers come
// from the model (a path's names are looked up in it, and only the model's
// own quoted names are written), and every value, object property paths
// and LIKE patterns included, is a $n parameter with an explicit type
// cast. The SQL around them is fixed text.
//
// The semantics are those of the sqlite package, which the storetest
// Datastore suite checks on both:
//
//   - Text compares case-insensitively: both sides go through
//     lower(...) COLLATE "C" (textKey), which every text index is built on,
//     so that =, IN, begin and a prefix @ use the index. Case folds
//     by the database's character classification: all of Unicode with a
//     C.UTF-8 or linguistic locale (SQLite folds ASCII only).
//   - @ is a LIKE wildcard, with %, _ and \ of the literal parts escaped;
//     === and IS make @ literal. # and != never match null.
//   - NOT(X) and EXCEPT are set complements: "(X) IS NOT TRUE".
//   - % (keyword): a regular expression on lower(text) with word
//     boundaries (letters, digits and apostrophes make words).
//   - Relation paths are IN subqueries on the foreign key, both ways.
//   - Object properties: #> with a text[] path; a number compares with
//     numbers, a boolean with booleans, text with the property's text.

// frag is a piece of SQL with the arguments of its parameters, in order.
type frag struct {
	sql  string
	args []any
}

// compiler builds fragments for one statement: its parameters are numbered
// across every fragment it returns ($1 in the first one taken), so that
// the fragments of a statement are joined in the order they were built.
// aliases numbers the table aliases (t0 is the statement's main table).
type compiler struct {
	db      *DB
	b       strings.Builder
	args    []any
	n       int // parameters numbered so far
	aliases int
	// joins are the LEFT JOINs sorts through N->1 relations need, one per
	// relation path, written after the FROM of the statement; joined maps
	// "alias column" to the alias of the joined table.
	joins  strings.Builder
	joined map[string]string
}

func (q *compiler) join(alias string, c *column) string {
	k := alias + " " + c.name
	if a, ok := q.joined[k]; ok {
		return a
	}
	if q.joined == nil {
		q.joined = map[string]string{}
	}
	a := q.alias()
	q.joined[k] = a
	q.joins.WriteString(" LEFT JOIN " + c.related.name + " AS " + a + " ON " + a + "." + c.related.key.name + " = " + alias + "." + c.name)
	return a
}

func (q *compiler) alias() string {
	q.aliases++
	return "t" + strconv.Itoa(q.aliases)
}

func (q *compiler) str(s string) { q.b.WriteString(s) }

// param returns the next parameter's placeholder with a cast, for v.
func (q *compiler) param(v any, cast string) string {
	q.args = append(q.args, v)
	q.n++
	return "$" + strconv.Itoa(q.n) + "::" + cast
}

func (q *compiler) take() frag {
	f := frag{q.b.String(), q.args}
	q.b.Reset()
	q.args = nil
	return f
}

func (q *compiler) node(t *table, alias string, n filter.Node) error {
	switch n := n.(type) {
	case *filter.Comparison:
		return q.comparison(t, alias, n.Path, n.Op, n.Value)
	case *filter.Logical:
		q.str("(")
		if err := q.node(t, alias, n.Left); err != nil {
			return err
		}
		switch n.Op {
		case filter.And:
			q.str(" AND ")
		case filter.Or:
			q.str(" OR ")
		case filter.Except:
			q.str(" AND (")
		default:
			return badFilter("unknown logical operator %v", n.Op)
		}
		if err := q.node(t, alias, n.Right); err != nil {
			return err
		}
		if n.Op == filter.Except {
			q.str(") IS NOT TRUE")
		}
		q.str(")")
		return nil
	case *filter.Not:
		q.str("((")
		if err := q.node(t, alias, n.X); err != nil {
			return err
		}
		q.str(") IS NOT TRUE)")
		return nil
	}
	return badFilter("empty condition")
}

func badFilter(format string, args ...any) *fourd.Error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadFilter, format, args...)
}

func unknownAttribute(dc *fourd.DataClass, name string) *fourd.Error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeUnknownAttribute, "%s has no attribute %q", dc.Name, name)
}

// operand is the left side of a comparison once its path is resolved: a
// column (col, of type typ), or a property of an object column (json, a
// jsonb expression; typ "").
type operand struct {
	col  string
	json string
	typ  fourd.AttributeType
	name string // "Employee.salary", for messages
}

// text reports whether the operand holds text, for LIKE, begin and %.
func (e operand) text() bool {
	return e.typ == fourd.AttrString || e.typ == fourd.AttrUUID || e.typ == ""
}

// textSQL is the expression text comparisons use: the folded text, or for
// a UUID the column itself (UUIDs are stored uppercase).
func (e operand) textSQL() string {
	switch {
	case e.json != "":
		return textKey("(" + e.json + " #>> '{}')")
	case e.typ == fourd.AttrUUID:
		return e.col
	}
	return textKey(e.col)
}

// foldParam returns the parameter a text value is compared as: folded as
// textSQL folds (upper case for a UUID column).
func (q *compiler) foldParam(e operand, s string) string {
	if e.typ == fourd.AttrUUID {
		return "upper(" + q.param(s, "text") + `) COLLATE "C"`
	}
	return textKey(q.param(s, "text"))
}

// sortSQL is the expression a sort by the operand orders by.
func (e operand) sortSQL() string {
	switch {
	case e.json != "":
		return e.json
	case e.typ == fourd.AttrString:
		return textKey(e.col)
	}
	return e.col
}

// checkPath refuses the path suffixes of collections ([], [a]) and
// many-to-many classes ({2}), which fourd's model has no use for.
func checkPath(dc *fourd.DataClass, path filter.Path) error {
	if len(path) == 0 {
		return badFilter("empty attribute path")
	}
	for i, s := range path {
		if s.Collection || s.Link != 0 || s.Class != 0 {
			return badFilter("%s: %s: collection paths are not supported", dc.Name, path)
		}
		if !validName(s.Name) {
			if i == 0 {
				return unknownAttribute(dc, s.Name)
			}
			return badFilter("%s: %q is not a valid property name", dc.Name, truncate(s.Name, 40))
		}
	}
	return nil
}

// validName reports whether s is a name of the filter grammar: a letter, _
// or $, then letters, digits, _ and $.
func validName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || unicode.IsLetter(r):
		case i > 0 && unicode.IsDigit(r):
		default:
			return false
		}
	}
	return true
}

// comparison compiles "path op value" on t.
func (q *compiler) comparison(t *table, alias string, path filter.Path, op filter.Op, v filter.Value) error {
	if err := checkPath(t.dc, path); err != nil {
		return err
	}
	name, rest := path[0].Name, path[1:]
	c := t.byName[name]
	if c == nil {
		a := t.dc.Attribute(name)
		if a == nil || a.Kind != fourd.KindRelatedEntities {
			return unknownAttribute(t.dc, name)
		}
		return q.toMany(t, alias, a, rest, op, v)
	}
	switch {
	case c.attr.Kind == fourd.KindRelatedEntity && len(rest) > 0:
		return q.toOne(t, alias, c, rest, op, v)
	case c.typ == fourd.AttrObject && len(rest) > 0:
		return q.compare(q.jsonOperand(alias, t, c, rest), op, v)
	case len(rest) > 0:
		return badFilter("%s.%s is a %s attribute: it has no property %q", t.dc.Name, name, c.typ, rest[0].Name)
	}
	return q.compare(operand{col: alias + "." + c.name, typ: c.typ, name: t.dc.Name + "." + name}, op, v)
}

// jsonOperand reads the property path rest of object column c: the path is
// one text[] parameter.
func (q *compiler) jsonOperand(alias string, t *table, c *column, rest filter.Path) operand {
	path := make([]string, len(rest))
	for i, s := range rest {
		path[i] = s.Name
	}
	return operand{
		json: "(" + alias + "." + c.name + " #> " + q.param(path, "text[]") + ")",
		name: t.dc.Name + "." + c.attr.Name + "." + rest.String(),
	}
}

// toOne compiles a comparison through the N->1 relation c: the foreign key
// is among the keys of the related entities that match.
func (q *compiler) toOne(t *table, alias string, c *column, rest filter.Path, op filter.Op, v filter.Value) error {
	rel := c.related
	fk := alias + "." + c.name
	// employer.ID = 3: the foreign key holds the related key already.
	if len(rest) == 1 && rest[0].Name == rel.dc.PrimaryKey {
		return q.compare(operand{col: fk, typ: c.typ, name: t.dc.Name + "." + c.attr.Name + "." + rest[0].Name}, op, v)
	}
	null := v.Kind == filter.KindNull && (op == filter.OpEqual || op == filter.OpStrictEqual)
	q.str("(")
	if null {
		q.str(fk + " IS NULL OR ")
	}
	a := q.alias()
	q.str(fk + " IN (SELECT " + a + "." + rel.key.name + " FROM " + rel.name + " AS " + a + " WHERE ")
	if err := q.comparison(rel, a, rest, op, v); err != nil {
		return err
	}
	q.str("))")
	return nil
}

// toMany compiles a comparison through the 1->N relation a: some related
// entity matches (for # and !==: none matches the = or ===).
func (q *compiler) toMany(t *table, alias string, a *fourd.Attribute, rest filter.Path, op filter.Op, v filter.Value) error {
	if len(rest) == 0 {
		return badFilter("%s.%s lists related entities: compare one of their attributes (%s.attribute)", t.dc.Name, a.Name, a.Name)
	}
	child := q.db.tables[q.db.model.DataClass(a.RelatedDataClass)]
	fk := child.byName[a.Path]
	key := alias + "." + t.key.name
	sub := func(op filter.Op, v filter.Value) error {
		s := q.alias()
		q.str("SELECT " + s + "." + fk.name + " FROM " + child.name + " AS " + s + " WHERE " + s + "." + fk.name + " IS NOT NULL AND ")
		return q.comparison(child, s, rest, op, v)
	}
	null := v.Kind == filter.KindNull
	switch {
	case null && (op == filter.OpEqual || op == filter.OpStrictEqual):
		// some related value is null, or there is no related entity at all
		q.str("(" + key + " IN (")
		if err := sub(op, v); err != nil {
			return err
		}
		s := q.alias()
		q.str(") OR " + key + " NOT IN (SELECT " + s + "." + fk.name + " FROM " + child.name + " AS " + s + " WHERE " + s + "." + fk.name + " IS NOT NULL))")
		return nil
	case !null && (op == filter.OpNotEqual || op == filter.OpStrictNotEqual):
		positive := filter.OpEqual
		if op == filter.OpStrictNotEqual {
			positive = filter.OpStrictEqual
		}
		q.str("(" + key + " NOT IN (")
		if err := sub(positive, v); err != nil {
			return err
		}
		q.str("))")
		return nil
	}
	q.str("(" + key + " IN (")
	if err := sub(op, v); err != nil {
		return err
	}
	q.str("))")
	return nil
}

var opSQL = map[filter.Op]string{
	filter.OpEqual:          " = ",
	filter.OpStrictEqual:    " = ",
	filter.OpNotEqual:       " <> ",
	filter.OpStrictNotEqual: " <> ",
	filter.OpLess:           " < ",
	filter.OpLessEqual:      " <= ",
	filter.OpGreater:        " > ",
	filter.OpGreaterEqual:   " >= ",
}

// compare compiles "e op v" for a resolved operand.
func (q *compiler) compare(e operand, op filter.Op, v filter.Value) error {
	switch v.Kind {
	case filter.KindPlaceholder:
		return badFilter("placeholder :%d has no value", v.Placeholder)
	case filter.KindVector:
		return badFilter("%s: vector comparisons are not supported", e.name)
	case filter.KindNull:
		x := e.col
		if e.json != "" {
			x = "nullif(" + e.json + ", 'null'::jsonb)" // a JSON null is null too
		}
		switch op {
		case filter.OpEqual, filter.OpStrictEqual:
			q.str(x + " IS NULL")
		case filter.OpNotEqual, filter.OpStrictNotEqual:
			q.str(x + " IS NOT NULL")
		default:
			return badFilter("%s: null can follow only =, ==, ===, #, != and !==", e.name)
		}
		return nil
	}
	if e.typ == fourd.AttrObject {
		return badFilter("%s is an object: compare one of its properties (%s.property)", e.name, e.name[strings.LastIndexByte(e.name, '.')+1:])
	}
	switch op {
	case filter.OpIn:
		return q.in(e, v)
	case filter.OpBegin:
		if !e.text() || v.Kind == filter.KindList {
			return badFilter("%s: begin applies to text attributes only", e.name)
		}
		return q.like(e, false, escapeLike(v.Str)+"%")
	case filter.OpKeyword:
		if !e.text() || v.Kind == filter.KindList {
			return badFilter("%s: %% (keyword) applies to text attributes only", e.name)
		}
		return q.keyword(e, v.Str)
	}
	if v.Kind == filter.KindList {
		return badFilter("%s: a list can follow only IN", e.name)
	}
	if v.Kind == filter.KindString && v.Wildcard && (op == filter.OpEqual || op == filter.OpNotEqual) {
		if !e.text() {
			return badFilter("%s is a %s: @ wildcards apply to text attributes only (%q)", e.name, e.typ, truncate(v.Str, 40))
		}
		return q.like(e, op == filter.OpNotEqual, likePattern(v.Pattern))
	}
	sqlOp, ok := opSQL[op]
	if !ok {
		return badFilter("%s: unknown operator %v", e.name, op)
	}
	x, err := convert(e, v)
	if err != nil {
		return err
	}
	q.str(q.lhs(e, x) + sqlOp + q.rhs(e, x))
	return nil
}

// lhs returns the expression compared with the converted constant x.
func (q *compiler) lhs(e operand, x any) string {
	if e.json == "" {
		if e.typ == fourd.AttrString || e.typ == fourd.AttrUUID {
			return e.textSQL()
		}
		return e.col
	}
	// An object property compares with a constant of its own JSON type;
	// a value of another type is null to the comparison.
	switch x.(type) {
	case int64, float64:
		return "(CASE WHEN jsonb_typeof(" + e.json + ") = 'number' THEN (" + e.json + " #>> '{}')::float8 END)"
	case bool:
		return "(CASE WHEN jsonb_typeof(" + e.json + ") = 'boolean' THEN (" + e.json + " #>> '{}')::boolean END)"
	}
	return e.textSQL()
}

// rhs returns the parameter of the converted constant x, typed and folded
// as lhs(e, x) is.
func (q *compiler) rhs(e operand, x any) string {
	switch x := x.(type) {
	case string:
		return q.foldParam(e, x)
	case int64:
		if e.json != "" || e.typ == fourd.AttrNumber {
			return q.param(float64(x), "float8")
		}
		return q.param(x, "bigint")
	case float64:
		return q.param(x, "float8")
	case bool:
		return q.param(x, "boolean")
	case time.Time:
		return q.param(x, "date")
	}
	return q.param(x, "text")
}

// in compiles "e IN [v1, v2, ...]": plain values as one array parameter
// (= ANY, which an index serves), wildcard values as LIKEs, null as IS
// NULL.
func (q *compiler) in(e operand, v filter.Value) error {
	if v.Kind != filter.KindList {
		return badFilter("%s: IN needs a list: [v1, v2]", e.name)
	}
	var plain []any
	var patterns []string
	null := false
	for _, el := range v.List {
		switch {
		case el.Kind == filter.KindNull:
			null = true
		case el.Kind == filter.KindString && el.Wildcard:
			if !e.text() {
				return badFilter("%s is a %s: @ wildcards apply to text attributes only (%q)", e.name, e.typ, truncate(el.Str, 40))
			}
			patterns = append(patterns, likePattern(el.Pattern))
		case el.Kind == filter.KindList || el.Kind == filter.KindVector || el.Kind == filter.KindPlaceholder:
			return badFilter("%s: an IN list holds plain values", e.name)
		default:
			x, err := convert(e, el)
			if err != nil {
				return err
			}
			plain = append(plain, x)
		}
	}
	if len(plain) == 0 && len(patterns) == 0 && !null {
		q.str("FALSE") // an empty list selects nothing
		return nil
	}
	q.str("(")
	sep := ""
	if len(plain) > 0 {
		q.str(q.anyOf(e, plain))
		sep = " OR "
	}
	for _, p := range patterns {
		q.str(sep)
		if err := q.like(e, false, p); err != nil {
			return err
		}
		sep = " OR "
	}
	if null {
		q.str(sep)
		if e.json != "" {
			q.str("nullif(" + e.json + ", 'null'::jsonb) IS NULL")
		} else {
			q.str(e.col + " IS NULL")
		}
	}
	q.str(")")
	return nil
}

// anyOf returns "e = ANY(array)" for converted values, grouped by Go type
// (an object property may be compared with numbers and text at once).
func (q *compiler) anyOf(e operand, vals []any) string {
	var texts []string
	var nums []float64
	var ints []int64
	var bools []bool
	var dates []time.Time
	for _, x := range vals {
		switch x := x.(type) {
		case string:
			texts = append(texts, x)
		case int64:
			if e.json != "" || e.typ == fourd.AttrNumber {
				nums = append(nums, float64(x))
			} else {
				ints = append(ints, x)
			}
		case float64:
			if e.typ == fourd.AttrLong || e.typ == fourd.AttrLong64 {
				if x == float64(int64(x)) {
					ints = append(ints, int64(x))
				}
				continue // a fraction never equals an integer
			}
			nums = append(nums, x)
		case bool:
			bools = append(bools, x)
		case time.Time:
			dates = append(dates, x)
		}
	}
	var parts []string
	if texts != nil {
		fold := "lower(v)"
		if e.typ == fourd.AttrUUID {
			fold = "upper(v)"
		}
		parts = append(parts, e.textSQL()+" = ANY (ARRAY(SELECT "+fold+` COLLATE "C" FROM unnest(`+q.param(texts, "text[]")+") AS v))")
	}
	if ints != nil {
		parts = append(parts, q.lhs(e, int64(0))+" = ANY ("+q.param(ints, "bigint[]")+")")
	}
	if nums != nil {
		parts = append(parts, q.lhs(e, float64(0))+" = ANY ("+q.param(nums, "float8[]")+")")
	}
	if bools != nil {
		parts = append(parts, q.lhs(e, false)+" = ANY ("+q.param(bools, "boolean[]")+")")
	}
	if dates != nil {
		parts = append(parts, q.lhs(e, time.Time{})+" = ANY ("+q.param(dates, "date[]")+")")
	}
	if parts == nil {
		return "FALSE"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// maxLikePattern bounds a LIKE pattern, as SQLite's does (50,000 bytes).
const maxLikePattern = 50_000

// like writes "e LIKE pattern" (NOT LIKE with not); \ is PostgreSQL's
// default escape character.
func (q *compiler) like(e operand, not bool, pattern string) error {
	if len(pattern) > maxLikePattern {
		return badFilter("%s: a value with @ or after begin can be at most %d bytes long", e.name, maxLikePattern)
	}
	q.str(e.textSQL())
	if not {
		q.str(" NOT")
	}
	q.str(" LIKE " + q.foldParam(e, pattern))
	return nil
}

// Keyword word boundaries: a word is a run of letters, digits and
// apostrophes; what surrounds a matching word is the text's start or end,
// or another character.
const (
	keywordBefore = `(^|[^[:alnum:]'’])`
	keywordAfter  = `($|[^[:alnum:]'’])`
)

// keyword writes "e contains word as a whole word", ignoring case. A word
// that is empty or holds a separator matches nothing, as in 4D. The word
// holds only letters, digits, marks and apostrophes, none of which a
// regular expression gives a meaning to.
func (q *compiler) keyword(e operand, word string) error {
	if word == "" || strings.IndexFunc(word, func(r rune) bool { return !isWordRune(r) }) >= 0 {
		q.str("FALSE")
		return nil
	}
	x := "lower(" + e.col + ")"
	if e.json != "" {
		x = "lower(" + e.json + " #>> '{}')"
	}
	q.str(x + " ~ (" + q.param(keywordBefore, "text") + " || lower(" + q.param(word, "text") + ") || " + q.param(keywordAfter, "text") + ")")
	return nil
}

// isWordRune reports whether r belongs to a word: letters, digits, marks
// (accents written as combining characters) and apostrophes.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '’'
}

// escapeLike escapes the characters LIKE gives a meaning to (%, _ and the
// escape character \) so that s matches only itself.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, `%_\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '_' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// likePattern turns the pieces between @ wildcards into a LIKE pattern.
func likePattern(pieces []string) string {
	var b strings.Builder
	for i, p := range pieces {
		if i > 0 {
			b.WriteByte('%')
		}
		b.WriteString(escapeLike(p))
	}
	return b.String()
}

// convert turns a filter constant into the value compared with e, as 4D
// converts it: to a number for a number attribute, to text for a text
// attribute, and so on. It refuses values that do not convert.
func convert(e operand, v filter.Value) (any, error) {
	bad := func(what string) error {
		return badFilter("%s is %s: %s is not %s", e.name, article(e.typ), valueText(v), what)
	}
	switch e.typ {
	case fourd.AttrString:
		return textOf(v), nil
	case fourd.AttrUUID:
		s := textOf(v)
		if u, ok := normalizeUUID(s); ok {
			return u, nil
		}
		return s, nil
	case fourd.AttrLong, fourd.AttrLong64, fourd.AttrNumber:
		switch v.Kind {
		case filter.KindInt:
			if e.typ == fourd.AttrNumber {
				return float64(v.Int), nil
			}
			return v.Int, nil
		case filter.KindFloat:
			return v.Float, nil
		case filter.KindString:
			s := strings.TrimSpace(v.Str)
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				if e.typ == fourd.AttrNumber {
					return float64(i), nil
				}
				return i, nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f, nil
			}
		}
		return nil, bad("a number")
	case fourd.AttrBool:
		switch v.Kind {
		case filter.KindBool:
			return v.Bool, nil
		case filter.KindString:
			switch strings.ToLower(strings.TrimSpace(v.Str)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		case filter.KindInt:
			if v.Int == 0 || v.Int == 1 {
				return v.Int == 1, nil
			}
		}
		return nil, bad("true or false")
	case fourd.AttrDate:
		switch v.Kind {
		case filter.KindDate:
			return v.Date, nil
		case filter.KindString:
			if d, ok := parseDate(v.Str); ok {
				return d, nil
			}
		}
		return nil, bad("a date (YYYY-MM-DD)")
	case "": // an object property: its JSON type decides
		switch v.Kind {
		case filter.KindInt:
			return v.Int, nil
		case filter.KindFloat:
			return v.Float, nil
		case filter.KindBool:
			return v.Bool, nil
		case filter.KindDate:
			return v.Date.Format(dateLayout), nil
		}
		return v.Str, nil
	}
	return nil, bad("comparable")
}

// textOf returns the text of a constant as it was written, for a text
// attribute.
func textOf(v filter.Value) string {
	if v.Str != "" || v.Kind == filter.KindString {
		return v.Str
	}
	switch v.Kind {
	case filter.KindInt:
		return strconv.FormatInt(v.Int, 10)
	case filter.KindFloat:
		return strconv.FormatFloat(v.Float, 'f', -1, 64)
	case filter.KindBool:
		return strconv.FormatBool(v.Bool)
	case filter.KindDate:
		return v.Date.Format(dateLayout)
	}
	return v.String()
}

// valueText quotes a constant for a message.
func valueText(v filter.Value) string {
	if v.Kind == filter.KindString {
		return strconv.Quote(truncate(v.Str, 40))
	}
	return truncate(textOf(v), 40)
}

func article(typ fourd.AttributeType) string {
	switch typ {
	case fourd.AttrLong, fourd.AttrLong64:
		return "a long"
	case fourd.AttrNumber:
		return "a number"
	case fourd.AttrBool:
		return "a bool"
	case fourd.AttrDate:
		return "a date"
	}
	return "a " + string(typ)
}

// order compiles an OrderBy on t (alias alias) to an ORDER BY list, ending
// with the row number so that equal keys keep a stable order and pages do
// not overlap. Nulls come first in ascending order and last in descending
// order, as 4D puts null before every other value.
func (q *compiler) order(t *table, alias string, ob filter.OrderBy) (frag, error) {
	if len(ob) > fourd.MaxOrderByTerms {
		return frag{}, badFilter("a sort of %d terms: at most %d", len(ob), fourd.MaxOrderByTerms)
	}
	for _, o := range ob {
		if err := checkPath(t.dc, o.Path); err != nil {
			return frag{}, err
		}
		if err := q.sortKey(t, alias, o.Path); err != nil {
			return frag{}, err
		}
		if o.Desc {
			q.str(" DESC NULLS LAST")
		} else {
			q.str(" NULLS FIRST")
		}
		q.str(", ")
	}
	q.str(alias + "." + colRow)
	return q.take(), nil
}

// sortKey writes the expression a path sorts by: a column (text folded),
// an object property, or through N->1 relations a column of the joined
// related table.
func (q *compiler) sortKey(t *table, alias string, path filter.Path) error {
	name, rest := path[0].Name, path[1:]
	c := t.byName[name]
	if c == nil {
		if a := t.dc.Attribute(name); a != nil && a.Kind == fourd.KindRelatedEntities {
			return badFilter("cannot sort by %s.%s: it lists related entities", t.dc.Name, name)
		}
		return unknownAttribute(t.dc, name)
	}
	switch {
	case c.attr.Kind == fourd.KindRelatedEntity && len(rest) > 0:
		return q.sortKey(c.related, q.join(alias, c), rest)
	case c.typ == fourd.AttrObject && len(rest) > 0:
		q.str(q.jsonOperand(alias, t, c, rest).sortSQL())
		return nil
	case len(rest) > 0:
		return badFilter("%s.%s is a %s attribute: it has no property %q", t.dc.Name, name, c.typ, rest[0].Name)
	}
	q.str(operand{col: alias + "." + c.name, typ: c.typ}.sortSQL())
	return nil
}

// orderOf returns the order of a selection: its OrderBy, or else the
// filter's own "order by" clause.
func orderOf(sel fourd.Selection) filter.OrderBy {
	if len(sel.OrderBy) > 0 || sel.Filter == nil {
		return sel.OrderBy
	}
	return sel.Filter.OrderBy
}

// rowArray converts row IDs to the bigint[] parameter PostgreSQL reads.
func rowArray(rows []fourd.RowID) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = int64(r)
	}
	return out
}

// selection compiles a selection's condition (empty when there is no
// filter) and order, with t0 as the alias of the dataclass's table; from
// is the FROM clause with the joins the order needs. The parameters of
// where come first ($1...), then those of order: a statement that uses
// where alone passes where.args, one that uses both passes both in order.
func (db *DB) selection(sel fourd.Selection) (t *table, q *compiler, from string, where, order frag, err error) {
	if t, err = db.table(sel.DataClass); err != nil {
		return nil, nil, "", frag{}, frag{}, err
	}
	q = &compiler{db: db}
	if sel.Filter != nil && sel.Filter.Expr != nil {
		q.str("(")
		if err = q.node(t, "t0", sel.Filter.Expr); err != nil {
			return nil, nil, "", frag{}, frag{}, err
		}
		q.str(")")
	}
	if sel.InRows != nil {
		if sel.Filter != nil && sel.Filter.Expr != nil {
			q.str(" AND ")
		}
		q.str("t0." + colRow + " = ANY (" + q.param(rowArray(sel.InRows), "bigint[]") + ")")
	}
	where = q.take()
	if where.sql != "" {
		where.sql = " WHERE " + where.sql
	}
	if order, err = q.order(t, "t0", orderOf(sel)); err != nil {
		return nil, nil, "", frag{}, frag{}, err
	}
	order.sql = " ORDER BY " + order.sql
	return t, q, " FROM " + t.name + " AS t0" + q.joins.String(), where, order, nil
}
