package query

import (
	"strings"
	"unicode"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// Check checks a selection against the model m: its filter (which must be
// bound: a placeholder left is an error) with CheckFilter, then its order
// (sel.OrderBy, or else the filter's own "order by") with CheckOrderBy.
// sel.DataClass must be a dataclass of m (ENOTFOUND otherwise).
func Check(m *fourd.Model, sel fourd.Selection) (Selection, error) {
	if err := inModel(m, sel.DataClass); err != nil {
		return Selection{}, err
	}
	out := Selection{DataClass: sel.DataClass, InRows: sel.InRows}
	ob := sel.OrderBy
	if sel.Filter != nil {
		if sel.Filter.Expr != nil {
			w, err := CheckFilter(m, sel.DataClass, sel.Filter.Expr)
			if err != nil {
				return Selection{}, err
			}
			out.Where = w
		}
		if len(ob) == 0 {
			ob = sel.Filter.OrderBy
		}
	}
	o, err := CheckOrderBy(m, sel.DataClass, ob)
	if err != nil {
		return Selection{}, err
	}
	out.OrderBy = o
	return out, nil
}

func inModel(m *fourd.Model, dc *fourd.DataClass) error {
	switch {
	case dc == nil:
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass, "no dataclass given")
	case m.DataClass(dc.Name) != dc:
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass, "dataclass %s is not in this datastore's model", dc.Name)
	}
	return nil
}

// CheckFilter checks condition n on dc, a dataclass of m, and returns the
// checked tree. Errors are *fourd.Error EINVALID: ErrCodeUnknownAttribute
// for a name that is not an attribute of its dataclass, ErrCodeBadFilter
// for anything else that does not fit the model (a constant that does
// not convert, an operator the attribute's type does not take, a
// collection path, a placeholder without a value, a vector).
func CheckFilter(m *fourd.Model, dc *fourd.DataClass, n filter.Node) (Node, error) {
	return checker{m: m}.node(dc, n)
}

type checker struct {
	m     *fourd.Model
	terms int // the terms of the sort being checked
}

func (c checker) node(dc *fourd.DataClass, n filter.Node) (Node, error) {
	switch n := n.(type) {
	case *filter.Comparison:
		if n == nil {
			break
		}
		if err := checkPath(dc, n.Path); err != nil {
			return nil, err
		}
		return c.comparison(dc, n.Path, n.Op, &n.Value)
	case *filter.Logical:
		if n == nil {
			break
		}
		if n.Op != filter.And && n.Op != filter.Or && n.Op != filter.Except {
			return nil, badFilter("unknown logical operator %v", n.Op)
		}
		l, err := c.node(dc, n.Left)
		if err != nil {
			return nil, err
		}
		r, err := c.node(dc, n.Right)
		if err != nil {
			return nil, err
		}
		return &Logical{Op: n.Op, Left: l, Right: r}, nil
	case *filter.Not:
		if n == nil {
			break
		}
		x, err := c.node(dc, n.X)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return nil, badFilter("empty condition")
}

func badFilter(format string, args ...any) *fourd.Error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadFilter, format, args...)
}

func unknownAttribute(dc *fourd.DataClass, name string) *fourd.Error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeUnknownAttribute, "%s has no attribute %q", dc.Name, name)
}

// checkPath refuses the path suffixes of collections ([], [a]) and
// many-to-many classes ({2}), which fourd's model has no use for, and
// names the filter grammar would not read.
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

// comparison checks "path op v" on dc, path being checked already.
func (c checker) comparison(dc *fourd.DataClass, path filter.Path, op filter.Op, v *filter.Value) (Node, error) {
	name, rest := path[0].Name, path[1:]
	a := dc.Attribute(name)
	if a == nil {
		return nil, unknownAttribute(dc, name)
	}
	switch {
	case a.Kind == fourd.KindRelatedEntities:
		return c.toMany(dc, a, rest, op, v)
	case a.Kind == fourd.KindRelatedEntity && len(rest) > 0:
		return c.toOne(dc, a, path, op, v)
	case a.Type == fourd.AttrObject && len(rest) > 0:
		return compare(Field{DataClass: dc, Attribute: a, Property: rest, Path: path}, op, v)
	case len(rest) > 0:
		return nil, badFilter("%s.%s is a %s attribute: it has no property %q", dc.Name, name, a.Type, rest[0].Name)
	}
	return compare(Field{DataClass: dc, Attribute: a, Type: c.typeOf(a), Path: path}, op, v)
}

