package rest

import (
	"context"
	"strconv"
	"time"

	"github.com/fourd/fourd"
)

// explain computes what $queryplan and $querypath add to a collection
// answer, into p.explain:
//
//	"__queryPlan":{"And":[{"item":"Employee.salary > 50000"},
//	               {"item":"Join on Table : Company : Employee.employer = Company.ID",
//	                "subquery":[{"item":"Company.name = 'acme'"}]}],
//	               "__sqlite":[{"item":"SCAN t0","subquery":[…]}]}
//	"__queryPath":{"steps":[{"description":"AND","time":0,"recordsfounds":2,"steps":[…]}]}
//
// The plan is the filter as the datastore reads it, in 4D's shape, with
// fourd's "__sqlite": SQLite's EXPLAIN QUERY PLAN of the statement that
// runs. The path is the filter run step by step: each step's entities
// found and milliseconds (fourd adds "microseconds"), measured.
func (h *Handler) explain(ctx context.Context, req *dataRequest, p *dataParams) error {
	if !p.queryPlan && !p.queryPath {
		return nil
	}
	if p.filter == nil {
		return badParam("$queryplan and $querypath describe the $filter query: send one")
	}
	x, ok := h.Data.(fourd.QueryExplainer)
	if !ok {
		return badParam("$queryplan and $querypath: this server's datastore cannot describe its queries")
	}
	sel := selection(req, p)
	var b []byte
	if p.queryPlan {
		plan, engine, err := x.QueryPlan(ctx, sel)
		if err != nil {
			return err
		}
		b = append(b, `,"__queryPlan":`...)
		b = appendPlan(b, plan)
		b = b[:len(b)-1] // the plan's members go on
		b = append(b, `,"__sqlite":`...)
		b = appendPlanList(b, engine)
		b = append(b, '}')
	}
	if p.queryPath {
		path, err := x.QueryPath(ctx, sel)
		if err != nil {
			return err
		}
		b = append(b, `,"__queryPath":{"steps":[`...)
		b = appendPath(b, path)
		b = append(b, "]}"...)
	}
	p.explain = b
	return nil
}

// planKeys name the logical steps of a plan as 4D writes them.
var planKeys = map[string]string{"AND": "And", "OR": "Or", "EXCEPT": "Except", "NOT": "Not"}

// appendPlan writes a step of a plan: {"And":[…]} for a logical step,
// {"item":…,"subquery":[…]} for a condition or a join.
func appendPlan(b []byte, s fourd.QueryStep) []byte {
	if key, ok := planKeys[s.Description]; ok {
		b = append(b, '{')
		b = fourd.AppendJSONString(b, key)
		b = append(b, ':')
		b = appendPlanList(b, s.Steps)
		return append(b, '}')
	}
	b = append(b, `{"item":`...)
	b = fourd.AppendJSONString(b, s.Description)
	if len(s.Steps) > 0 {
		b = append(b, `,"subquery":`...)
		b = appendPlanList(b, s.Steps)
	}
	return append(b, '}')
}

func appendPlanList(b []byte, steps []fourd.QueryStep) []byte {
	b = append(b, '[')
	for i, s := range steps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPlan(b, s)
	}
	return append(b, ']')
}

// appendPath writes a step of a query path. A join's step on the related
// dataclass is wrapped in one more {"steps":[…]}, as 4D shows it.
func appendPath(b []byte, s fourd.QueryStep) []byte {
	b = append(b, `{"description":`...)
	b = fourd.AppendJSONString(b, s.Description)
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, int64(s.Time/time.Millisecond), 10)
	b = append(b, `,"microseconds":`...)
	b = strconv.AppendInt(b, int64(s.Time/time.Microsecond), 10)
	b = append(b, `,"recordsfounds":`...)
	b = strconv.AppendInt(b, int64(s.Found), 10)
	if len(s.Steps) > 0 {
		_, logical := planKeys[s.Description]
		b = append(b, `,"steps":[`...)
		if !logical {
			b = append(b, `{"steps":[`...)
		}
		for i, c := range s.Steps {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPath(b, c)
		}
		if !logical {
			b = append(b, "]}"...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
