package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/query"
	"github.com/jackc/pgx/v5"
)

// querier is what the pool and a transaction have in common for reading.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// columns resolves the attributes to load: nil means every storage and
// relatedEntity attribute. A path (employer.name) loads its first
// attribute (the relation's key); relatedEntities attributes are never
// loaded; an unknown name is an EINVALID error.
func (t *table) columns(attrs []string) ([]*column, error) {
	if attrs == nil {
		return t.cols, nil
	}
	out := make([]*column, 0, len(attrs))
	seen := make(map[*column]bool, len(attrs))
	for _, name := range attrs {
		first, _, _ := strings.Cut(name, ".")
		c := t.byName[first]
		if c == nil {
			if a := t.dc.Attribute(first); a != nil && a.Kind == fourd.KindRelatedEntities {
				continue
			}
			return nil, unknownAttribute(t.dc, first)
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// selectList returns the columns an entity is read from: row, key, stamp,
// timestamp, then cols, all of table alias alias.
func (t *table) selectList(alias string, cols []*column) string {
	var b strings.Builder
	b.WriteString(alias + "." + colRow + ", " + alias + "." + t.key.name + ", " + alias + "." + colStamp + ", " + alias + "." + colTimestamp)
	for _, c := range cols {
		b.WriteString(", " + alias + "." + c.name)
	}
	return b.String()
}

// scan reads an entity from a row selected with selectList after extra
// leading columns, whose values it returns.
func (t *table) scan(rows pgx.Rows, cols []*column, extra int) (*fourd.Entity, []any, error) {
	v, err := rows.Values()
	if err != nil {
		return nil, nil, err
	}
	if len(v) != extra+4+len(cols) {
		return nil, nil, fmt.Errorf("%s: %d columns read, want %d", t.dc.Name, len(v), extra+4+len(cols))
	}
	lead, v := v[:extra], v[extra:]
	row, _ := v[0].(int64)
	stamp, _ := v[2].(int64)
	ts, _ := v[3].(int64)
	e := &fourd.Entity{
		Key:       keyText(v[1]),
		Stamp:     stamp,
		Timestamp: time.UnixMilli(ts).UTC(),
		Row:       fourd.RowID(row),
		Values:    make(map[string]any, len(cols)),
	}
	for i, c := range cols {
		x := v[4+i]
		if c.attr.Kind == fourd.KindRelatedEntity {
			if x == nil {
				e.Values[c.attr.Name] = nil
			} else {
				e.Values[c.attr.Name] = keyText(x)
			}
			continue
		}
		val, err := fromSQL(c.typ, x)
		if err != nil {
			return nil, nil, fmt.Errorf("%s.%s: %w", t.dc.Name, c.attr.Name, err)
		}
		e.Values[c.attr.Name] = val
	}
	return e, lead, nil
}

// queryRows runs a query whose one column is a row number.
func queryRows(ctx context.Context, tx querier, query string, args []any) ([]fourd.RowID, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []fourd.RowID
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
		out = append(out, fourd.RowID(id))
		return nil
	})
	return out, err
}

// Rows returns the row IDs of the selection, in its order.
func (db *DB) Rows(ctx context.Context, sel fourd.Selection) ([]fourd.RowID, error) {
	c, err := db.selection(sel)
	if err != nil {
		return nil, err
	}
	t, from, where, order := c.t, c.from, c.where, c.order
	out, err := queryRows(ctx, db.pool, "SELECT t0."+colRow+from+where.sql+order.sql, append(where.args, order.args...))
	if err != nil {
		return nil, fmt.Errorf("rows of %s: %w", t.dc.Name, ctxErr(ctx, err))
	}
	return out, nil
}

// Page returns at most top entities of the selection after skipping skip,
// and the size of the whole selection, both read from one snapshot.
func (db *DB) Page(ctx context.Context, sel fourd.Selection, skip, top int, attrs []string) ([]*fourd.Entity, int, error) {
	c, err := db.selection(sel)
	if err != nil {
		return nil, 0, err
	}
	t, q, from, where, order := c.t, c.q, c.from, c.where, c.order
	cols, err := t.columns(attrs)
	if err != nil {
		return nil, 0, err
	}
	skip, top = max(skip, 0), max(top, 0)
	var out []*fourd.Entity
	var count int
	key, cacheable := countKey(t.name, where)
	err = db.read(ctx, func(tx pgx.Tx) error {
		// The count of a selection already counted at this global stamp
		// is exact (see countCache): read the stamp in this snapshot.
		var stamp int64
		if cacheable {
			if err := tx.QueryRow(ctx, sqlGlobalStamp).Scan(&stamp); err != nil {
				return err
			}
		}
		n, hit := db.counts.get(stamp, key)
		if cacheable && hit {
			count = n
		} else {
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+t.name+" AS t0"+where.sql, where.args...).Scan(&count); err != nil {
				return err
			}
			if cacheable {
				db.counts.put(stamp, key, count)
			}
		}
		if top == 0 || skip >= count {
			return nil
		}
		args := slices.Concat(where.args, order.args, []any{int64(top), int64(skip)})
		limit := q.n + 1
		rows, err := tx.Query(ctx, fmt.Sprintf("SELECT %s%s%s%s LIMIT $%d OFFSET $%d", t.selectList("t0", cols), from, where.sql, order.sql, limit, limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = make([]*fourd.Entity, 0, min(top, count-skip))
		for rows.Next() {
			e, _, err := t.scan(rows, cols, 0)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("page of %s: %w", t.dc.Name, err)
	}
	return out, count, nil
}

// Load returns the entities of dc with those row IDs, in that order; an
// entry is nil for a row that no longer exists. The row IDs go as one
// bigint[] parameter, unnested WITH ORDINALITY: one statement for any
// number of rows, each found through the primary key.
func (db *DB) Load(ctx context.Context, dc *fourd.DataClass, rows []fourd.RowID, attrs []string) ([]*fourd.Entity, error) {
	t, err := db.table(dc)
	if err != nil {
		return nil, err
	}
	cols, err := t.columns(attrs)
	if err != nil {
		return nil, err
	}
	out := make([]*fourd.Entity, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	r, err := db.pool.Query(ctx, `SELECT j.i, `+t.selectList("t0", cols)+` FROM unnest($1::bigint[]) WITH ORDINALITY AS j(r, i) JOIN `+t.name+` AS t0 ON t0.`+colRow+` = j.r`, rowArray(rows))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", t.dc.Name, ctxErr(ctx, err))
	}
	defer r.Close()
	for r.Next() {
		e, lead, err := t.scan(r, cols, 1)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", t.dc.Name, err)
		}
		if i, ok := lead[0].(int64); ok && i >= 1 && int(i) <= len(out) {
			out[i-1] = e
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", t.dc.Name, ctxErr(ctx, err))
	}
	return out, nil
}

// Entity returns the entity of dc with that primary key (text form), or an
// ENOTFOUND error, also for a key that cannot be a key of dc (not a number
// for a long key, not a UUID for a uuid key).
func (db *DB) Entity(ctx context.Context, dc *fourd.DataClass, key string, attrs []string) (*fourd.Entity, error) {
	t, err := db.table(dc)
	if err != nil {
		return nil, err
	}
	cols, err := t.columns(attrs)
	if err != nil {
		return nil, err
	}
	k, ok := keyArg(t.key.typ, key)
	if !ok {
		return nil, notFound(t, key)
	}
	e, err := entityWhere(ctx, db.pool, t, cols, t.keyWhere("t0", 1), k)
	if err != nil {
		return nil, fmt.Errorf("entity of %s: %w", t.dc.Name, ctxErr(ctx, err))
	}
	if e == nil {
		return nil, notFound(t, key)
	}
	return e, nil
}

// keyWhere returns the condition "the key of alias is parameter $n".
func (t *table) keyWhere(alias string, n int) string {
	p := fmt.Sprintf("$%d::%s", n, paramType(t.key.typ))
	if t.key.typ == fourd.AttrString {
		p = textKey(p)
	}
	return t.keyExpr(alias) + " = " + p
}

// paramType is the cast of a parameter compared with a column of typ.
func paramType(typ fourd.AttributeType) string {
	switch typ {
	case fourd.AttrLong, fourd.AttrLong64:
		return "bigint"
	case fourd.AttrNumber:
		return "float8"
	case fourd.AttrBool:
		return "boolean"
	case fourd.AttrDate:
		return "date"
	case fourd.AttrObject:
		return "jsonb"
	}
	return "text"
}

func notFound(t *table, key string) *fourd.Error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity, "%s has no entity with key %q", t.dc.Name, truncate(key, 64))
}

// entityWhere reads the one entity of t matching cond, or nil.
func entityWhere(ctx context.Context, tx querier, t *table, cols []*column, cond string, args ...any) (*fourd.Entity, error) {
	return entityQuery(ctx, tx, t, cols, "SELECT "+t.selectList("t0", cols)+" FROM "+t.name+" AS t0 WHERE "+cond, args...)
}

func entityQuery(ctx context.Context, tx querier, t *table, cols []*column, query string, args ...any) (*fourd.Entity, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	e, _, err := t.scan(rows, cols, 0)
	return e, err
}

// Sort returns rows ordered by order. Rows that no longer exist have no
// values to sort by: they keep their relative order after the others, so
// that a sorted entity set keeps its size (Load returns nil for them).
func (db *DB) Sort(ctx context.Context, dc *fourd.DataClass, rows []fourd.RowID, order filter.OrderBy) ([]fourd.RowID, error) {
	t, err := db.table(dc)
	if err != nil {
		return nil, err
	}
	checked, err := query.CheckOrderBy(db.model, dc, order)
	if err != nil {
		return nil, err
	}
	q := &compiler{db: db}
	rowsParam := q.param(rowArray(rows), "bigint[]")
	q.take()
	ob := q.order(t, "t0", checked)
	if len(rows) == 0 {
		return []fourd.RowID{}, nil
	}
	sorted, err := queryRows(ctx, db.pool, `SELECT t0.`+colRow+` FROM `+t.name+` AS t0`+q.joins.String()+` WHERE t0.`+colRow+` = ANY (`+rowsParam+`) ORDER BY `+ob.sql,
		append([]any{rowArray(rows)}, ob.args...))
	if err != nil {
		return nil, fmt.Errorf("sort %s: %w", t.dc.Name, ctxErr(ctx, err))
	}
	if len(sorted) < len(rows) {
		found := make(map[fourd.RowID]bool, len(sorted))
		for _, r := range sorted {
			found[r] = true
		}
		for _, r := range rows {
			if !found[r] {
				sorted = append(sorted, r)
				found[r] = true // a row given twice is kept once, as the sort keeps it
			}
		}
	}
	return sorted, nil
}

// Compute aggregates attr (a storage attribute, or a property of an object
// attribute: info.score) over the selection. count counts the non-null
// values; sum, average, min and max ignore nulls. Numbers support every
// operation; text, dates, booleans and UUIDs count, min and max (text
// compared without case, the value returned as stored); objects count; an
// object property's sum, average, min and max take its numbers. Over no
// value, sum is 0 and average, min and max are nil. AggregateAll returns a
// map of every operation that applies, by name.
func (db *DB) Compute(ctx context.Context, sel fourd.Selection, attr string, op fourd.Aggregate) (any, error) {
	c, err := db.selection(fourd.Selection{DataClass: sel.DataClass, Filter: sel.Filter, InRows: sel.InRows})
	if err != nil {
		return nil, err
	}
	t, q, where := c.t, c.q, c.where
	f, err := query.CheckField(t.dc, attr)
	if err != nil {
		return nil, err
	}
	ops, err := query.CheckCompute(f, op)
	if err != nil {
		return nil, err
	}
	e := operandOf(q, t, "t0", f)
	operand := q.take() // the object path's parameter, if any
	from := " FROM " + t.name + " AS t0" + where.sql
	and := " WHERE "
	if where.sql != "" {
		and = " AND "
	}
	// The value aggregated: an object property's number (or, for count,
	// any non-null JSON value).
	num, nonNull := e.col, e.col
	if e.json != "" {
		num = "(CASE WHEN jsonb_typeof(" + e.json + ") = 'number' THEN (" + e.json + " #>> '{}')::numeric END)"
		nonNull = "nullif(" + e.json + ", 'null'::jsonb)"
	}
	var b strings.Builder
	for i, o := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case o == fourd.AggregateCount:
			b.WriteString("count(" + nonNull + ")")
		case o == fourd.AggregateSum:
			b.WriteString("sum(" + num + ")")
		case o == fourd.AggregateAverage:
			b.WriteString("avg(" + num + ")::float8")
		case e.typ == fourd.AttrString:
			// The first value in the text order, as it is stored.
			dir := ""
			if o == fourd.AggregateMax {
				dir = " DESC"
			}
			b.WriteString("(SELECT " + e.col + from + and + e.col + " IS NOT NULL ORDER BY " + textKey(e.col) + dir + ", t0." + colRow + " LIMIT 1)")
		case e.typ == fourd.AttrBool && o == fourd.AggregateMin:
			b.WriteString("bool_and(" + num + ")")
		case e.typ == fourd.AttrBool:
			b.WriteString("bool_or(" + num + ")")
		case o == fourd.AggregateMin:
			b.WriteString("min(" + num + ")")
		default:
			b.WriteString("max(" + num + ")")
		}
	}
	args := slices.Concat(where.args, operand.args)
	var vals []any
	err = db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+b.String()+from, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			return rows.Err()
		}
		vals, err = rows.Values()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("compute %s: %w", f.Name(), err)
	}
	out := make(map[string]any, len(ops))
	for i, o := range ops {
		v, err := aggregateValue(e.typ, o, vals[i])
		if err != nil {
			return nil, fmt.Errorf("compute %s: %w", f.Name(), err)
		}
		out[string(o)] = v
	}
	if op != fourd.AggregateAll {
		return out[string(op)], nil
	}
	return out, nil
}

