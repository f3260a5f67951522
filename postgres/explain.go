package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/query"
)

// This file serves $queryplan and $querypath: the filter tree in 4D's
// terms, PostgreSQL's EXPLAIN (FORMAT JSON), and the filter run step by
// step.

var _ fourd.QueryExplainer = (*DB)(nil)

// QueryPlan returns sel's filter as a tree of steps and PostgreSQL's plan
// of the statement that selects its rows: EXPLAIN (FORMAT JSON), each plan
// node a step ("Index Scan using Employee.lastName on Employee t0",
// with its index condition and filter), its inputs as sub-steps. Nothing
// is run (no ANALYZE): Found and Time are zero.
func (db *DB) QueryPlan(ctx context.Context, sel fourd.Selection) (fourd.QueryStep, []fourd.QueryStep, error) {
	c, err := db.selection(sel)
	if err != nil {
		return fourd.QueryStep{}, nil, err
	}
	s, err := query.Check(db.model, sel)
	if err != nil {
		return fourd.QueryStep{}, nil, err
	}
	plan := query.Plan(c.t.dc, s.Where)
	var text []byte
	err = db.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT t0."+colRow+c.from+c.where.sql+c.order.sql, append(c.where.args, c.order.args...)...).Scan(&text)
	if err != nil {
		return fourd.QueryStep{}, nil, fmt.Errorf("query plan of %s: %w", c.t.dc.Name, ctxErr(ctx, err))
	}
	var out []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(text, &out); err != nil {
		return fourd.QueryStep{}, nil, fmt.Errorf("query plan of %s: %w", c.t.dc.Name, err)
	}
	var engine []fourd.QueryStep
	for _, p := range out {
		engine = append(engine, p.Plan.step())
	}
	return plan, engine, nil
}

// planNode is a node of EXPLAIN (FORMAT JSON), the fields fourd shows.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	Strategy     string     `json:"Strategy"`
	Relationship string     `json:"Parent Relationship"`
	Relation     string     `json:"Relation Name"`
	Alias        string     `json:"Alias"`
	Index        string     `json:"Index Name"`
	IndexCond    string     `json:"Index Cond"`
	RecheckCond  string     `json:"Recheck Cond"`
	Filter       string     `json:"Filter"`
	SortKey      []string   `json:"Sort Key"`
	SubplanName  string     `json:"Subplan Name"`
	Plans        []planNode `json:"Plans"`
}

// step describes the node in one line, as PostgreSQL's text EXPLAIN would.
func (p planNode) step() fourd.QueryStep {
	var b strings.Builder
	if p.SubplanName != "" {
		b.WriteString(p.SubplanName + ": ")
	}
	if p.Strategy != "" && p.Strategy != "Plain" {
		b.WriteString(p.Strategy + " ")
	}
	b.WriteString(p.NodeType)
	if p.Index != "" {
		b.WriteString(" using " + p.Index)
	}
	if p.Relation != "" {
		b.WriteString(" on " + p.Relation)
		if p.Alias != "" && p.Alias != p.Relation {
			b.WriteString(" " + p.Alias)
		}
	}
	for _, kv := range [][2]string{{"Index Cond", p.IndexCond}, {"Recheck Cond", p.RecheckCond}, {"Filter", p.Filter}} {
		if kv[1] != "" {
			b.WriteString(" (" + kv[0] + ": " + kv[1] + ")")
		}
	}
	if len(p.SortKey) > 0 {
		b.WriteString(" (Sort Key: " + strings.Join(p.SortKey, ", ") + ")")
	}
	s := fourd.QueryStep{Description: b.String()}
	for _, c := range p.Plans {
		s.Steps = append(s.Steps, c.step())
	}
	return s
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
		return fourd.QueryStep{}, fmt.Errorf("query path of %s: %w", t.dc.Name, ctxErr(ctx, err))
	}
	return root, nil
}

// count runs SELECT count(*) for node n on t and times it.
func (db *DB) count(ctx context.Context, t *table, n query.Node) (int, time.Duration, error) {
	q := &compiler{db: db}
	where := ""
	if n != nil {
		if err := q.node(t, "t0", n); err != nil {
			return 0, 0, err
		}
		where = " WHERE " + q.b.String()
	}
	if q.err != nil {
		return 0, 0, q.err
	}
	var found int
	start := time.Now()
	err := db.pool.QueryRow(ctx, "SELECT count(*) FROM "+t.name+" AS t0"+where, q.args...).Scan(&found)
	return found, time.Since(start), err
}