// typeOf returns the type of a's values: for a relatedEntity attribute,
// the type of the related primary key.
func (c checker) typeOf(a *fourd.Attribute) fourd.AttributeType {
	if a.Kind == fourd.KindRelatedEntity {
		return c.m.DataClass(a.RelatedDataClass).Key().Type
	}
	return a.Type
}

// toOne checks a comparison through the N->1 relation a of dc.
func (c checker) toOne(dc *fourd.DataClass, a *fourd.Attribute, path filter.Path, op filter.Op, v *filter.Value) (Node, error) {
	rel, rest := c.m.DataClass(a.RelatedDataClass), path[1:]
	// employer.ID = 3: the foreign key holds the related key already.
	if len(rest) == 1 && rest[0].Name == rel.PrimaryKey {
		return compare(Field{DataClass: dc, Attribute: a, Type: rel.Key().Type, Path: path}, op, v)
	}
	cond, err := c.comparison(rel, rest, op, v)
	if err != nil {
		return nil, err
	}
	null := v.Kind == filter.KindNull && (op == filter.OpEqual || op == filter.OpStrictEqual)
	return &Join{From: dc, Relation: a, To: rel, FromKey: a, ToKey: rel.Key(), OrEmpty: null, Cond: cond, Step: cond}, nil
}

