package sqlite

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/query"
)

// This file compiles a checked selection (query.Selection: the filter and
// the order, resolved against the model and typed by package query) to an
// SQL condition and an ORDER BY list.
//
// No text from the filter is ever written into the SQL: identifiers come
// from the model (the checked tree names attributes of the model, and only
// the model's own quoted names are written), and every value, object
// property path included, is a "?" parameter. The SQL around them is fixed
// text.
//
// How 4D's semantics (package query states them, docs/model.md repeats
// them for users) map to SQLite:
//
//   - Text comparisons are case-insensitive: text columns are COLLATE
//     NOCASE, and LIKE ignores case. Only ASCII letters fold (SQLite's
//     NOCASE): É and é differ, and so do e and é, where 4D would also
//     ignore diacritics.
//   - Like (@ wildcards, begin) is LIKE with % and _ of the literal parts
//     escaped; a prefix pattern (abc@) is a LIKE that SQLite turns into an
//     index range. Eq without wildcards is a plain =, which an index
//     serves.
//   - Ne, NotLike and the ordering operators never match null, as SQL's
//     <>, NOT LIKE, < ... do not.
//   - Not and Except are set complements, as 4D computes them: NOT(X)
//     holds for every entity X does not select, nulls included, which is
//     SQL's "(X) IS NOT TRUE", not SQL's NOT (which drops rows where X is
//     null).
//   - Keyword is the SQL function fourd_keyword (keyword.go).
//   - Booleans are 0 and 1, dates "YYYY-MM-DD" text (which sorts as
//     dates), as value.go stores them.
//   - Joins are subqueries on the foreign key: employer.name = x selects
//     the employees whose employer is among the companies named x;
//     staff.lastName = x on Company the companies whose key is among the
//     employers of employees named x (NOT IN for a join with None).
//     Sorts through N->1 relations are LEFT JOINs, one per relation path.
//   - Object properties are read with json_extract; their type is the JSON
//     value's.

// frag is a piece of SQL with the arguments of its "?" parameters, in
// order.
type frag struct {
	sql  string
	args []any
}

// compiler builds fragments for one statement. aliases numbers the table
// aliases it uses (t0 is the statement's main table), so that subqueries
// never shadow an outer alias.
type compiler struct {
	db      *DB
	b       strings.Builder
	args    []any
	aliases int
	// joins are the LEFT JOINs sorts through N->1 relations need, one per
	// relation path (two terms through employer share one join), written
	// after the FROM of the statement; joined maps "alias column" to the
	// alias of the joined table.
	joins  strings.Builder
	joined map[string]string
}

