package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/query"
)

// This file serves $queryplan and $querypath: the filter tree in 4D's
// terms, SQLite's EXPLAIN QUERY PLAN, and the filter run step by step.

var _ fourd.QueryExplainer = (*DB)(nil)

// QueryPlan returns sel's filter as a tree of steps and SQLite's plan of
// the statement that selects its rows.
func (db *DB) QueryPlan(ctx context.Context, sel fourd.Selection) (fourd.QueryStep, []fourd.QueryStep, error) {
	c, err := db.selection(sel)
	if err != nil {
		return fourd.QueryStep{}, nil, err
	}
	t, from, where, order := c.t, c.from, c.where, c.order
	plan := query.Plan(t.dc, c.sel.Where)
	var engine []fourd.QueryStep
	err = db.query(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, "EXPLAIN QUERY PLAN SELECT t0."+t.rowCol+from+where.sql+order.sql, append(where.args, order.args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		// Rows come parents first; each names its parent's id (0: a root).
		type node struct {
			step     fourd.QueryStep
			children []int
		}
		var nodes []node
		index := map[int64]int{}
		var roots []int
		for rows.Next() {
			var id, parent, notused int64
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				return err
			}
			index[id] = len(nodes)
			nodes = append(nodes, node{step: fourd.QueryStep{Description: detail}})
			if p, ok := index[parent]; ok && parent != 0 {
				nodes[p].children = append(nodes[p].children, len(nodes)-1)
			} else {
				roots = append(roots, len(nodes)-1)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var build func(i int) fourd.QueryStep
		build = func(i int) fourd.QueryStep {
			s := nodes[i].step
			for _, c := range nodes[i].children {
				s.Steps = append(s.Steps, build(c))
			}
			return s
		}
		for _, r := range roots {
			engine = append(engine, build(r))
		}
		return nil
	})
	if err != nil {
		return fourd.QueryStep{}, nil, fmt.Errorf("query plan of %s: %w", t.dc.Name, err)
	}
	return plan, engine, nil
}

// QueryPath runs sel's filter step by step: each node of the tree is
// counted on its own (SELECT count(*) … WHERE <that node>), timed, and a
// join's condition is also counted on the related dataclass.
func (db *DB) QueryPath(ctx context.Context, sel fourd.Selection) (fourd.QueryStep, error) {
	t, err := db.table(sel.DataClass)
	if err != nil {
		return fourd.QueryStep{}, err
	}
	if sel.InRows != nil {
		return fourd.QueryStep{}, badFilter("$querypath: a query path describes a query on a whole dataclass")
	}
	var n query.Node
	if sel.Filter != nil && sel.Filter.Expr != nil {
		if n, err = query.CheckFilter(db.model, sel.DataClass, sel.Filter.Expr); err != nil {
			return fourd.QueryStep{}, err
		}
	}
	root := query.Plan(t.dc, n)
	err = query.WalkPlan(t.dc, n, &root, func(dc *fourd.DataClass, n query.Node, s *fourd.QueryStep) error {
		var err error
		s.Found, s.Time, err = db.count(ctx, db.tables[dc], n)
		return err
	})
	if err != nil {
		return fourd.QueryStep{}, fmt.Errorf("query path of %s: %w", t.dc.Name, err)
	}
	return root, nil
}

// count runs SELECT count(*) for node n on t and times it.
func (db *DB) count(ctx context.Context, t *table, n query.Node) (int, time.Duration, error) {
	q := &compiler{db: db}
	var where frag
	if n != nil {
		var err error
		if where, err = q.where(t, "t0", n); err != nil {
			return 0, 0, err
		}
		where.sql = " WHERE " + where.sql
	}
	var found int
	start := time.Now()
	err := db.query(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name+" AS t0"+where.sql, where.args...).Scan(&found)
	})
	return found, time.Since(start), err
}