// toMany checks a comparison through the 1->N relation a of dc: some
// related entity matches (for # and !==: none matches the = or ===).
func (c checker) toMany(dc *fourd.DataClass, a *fourd.Attribute, rest filter.Path, op filter.Op, v *filter.Value) (Node, error) {
	if len(rest) == 0 {
		return nil, badFilter("%s.%s lists related entities: compare one of their attributes (%s.attribute)", dc.Name, a.Name, a.Name)
	}
	child := c.m.DataClass(a.RelatedDataClass)
	j := &Join{From: dc, Relation: a, To: child, FromKey: dc.Key(), ToKey: child.Attribute(a.Path), ToMany: true}
	null := v.Kind == filter.KindNull
	positive := op
	switch {
	case null && (op == filter.OpEqual || op == filter.OpStrictEqual):
		// some related value is null, or there is no related entity at all
		j.OrEmpty = true
	case !null && op == filter.OpNotEqual:
		j.None, positive = true, filter.OpEqual
	case !null && op == filter.OpStrictNotEqual:
		j.None, positive = true, filter.OpStrictEqual
	}
	cond, err := c.comparison(child, rest, positive, v)
	if err != nil {
		return nil, err
	}
	j.Cond, j.Step = cond, cond
	if j.None {
		if j.Step, err = c.comparison(child, rest, op, v); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// compare checks "f op v" for a resolved field.
func compare(f Field, op filter.Op, v *filter.Value) (*Compare, error) {
	cmp := &Compare{Field: f, written: op, value: v}
	switch v.Kind {
	case filter.KindPlaceholder:
		return nil, badFilter("placeholder :%d has no value", v.Placeholder)
	case filter.KindVector:
		return nil, badFilter("%s: vector comparisons are not supported", f.Name())
	case filter.KindNull:
		switch op {
		case filter.OpEqual, filter.OpStrictEqual:
			cmp.Op = IsNull
		case filter.OpNotEqual, filter.OpStrictNotEqual:
			cmp.Op = NotNull
		default:
			return nil, badFilter("%s: null can follow only =, ==, ===, #, != and !==", f.Name())
		}
		return cmp, nil
	}
	if f.Type == fourd.AttrObject {
		return nil, badFilter("%s is an object: compare one of its properties (%s.property)", f.Name(), f.Path[len(f.Path)-1].Name)
	}
	switch op {
	case filter.OpIn:
		list, err := in(f, v)
		if err != nil {
			return nil, err
		}
		cmp.Op, cmp.List = In, list
		return cmp, nil
	case filter.OpBegin:
		if !f.Text() || v.Kind == filter.KindList {
			return nil, badFilter("%s: begin applies to text attributes only", f.Name())
		}
		cmp.Op, cmp.Pattern = Like, Pattern{v.Str, ""}
		return cmp, nil
	case filter.OpKeyword:
		if !f.Text() || v.Kind == filter.KindList {
			return nil, badFilter("%s: %% (keyword) applies to text attributes only", f.Name())
		}
		cmp.Op, cmp.Value = Keyword, v.Str
		return cmp, nil
	}
	if v.Kind == filter.KindList {
		return nil, badFilter("%s: a list can follow only IN", f.Name())
	}
	if v.Kind == filter.KindString && v.Wildcard && (op == filter.OpEqual || op == filter.OpNotEqual) {
		if !f.Text() {
			return nil, badFilter("%s is a %s: @ wildcards apply to text attributes only (%q)", f.Name(), f.Type, truncate(v.Str, 40))
		}
		cmp.Op, cmp.Pattern = Like, Pattern(v.Pattern)
		if op == filter.OpNotEqual {
			cmp.Op = NotLike
		}
		return cmp, nil
	}
	switch op {
	case filter.OpEqual, filter.OpStrictEqual:
		cmp.Op = Eq
	case filter.OpNotEqual, filter.OpStrictNotEqual:
		cmp.Op = Ne
	case filter.OpLess:
		cmp.Op = Lt
	case filter.OpLessEqual:
		cmp.Op = Le
	case filter.OpGreater:
		cmp.Op = Gt
	case filter.OpGreaterEqual:
		cmp.Op = Ge
	default:
		return nil, badFilter("%s: unknown operator %v", f.Name(), op)
	}
	x, err := convert(f, v)
	if err != nil {
		return nil, err
	}
	cmp.Value = x
	return cmp, nil
}

// in checks the list of "f IN [v1, v2, ...]".
func in(f Field, v *filter.Value) (List, error) {
	var l List
	if v.Kind != filter.KindList {
		return l, badFilter("%s: IN needs a list: [v1, v2]", f.Name())
	}
	for i, el := range v.List {
		switch {
		case el.Kind == filter.KindNull:
			l.Null = true
		case el.Kind == filter.KindString && el.Wildcard:
			if !f.Text() {
				return l, badFilter("%s is a %s: @ wildcards apply to text attributes only (%q)", f.Name(), f.Type, truncate(el.Str, 40))
			}
			l.Patterns = append(l.Patterns, Pattern(el.Pattern))
		case el.Kind == filter.KindList || el.Kind == filter.KindVector || el.Kind == filter.KindPlaceholder:
			return l, badFilter("%s: an IN list holds plain values", f.Name())
		default:
			x, err := convert(f, &v.List[i])
			if err != nil {
				return l, err
			}
			l.Values = append(l.Values, x)
		}
	}
	return l, nil
}

// CheckOrderBy checks a sort order on dc, a dataclass of m: at most
// fourd.MaxOrderByTerms terms, each a storage attribute, a relatedEntity
// attribute (sorted by its foreign key), an object property, or a path
// through N->1 relations to one of them. Errors are as CheckFilter's.
func CheckOrderBy(m *fourd.Model, dc *fourd.DataClass, ob filter.OrderBy) ([]Order, error) {
	if len(ob) > fourd.MaxOrderByTerms {
		return nil, badFilter("a sort of %d terms: at most %d", len(ob), fourd.MaxOrderByTerms)
	}
	if len(ob) == 0 {
		return nil, nil
	}
	c := checker{m: m, terms: len(ob)}
	out := make([]Order, len(ob))
	var hops []*fourd.Attribute // every term's Through, end to end: one allocation for most sorts
	for i, o := range ob {
		if err := checkPath(dc, o.Path); err != nil {
			return nil, err
		}
		out[i].Desc = o.Desc
		start := len(hops)
		var err error
		if hops, err = c.sortKey(dc, o.Path, &out[i], hops); err != nil {
			return nil, err
		}
		if len(hops) > start {
			out[i].Through = hops[start:len(hops):len(hops)]
		}
	}
	return out, nil
}

// sortKey resolves the path of a sort key into o, appending the relations
// it goes through to hops.
func (c checker) sortKey(dc *fourd.DataClass, path filter.Path, o *Order, hops []*fourd.Attribute) ([]*fourd.Attribute, error) {
	name, rest := path[0].Name, path[1:]
	a := dc.Attribute(name)
	switch {
	case a == nil:
		return hops, unknownAttribute(dc, name)
	case a.Kind == fourd.KindRelatedEntities:
		return hops, badFilter("cannot sort by %s.%s: it lists related entities", dc.Name, name)
	case a.Kind == fourd.KindRelatedEntity && len(rest) > 0:
		if hops == nil {
			hops = make([]*fourd.Attribute, 0, c.terms)
		}
		return c.sortKey(c.m.DataClass(a.RelatedDataClass), rest, o, append(hops, a))
	case a.Type == fourd.AttrObject && len(rest) > 0:
		o.Field = Field{DataClass: dc, Attribute: a, Property: rest, Path: path}
		return hops, nil
	case len(rest) > 0:
		return hops, badFilter("%s.%s is a %s attribute: it has no property %q", dc.Name, name, a.Type, rest[0].Name)
	}
	o.Field = Field{DataClass: dc, Attribute: a, Type: c.typeOf(a), Path: path}
	return hops, nil
}

// CheckField checks the attribute path of $compute and $distinct on dc:
// a storage attribute (salary), or a property of an object attribute
// (info.score). Errors are as CheckFilter's.
func CheckField(dc *fourd.DataClass, attr string) (Field, error) {
	var path filter.Path
	for name := range strings.SplitSeq(attr, ".") {
		path = append(path, filter.Segment{Name: name})
	}
	if err := checkPath(dc, path); err != nil {
		return Field{}, err
	}
	a := dc.Attribute(path[0].Name)
	switch {
	case a == nil || a.Kind == fourd.KindRelatedEntities:
		return Field{}, unknownAttribute(dc, path[0].Name)
	case a.Kind != fourd.KindStorage:
		return Field{}, badFilter("%s.%s is a relation: name one of its attributes from its own dataclass", dc.Name, a.Name)
	case len(path) > 1 && a.Type == fourd.AttrObject:
		return Field{DataClass: dc, Attribute: a, Property: path[1:], Path: path}, nil
	case len(path) > 1:
		return Field{}, badFilter("%s.%s is a %s attribute: it has no property %q", dc.Name, a.Name, a.Type, path[1].Name)
	}
	return Field{DataClass: dc, Attribute: a, Type: a.Type, Path: path}, nil
}

// Aggregates returns the $compute operations that apply to a field of type
// typ, in $all's order: every one for numbers (and object properties);
// count, min and max for text, dates, booleans and UUIDs; count for
// objects.
func Aggregates(typ fourd.AttributeType) []fourd.Aggregate {
	switch typ {
	case fourd.AttrLong, fourd.AttrLong64, fourd.AttrNumber, "":
		return []fourd.Aggregate{fourd.AggregateCount, fourd.AggregateSum, fourd.AggregateAverage, fourd.AggregateMin, fourd.AggregateMax}
	case fourd.AttrObject:
		return []fourd.Aggregate{fourd.AggregateCount}
	}
	return []fourd.Aggregate{fourd.AggregateCount, fourd.AggregateMin, fourd.AggregateMax}
}

// CheckCompute checks $compute's operation op on f and returns the
// operations to run: op alone, or every one that applies for
// fourd.AggregateAll.
func CheckCompute(f Field, op fourd.Aggregate) ([]fourd.Aggregate, error) {
	allowed := Aggregates(f.Type)
	if op == fourd.AggregateAll {
		return allowed, nil
	}
	switch op {
	case fourd.AggregateCount, fourd.AggregateSum, fourd.AggregateAverage, fourd.AggregateMin, fourd.AggregateMax:
	default:
		return nil, badFilter("$compute: unknown operation %q (count, sum, average, min, max, $all)", op)
	}
	for _, a := range allowed {
		if a == op {
			return []fourd.Aggregate{op}, nil
		}
	}
	return nil, badFilter("$compute: %s does not apply to %s, %s", op, f.Name(), article(f.Type))
}

// CheckDistinct checks $distinct's field: any but a whole object.
func CheckDistinct(f Field) error {
	if f.Type == fourd.AttrObject {
		return badFilter("$distinct: %s is an object: name one of its properties", f.Name())
	}
	return nil
}
