package sqlite

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// This file compiles a bound filter tree (filter.Query) to an SQL
// condition, and a filter.OrderBy to an ORDER BY list.
//
// No text from the filter is ever written into the SQL: identifiers come
// from the model (a path's names are looked up in it, and only the model's
// own quoted names are written), and every value, object property path
// included, is a "?" parameter. The SQL around them is fixed text.
//
// The semantics, as in 4D (docs/model.md repeats them for users):
//
//   - Text comparisons are case-insensitive: text columns are COLLATE
//     NOCASE, and LIKE ignores case. Only ASCII letters fold (SQLite's
//     NOCASE): É and é differ, and so do e and é, where 4D would also
//     ignore diacritics.
//   - = and == with @: '@' matches any run of characters, compiled to LIKE
//     with % and _ of the literal parts escaped. Without @ they are a plain
//     =, which an index serves; a prefix pattern (abc@) is a LIKE that
//     SQLite turns into an index range.
//   - === and IS: equal, still case-insensitive (4D's strict equal only
//     makes @ an ordinary character); !== and IS NOT likewise.
//   - # and != never match a null value (4D: NOT(attr = value) minus the
//     nulls); neither does !==.
//   - = null is IS NULL; # null, != null, !== null are IS NOT NULL.
//   - NOT(X) and EXCEPT are set complements, as 4D computes them: NOT(X)
//     holds for every entity X does not select, nulls included, which is
//     SQL's "(X) IS NOT TRUE", not SQL's NOT (which drops rows where X is
//     null).
//   - begin: starts with the value, @ being an ordinary character.
//   - % (keyword): the value is one word and the text contains it as a
//     whole word, ignoring case. Words are runs of letters, digits and
//     apostrophes; anything else separates them. A value of several words
//     matches nothing, as in 4D.
//   - A string compared with a number attribute is converted to a number;
//     text that is not a number is an error naming the attribute and the
//     value. A number, date or boolean compared with a text attribute is
//     compared as the text it was written as.
//   - Dates compare as dates ("YYYY-MM-DD" text, which sorts as dates).
//   - Relation paths: employer.name = x selects the employees whose
//     employer's name is x (a subquery on the foreign key); staff.lastName
//     = x on Company selects the companies with at least one such employee.
//     With # (and !==) through a 1->N relation, the companies that have no
//     such employee. = null through a relation also selects entities whose
//     relation is empty.
//   - Object attributes: info.address.city compares the property through
//     json_extract; its type is the JSON value's.

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

// join returns the alias of c's related table joined to alias, adding the
// LEFT JOIN the first time. The related key is the related table's
// primary key: at most one row matches, so the join never repeats a row.
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

func (q *compiler) str(s string)   { q.b.WriteString(s) }
func (q *compiler) arg(v any)      { q.b.WriteByte('?'); q.args = append(q.args, v) }
func (q *compiler) take() frag     { f := frag{q.b.String(), q.args}; q.b.Reset(); q.args = nil; return f }
func (q *compiler) expr(e operand) { q.str(e.sql); q.args = append(q.args, e.args...) }

// where compiles n as a condition on t, whose alias is alias.
func (q *compiler) where(t *table, alias string, n filter.Node) (frag, error) {
	if err := q.node(t, alias, n); err != nil {
		return frag{}, err
	}
	return q.take(), nil
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

// operand is the left side of a comparison once its path is resolved: an
// SQL expression with its arguments, and the type values are converted to
// ("" for an object property, whose type is the JSON value's).
type operand struct {
	sql  string
	args []any
	typ  fourd.AttributeType
	name string // "Employee.salary", for messages
}

// text reports whether the operand holds text, for LIKE, begin and %.
func (e operand) text() bool {
	return e.typ == fourd.AttrString || e.typ == fourd.AttrUUID || e.typ == ""
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
		// The filter grammar only reads such names; a tree built in Go could
		// hold anything, and an object property name goes into a JSON path.
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
		return q.compare(jsonOperand(alias, t, c, rest), op, v)
	case len(rest) > 0:
		return badFilter("%s.%s is a %s attribute: it has no property %q", t.dc.Name, name, c.typ, rest[0].Name)
	}
	return q.compare(operand{sql: alias + "." + c.name, typ: c.typ, name: t.dc.Name + "." + name}, op, v)
}

// jsonOperand reads the property path rest of object column c. The JSON
// path is a parameter; COLLATE NOCASE makes text properties compare as
// text attributes do (it has no effect on numbers).
func jsonOperand(alias string, t *table, c *column, rest filter.Path) operand {
	var p strings.Builder
	p.WriteString("$")
	for _, s := range rest {
		p.WriteString(`."`)
		p.WriteString(s.Name) // names are letters, digits, _ and $ (filter grammar); never SQL text
		p.WriteString(`"`)
	}
	return operand{
		sql:  "json_extract(" + alias + "." + c.name + ", ?) COLLATE NOCASE",
		args: []any{p.String()},
		name: t.dc.Name + "." + c.attr.Name + "." + rest.String(),
	}
}

