package rest

import (
	"net/http"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
	"github.com/fourd/fourd/filter"
)

// Attributes a session may not read must not be inferable either: a
// filter on one would answer __COUNT 1 or 0 for a guessed value, a sort by
// one would order entities by it, and Company:revenues(500000) would
// answer 200 or 404. So $filter, $orderby, $savedfilter, $savedorderby and
// a key lookup by attribute are refused (401, errCode 9014, as a read is)
// when any attribute on their paths may not be read, or any dataclass a
// relation on them leads to.

// checkQueryPaths refuses a data request whose filter, order or key
// attribute names an attribute the session may not read.
func (h *Handler) checkQueryPaths(r *http.Request, req *dataRequest, p *dataParams) error {
	if h.Policy == nil {
		return nil
	}
	eff := h.effective(r)
	if req.keyAttr != nil && !h.Policy.Allowed(eff, access.ActionRead, req.dc.Name, req.keyAttr.Name) {
		return errPermission(access.ActionRead, req.dc.Name+"."+req.keyAttr.Name)
	}
	// The filter and order of /rest/Company(1)/staff apply to the
	// relation's target.
	dc := req.dc
	if req.hasKey && len(req.attrs) == 1 && req.attrs[0].Kind != fourd.KindStorage {
		if target := h.Data.Model().DataClass(req.attrs[0].RelatedDataClass); target != nil {
			dc = target
		}
	}
	var paths []filter.Path
	add := func(q *filter.Query) {
		if q == nil {
			return
		}
		paths = appendPaths(paths, q.Expr)
		for _, o := range q.OrderBy {
			paths = append(paths, o.Path)
		}
	}
	add(p.filter)
	for _, o := range p.orderBy {
		paths = append(paths, o.Path)
	}
	// $savedfilter and $savedorderby are read when a set is rebuilt; a bad
	// one is refused there.
	if p.savedFilter != "" {
		if q, err := filter.Parse(p.savedFilter); err == nil {
			add(q)
		}
	}
	if p.savedOrderBy != "" {
		if ob, err := filter.ParseOrderBy(p.savedOrderBy); err == nil {
			for _, o := range ob {
				paths = append(paths, o.Path)
			}
		}
	}
	for _, path := range paths {
		if err := h.checkPath(eff, dc, path); err != nil {
			return err
		}
	}
	return nil
}

// appendPaths appends the path of every comparison under n.
func appendPaths(dst []filter.Path, n filter.Node) []filter.Path {
	switch n := n.(type) {
	case *filter.Comparison:
		dst = append(dst, n.Path)
	case *filter.Logical:
		dst = appendPaths(dst, n.Left)
		dst = appendPaths(dst, n.Right)
	case *filter.Not:
		dst = appendPaths(dst, n.X)
	}
	return dst
}

// checkPath refuses a path from dc through an attribute the session may
// not read, or a relation to a dataclass it may not read. Names the model
// does not know are left to the datastore, which refuses them with 400.
func (h *Handler) checkPath(eff access.PrivilegeSet, dc *fourd.DataClass, path filter.Path) error {
	m := h.Data.Model()
	for _, seg := range path {
		if dc == nil {
			return nil
		}
		a := dc.Attribute(seg.Name)
		if a == nil {
			return nil
		}
		if !h.Policy.Allowed(eff, access.ActionRead, dc.Name, a.Name) {
			return errPermission(access.ActionRead, dc.Name+"."+a.Name)
		}
		if a.Kind == fourd.KindStorage {
			return nil // what follows is an object property
		}
		dc = m.DataClass(a.RelatedDataClass)
		if dc != nil && !h.Policy.Allowed(eff, access.ActionRead, dc.Name, "") {
			return errPermission(access.ActionRead, dc.Name)
		}
	}
	return nil
}
