package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// DefaultTop is the page size when $top and $limit are absent: 4D's 100.
const DefaultTop = 100

// dataParams are the $-parameters of a data request, read and checked.
type dataParams struct {
	filter       *filter.Query // bound
	filterText   string
	orderBy      filter.OrderBy
	orderText    string
	skip, top    int
	paged        bool        // $top, $limit or $skip was given
	topName      string      // which of $top and $limit gave top
	attributes   *projection // nil: the default projection
	method       string      // entityset, update, delete, release, or ""
	timeout      time.Duration
	timeoutSet   bool // $timeout was given
	savedFilter  string
	savedOrderBy string
	logicOp      fourd.SetOperator
	otherSet     string
	compute      fourd.Aggregate
	distinct     bool
	clean        bool                 // $clean: without the entities deleted since (with $method=entityset)
	asArray      bool                 // $asArray: a page as a bare array
	expand       [][]*fourd.Attribute // $expand: relation paths to show inline
	subOrderBy   filter.OrderBy       // $subOrderby, with $method=subentityset
	queryPlan    bool                 // $queryplan
	queryPath    bool                 // $querypath
	explain      []byte               // ,"__queryPlan":…,"__queryPath":… once computed
	atomic       bool
}

func badParam(format string, args ...any) error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, format, args...)
}

func badFilter(err error) error {
	return &fourd.Error{Code: fourd.EINVALID, ErrCode: fourd.ErrCodeBadFilter, Message: err.Error()}
}

// readDataParams reads the query string of a data request for dc.
func readDataParams(q url.Values, m *fourd.Model, dc *fourd.DataClass) (*dataParams, error) {
	p := &dataParams{top: DefaultTop, timeout: fourd.DefaultEntitySetTimeout}
	var err error
	if v, ok := param(q, "$filter"); ok && strings.TrimSpace(v) != "" {
		p.filterText = v
		if p.filter, err = filter.Parse(v); err != nil {
			return nil, badFilter(err)
		}
		if p.filter, err = bindParams(p.filter, q); err != nil {
			return nil, err
		}
		if len(p.filter.OrderBy) > 0 {
			p.orderBy = p.filter.OrderBy
		}
	}
	if v, ok := param(q, "$orderby"); ok && strings.TrimSpace(v) != "" {
		p.orderText = v
		if p.orderBy, err = filter.ParseOrderBy(v); err != nil {
			return nil, badFilter(err)
		}
	}
	for _, name := range []string{"$top", "$limit"} {
		if v, ok := param(q, name); ok {
			p.paged = true
			if p.top, err = nonNegative(name, v); err != nil {
				return nil, err
			}
			p.topName = name
		}
	}
	if v, ok := param(q, "$skip"); ok {
		p.paged = true
		if p.skip, err = nonNegative("$skip", v); err != nil {
			return nil, err
		}
	}
	if v, ok := param(q, "$attributes"); ok {
		if p.attributes, err = parseProjection(m, dc, v); err != nil {
			return nil, err
		}
	}
	if v, ok := param(q, "$method"); ok {
		p.method = strings.ToLower(v)
		switch p.method {
		case "entityset", "subentityset", "update", "delete", "release", "validate":
		default:
			return nil, badParam("$method=%q: use entityset, subentityset, update, validate, delete or release", v)
		}
	}
	if v, ok := param(q, "$timeout"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) || n <= 0 {
			return nil, badParam("$timeout=%q: a number of seconds greater than 0", v)
		}
		p.timeoutSet = true
		p.timeout = time.Duration(math.MaxInt64) // past any limit: refused by serveData
		if n < math.MaxInt64/int64(time.Second) {
			p.timeout = time.Duration(n) * time.Second
		}
	}
	// 4D's $savedfilter page passes the filter text; its $method page
	// says "true", which saves the request's own $filter (and $orderby):
	// both forms work. "false" saves nothing.
	p.savedFilter, _ = param(q, "$savedfilter")
	p.savedOrderBy, _ = param(q, "$savedorderby")
	switch strings.ToLower(p.savedFilter) {
	case "true":
		p.savedFilter = p.filterText
	case "false":
		p.savedFilter = ""
	}
	switch strings.ToLower(p.savedOrderBy) {
	case "true":
		p.savedOrderBy = p.orderText
	case "false":
		p.savedOrderBy = ""
	}
	if v, ok := param(q, "$logicOperator"); ok {
		p.logicOp = fourd.SetOperator(strings.ToUpper(v))
	} else if v, ok := param(q, "$operator"); ok {
		p.logicOp = fourd.SetOperator(strings.ToUpper(v))
	}
	switch p.logicOp {
	case "", fourd.SetAnd, fourd.SetOr, fourd.SetExcept, fourd.SetIntersect:
	default:
		return nil, badParam("$logicOperator=%q: use AND, OR, EXCEPT or INTERSECT", p.logicOp)
	}
	p.otherSet, _ = param(q, "$otherCollection")
	if p.logicOp != "" && p.otherSet == "" {
		return nil, badParam("$logicOperator needs $otherCollection, the ID of the other entity set")
	}
	if v, ok := param(q, "$compute"); ok {
		p.compute = fourd.Aggregate(strings.ToLower(v))
		switch p.compute {
		case fourd.AggregateAll, fourd.AggregateCount, fourd.AggregateSum, fourd.AggregateAverage, fourd.AggregateMin, fourd.AggregateMax:
		default:
			return nil, badParam("$compute=%q: use $all, count, sum, average, min or max", v)
		}
	}
	if p.distinct, err = boolParam(q, "$distinct"); err != nil {
		return nil, err
	}
	if p.clean, err = boolParam(q, "$clean"); err != nil {
		return nil, err
	}
	if v, ok := param(q, "$subOrderby"); ok && strings.TrimSpace(v) != "" {
		if p.method != "subentityset" {
			return nil, badParam("$subOrderby sorts the set that $method=subentityset makes: send them together")
		}
		if p.subOrderBy, err = filter.ParseOrderBy(v); err != nil {
			return nil, badFilter(err)
		}
	}
	if v, ok := param(q, "$expand"); ok {
		if p.expand, err = parseExpand(m, dc, v); err != nil {
			return nil, err
		}
	}
	if p.queryPlan, err = boolParam(q, "$queryplan"); err != nil {
		return nil, err
	}
	if p.queryPath, err = boolParam(q, "$querypath"); err != nil {
		return nil, err
	}
	if p.asArray, err = boolParam(q, "$asArray"); err != nil {
		return nil, err
	}
	if p.asArray && (p.queryPlan || p.queryPath) {
		return nil, badParam("$asArray answers a bare array, which has no place for __queryPlan or __queryPath")
	}
	if p.asArray && p.method == "entityset" {
		return nil, badParam("$asArray answers a bare array, which has no place for the __ENTITYSET of $method=entityset: make the set first, then page it with $asArray")
	}
	if p.clean && p.method != "entityset" {
		return nil, badParam("$clean makes a new entity set: send it with $method=entityset, on /rest/{dataClass}/$entityset/{id}")
	}
	atomic, err := boolParam(q, "$atomic")
	if err != nil {
		return nil, err
	}
	atonce, err := boolParam(q, "$atOnce")
	if err != nil {
		return nil, err
	}
	p.atomic = atomic || atonce
	return p, nil
}