// leftJoin returns the alias of c's related table joined to alias, adding
// the LEFT JOIN the first time. The related key is the related table's
// primary key: at most one row matches, so the join never repeats a row.
func (q *compiler) leftJoin(alias string, c *column) string {
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
func (q *compiler) arg(v any)    { q.b.WriteByte('?'); q.args = append(q.args, v) }
func (q *compiler) take() frag   { f := frag{q.b.String(), q.args}; q.b.Reset(); q.args = nil; return f }

// expr writes operand e, piece by piece: no string is built for it.
func (q *compiler) expr(e operand) {
	if e.json {
		q.str("json_extract(")
	}
	q.str(e.alias)
	q.str(".")
	q.str(e.col)
	if e.json {
		q.str(", ?) COLLATE NOCASE")
	}
	q.args = append(q.args, e.args...)
}

// where compiles n as a condition on t, whose alias is alias.
func (q *compiler) where(t *table, alias string, n query.Node) (frag, error) {
	if err := q.node(t, alias, n); err != nil {
		return frag{}, err
	}
	return q.take(), nil
}

func (q *compiler) node(t *table, alias string, n query.Node) error {
	switch n := n.(type) {
	case *query.Compare:
		return q.compare(operandOf(t, alias, n.Field), n)
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

// operand is the SQL expression of a field: the column alias.col, or for
// an object property json_extract(alias.col, ?) with the JSON path as its
// argument. COLLATE NOCASE makes text properties compare as text
// attributes do (it has no effect on numbers).
type operand struct {
	alias, col string
	json       bool
	args       []any
	field      query.Field // for messages
}

// sql returns the operand's text (its arguments are e.args).
func (e operand) sql() string {
	if e.json {
		return "json_extract(" + e.alias + "." + e.col + ", ?) COLLATE NOCASE"
	}
	return e.alias + "." + e.col
}

// operandOf returns the expression of f, a field of t's dataclass read on
// alias.
func operandOf(t *table, alias string, f query.Field) operand {
	c := t.byName[f.Attribute.Name]
	if f.Property != nil {
		return jsonOperand(alias, c, f)
	}
	return operand{alias: alias, col: c.name, field: f}
}

// jsonOperand reads the property f.Property of object column c. The JSON
// path is a parameter.
func jsonOperand(alias string, c *column, f query.Field) operand {
	var p strings.Builder
	p.WriteString("$")
	for _, s := range f.Property {
		p.WriteString(`."`)
		p.WriteString(s.Name) // names are letters, digits, _ and $ (checked by query); never SQL text
		p.WriteString(`"`)
	}
	return operand{alias: alias, col: c.name, json: true, args: []any{p.String()}, field: f}
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
		q.expr(e)
		q.str(" IS NULL")
		return nil
	case query.NotNull:
		q.expr(e)
		q.str(" IS NOT NULL")
		return nil
	case query.Like, query.NotLike:
		return q.like(e, c.Op == query.NotLike, likePattern(c.Pattern))
	case query.Keyword:
		q.str("fourd_keyword(")
		q.expr(e)
		q.str(", ")
		q.arg(c.Value)
		q.str(")")
		return nil
	case query.In:
		return q.in(e, c.List)
	case query.Eq, query.Ne, query.Lt, query.Le, query.Gt, query.Ge:
		q.expr(e)
		q.str(opSQL[c.Op])
		q.arg(sqlValue(c.Value))
		return nil
	}
	return badFilter("%s: unknown operator %v", e.field.Name(), c.Op)
}

// sqlValue converts a constant of the checked tree to the form SQLite
// stores (see value.go): booleans as 0 and 1, dates as YYYY-MM-DD text.
func sqlValue(v any) any {
	switch x := v.(type) {
	case bool:
		return boolInt(x)
	case time.Time:
		return x.Format(dateLayout)
	}
	return v
}

// maxInlineList is the longest IN list written as one parameter per value;
// a longer one is one JSON array read by json_each.
const maxInlineList = 64

// in compiles "e IN list": plain values in one SQL IN list, patterns as
// LIKEs, null as IS NULL.
func (q *compiler) in(e operand, list query.List) error {
	if len(list.Values) == 0 && len(list.Patterns) == 0 && !list.Null {
		q.str("0") // an empty list selects nothing
		return nil
	}
	q.str("(")
	sep := ""
	switch {
	case len(list.Values) > maxInlineList:
		// One JSON array parameter: a list from $params has no length limit,
		// and SQLite accepts at most 32,766 parameters in a statement.
		plain := make([]any, len(list.Values))
		for i, x := range list.Values {
			plain[i] = sqlValue(x)
		}
		text, err := json.Marshal(plain)
		if err != nil {
			return badFilter("%s: the IN list cannot be read: %v", e.field.Name(), err)
		}
		q.expr(e)
		q.str(` IN (SELECT "value" FROM json_each(`)
		q.arg(string(text))
		q.str("))")
		sep = " OR "
	case len(list.Values) > 0:
		q.expr(e)
		q.str(" IN (")
		for i, x := range list.Values {
			if i > 0 {
				q.str(", ")
			}
			q.arg(sqlValue(x))
		}
		q.str(")")
		sep = " OR "
	}
	for _, p := range list.Patterns {
		q.str(sep)
		if err := q.like(e, false, likePattern(p)); err != nil {
			return err
		}
		sep = " OR "
	}
	if list.Null {
		q.str(sep)
		q.expr(e)
		q.str(" IS NULL")
	}
	q.str(")")
	return nil
}

// maxLikePattern is the longest LIKE pattern SQLite accepts
// (SQLITE_MAX_LIKE_PATTERN_LENGTH).
const maxLikePattern = 50_000

// like writes "e LIKE pattern" (NOT LIKE with not), with \ as the escape
// character.
func (q *compiler) like(e operand, not bool, pattern string) error {
	if len(pattern) > maxLikePattern {
		return badFilter("%s: a value with @ or after begin can be at most %d bytes long", e.field.Name(), maxLikePattern)
	}
	q.expr(e)
	if not {
		q.str(" NOT")
	}
	q.str(" LIKE ")
	q.arg(pattern)
	q.str(` ESCAPE '\'`)
	return nil
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
func likePattern(p query.Pattern) string {
	var b strings.Builder
	for i, piece := range p {
		if i > 0 {
			b.WriteByte('%')
		}
		b.WriteString(escapeLike(piece))
	}
	return b.String()
}

// order compiles sort keys on t (alias alias) to an ORDER BY list, ending
// with the rowid so that equal keys keep a stable order and pages do not
// overlap. A key through N->1 relations reads a column of the joined
// related table (see leftJoin): a join, not a subquery per row and term
// (which cost about a second per term on 100,000 rows). Nulls sort first
// in ascending order and last in descending order, as SQLite does and as
// 4D puts null before every other value.
func (q *compiler) order(t *table, alias string, ob []query.Order) frag {
	for _, o := range ob {
		tt, a := t, alias
		for _, rel := range o.Through {
			c := tt.byName[rel.Name]
			a, tt = q.leftJoin(a, c), c.related
		}
		q.expr(operandOf(tt, a, o.Field))
		if o.Desc {
			q.str(" DESC")
		}
		q.str(", ")
	}
	q.str(alias + "." + t.rowCol)
	return q.take()
}

// compiled is a selection compiled for one statement, with t0 as the
// alias of the dataclass's table.
type compiled struct {
	sel   query.Selection
	t     *table
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
	var where frag
	if s.Where != nil {
		if where, err = q.where(t, "t0", s.Where); err != nil {
			return compiled{}, err
		}
	}
	if s.InRows != nil {
		// One JSON array parameter, however many rows (as Load does).
		in := "t0." + t.rowCol + ` IN (SELECT "value" FROM json_each(?))`
		if where.sql != "" {
			in = "(" + where.sql + ") AND " + in
		}
		where.sql = in
		where.args = append(where.args, rowsJSON(s.InRows))
	}
	if where.sql != "" {
		where.sql = " WHERE " + where.sql
	}
	order := q.order(t, "t0", s.OrderBy)
	order.sql = " ORDER BY " + order.sql
	return compiled{sel: s, t: t, from: " FROM " + t.name + " AS t0" + q.joins.String(), where: where, order: order}, nil
}
