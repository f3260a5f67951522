package rest

import (
	"context"
	"net/http"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
)

// dataRequest is a request for a dataclass resource, its path parsed:
//
//	/rest/Employee                         the dataclass (a selection)
//	/rest/Employee(22)                     one entity by key
//	/rest/Company:name(Acme)               one entity by another attribute
//	/rest/Employee/lastName,firstName      a projection
//	/rest/Employee/salary?$compute=sum     an aggregate (one attribute)
//	/rest/Employee/$entityset/{id}         a stored entity set (after a projection too)
//	/rest/Company(1)/staff                 the entities a relation leads to
type dataRequest struct {
	dc       *fourd.DataClass
	key      string // for Employee(22)
	hasKey   bool
	keyAttr  *fourd.Attribute // for Company:name(Acme); nil means the primary key
	attrs    []*fourd.Attribute
	setID    string // for $entityset/{id}
	hasSetID bool
}

func unknownDataClass(name string) error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass, "no dataclass %q is exposed on this server", name)
}

// parseDataPath reads the path after /rest/.
func parseDataPath(m *fourd.Model, path string) (*dataRequest, error) {
	path = strings.TrimSuffix(path, "/")
	head, tail, _ := strings.Cut(path, "/")
	req := &dataRequest{}
	name := head
	if open := strings.IndexByte(head, '('); open >= 0 {
		if !strings.HasSuffix(head, ")") {
			return nil, badParam("%q: a key goes between parentheses: Employee(22)", head)
		}
		name = head[:open]
		req.key, req.hasKey = unquoteKey(head[open+1:len(head)-1]), true
		if before, attr, ok := strings.Cut(name, ":"); ok {
			name = before
			dc := m.DataClass(name)
			if dc == nil {
				return nil, unknownDataClass(name)
			}
			if req.keyAttr = dc.Attribute(attr); req.keyAttr == nil || !req.keyAttr.Storage() {
				return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownAttribute, "%s has no storage attribute %q", name, attr)
			}
		}
	}
	if req.dc = m.DataClass(name); req.dc == nil {
		return nil, unknownDataClass(name)
	}
	if tail == "" {
		return req, nil
	}
	segs := strings.Split(tail, "/")
	if segs[0] != "$entityset" {
		for _, n := range strings.Split(segs[0], ",") {
			n = strings.TrimSpace(n)
			a := req.dc.Attribute(n)
			if a == nil {
				return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownAttribute, "%s has no attribute %q", req.dc.Name, n)
			}
			req.attrs = append(req.attrs, a)
		}
		segs = segs[1:]
	}
	if len(segs) == 0 {
		return req, nil
	}
	if segs[0] != "$entityset" || len(segs) != 2 || req.hasKey {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "unknown REST resource %q", "/rest/"+path)
	}
	req.setID, req.hasSetID = strings.ToUpper(segs[1]), true
	return req, nil
}

// unquoteKey removes the quotes of Company("IT0911AB2200"), written as
// quote characters or as 4D's escapes (Company(\u0022IT0911AB2200\u0022)).
func unquoteKey(k string) string {
	for _, q := range []string{`\u0022`, `\u0027`} {
		if len(k) >= 2*len(q) && strings.HasPrefix(k, q) && strings.HasSuffix(k, q) {
			return k[len(q) : len(k)-len(q)]
		}
	}
	if len(k) >= 2 && (k[0] == '"' && k[len(k)-1] == '"' || k[0] == '\'' && k[len(k)-1] == '\'') {
		return k[1 : len(k)-1]
	}
	return k
}

// projectionFor combines a path projection (Employee/lastName,firstName)
// and $attributes; the default shows every attribute.
// Attributes the session may not read are left out.
// $expand then shows the relations it names inline.
func (h *Handler) projectionFor(r *http.Request, req *dataRequest, p *dataParams) *projection {
	switch {
	case p.attributes != nil:
		return h.readable(r, withExpand(p.attributes, p.expand))
	case len(req.attrs) > 0:
		return h.readable(r, withExpand(&projection{m: h.Data.Model(), dc: req.dc, attrs: req.attrs, named: true}, p.expand))
	}
	return h.readable(r, withExpand(defaultProjection(h.Data.Model(), req.dc), p.expand))
}

