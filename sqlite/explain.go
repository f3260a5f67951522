package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// This file serves $queryplan and $querypath: the filter tree in 4D's
// terms, SQLite's EXPLAIN QUERY PLAN, and the filter run step by step.

var _ fourd.QueryExplainer = (*DB)(nil)

// QueryPlan returns sel's filter as a tree of steps and SQLite's plan of
// the statement that selects its rows.
func (db *DB) QueryPlan(ctx context.Context, sel fourd.Selection) (fourd.QueryStep, []fourd.QueryStep, error) {
	t, from, where, order, err := db.selection(sel)
	if err != nil {
		return fourd.QueryStep{}, nil, err
	}
	plan := db.step(t, filterExpr(sel))
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
	root := db.step(t, filterExpr(sel))
	if err := db.runStep(ctx, t, filterExpr(sel), &root); err != nil {
		return fourd.QueryStep{}, fmt.Errorf("query path of %s: %w", t.dc.Name, err)
	}
	return root, nil
}

// filterExpr returns the selection's condition, nil for all entities.
func filterExpr(sel fourd.Selection) filter.Node {
	if sel.Filter == nil {
		return nil
	}
	return sel.Filter.Expr
}

// join describes the relation a comparison on t goes through, if the
// compiler joins for it (employer.ID = 3 reads the foreign key and does
// not): the related table, the join's text in 4D's words, and the rest of
// the path, on the related table.
func (db *DB) join(t *table, c *filter.Comparison) (target *table, text string, rest filter.Path, ok bool) {
	name, rest := c.Path[0].Name, c.Path[1:]
	a := t.dc.Attribute(name)
	if a == nil || len(rest) == 0 {
		return nil, "", nil, false
	}
	switch a.Kind {
	case fourd.KindRelatedEntity:
		col := t.byName[name]
		if col == nil || col.related == nil {
			return nil, "", nil, false
		}
		rel := col.related
		if len(rest) == 1 && rest[0].Name == rel.dc.PrimaryKey && rest[0].Class == 0 && !rest[0].Collection {
			return nil, "", nil, false
		}
		return rel, "Join on Table : " + rel.dc.Name + " : " + t.dc.Name + "." + name + " = " + rel.dc.Name + "." + rel.dc.PrimaryKey, rest, true
	case fourd.KindRelatedEntities:
		rel, err := db.table(db.model.DataClass(a.RelatedDataClass))
		if err != nil {
			return nil, "", nil, false
		}
		return rel, "Join on Table : " + rel.dc.Name + " : " + t.dc.Name + "." + t.dc.PrimaryKey + " = " + rel.dc.Name + "." + a.Path, rest, true
	}
	return nil, "", nil, false
}

// step describes node n on table t, without running it.
func (db *DB) step(t *table, n filter.Node) fourd.QueryStep {
	switch n := n.(type) {
	case nil:
		return fourd.QueryStep{Description: "All entities of " + t.dc.Name}
	case *filter.Logical:
		s := fourd.QueryStep{Description: n.Op.String()}
		// A chain of one operator (a AND b AND c) is one step of three.
		for _, side := range []filter.Node{n.Left, n.Right} {
			if l, ok := side.(*filter.Logical); ok && l.Op == n.Op && side == n.Left {
				s.Steps = append(s.Steps, db.step(t, l).Steps...)
				continue
			}
			s.Steps = append(s.Steps, db.step(t, side))
		}
		return s
	case *filter.Not:
		return fourd.QueryStep{Description: "NOT", Steps: []fourd.QueryStep{db.step(t, n.X)}}
	case *filter.Comparison:
		if target, text, rest, ok := db.join(t, n); ok {
			sub := &filter.Comparison{Path: rest, Op: n.Op, Value: n.Value}
			return fourd.QueryStep{Description: text, Steps: []fourd.QueryStep{db.step(target, sub)}}
		}
		return fourd.QueryStep{Description: t.dc.Name + "." + n.String()}
	}
	return fourd.QueryStep{Description: fmt.Sprint(n)}
}

// runStep counts and times node n on t into s (made by step), and its
// sub-steps likewise. The steps of a chain (a AND b AND c, flattened by
// step) are the chain's operands.
func (db *DB) runStep(ctx context.Context, t *table, n filter.Node, s *fourd.QueryStep) error {
	var err error
	if s.Found, s.Time, err = db.count(ctx, t, n); err != nil {
		return err
	}
	switch n := n.(type) {
	case *filter.Logical:
		operands := chain(n)
		for i := range s.Steps {
			if err := db.runStep(ctx, t, operands[i], &s.Steps[i]); err != nil {
				return err
			}
		}
	case *filter.Not:
		return db.runStep(ctx, t, n.X, &s.Steps[0])
	case *filter.Comparison:
		if target, _, rest, ok := db.join(t, n); ok {
			return db.runStep(ctx, target, &filter.Comparison{Path: rest, Op: n.Op, Value: n.Value}, &s.Steps[0])
		}
	}
	return nil
}

// chain returns the operands of a chain of one operator, left to right, as
// step flattens them.
func chain(n *filter.Logical) []filter.Node {
	if l, ok := n.Left.(*filter.Logical); ok && l.Op == n.Op {
		return append(chain(l), n.Right)
	}
	return []filter.Node{n.Left, n.Right}
}

// count runs SELECT count(*) for node n on t and times it.
func (db *DB) count(ctx context.Context, t *table, n filter.Node) (int, time.Duration, error) {
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
