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
	plan := db.step(t, c.sel.Where)
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
	root := db.step(t, n)
	if err := db.runStep(ctx, t, n, &root); err != nil {
		return fourd.QueryStep{}, fmt.Errorf("query path of %s: %w", t.dc.Name, err)
	}
	return root, nil
}

// step describes node n on table t, without running it.
func (db *DB) step(t *table, n query.Node) fourd.QueryStep {
	switch n := n.(type) {
	case nil:
		return fourd.QueryStep{Description: "All entities of " + t.dc.Name}
	case *query.Logical:
		s := fourd.QueryStep{Description: n.String()}
		// A chain of one operator (a AND b AND c) is one step of three.
		for _, side := range []query.Node{n.Left, n.Right} {
			if l, ok := side.(*query.Logical); ok && l.Op == n.Op && side == n.Left {
				s.Steps = append(s.Steps, db.step(t, l).Steps...)
				continue
			}
			s.Steps = append(s.Steps, db.step(t, side))
		}
		return s
	case *query.Not:
		return fourd.QueryStep{Description: n.String(), Steps: []fourd.QueryStep{db.step(t, n.X)}}
	case *query.Join:
		// The step under a join is the condition as written (query.Join.Step).
		return fourd.QueryStep{Description: n.String(), Steps: []fourd.QueryStep{db.step(db.tables[n.To], n.Step)}}
	}
	return fourd.QueryStep{Description: n.String()}
}

// runStep counts and times node n on t into s (made by step), and its
// sub-steps likewise. The steps of a chain (a AND b AND c, flattened by
// step) are the chain's operands.
func (db *DB) runStep(ctx context.Context, t *table, n query.Node, s *fourd.QueryStep) error {
	var err error
	if s.Found, s.Time, err = db.count(ctx, t, n); err != nil {
		return err
	}
	switch n := n.(type) {
	case *query.Logical:
		operands := chain(n)
		for i := range s.Steps {
			if err := db.runStep(ctx, t, operands[i], &s.Steps[i]); err != nil {
				return err
			}
		}
	case *query.Not:
		return db.runStep(ctx, t, n.X, &s.Steps[0])
	case *query.Join:
		return db.runStep(ctx, db.tables[n.To], n.Step, &s.Steps[0])
	}
	return nil
}

// chain returns the operands of a chain of one operator, left to right, as
// step flattens them.
func chain(n *query.Logical) []query.Node {
	if l, ok := n.Left.(*query.Logical); ok && l.Op == n.Op {
		return append(chain(l), n.Right)
	}
	return []query.Node{n.Left, n.Right}
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