// aggregateValue converts an aggregate's result to the Go type of the
// attribute (count: int64, average: float64, the sum of integers: int64).
func aggregateValue(typ fourd.AttributeType, op fourd.Aggregate, v any) (any, error) {
	switch op {
	case fourd.AggregateCount:
		return v, nil
	case fourd.AggregateAverage:
		return v, nil // avg(...)::float8, or nil
	case fourd.AggregateSum:
		if typ == fourd.AttrNumber {
			if v == nil {
				return 0.0, nil
			}
			return fromSQL(fourd.AttrNumber, v)
		}
		if v == nil {
			return int64(0), nil
		}
		return fromSQL(fourd.AttrLong, v) // a numeric: int64 when integral
	}
	if v == nil {
		return nil, nil
	}
	if typ == "" { // an object property: numeric, integral as int64
		return fromSQL(fourd.AttrLong, v)
	}
	return fromSQL(typ, v)
}

// Distinct returns the distinct non-null values of attr (as for Compute)
// over the selection, sorted, at most limit of them (all when limit <= 0);
// text values that differ only in case count as one (the first stored of
// them stands for all).
func (db *DB) Distinct(ctx context.Context, sel fourd.Selection, attr string, limit int) ([]any, error) {
	c, err := db.selection(fourd.Selection{DataClass: sel.DataClass, Filter: sel.Filter, InRows: sel.InRows})
	if err != nil {
		return nil, err
	}
	t, q, where := c.t, c.q, c.where
	f, err := query.CheckField(t.dc, attr)
	if err != nil {
		return nil, err
	}
	if err := query.CheckDistinct(f); err != nil {
		return nil, err
	}
	e := operandOf(q, t, "t0", f)
	operand := q.take()
	cond := " WHERE "
	if where.sql != "" {
		cond = where.sql + " AND "
	}
	args := slices.Concat(where.args, operand.args)
	var query string
	switch {
	case e.json != "":
		// Every distinct JSON value; folded and sorted below.
		query = "SELECT DISTINCT " + e.json + " FROM " + t.name + " AS t0" + cond + "nullif(" + e.json + ", 'null'::jsonb) IS NOT NULL"
	case e.typ == fourd.AttrString:
		query = "SELECT (array_agg(" + e.col + " ORDER BY t0." + colRow + "))[1] FROM " + t.name + " AS t0" + cond + e.col + " IS NOT NULL GROUP BY " + textKey(e.col) + " ORDER BY " + textKey(e.col)
	default:
		query = "SELECT DISTINCT " + e.col + " FROM " + t.name + " AS t0" + cond + e.col + " IS NOT NULL ORDER BY " + e.col
	}
	if limit > 0 && e.json == "" {
		query += fmt.Sprintf(" LIMIT $%d", q.n+1)
		args = append(args, int64(limit))
	}
	out := []any{}
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("distinct %s: %w", f.Name(), ctxErr(ctx, err))
	}
	var v any
	_, err = pgx.ForEachRow(rows, []any{&v}, func() error {
		if e.json != "" {
			out = append(out, jsonValue(v))
			return nil
		}
		x, err := fromSQL(e.typ, v)
		out = append(out, x)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("distinct %s: %w", f.Name(), ctxErr(ctx, err))
	}
	if e.json != "" {
		out = distinctJSON(out, limit)
	}
	return out, nil
}

