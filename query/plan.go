package query

import "github.com/fourd/fourd"

// Plan describes condition n, checked on dc (nil: every entity of dc), as
// $queryplan and $querypath show it: a tree of steps in 4D's words (each
// node's String). A chain of one operator (a AND b AND c) is one step
// with three; a join's step holds its Step, the condition as written on
// the related dataclass. Found and Time are zero: WalkPlan fills them.
func Plan(dc *fourd.DataClass, n Node) fourd.QueryStep {
	switch n := n.(type) {
	case nil:
		return fourd.QueryStep{Description: "All entities of " + dc.Name}
	case *Logical:
		s := fourd.QueryStep{Description: n.String()}
		for _, x := range chain(n) {
			s.Steps = append(s.Steps, Plan(dc, x))
		}
		return s
	case *Not:
		return fourd.QueryStep{Description: n.String(), Steps: []fourd.QueryStep{Plan(dc, n.X)}}
	case *Join:
		return fourd.QueryStep{Description: n.String(), Steps: []fourd.QueryStep{Plan(n.To, n.Step)}}
	}
	return fourd.QueryStep{Description: n.String()}
}

// WalkPlan calls fn for every step of plan, made by Plan(dc, n), parents
// first, with the node the step describes and the dataclass that node
// applies to: what a backend needs to count and time each step on its own
// ($querypath). It stops at fn's first error and returns it.
func WalkPlan(dc *fourd.DataClass, n Node, plan *fourd.QueryStep, fn func(dc *fourd.DataClass, n Node, step *fourd.QueryStep) error) error {
	if err := fn(dc, n, plan); err != nil {
		return err
	}
	switch n := n.(type) {
	case *Logical:
		for i, x := range chain(n) {
			if err := WalkPlan(dc, x, &plan.Steps[i], fn); err != nil {
				return err
			}
		}
	case *Not:
		return WalkPlan(dc, n.X, &plan.Steps[0], fn)
	case *Join:
		return WalkPlan(n.To, n.Step, &plan.Steps[0], fn)
	}
	return nil
}

// chain returns the operands of a chain of one operator, left to right:
// (a AND b) AND c gives a, b, c. Only the left side continues a chain, as
// the parser builds them; a AND (b AND c) gives a and (b AND c).
func chain(n *Logical) []Node {
	if l, ok := n.Left.(*Logical); ok && l.Op == n.Op {
		return append(chain(l), n.Right)
	}
	return []Node{n.Left, n.Right}
}