// toOne compiles a comparison through the N->1 relation c: the foreign key
// is among the keys of the related entities that match.
func (q *compiler) toOne(t *table, alias string, c *column, rest filter.Path, op filter.Op, v filter.Value) error {
	rel := c.related
	fk := alias + "." + c.name
	// employer.ID = 3: the foreign key holds the related key already.
	if len(rest) == 1 && rest[0].Name == rel.dc.PrimaryKey && rest[0].Class == 0 && !rest[0].Collection {
		return q.compare(operand{sql: fk, typ: c.typ, name: t.dc.Name + "." + c.attr.Name + "." + rest[0].Name}, op, v)
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
		switch op {
		case filter.OpEqual, filter.OpStrictEqual:
			q.expr(e)
			q.str(" IS NULL")
		case filter.OpNotEqual, filter.OpStrictNotEqual:
			q.expr(e)
			q.str(" IS NOT NULL")
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
		q.str("fourd_keyword(")
		q.expr(e)
		q.str(", ")
		q.arg(v.Str)
		q.str(")")
		return nil
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
	q.expr(e)
	q.str(sqlOp)
	q.arg(x)
	return nil
}

// maxInlineList is the longest IN list written as one parameter per value;
// a longer one is one JSON array read by json_each.
const maxInlineList = 64

// in compiles "e IN [v1, v2, ...]": plain values in one SQL IN list,
// wildcard values as LIKEs, null as IS NULL.
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
		q.str("0") // an empty list selects nothing
		return nil
	}
	q.str("(")
	sep := ""
	switch {
	case len(plain) > maxInlineList:
		// One JSON array parameter: a list from $params has no length limit,
		// and SQLite accepts at most 32,766 parameters in a statement.
		list, err := json.Marshal(plain)
		if err != nil {
			return badFilter("%s: the IN list cannot be read: %v", e.name, err)
		}
		q.expr(e)
		q.str(` IN (SELECT "value" FROM json_each(`)
		q.arg(string(list))
		q.str("))")
		sep = " OR "
	case len(plain) > 0:
		q.expr(e)
		q.str(" IN (")
		for i, x := range plain {
			if i > 0 {
				q.str(", ")
			}
			q.arg(x)
		}
		q.str(")")
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
		return badFilter("%s: a value with @ or after begin can be at most %d bytes long", e.name, maxLikePattern)
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
			return boolInt(v.Bool), nil
		case filter.KindString:
			switch strings.ToLower(strings.TrimSpace(v.Str)) {
			case "true":
				return int64(1), nil
			case "false":
				return int64(0), nil
			}
		case filter.KindInt:
			if v.Int == 0 || v.Int == 1 {
				return v.Int, nil
			}
		}
		return nil, bad("true or false")
	case fourd.AttrDate:
		switch v.Kind {
		case filter.KindDate:
			return v.Date.Format(dateLayout), nil
		case filter.KindString:
			if d, ok := parseDate(v.Str); ok {
				return d.Format(dateLayout), nil
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
			return boolInt(v.Bool), nil // json_extract gives 1 and 0 for true and false
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
// with the rowid so that equal keys keep a stable order and pages do not
// overlap.
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
			q.str(" DESC")
		}
		q.str(", ")
	}
	q.str(alias + "." + t.rowCol)
	return q.take(), nil
}

// sortKey writes the expression a path sorts by: a column, an object
// property, or through N->1 relations a column of the joined related
// table (see join). Nulls sort first in ascending order and last in descending order,
// as 4D puts null before every other value.
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
		// A join, not a subquery per row and term (which cost about a
		// second per term on 100,000 rows).
		return q.sortKey(c.related, q.join(alias, c), rest)
	case c.typ == fourd.AttrObject && len(rest) > 0:
		q.expr(jsonOperand(alias, t, c, rest))
		return nil
	case len(rest) > 0:
		return badFilter("%s.%s is a %s attribute: it has no property %q", t.dc.Name, name, c.typ, rest[0].Name)
	}
	q.str(alias + "." + c.name)
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

// selection compiles a selection's condition (empty when there is no
// filter) and order, with t0 as the alias of the dataclass's table; from
// is the FROM clause with the joins the order needs.
func (db *DB) selection(sel fourd.Selection) (t *table, from string, where, order frag, err error) {
	if t, err = db.table(sel.DataClass); err != nil {
		return nil, "", frag{}, frag{}, err
	}
	q := &compiler{db: db}
	if sel.Filter != nil && sel.Filter.Expr != nil {
		if where, err = q.where(t, "t0", sel.Filter.Expr); err != nil {
			return nil, "", frag{}, frag{}, err
		}
	}
	if sel.InRows != nil {
		// One JSON array parameter, however many rows (as Load does).
		in := "t0." + t.rowCol + ` IN (SELECT "value" FROM json_each(?))`
		if where.sql != "" {
			in = "(" + where.sql + ") AND " + in
		}
		where.sql = in
		where.args = append(where.args, rowsJSON(sel.InRows))
	}
	if where.sql != "" {
		where.sql = " WHERE " + where.sql
	}
	if order, err = q.order(t, "t0", orderOf(sel)); err != nil {
		return nil, "", frag{}, frag{}, err
	}
	order.sql = " ORDER BY " + order.sql
	return t, " FROM " + t.name + " AS t0" + q.joins.String(), where, order, nil
}