// distinctJSON folds the text values of an object property that differ
// only in case and sorts the values: numbers, then text without case,
// then booleans, then objects and arrays (as their JSON), keeping at most
// limit (all when limit <= 0).
func distinctJSON(vals []any, limit int) []any {
	rank := func(v any) int {
		switch v.(type) {
		case int64, float64:
			return 0
		case string:
			return 1
		case bool:
			return 2
		}
		return 3
	}
	text := func(v any) string {
		if s, ok := v.(string); ok {
			return strings.ToLower(s)
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	num := func(v any) float64 {
		switch x := v.(type) {
		case int64:
			return float64(x)
		case float64:
			return x
		}
		return math.NaN()
	}
	slices.SortStableFunc(vals, func(a, b any) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		switch a := a.(type) {
		case int64, float64:
			x, y := num(a), num(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		case bool:
			if a == b.(bool) {
				return 0
			}
			if !a {
				return -1
			}
			return 1
		}
		return strings.Compare(text(a), text(b))
	})
	out := vals[:0]
	for i, v := range vals {
		if i > 0 && rank(v) == rank(vals[i-1]) && rank(v) != 0 && text(v) == text(out[len(out)-1]) {
			continue
		}
		out = append(out, v)
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// sqlGlobalStamp reads the global stamp: the sum of its shards.
const sqlGlobalStamp = `SELECT sum("value")::bigint FROM "__fourd_stamp"`

// GlobalStamp returns the datastore's modification counter: +1 for every
// entity saved or deleted, by any node.
func (db *DB) GlobalStamp(ctx context.Context) (int64, error) {
	var stamp int64
	if err := db.pool.QueryRow(ctx, sqlGlobalStamp).Scan(&stamp); err != nil {
		return 0, fmt.Errorf("global stamp: %w", ctxErr(ctx, err))
	}
	return stamp, nil
}

// countCache remembers the counts of selections (Page's __COUNT) for one
// value of the global stamp. Every change of the data bumps the stamp in
// the transaction that makes it, whichever node makes it, so two
// snapshots with the same stamp hold the same rows and a count taken in
// one is exact in the other: a cached count is used only by a read
// transaction that reads that same stamp in its own snapshot. A newer
// stamp empties the cache; a count from an older snapshot is not stored.
// The cache is bounded and safe for concurrent use.
type countCache struct {
	mu     sync.Mutex
	stamp  int64
	counts map[string]int
}

const (
	maxCounts   = 4096 // entries; a full cache is emptied
	maxCountKey = 4096 // bytes of a key; a longer filter is counted every time
)

func (c *countCache) get(stamp int64, key string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp != c.stamp {
		return 0, false
	}
	n, ok := c.counts[key]
	return n, ok
}

func (c *countCache) put(stamp int64, key string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case stamp < c.stamp:
		return
	case stamp > c.stamp || c.counts == nil || len(c.counts) >= maxCounts:
		c.stamp = stamp
		clear(c.counts)
		if c.counts == nil {
			c.counts = make(map[string]int)
		}
	}
	c.counts[key] = n
}

// countKey is the key of the count of "FROM table AS t0" + where: the SQL
// text (whose parameters carry their types as casts) and the arguments as
// JSON, so that two different queries never share a key.
func countKey(table string, where frag) (string, bool) {
	args, err := json.Marshal(where.args)
	if err != nil || len(table)+len(where.sql)+len(args) > maxCountKey {
		return "", false
	}
	return table + "\x00" + where.sql + "\x00" + string(args), true
}