// refusedResources are the resources of 4D's REST documentation that
// fourd does not serve, with why: they answer 404 saying so (docs/rest.md
// lists every resource and parameter with its status).
var refusedResources = map[string]string{
	"$upload":                         "fourd has no picture or BLOB attributes, which $upload fills",
	"$directory/currentUserBelongsTo": "fourd has no user groups: a session holds privileges and roles (roles.json), which $info lists",
	"$directory/currentUser":          "fourd does not serve this resource, which 4D deprecated: $info lists the caller's privileges, $activity its session",
}

// serveData serves every dataclass resource under /rest/.
func (h *Handler) serveData(w http.ResponseWriter, r *http.Request) (err error) {
	path := strings.TrimPrefix(r.URL.Path, "/rest/")
	if strings.HasPrefix(path, "$") {
		if why, ok := refusedResources[strings.TrimSuffix(path, "/")]; ok {
			return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "%s: %s", r.URL.Path, why)
		}
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "unknown REST resource %q", r.URL.Path)
	}
	if h.Data == nil {
		name, _, _ := strings.Cut(path, "/")
		return unknownDataClass(name)
	}
	if h.DataReady != nil {
		if err := h.DataReady(); err != nil {
			return err
		}
	}
	if t := requestFunction(r); t != nil {
		return h.serveFunction(w, r, t)
	}
	req, err := parseDataPath(h.Data.Model(), path)
	if err != nil {
		return err
	}
	p, err := readDataParams(r.URL.Query(), h.Data.Model(), req.dc)
	if err != nil {
		return err
	}
	if err := h.checkLimits(p); err != nil {
		return err
	}
	if err := h.checkQueryPaths(r, req, p); err != nil {
		return err
	}
	r, served, err := h.admit(r, req, p)
	if err != nil {
		return err
	}
	defer func() { served(); err = overBudget(r.Context(), err) }()
	if proc := fourd.CurrentProcess(r.Context()); proc != nil {
		proc.SetTarget(req.dc.Name, p.filterText)
	}
	if v, ok := param(r.URL.Query(), "$lock"); ok {
		return h.serveLock(w, r, req, v)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if err := h.allow(r, access.ActionRead, req.dc, ""); err != nil {
			return err
		}
		if (p.queryPlan || p.queryPath) && (req.hasSetID || req.hasKey || p.compute != "" || p.distinct) {
			return badParam("$queryplan and $querypath describe the $filter query of a dataclass: /rest/%s?$filter=…&$queryplan=true", req.dc.Name)
		}
		switch {
		case p.method == "update" || p.method == "delete" || p.method == "validate":
			return fourd.Errorf(fourd.EMETHOD, fourd.ErrCodeMethodNotAllowed, "$method=%s changes data: send it with POST", p.method)
		case req.hasSetID:
			return h.getEntitySet(w, r, req, p)
		case req.hasKey:
			return h.getEntity(w, r, req, p)
		case p.compute != "" || p.distinct:
			return h.getCompute(w, r, req, p, nil)
		}
		return h.getSelection(w, r, req, p)
	case http.MethodPost:
		if p.asArray {
			return errAsArray()
		}
		switch p.method {
		case "update", "validate":
			return h.postUpdate(w, r, req, p)
		case "delete":
			return h.postDelete(w, r, req, p)
		case "release", "entityset":
			if req.hasSetID {
				return h.getEntitySet(w, r, req, p)
			}
		}
		return badParam("POST on %s needs $method=update or $method=delete", r.URL.Path)
	}
	w.Header().Set("Allow", "GET, HEAD, POST")
	return fourd.Errorf(fourd.EMETHOD, fourd.ErrCodeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
}

// selection returns the datastore selection of a request's parameters.
func selection(req *dataRequest, p *dataParams) fourd.Selection {
	return fourd.Selection{DataClass: req.dc, Filter: p.filter, OrderBy: p.orderBy}
}