// bindParams fills the filter's placeholders from $params, a JSON array
// (often wrapped in single quotes in the URL).
func bindParams(f *filter.Query, q url.Values) (*filter.Query, error) {
	raw, ok := param(q, "$params")
	if !ok {
		if len(f.Placeholders()) > 0 {
			return nil, badParam("$filter uses placeholders (:1, ...) but $params is missing")
		}
		return f, nil
	}
	raw = strings.TrimSpace(raw)
	if len(raw) >= 2 && raw[0] == '\'' && raw[len(raw)-1] == '\'' {
		raw = raw[1 : len(raw)-1]
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var params []any
	if err := dec.Decode(&params); err != nil {
		return nil, badParam("$params: want a JSON array of values, as in $params='[\"Smith\",20000]': %v", err)
	}
	bound, err := f.Bind(params)
	if err != nil {
		return nil, badFilter(err)
	}
	return bound, nil
}

func nonNegative(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badParam("%s=%q: a whole number, 0 or more", name, v)
	}
	return n, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v, ok := param(q, name)
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true", "1", "":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, badParam("%s=%q: true or false", name, v)
}

// projection is what $attributes (or a path projection) asks for on one
// dataclass: attributes in catalog order, and for relation attributes what
// to show of the related entities.
type projection struct {
	m      *fourd.Model
	dc     *fourd.DataClass
	attrs  []*fourd.Attribute     // in the dataclass's order
	nested map[string]*projection // relation attribute -> projection on its target; nil: simple (N->1) or deferred (1->N) form
	named  bool                   // from $attributes: a relation named alone takes the simple {"__KEY":…} form
}

// storageNames returns the names the datastore must load for p: its storage
// and relatedEntity attributes.
func (p *projection) storageNames() []string {
	var out []string
	for _, a := range p.attrs {
		if a.Kind != fourd.KindRelatedEntities {
			out = append(out, a.Name)
		}
	}
	return out
}

