package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/query"
)

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

// selectList returns the columns an entity is read from: rowid, key, stamp,
// timestamp, then cols, all of table alias alias.
func (t *table) selectList(alias string, cols []*column) string {
	var b strings.Builder
	b.WriteString(alias + "." + t.rowCol + ", " + alias + "." + t.key.name + ", " + alias + "." + colStamp + ", " + alias + "." + colTimestamp)
	for _, c := range cols {
		b.WriteString(", " + alias + "." + c.name)
	}
	return b.String()
}

// scanner reads entities from rows selected with selectList (after
// skipping extra leading columns).
type scanner struct {
	t     *table
	cols  []*column
	extra int
	vals  []any
	ptrs  []any
}

func newScanner(t *table, cols []*column, extra int) *scanner {
	n := extra + 4 + len(cols)
	s := &scanner{t: t, cols: cols, extra: extra, vals: make([]any, n), ptrs: make([]any, n)}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return s
}

func (s *scanner) scan(rows *sql.Rows) (*fourd.Entity, error) {
	clear(s.vals)
	if err := rows.Scan(s.ptrs...); err != nil {
		return nil, err
	}
	v := s.vals[s.extra:]
	row, _ := v[0].(int64)
	stamp, _ := v[2].(int64)
	ts, _ := v[3].(int64)
	e := &fourd.Entity{
		Key:       keyText(v[1]),
		Stamp:     stamp,
		Timestamp: time.UnixMilli(ts).UTC(),
		Row:       fourd.RowID(row),
		Values:    make(map[string]any, len(s.cols)),
	}
	for i, c := range s.cols {
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
			return nil, fmt.Errorf("%s.%s: %w", s.t.dc.Name, c.attr.Name, err)
		}
		e.Values[c.attr.Name] = val
	}
	return e, nil
}

// Rows returns the row IDs of the selection, in its order.
func (db *DB) Rows(ctx context.Context, sel fourd.Selection) ([]fourd.RowID, error) {
	c, err := db.selection(sel)
	if err != nil {
		return nil, err
	}
	t, where, order := c.t, c.where, c.order
	var out []fourd.RowID
	err = db.query(ctx, func(tx querier) error {
		out, err = queryRows(ctx, tx, "SELECT t0."+t.rowCol+c.from+where.sql+order.sql, append(where.args, order.args...))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rows of %s: %w", t.dc.Name, err)
	}
	return out, nil
}

// queryRows runs a query whose one column is a rowid.
func queryRows(ctx context.Context, tx querier, query string, args []any) ([]fourd.RowID, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fourd.RowID
	var id int64
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, fourd.RowID(id))
	}
	return out, rows.Err()
}