// getSelection serves GET /rest/{dataClass}: a page of the selection, or a
// new entity set of the whole selection with $method=entityset.
func (h *Handler) getSelection(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	if p.method == "subentityset" {
		return badParam("$method=subentityset applies to a 1->N relation of one entity: /rest/Company(1)/staff?$method=subentityset&$subOrderby=lastName")
	}
	if p.method == "entityset" {
		return h.createEntitySet(w, r, req, p)
	}
	if p.method == "release" {
		return badParam("$method=release applies to an entity set: /rest/%s/$entityset/{id}?$method=release", req.dc.Name)
	}
	ctx := r.Context()
	if err := h.explain(ctx, req, p); err != nil {
		return err
	}
	proj := h.projectionFor(r, req, p)
	setPhase(ctx, fourd.PhaseQuerying, 0)
	es, count, err := h.Data.Page(ctx, selection(req, p), p.skip, p.top, proj.storageNames())
	if err != nil {
		return err
	}
	return h.writeCollection(ctx, w, "", proj, count, p.skip, es, p)
}

// writeCollection loads what the projection shows of the relations and
// writes a page in the collection shape.
//
// With $asArray the page is a bare array of entities in 4D's $asArray form
// (see appendArray); with $queryplan or $querypath, the collection ends
// with __queryPlan or __queryPath (p.explain).
func (h *Handler) writeCollection(ctx context.Context, w http.ResponseWriter, setURI string, proj *projection, count, first int, es []*fourd.Entity, p *dataParams) error {
	asArray := p.asArray
	if len(proj.nested) > 0 || asArray {
		setPhase(ctx, fourd.PhaseLoading, len(es))
	}
	rel, err := h.loadRelated(ctx, proj, es)
	if err != nil {
		return err
	}
	var counts map[string]map[string]int
	if asArray {
		if counts, err = h.relatedCounts(ctx, proj, es); err != nil {
			return err
		}
	}
	enc, err := h.boundedEncoder(ctx)
	if err != nil {
		return err
	}
	setPhase(ctx, fourd.PhaseEncoding, len(es))
	buf := getBuffer()
	defer putBuffer(buf)
	if asArray {
		*buf = enc.appendArray((*buf)[:0], proj, es, rel, counts)
	} else {
		*buf = enc.appendCollection((*buf)[:0], setURI, proj, count, first, es, rel)
	}
	if len(p.explain) > 0 && !asArray {
		*buf = append(append((*buf)[:len(*buf)-1], p.explain...), '}')
	}
	if err := enc.check(*buf); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, *buf)
	return nil
}

// loadRelated loads what proj shows inline of the relations of es, within
// MaxAnswerEntities (es counted).
func (h *Handler) loadRelated(ctx context.Context, proj *projection, es []*fourd.Entity) (*related, error) {
	if len(proj.nested) == 0 {
		return nil, nil
	}
	b := &answerBudget{max: h.Limits.MaxAnswerEntities}
	if err := b.take(len(es)); err != nil {
		return nil, err
	}
	return loadRelated(ctx, h.Data, proj, es, b)
}

// followedExpand returns the $expand paths of a request that follows
// relation a (/rest/Company(1)/staff?$expand=staff), relative to a's
// target: naming a itself, as 4D's deferred URIs do, asks for nothing more;
// a path through a (staff.employer) goes on from the target. A path that
// does not go through a concerns an entity the answer does not show: 400.
func followedExpand(a *fourd.Attribute, paths [][]*fourd.Attribute) ([][]*fourd.Attribute, error) {
	var out [][]*fourd.Attribute
	for _, path := range paths {
		if path[0] != a {
			return nil, badParam("$expand=%s: this request shows the entities of %s, not %s", path[0].Name, a.Name, path[0].Name)
		}
		if len(path) > 1 {
			out = append(out, path[1:])
		}
	}
	return out, nil
}

// errAsArray refuses $asArray where the answer is not a page of entities.
func errAsArray() error {
	return badParam("$asArray applies to a page of entities (a dataclass, an entity set, a 1->N relation), not to this request")
}

// relatedCounts counts, for each entity of es, the related entities of
// each 1->N relation that proj shows deferred: what $asArray writes as
// {"__COUNT":n}. One count per entity and relation, each served by the
// foreign key's lookup; a page is at most MaxPageSize entities (Limits).
func (h *Handler) relatedCounts(ctx context.Context, proj *projection, es []*fourd.Entity) (map[string]map[string]int, error) {
	var counts map[string]map[string]int
	for _, a := range proj.attrs {
		if a.Kind != fourd.KindRelatedEntities || proj.nested[a.Name] != nil {
			continue
		}
		target := proj.m.DataClass(a.RelatedDataClass)
		byKey := make(map[string]int, len(es))
		for _, e := range es {
			if e == nil {
				continue
			}
			_, n, err := h.Data.Page(ctx, fourd.Selection{DataClass: target, Filter: relationFilter(a.Path, e.Key)}, 0, 0, nil)
			if err != nil {
				return nil, err
			}
			byKey[e.Key] = n
		}
		if counts == nil {
			counts = map[string]map[string]int{}
		}
		counts[a.Name] = byKey
	}
	return counts, nil
}