// defaultProjection is every attribute, relations in deferred form.
func defaultProjection(m *fourd.Model, dc *fourd.DataClass) *projection {
	return &projection{m: m, dc: dc, attrs: dc.Attributes}
}

// parseProjection reads "lastName,employer.name,employer.*,staff.lastName".
func parseProjection(m *fourd.Model, dc *fourd.DataClass, list string) (*projection, error) {
	root := &projection{m: m, dc: dc, named: true}
	want := map[*projection]map[string]bool{}
	var add func(p *projection, path []string) error
	add = func(p *projection, path []string) error {
		if want[p] == nil {
			want[p] = map[string]bool{}
		}
		if path[0] == "*" {
			if len(path) > 1 {
				return badParam("$attributes: nothing can follow *")
			}
			for _, a := range p.dc.Attributes {
				if a.Kind == fourd.KindStorage {
					want[p][a.Name] = true
				}
			}
			return nil
		}
		a := p.dc.Attribute(path[0])
		if a == nil {
			return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeUnknownAttribute, "$attributes: %s has no attribute %q", p.dc.Name, path[0])
		}
		want[p][a.Name] = true
		if len(path) == 1 {
			return nil
		}
		if a.Kind == fourd.KindStorage {
			if a.Type == fourd.AttrObject {
				return nil // an object attribute is sent whole
			}
			return badParam("$attributes: %s.%s is not a relation; it has no %q", p.dc.Name, a.Name, path[1])
		}
		if p.nested == nil {
			p.nested = map[string]*projection{}
		}
		child := p.nested[a.Name]
		if child == nil {
			child = &projection{m: p.m, dc: p.m.DataClass(a.RelatedDataClass), named: true}
			p.nested[a.Name] = child
		}
		return add(child, path[1:])
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if err := add(root, strings.Split(item, ".")); err != nil {
			return nil, err
		}
	}
	var fill func(p *projection)
	fill = func(p *projection) {
		for _, a := range p.dc.Attributes {
			if want[p][a.Name] {
				p.attrs = append(p.attrs, a)
			}
		}
		for _, child := range p.nested {
			fill(child)
		}
	}
	fill(root)
	if len(root.attrs) == 0 {
		return nil, badParam("$attributes: no attribute named")
	}
	return root, nil
}

// parseExpand reads $expand, 4D's compatibility form of $attributes for
// relations: "employer", "staff", "employer,staff", "staff.employer". Each
// path names relation attributes only (fourd has no picture or BLOB
// attributes, the other thing 4D's $expand names).
func parseExpand(m *fourd.Model, dc *fourd.DataClass, list string) ([][]*fourd.Attribute, error) {
	var out [][]*fourd.Attribute
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var path []*fourd.Attribute
		cur := dc
		for _, name := range strings.Split(item, ".") {
			a := cur.Attribute(name)
			if a == nil {
				return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeUnknownAttribute, "$expand: %s has no attribute %q", cur.Name, name)
			}
			if a.Kind == fourd.KindStorage {
				return nil, badParam("$expand: %s.%s is not a relation; $expand shows related entities inline (name attributes with $attributes)", cur.Name, a.Name)
			}
			path = append(path, a)
			cur = m.DataClass(a.RelatedDataClass)
		}
		out = append(out, path)
	}
	if len(out) == 0 {
		return nil, badParam("$expand: no relation named")
	}
	return out, nil
}

// withExpand returns p with the relation paths of $expand shown inline:
// each related entity, or selection of related entities, with every
// attribute (its own relations deferred unless the path goes on). A
// relation that p leaves out is added to it.
func withExpand(p *projection, paths [][]*fourd.Attribute) *projection {
	if len(paths) == 0 {
		return p
	}
	out := p.clone()
	for _, path := range paths {
		cur := out
		for _, a := range path {
			if !slices.Contains(cur.attrs, a) {
				cur.attrs = appendAttr(cur.attrs, a)
				slices.SortFunc(cur.attrs, func(x, y *fourd.Attribute) int { return x.Position() - y.Position() })
			}
			if cur.nested == nil {
				cur.nested = map[string]*projection{}
			}
			child := cur.nested[a.Name]
			if child == nil {
				child = defaultProjection(cur.m, cur.m.DataClass(a.RelatedDataClass))
				cur.nested[a.Name] = child
			}
			cur = child
		}
	}
	return out
}

// clone returns a deep copy of p, which withExpand may then change.
func (p *projection) clone() *projection {
	out := *p
	out.attrs = append([]*fourd.Attribute(nil), p.attrs...)
	out.nested = nil
	if p.nested != nil {
		out.nested = make(map[string]*projection, len(p.nested))
		for k, v := range p.nested {
			out.nested[k] = v.clone()
		}
	}
	return &out
}
