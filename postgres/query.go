package postgres

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/query"
)

// This file compiles a checked selection (query.Selection: the filter and
// the order, resolved against the model and typed by package query) to a
// PostgreSQL condition and an ORDER BY list.
//
// No text from the filter is ever written into the SQL: identifiers come
// from the model (the checked tree names attributes of the model, and only
// the model's own quoted names are written), and every value, object
// property paths and LIKE patterns included, is a $n parameter with an
// explicit type cast. The SQL around them is fixed text.
//
// How 4D's semantics (package query states them) map to PostgreSQL; the
// storetest Datastore suite checks them on SQLite and PostgreSQL alike:
//
//   - Text compares case-insensitively: both sides go through
//     lower(...) COLLATE "C" (textKey), which every text index is built on,
//     so that Eq, In, a prefix Like and a sort use the index. Case folds by
//     the database's character classification: all of Unicode with a
//     C.UTF-8 or linguistic locale (SQLite folds ASCII only). UUIDs are
//     stored and compared upper case.
//   - Like is LIKE with %, _ and \ of the literal pieces escaped (\ is
//     PostgreSQL's default escape character).
//   - Ne, NotLike and the ordering operators never match null, as SQL's
//     <>, NOT LIKE and < do not.
//   - Not and Except are set complements: "(X) IS NOT TRUE".
//   - Keyword is a regular expression on lower(text) with word boundaries
//     (letters, digits and apostrophes make words).
//   - Joins are IN subqueries on the foreign key, both ways (NOT IN for a
//     join with None); sorts through N->1 relations are LEFT JOINs.
//   - Object properties: #> with a text[] path; a number compares with
//     the property's numbers, a boolean with its booleans, text (and a
//     date) with its text.

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
	// err is the first constant PostgreSQL cannot take (text holding the
	// NUL character): the selection is refused with it.
	err error
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
// PostgreSQL's text cannot hold the NUL character, which no stored value
// holds either (Save refuses it): a constant with one is refused as a bad
// filter rather than sent.
func (q *compiler) param(v any, cast string) string {
	switch x := v.(type) {
	case string:
		q.checkText(x)
	case []string:
		for _, s := range x {
			q.checkText(s)
		}
	}
	q.args = append(q.args, v)
	q.n++
	return "$" + strconv.Itoa(q.n) + "::" + cast
}

func (q *compiler) checkText(s string) {
	if q.err == nil && strings.IndexByte(s, 0) >= 0 {
		q.err = badFilter("a text value cannot hold the NUL character (%q)", truncate(s, 40))
	}
}

func (q *compiler) take() frag {
	f := frag{q.b.String(), q.args}
	q.b.Reset()
	q.args = nil
	return f
}