// Page returns at most top entities of the selection after skipping skip,
// and the size of the whole selection, both read from one snapshot.
func (db *DB) Page(ctx context.Context, sel fourd.Selection, skip, top int, attrs []string) ([]*fourd.Entity, int, error) {
	c, err := db.selection(sel)
	if err != nil {
		return nil, 0, err
	}
	t, from, where, order := c.t, c.from, c.where, c.order
	cols, err := t.columns(attrs)
	if err != nil {
		return nil, 0, err
	}
	skip, top = max(skip, 0), max(top, 0)
	var out []*fourd.Entity
	var count int
	key, cacheable := countKey(t.name, where.sql, where.args)
	err = db.read(ctx, func(tx querier) error {
		// The count of a selection already counted at this global stamp
		// is exact (see countCache): read the stamp in this snapshot.
		var stamp int64
		if cacheable {
			if err := tx.QueryRowContext(ctx, sqlGlobalStamp).Scan(&stamp); err != nil {
				return err
			}
		}
		n, hit := db.counts.get(stamp, key)
		if cacheable && hit {
			count = n
		} else {
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name+" AS t0"+where.sql, where.args...).Scan(&count); err != nil {
				return err
			}
			if cacheable {
				db.counts.put(stamp, key, count)
			}
		}
		if top == 0 || skip >= count {
			return nil
		}
		args := append(append(where.args[:len(where.args):len(where.args)], order.args...), top, skip)
		rows, err := tx.QueryContext(ctx, "SELECT "+t.selectList("t0", cols)+from+where.sql+order.sql+" LIMIT ? OFFSET ?", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		s := newScanner(t, cols, 0)
		out = make([]*fourd.Entity, 0, min(top, count-skip))
		for rows.Next() {
			e, err := s.scan(rows)
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

// rowsJSON writes row IDs as a JSON array, the form json_each reads: one
// parameter however many rows there are.
func rowsJSON(rows []fourd.RowID) string {
	b := make([]byte, 0, 2+len(rows)*7)
	b = append(b, '[')
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(r), 10)
	}
	return string(append(b, ']'))
}

// Load returns the entities of dc with those row IDs, in that order; an
// entry is nil for a row that no longer exists. The row IDs go to SQLite
// as one JSON array read by json_each, whose "key" is the position in the
// array: one statement for any number of rows, and no temporary table
// (see docs/performance.md for the measurements).
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
	err = db.query(ctx, func(tx querier) error {
		// CROSS JOIN keeps json_each as the outer loop: one rowid lookup
		// per element, in array order.
		r, err := tx.QueryContext(ctx, `SELECT j."key", `+t.selectList("t0", cols)+` FROM json_each(?) AS j CROSS JOIN `+t.name+` AS t0 ON t0.`+t.rowCol+` = j."value"`, rowsJSON(rows))
		if err != nil {
			return err
		}
		defer r.Close()
		s := newScanner(t, cols, 1)
		for r.Next() {
			e, err := s.scan(r)
			if err != nil {
				return err
			}
			if i, ok := s.vals[0].(int64); ok && i >= 0 && int(i) < len(out) {
				out[i] = e
			}
		}
		return r.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", t.dc.Name, err)
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
	var e *fourd.Entity
	err = db.query(ctx, func(tx querier) error {
		e, err = entityWhere(ctx, tx, t, cols, "t0."+t.key.name+" = ?", k)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("entity of %s: %w", t.dc.Name, err)
	}
	if e == nil {
		return nil, notFound(t, key)
	}
	return e, nil
}

func notFound(t *table, key string) *fourd.Error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity, "%s has no entity with key %q", t.dc.Name, truncate(key, 64))
}

// entityWhere reads the one entity of t matching cond, or nil.
func entityWhere(ctx context.Context, tx querier, t *table, cols []*column, cond string, args ...any) (*fourd.Entity, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+t.selectList("t0", cols)+" FROM "+t.name+" AS t0 WHERE "+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	return newScanner(t, cols, 0).scan(rows)
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
	ob := q.order(t, "t0", checked)
	if len(rows) == 0 {
		return []fourd.RowID{}, nil
	}
	var sorted []fourd.RowID
	err = db.query(ctx, func(tx querier) error {
		sorted, err = queryRows(ctx, tx, `SELECT t0.`+t.rowCol+` FROM json_each(?) AS j CROSS JOIN `+t.name+` AS t0 ON t0.`+t.rowCol+` = j."value"`+q.joins.String()+` ORDER BY `+ob.sql,
			append([]any{rowsJSON(rows)}, ob.args...))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sort %s: %w", t.dc.Name, err)
	}
	if len(sorted) < len(rows) {
		found := make(map[fourd.RowID]bool, len(sorted))
		for _, r := range sorted {
			found[r] = true
		}
		for _, r := range rows {
			if !found[r] {
				sorted = append(sorted, r)
			}
		}
	}
	return sorted, nil
}

var aggregateSQL = map[fourd.Aggregate]string{
	fourd.AggregateCount:   "count",
	fourd.AggregateSum:     "sum",
	fourd.AggregateAverage: "avg",
	fourd.AggregateMin:     "min",
	fourd.AggregateMax:     "max",
}

// valueOperand checks and resolves the attribute path of Compute and
// Distinct (query.CheckField).
func (db *DB) valueOperand(t *table, attr string) (query.Field, operand, error) {
	f, err := query.CheckField(t.dc, attr)
	if err != nil {
		return query.Field{}, operand{}, err
	}
	return f, operandOf(t, "t0", f), nil
}

// Compute aggregates attr (a storage attribute, or a property of an object
// attribute: info.score) over the selection. count counts the non-null
// values; sum, average, min and max ignore nulls. Numbers support every
// operation; text, dates, booleans and UUIDs count, min and max (text
// compared without case); objects count. Over no value, sum is 0 and
// average, min and max are nil. AggregateAll returns a map of every
// operation that applies, by name.
func (db *DB) Compute(ctx context.Context, sel fourd.Selection, attr string, op fourd.Aggregate) (any, error) {
	c, err := db.selection(fourd.Selection{DataClass: sel.DataClass, Filter: sel.Filter, InRows: sel.InRows})
	if err != nil {
		return nil, err
	}
	t, where := c.t, c.where
	f, e, err := db.valueOperand(t, attr)
	if err != nil {
		return nil, err
	}
	ops, err := query.CheckCompute(f, op)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	var args []any
	for i, o := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(aggregateSQL[o] + "(" + e.sql() + ")")
		args = append(args, e.args...)
	}
	args = append(args, where.args...)
	vals := make([]any, len(ops))
	ptrs := make([]any, len(ops))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err = db.query(ctx, func(tx querier) error {
		return tx.QueryRowContext(ctx, "SELECT "+b.String()+" FROM "+t.name+" AS t0"+where.sql, args...).Scan(ptrs...)
	})
	if err != nil {
		return nil, fmt.Errorf("compute %s: %w", f.Name(), err)
	}
	out := make(map[string]any, len(ops))
	for i, o := range ops {
		v, err := aggregateValue(f.Type, o, vals[i])
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
// attribute (count: int64, average: float64).
func aggregateValue(typ fourd.AttributeType, op fourd.Aggregate, v any) (any, error) {
	switch op {
	case fourd.AggregateCount:
		return v, nil
	case fourd.AggregateAverage:
		if v == nil {
			return nil, nil
		}
		return fromSQL(fourd.AttrNumber, v)
	case fourd.AggregateSum:
		if v == nil {
			v = int64(0)
		}
		if typ == fourd.AttrNumber {
			return fromSQL(fourd.AttrNumber, v)
		}
		return v, nil
	}
	if typ == "" || v == nil { // an object property: the JSON value's own type
		return v, nil
	}
	return fromSQL(typ, v)
}

// Distinct returns the distinct non-null values of attr (as for Compute)
// over the selection, sorted, at most limit of them (all when limit <= 0);
// text values that differ only in case count as one.
func (db *DB) Distinct(ctx context.Context, sel fourd.Selection, attr string, limit int) ([]any, error) {
	c, err := db.selection(fourd.Selection{DataClass: sel.DataClass, Filter: sel.Filter, InRows: sel.InRows})
	if err != nil {
		return nil, err
	}
	t, where := c.t, c.where
	f, e, err := db.valueOperand(t, attr)
	if err != nil {
		return nil, err
	}
	if err := query.CheckDistinct(f); err != nil {
		return nil, err
	}
	cond := " WHERE "
	if where.sql != "" {
		cond = where.sql + " AND "
	}
	args := append(append(append(append([]any{}, e.args...), where.args...), e.args...), e.args...)
	x := e.sql()
	stmt := "SELECT DISTINCT " + x + " FROM " + t.name + " AS t0" + cond + x + " IS NOT NULL ORDER BY " + x
	if limit > 0 {
		stmt += " LIMIT ?"
		args = append(args, limit)
	}
	out := []any{}
	err = db.query(ctx, func(tx querier) error {
		rows, err := tx.QueryContext(ctx, stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v any
			if err := rows.Scan(&v); err != nil {
				return err
			}
			if f.Type != "" {
				if v, err = fromSQL(f.Type, v); err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("distinct %s: %w", f.Name(), err)
	}
	return out, nil
}

// sqlGlobalStamp reads the global stamp.
const sqlGlobalStamp = `SELECT "value" FROM "__fourd" WHERE "key" = 'globalStamp'`

// GlobalStamp returns the datastore's modification counter: +1 for every
// entity saved or deleted. It is the value the writer last committed
// (stamp.go), read from the database only when none is known.
func (db *DB) GlobalStamp(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if stamp, ok := db.stamp.get(); ok {
		return stamp, nil
	}
	var stamp int64
	err := db.query(ctx, func(tx querier) error {
		return tx.QueryRowContext(ctx, sqlGlobalStamp).Scan(&stamp)
	})
	if err != nil {
		return 0, fmt.Errorf("global stamp: %w", err)
	}
	return stamp, nil
}