// getEntity serves GET /rest/{dataClass}({key}) and its projections, and
// /rest/Company(1)/staff, the entities a relation leads to.
func (h *Handler) getEntity(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	ctx := r.Context()
	proj := h.projectionFor(r, req, p)
	following := len(req.attrs) == 1 && req.attrs[0].Kind != fourd.KindStorage && p.attributes == nil
	attrs := proj.storageNames()
	if following {
		attrs = nil // every attribute: the relation's foreign key among them
	}
	setPhase(ctx, fourd.PhaseLoading, 0)
	e, err := h.lookup(ctx, req, attrs)
	if err != nil {
		return err
	}
	if following {
		return h.followRelation(w, r, req, p, e)
	}
	if p.asArray {
		return errAsArray()
	}
	if p.method == "entityset" || p.method == "subentityset" {
		return badParam("$method=%s makes a set of a selection; /rest/%s(%s) is one entity", p.method, req.dc.Name, req.key)
	}
	rel, err := h.loadRelated(ctx, proj, []*fourd.Entity{e})
	if err != nil {
		return err
	}
	enc, err := h.boundedEncoder(ctx)
	if err != nil {
		return err
	}
	body := enc.appendEntity(nil, e, proj, rel, true)
	if err := enc.check(body); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// lookup finds the entity a keyed path names: by primary key, or by
// another attribute (Company:name(Acme)), which must name exactly one.
func (h *Handler) lookup(ctx context.Context, req *dataRequest, attrs []string) (*fourd.Entity, error) {
	if req.keyAttr == nil || req.keyAttr.Name == req.dc.PrimaryKey {
		return h.Data.Entity(ctx, req.dc, req.key, attrs)
	}
	es, err := entitiesWhereIn(ctx, h.Data, req.dc, req.keyAttr.Name, []string{req.key}, &projection{dc: req.dc, attrs: nil}, nil)
	if err != nil {
		return nil, err
	}
	if len(es) != 1 {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity, "%d entities of %s have %s = %q; a key names exactly one", len(es), req.dc.Name, req.keyAttr.Name, req.key)
	}
	return es[0], nil
}

// followRelation serves /rest/Company(1)/staff (a selection of the related
// entities) and /rest/Employee(1)/employer (the related entity).
func (h *Handler) followRelation(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams, e *fourd.Entity) error {
	a := req.attrs[0]
	m := h.Data.Model()
	target := m.DataClass(a.RelatedDataClass)
	if err := h.allow(r, access.ActionRead, target, ""); err != nil {
		return err
	}
	if a.Kind == fourd.KindRelatedEntity {
		key, _ := e.Values[a.Name].(string)
		if key == "" {
			writeJSON(w, http.StatusOK, []byte("null"))
			return nil
		}
		expand, err := followedExpand(a, p.expand)
		if err != nil {
			return err
		}
		if p.method == "subentityset" {
			return badParam("$method=subentityset makes a set of the entities of a 1->N relation; %s.%s leads to one entity", req.dc.Name, a.Name)
		}
		return h.getEntity(w, r, &dataRequest{dc: target, key: key, hasKey: true}, &dataParams{top: DefaultTop, expand: expand, asArray: p.asArray})
	}
	sub := &dataRequest{dc: target}
	sp := *p
	sp.attributes = nil
	var err error
	if sp.expand, err = followedExpand(a, p.expand); err != nil {
		return err
	}
	if p.method == "subentityset" {
		// 4D's $method=subentityset: an entity set of the related
		// entities, sorted by $subOrderby.
		sp.method = "entityset"
		if len(p.subOrderBy) > 0 {
			sp.orderBy = p.subOrderBy
		}
	}
	back := relationFilter(a.Path, e.Key)
	if p.filter != nil {
		back = andQueries(back, p.filter)
	}
	sp.filter = back
	return h.getSelection(w, r, sub, &sp)
}