// node compiles n as a condition on t, whose alias is alias.
func (q *compiler) node(t *table, alias string, n query.Node) error {
	switch n := n.(type) {
	case *query.Compare:
		return q.compare(operandOf(q, t, alias, n.Field), n)
	case *query.Join:
		if n.ToMany {
			return q.toMany(t, alias, n)
		}
		return q.toOne(t, alias, n)
	case *query.Logical:
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
	case *query.Not:
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

// operand is the SQL of a field: a column (col, of type typ), or a
// property of an object column (json, a jsonb expression; typ "").
type operand struct {
	col   string
	json  string
	typ   fourd.AttributeType
	field query.Field // for messages
}

// operandOf returns the operand of f, a field of t's dataclass read on
// alias; an object property's path is one text[] parameter of q.
func operandOf(q *compiler, t *table, alias string, f query.Field) operand {
	c := t.byName[f.Attribute.Name]
	e := operand{col: alias + "." + c.name, typ: f.Type, field: f}
	if f.Property != nil {
		path := make([]string, len(f.Property))
		for i, s := range f.Property {
			path[i] = s.Name // letters, digits, _ and $ (checked by query); a parameter anyway
		}
		e.json = "(" + e.col + " #> " + q.param(path, "text[]") + ")"
		e.typ = ""
	}
	return e
}

// textSQL is the expression text comparisons use: the folded text, or for
// a UUID the column itself (UUIDs are stored upper case).
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

// nullSQL is the expression that is null when the field is: a JSON null
// property is null too.
func (e operand) nullSQL() string {
	if e.json != "" {
		return "nullif(" + e.json + ", 'null'::jsonb)"
	}
	return e.col
}

// toOne compiles a join through an N->1 relation: the foreign key is among
// the keys of the related entities that match (or, with OrEmpty, null).
func (q *compiler) toOne(t *table, alias string, j *query.Join) error {
	rel := q.db.tables[j.To]
	fk := alias + "." + t.byName[j.FromKey.Name].name
	q.str("(")
	if j.OrEmpty {
		q.str(fk + " IS NULL OR ")
	}
	a := q.alias()
	q.str(fk + " IN (SELECT " + a + "." + rel.byName[j.ToKey.Name].name + " FROM " + rel.name + " AS " + a + " WHERE ")
	if err := q.node(rel, a, j.Cond); err != nil {
		return err
	}
	q.str("))")
	return nil
}

// toMany compiles a join through a 1->N relation: some related entity
// matches (None: none does; OrEmpty: or there is none at all).
func (q *compiler) toMany(t *table, alias string, j *query.Join) error {
	child := q.db.tables[j.To]
	fk := child.byName[j.ToKey.Name].name
	key := alias + "." + t.byName[j.FromKey.Name].name
	not := ""
	if j.None {
		not = "NOT "
	}
	q.str("(" + key + " " + not + "IN (")
	s := q.alias()
	q.str("SELECT " + s + "." + fk + " FROM " + child.name + " AS " + s + " WHERE " + s + "." + fk + " IS NOT NULL AND ")
	if err := q.node(child, s, j.Cond); err != nil {
		return err
	}
	q.str(")")
	if j.OrEmpty {
		s := q.alias()
		q.str(" OR " + key + " NOT IN (SELECT " + s + "." + fk + " FROM " + child.name + " AS " + s + " WHERE " + s + "." + fk + " IS NOT NULL)")
	}
	q.str(")")
	return nil
}

var opSQL = [...]string{
	query.Eq: " = ",
	query.Ne: " <> ",
	query.Lt: " < ",
	query.Le: " <= ",
	query.Gt: " > ",
	query.Ge: " >= ",
}

// compare compiles comparison c of operand e.
func (q *compiler) compare(e operand, c *query.Compare) error {
	switch c.Op {
	case query.IsNull:
		q.str(e.nullSQL() + " IS NULL")
		return nil
	case query.NotNull:
		q.str(e.nullSQL() + " IS NOT NULL")
		return nil
	case query.Like, query.NotLike:
		if slices.ContainsFunc(c.Pattern, hasNUL) {
			return q.never(e, c.Op == query.NotLike)
		}
		return q.like(e, c.Op == query.NotLike, likePattern(c.Pattern))
	case query.Keyword:
		word, _ := c.Value.(string)
		return q.keyword(e, word)
	case query.In:
		return q.in(e, c.List)
	case query.Eq, query.Ne, query.Lt, query.Le, query.Gt, query.Ge:
		x := jsonConstant(e, c.Value)
		op := c.Op
		if s, ok := x.(string); ok && hasNUL(s) {
			// No stored text holds NUL (Save refuses it), and PostgreSQL
			// cannot take it: the comparison's answer is known. NUL sorts
			// before every character, so s orders just after its part
			// before the NUL.
			switch op {
			case query.Eq, query.Ne:
				return q.never(e, op == query.Ne)
			case query.Lt:
				op = query.Le
			case query.Ge:
				op = query.Gt
			}
			x = s[:strings.IndexByte(s, 0)]
		}
		q.str(q.lhs(e, x) + opSQL[op] + q.rhs(e, x))
		return nil
	}
	return badFilter("%s: unknown operator %v", e.field.Name(), c.Op)
}

// hasNUL reports whether s holds the NUL character.
func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// never writes the answer of a comparison with a text that no stored
// value can equal or match: false, or for a negative comparison (not) the
// values that are not null.
func (q *compiler) never(e operand, not bool) error {
	if not {
		q.str(e.nullSQL() + " IS NOT NULL")
	} else {
		q.str("FALSE")
	}
	return nil
}

// jsonConstant returns the constant an object property compares with: a
// date as its YYYY-MM-DD text (JSON has no dates), others as they are.
func jsonConstant(e operand, x any) any {
	if d, ok := x.(time.Time); ok && e.json != "" {
		return d.Format(dateLayout)
	}
	return x
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

// in compiles "e IN list": plain values as one array parameter per type
// (= ANY, which an index serves), patterns as LIKEs, null as IS NULL.
func (q *compiler) in(e operand, list query.List) error {
	if len(list.Values) == 0 && len(list.Patterns) == 0 && !list.Null {
		q.str("FALSE") // an empty list selects nothing
		return nil
	}
	q.str("(")
	sep := ""
	if len(list.Values) > 0 {
		vals := make([]any, 0, len(list.Values))
		for _, x := range list.Values {
			x = jsonConstant(e, x)
			if s, ok := x.(string); ok && hasNUL(s) {
				continue // equals no stored text (see compare)
			}
			vals = append(vals, x)
		}
		q.str(q.anyOf(e, vals))
		sep = " OR "
	}
	for _, p := range list.Patterns {
		if slices.ContainsFunc(p, hasNUL) {
			continue
		}
		q.str(sep)
		if err := q.like(e, false, likePattern(p)); err != nil {
			return err
		}
		sep = " OR "
	}
	if list.Null {
		q.str(sep + e.nullSQL() + " IS NULL")
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
		return badFilter("%s: a value with @ or after begin can be at most %d bytes long", e.field.Name(), maxLikePattern)
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

// likePattern turns a pattern's literal pieces into a LIKE pattern.
func likePattern(pieces query.Pattern) string {
	var b strings.Builder
	for i, p := range pieces {
		if i > 0 {
			b.WriteByte('%')
		}
		b.WriteString(escapeLike(p))
	}
	return b.String()
}

// order compiles sort keys on t (alias alias) to an ORDER BY list, ending
// with the row number so that equal keys keep a stable order and pages do
// not overlap. A key through N->1 relations reads a column of the joined
// related table (see join). Nulls come first in ascending order and last
// in descending order, as 4D puts null before every other value.
func (q *compiler) order(t *table, alias string, ob []query.Order) frag {
	for _, o := range ob {
		tt, a := t, alias
		for _, rel := range o.Through {
			c := tt.byName[rel.Name]
			a, tt = q.join(a, c), c.related
		}
		q.str(operandOf(q, tt, a, o.Field).sortSQL())
		if o.Desc {
			q.str(" DESC NULLS LAST, ")
		} else {
			q.str(" NULLS FIRST, ")
		}
	}
	q.str(alias + "." + colRow)
	return q.take()
}

// rowArray converts row IDs to the bigint[] parameter PostgreSQL reads.
func rowArray(rows []fourd.RowID) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = int64(r)
	}
	return out
}

// compiled is a selection compiled for one statement, with t0 as the
// alias of the dataclass's table. The parameters of where come first
// ($1...), then those of order, then q.n is the last one used: a
// statement that uses where alone passes where.args, one that uses both
// passes both in that order.
type compiled struct {
	t     *table
	q     *compiler
	from  string // the FROM clause, with the joins the order needs
	where frag   // " WHERE ...", empty when every entity is selected
	order frag   // " ORDER BY ..."
}

// selection checks a selection against the model and compiles its
// condition and order.
func (db *DB) selection(sel fourd.Selection) (compiled, error) {
	t, err := db.table(sel.DataClass)
	if err != nil {
		return compiled{}, err
	}
	s, err := query.Check(db.model, sel)
	if err != nil {
		return compiled{}, err
	}
	q := &compiler{db: db}
	if s.Where != nil {
		q.str("(")
		if err := q.node(t, "t0", s.Where); err != nil {
			return compiled{}, err
		}
		q.str(")")
	}
	if s.InRows != nil {
		if s.Where != nil {
			q.str(" AND ")
		}
		q.str("t0." + colRow + " = ANY (" + q.param(rowArray(s.InRows), "bigint[]") + ")")
	}
	where := q.take()
	if where.sql != "" {
		where.sql = " WHERE " + where.sql
	}
	order := q.order(t, "t0", s.OrderBy)
	order.sql = " ORDER BY " + order.sql
	if q.err != nil {
		return compiled{}, q.err
	}
	return compiled{t: t, q: q, from: " FROM " + t.name + " AS t0" + q.joins.String(), where: where, order: order}, nil
}