// getCompute serves /rest/{dataClass}/{attr}?$compute=… and ?$distinct=true,
// over the dataclass's selection, or over an entity set's rows when in is
// not nil (/rest/{dataClass}/{attr}/$entityset/{id}?$compute=…).
//
// $distinct collects the values, and $compute computes over them, of the
// whole selection; with $skip, $top or $limit, of that page of entities, as
// 4D applies them to the entities before it collects the values. More than
// MaxDistinct values (Limits) is an error.
func (h *Handler) getCompute(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams, in fourd.RowSet) error {
	if len(req.attrs) != 1 || !req.attrs[0].Storage() {
		return badParam("$compute and $distinct apply to one storage attribute: /rest/%s/{attribute}?$compute=sum", req.dc.Name)
	}
	if p.asArray {
		return errAsArray()
	}
	if err := h.allow(r, access.ActionRead, req.dc, req.attrs[0].Name); err != nil {
		return err
	}
	ctx := r.Context()
	setPhase(ctx, fourd.PhaseQuerying, 0)
	a := req.attrs[0]
	sel := selection(req, p)
	if in != nil {
		sel.InRows = in.AppendTo(make([]fourd.RowID, 0, in.Len()))
	}
	if p.paged {
		// $skip, $top and $limit page the entities; the values are then
		// collected or computed over that page, as 4D does.
		var rows []fourd.RowID
		if in != nil {
			// The set's own order, with its filter and sort applied
			// before (refine).
			rows = in.Page(p.skip, p.top)
		} else {
			all, err := h.Data.Rows(ctx, sel)
			if err != nil {
				return err
			}
			start := min(p.skip, len(all))
			rows = all[start:min(start+p.top, len(all))]
		}
		sel = fourd.Selection{DataClass: req.dc, InRows: rows}
		if sel.InRows == nil {
			sel.InRows = []fourd.RowID{}
		}
	}
	var body []byte
	if p.distinct {
		maxDistinct := h.Limits.MaxDistinct
		limit := 0 // all of them
		if maxDistinct > 0 {
			limit = maxDistinct + 1 // one more tells that there are too many
		}
		values, err := h.Data.Distinct(ctx, sel, a.Name, limit)
		if err != nil {
			return err
		}
		if maxDistinct > 0 && len(values) > maxDistinct {
			return badParam("$distinct: %s has more than %d distinct values in this selection; narrow it with $filter, or page the entities with $skip and $top (limit: --max-distinct)", a.Name, maxDistinct)
		}
		body = append(body, '[')
		for i, v := range values {
			if i > 0 {
				body = append(body, ',')
			}
			body = appendValue(body, v)
		}
		body = append(body, ']')
	} else {
		v, err := h.Data.Compute(ctx, sel, a.Name, p.compute)
		if err != nil {
			return err
		}
		if p.compute == fourd.AggregateAll {
			body = append(body, '{')
			body = fourd.AppendJSONString(body, a.Name)
			body = append(body, ':')
			body = appendAggregates(body, v)
			body = append(body, '}')
		} else {
			body = appendValue(body, v)
		}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// aggregateOrder is the order of $compute=$all's keys in 4D's answers.
var aggregateOrder = []fourd.Aggregate{fourd.AggregateCount, fourd.AggregateSum, fourd.AggregateAverage, fourd.AggregateMin, fourd.AggregateMax}

// appendAggregates writes $compute=$all's object in 4D's key order
// (count, sum, average, min, max), with the operations that apply.
func appendAggregates(b []byte, v any) []byte {
	m, ok := v.(map[string]any)
	if !ok {
		return appendValue(b, v)
	}
	b = append(b, '{')
	n := 0
	for _, op := range aggregateOrder {
		x, ok := m[string(op)]
		if !ok {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = fourd.AppendJSONString(b, string(op))
		b = append(b, ':')
		b = appendValue(b, x)
	}
	return append(b, '}')
}

// setURI is the __ENTITYSET of a stored set.
func setURI(dc *fourd.DataClass, id string) string {
	return "/rest/" + dc.Name + "/$entityset/" + id
}
