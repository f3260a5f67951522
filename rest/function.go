package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
)

// Class functions: Go functions that REST clients call as they call 4D's
// exposed ORDA and singleton class functions. A Functions registry holds
// them, registered in the spirit of net/http's ServeMux:
//
//	fns := rest.NewFunctions()
//	fns.DataStore("getName", getName)                  // POST /rest/$catalog/getName
//	fns.DataClass("Employee", "hire", hire)            // POST /rest/Employee/hire
//	fns.Entity("Employee", "raise", raise)             // POST /rest/Employee(12)/raise
//	fns.EntitySelection("Employee", "payroll", payroll) // POST /rest/Employee/payroll[/$entityset/{id}]
//	fns.Singleton("Clock", "now", now).OnHTTPGet()     // GET or POST /rest/$singleton/Clock/now
//
// A call runs as the request's process, named after the function
// ("Employee.raise"), so Process activity shows it and AbortProcessByID
// stops it (its ctx is cancelled). roles.json's execute permissions apply
// (see access.Policy.CanExecute and CanExecuteSingleton) before anything
// else is read.

// Function is a class function: it receives the call's context (the
// process it runs as: aborting the process cancels it) and the call, and
// returns a JSON-encodable result or an error. A *fourd.Error is shown to
// the client as it is; any other error is an internal error. A result of
// type *Entity or *Selection is written as the REST API writes an entity
// or an entity selection; any other result is written {"result": value}.
type Function func(ctx context.Context, call *Call) (any, error)

// FunctionKind says what a class function applies to, as 4D's classes do.
type FunctionKind int

// The kinds of class functions.
const (
	KindDataStore       FunctionKind = iota // the datastore class: ds.fn
	KindDataClass                           // a dataclass class: ds.Employee.fn
	KindEntity                              // an entity class: This is one entity
	KindEntitySelection                     // an entity selection class: This is a selection
	KindSingleton                           // a shared singleton class
)

func (k FunctionKind) String() string {
	switch k {
	case KindDataStore:
		return "datastore"
	case KindDataClass:
		return "dataClass"
	case KindEntity:
		return "entity"
	case KindEntitySelection:
		return "entitySelection"
	case KindSingleton:
		return "singleton"
	}
	return fmt.Sprintf("FunctionKind(%d)", int(k))
}

// FunctionDef is one registered function.
type FunctionDef struct {
	Kind  FunctionKind
	Class string // the dataclass or singleton; "" for a datastore function
	Name  string
	fn    Function
	get   bool
}

// OnHTTPGet lets clients call the function with GET as well as POST, its
// arguments in $params (4D's onHTTPGet keyword). Only functions without
// side effects should be: a link is enough to call them.
func (d *FunctionDef) OnHTTPGet() *FunctionDef {
	d.get = true
	return d
}

// AllowedOnHTTPGet reports whether OnHTTPGet was called.
func (d *FunctionDef) AllowedOnHTTPGet() bool { return d.get }

// String names the function as its process is named: "ds.getName",
// "Employee.raise", "Clock.now".
func (d *FunctionDef) String() string {
	if d.Kind == KindDataStore {
		return "ds." + d.Name
	}
	return d.Class + "." + d.Name
}

type funcKey struct {
	kind        FunctionKind
	class, name string
}

// Functions is a registry of class functions. The zero value is not
// usable: call NewFunctions. It is safe for concurrent use; functions may
// be registered while the server runs.
type Functions struct {
	mu   sync.RWMutex
	defs map[funcKey]*FunctionDef
}

// NewFunctions returns an empty registry.
func NewFunctions() *Functions {
	return &Functions{defs: map[funcKey]*FunctionDef{}}
}

func (fs *Functions) add(kind FunctionKind, class, name string, fn Function) *FunctionDef {
	if fn == nil {
		panic("rest: nil function " + name)
	}
	if name == "" || name[0] == '$' {
		panic(fmt.Sprintf("rest: function name %q: a name may not be empty or start with $", name))
	}
	d := &FunctionDef{Kind: kind, Class: class, Name: name, fn: fn}
	fs.mu.Lock()
	fs.defs[funcKey{kind, class, name}] = d
	fs.mu.Unlock()
	return d
}

// DataStore registers a datastore function: POST /rest/$catalog/{name}.
// Registering "authentify" replaces fourd's own login function.
func (fs *Functions) DataStore(name string, fn Function) *FunctionDef {
	return fs.add(KindDataStore, "", name, fn)
}

// DataClass registers a dataclass function: POST /rest/{dataClass}/{name}.
func (fs *Functions) DataClass(dataClass, name string, fn Function) *FunctionDef {
	return fs.add(KindDataClass, dataClass, name, fn)
}

// Entity registers an entity function: POST /rest/{dataClass}({key})/{name};
// Call.Entity is the entity, read when the call starts.
func (fs *Functions) Entity(dataClass, name string, fn Function) *FunctionDef {
	return fs.add(KindEntity, dataClass, name, fn)
}

// EntitySelection registers an entity selection function: POST
// /rest/{dataClass}/{name} (every entity of the dataclass), with
// /$entityset/{id} (a stored set), or with $filter and $orderby; Call.Selection
// is the selection. Under one name it is found before a dataclass
// function, as in 4D.
func (fs *Functions) EntitySelection(dataClass, name string, fn Function) *FunctionDef {
	return fs.add(KindEntitySelection, dataClass, name, fn)
}

// Singleton registers a singleton function: POST /rest/$singleton/{class}/{name}.
func (fs *Functions) Singleton(class, name string, fn Function) *FunctionDef {
	return fs.add(KindSingleton, class, name, fn)
}

// Lookup returns the function registered under kind, class and name, or nil.
func (fs *Functions) Lookup(kind FunctionKind, class, name string) *FunctionDef {
	if fs == nil {
		return nil
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	return fs.defs[funcKey{kind, class, name}]
}

// List returns the registered functions, sorted by kind, class and name.
func (fs *Functions) List() []*FunctionDef {
	if fs == nil {
		return nil
	}
	fs.mu.RLock()
	out := make([]*FunctionDef, 0, len(fs.defs))
	for _, d := range fs.defs {
		out = append(out, d)
	}
	fs.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.Name < b.Name
	})
	return out
}

func (fs *Functions) empty() bool {
	if fs == nil {
		return true
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	return len(fs.defs) == 0
}

// Check verifies the registry against a model (nil: no datastore): every
// dataclass named must exist, and a dataclass, entity or selection function
// may not be named like one of its dataclass's attributes, which its URL
// would hide. fourd's server calls it when it opens.
func (fs *Functions) Check(m *fourd.Model) error {
	for _, d := range fs.List() {
		switch d.Kind {
		case KindDataClass, KindEntity, KindEntitySelection:
			if m == nil {
				return fmt.Errorf("function %s: this server has no datastore", d)
			}
			dc := m.DataClass(d.Class)
			if dc == nil {
				return fmt.Errorf("function %s: no dataclass %q in the model", d, d.Class)
			}
			if dc.Attribute(d.Name) != nil {
				return fmt.Errorf("function %s: %s has an attribute of that name", d, d.Class)
			}
		case KindSingleton:
			if d.Class == "" {
				return fmt.Errorf("singleton function %q: no class name", d.Name)
			}
		}
	}
	return nil
}

// RegisterFunction registers a datastore function (POST
// /rest/$catalog/{name}); see Functions.DataStore.
func (h *Handler) RegisterFunction(name string, fn Function) *FunctionDef {
	if h.Functions == nil {
		h.Functions = NewFunctions()
	}
	return h.Functions.DataStore(name, fn)
}

// writeFunctionResult writes what a function returned.
func (h *Handler) writeFunctionResult(w http.ResponseWriter, r *http.Request, call *Call, result any) error {
	switch v := result.(type) {
	case *Entity:
		if v == nil {
			break
		}
		return h.writeEntityResult(w, r, v)
	case *Selection:
		if v == nil {
			break
		}
		return h.writeSelectionResult(w, r, v)
	}
	out, err := json.Marshal(struct {
		Result any `json:"result"`
	}{result})
	if err != nil {
		return fmt.Errorf("function %s: encode its result: %w", call.Function, err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// writeEntityResult writes an entity as GET /rest/{dataClass}({key})
// would, with __DATACLASS after __entityModel as 4D's function results
// show it. An entity not saved has no __KEY yet.
func (h *Handler) writeEntityResult(w http.ResponseWriter, r *http.Request, e *Entity) error {
	ctx := r.Context()
	proj := h.readable(r, defaultProjection(h.Data.Model(), e.DataClass))
	if proj.attrs == nil && h.Policy != nil && !h.Policy.Allowed(h.effective(r), access.ActionRead, e.DataClass.Name, "") {
		return errPermission(access.ActionRead, e.DataClass.Name)
	}
	enc, err := h.newEncoder(ctx)
	if err != nil {
		return err
	}
	body := []byte(`{"__entityModel":`)
	body = fourd.AppendJSONString(body, e.DataClass.Name)
	body = append(body, `,"__DATACLASS":`...)
	body = fourd.AppendJSONString(body, e.DataClass.Name)
	inner := enc.appendEntity(nil, &e.Entity, proj, nil, false)
	body = append(body, ',')
	body = append(body, inner[1:]...)
	writeJSON(w, http.StatusOK, body)
	return nil
}

// writeSelectionResult stores the selection as an entity set (so that the
// client may page through it) and writes its first page, as $method=entityset does.
func (h *Handler) writeSelectionResult(w http.ResponseWriter, r *http.Request, sel *Selection) error {
	if err := h.allow(r, access.ActionRead, sel.DataClass, ""); err != nil {
		return err
	}
	if err := h.checkNewEntitySet(r); err != nil {
		return err
	}
	p := &dataParams{top: DefaultTop, timeout: fourd.DefaultEntitySetTimeout}
	es := h.newEntitySet(r, sel.DataClass, h.EntitySets.NewRowSet(sel.Rows, true), p)
	if err := h.EntitySets.Put(r.Context(), es); err != nil {
		return err
	}
	return h.writeSetPage(w, r, &dataRequest{dc: sel.DataClass}, p, es, es.Rows)
}

// funcTarget is a request for a class function, its path resolved.
type funcTarget struct {
	def   *FunctionDef
	req   *dataRequest // the dataclass, the entity's key, the set's ID
	rest  []string     // what follows the function's name in the path
	byGET bool
}

type funcTargetKey struct{}

// resolveFunction finds the class function a request's path names, if
// any: POST (or GET) /rest/$catalog/{fn}, /rest/$singleton/{class}/{fn},
// /rest/{dataClass}/{fn}[/$entityset[/{id}]], /rest/{dataClass}/$entityset/{id}/{fn}
// and /rest/{dataClass}({key})/{fn}. A path that names no registered
// function returns nil: it is a data request.
func (h *Handler) resolveFunction(r *http.Request) *funcTarget {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/rest/")
	if !ok {
		return nil
	}
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	fns := h.Functions
	t := &funcTarget{byGET: r.Method == http.MethodGet}
	switch {
	case segs[0] == "$catalog":
		if len(segs) != 2 {
			return nil
		}
		if t.def = fns.Lookup(KindDataStore, "", segs[1]); t.def == nil && segs[1] == "authentify" && r.Method == http.MethodPost {
			t.def = &FunctionDef{Kind: KindDataStore, Name: "authentify", fn: h.authentify}
		}
	case segs[0] == "$singleton":
		if len(segs) != 3 {
			return nil
		}
		t.def = fns.Lookup(KindSingleton, segs[1], segs[2])
		if t.def == nil {
			// Nothing else serves $singleton: name what is missing.
			t.def = &FunctionDef{Kind: KindSingleton, Class: segs[1], Name: segs[2]}
		}
	case strings.HasPrefix(segs[0], "$") || h.Data == nil || len(segs) < 2 || fns.empty():
		return nil
	default:
		req, err := parseDataPath(h.Data.Model(), segs[0])
		if err != nil {
			return nil
		}
		t.req = req
		switch {
		case req.hasKey:
			if len(segs) == 2 {
				t.def = fns.Lookup(KindEntity, req.dc.Name, segs[1])
			}
		case segs[1] == "$entityset" && len(segs) == 4:
			req.setID, req.hasSetID = normalizeSetID(segs[2]), true
			t.def = fns.Lookup(KindEntitySelection, req.dc.Name, segs[3])
		default:
			if t.def = fns.Lookup(KindEntitySelection, req.dc.Name, segs[1]); t.def == nil {
				t.def = fns.Lookup(KindDataClass, req.dc.Name, segs[1])
			}
			t.rest = segs[2:]
		}
	}
	if t.def == nil {
		return nil
	}
	return t
}

func normalizeSetID(id string) string { return strings.ToUpper(id) }

// requestFunction returns the function the request calls, as withProcess
// resolved it, or nil.
func requestFunction(r *http.Request) *funcTarget {
	t, _ := r.Context().Value(funcTargetKey{}).(*funcTarget)
	return t
}

// serveFunction calls a class function and writes its result.
func (h *Handler) serveFunction(w http.ResponseWriter, r *http.Request, t *funcTarget) error {
	def := t.def
	if def.fn == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "no exposed function %s", def)
	}
	if t.byGET && !def.get {
		w.Header().Set("Allow", "POST")
		return fourd.Errorf(fourd.EMETHOD, fourd.ErrCodeMethodNotAllowed, "%s is called with POST; GET is allowed only for functions registered with OnHTTPGet", def)
	}
	eff := h.effective(r)
	if h.Policy != nil {
		var ok bool
		if def.Kind == KindSingleton {
			ok = h.Policy.CanExecuteSingleton(eff, def.Class, def.Name)
		} else {
			ok = h.Policy.CanExecute(eff, def.Class, def.Name)
		}
		if !ok {
			return errPermission(access.ActionExecute, def.String())
		}
	}
	q := r.URL.Query()
	if err := checkFunctionParams(def, q, t.byGET); err != nil {
		return err
	}
	var body []byte
	if t.byGET {
		raw, _ := param(q, "$params")
		body = []byte(unquoteSingle(raw))
		q.Del("$params") // the function's arguments, not a filter's
	} else {
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, maxFunctionBody+1)); err != nil {
			return bodyError(err)
		}
		if len(body) > maxFunctionBody {
			return errTooLarge("a function's arguments are at most %d bytes", maxFunctionBody)
		}
	}
	ctx := r.Context()
	call := &Call{Function: def, Session: RequestSession(r), Process: fourd.CurrentProcess(ctx), Data: h.Data, h: h, w: w, r: r, privileges: eff}
	if h.Policy != nil && def.Kind != KindSingleton {
		call.privileges = h.Policy.Promote(eff, def.Class, def.Name)
	}
	if err := h.bindThis(ctx, call, t, q); err != nil {
		return err
	}
	var err error
	if call.Raw, call.Args, err = h.decodeArgs(ctx, body); err != nil {
		return err
	}
	if h.Locks != nil && call.Process != nil {
		defer h.Locks.ReleaseProcess(context.WithoutCancel(ctx), call.Process.ID())
	}
	result, err := def.fn(context.WithValue(ctx, callKey{}, call), call)
	if err != nil {
		return err
	}
	return h.writeFunctionResult(w, r, call, result)
}

// checkFunctionParams refuses the $-parameters a function call does not
// use, rather than ignore them: only an entity selection function takes
// $filter and $orderby (and $params for the filter's placeholders when
// called with POST); $params carries the arguments of a GET.
func checkFunctionParams(def *FunctionDef, q url.Values, byGET bool) error {
	for name := range q {
		if !strings.HasPrefix(name, "$") {
			continue
		}
		switch {
		case name == "$params" && (byGET || def.Kind == KindEntitySelection):
		case (name == "$filter" || name == "$orderby") && def.Kind == KindEntitySelection:
		case name == "$params":
			return badParam("%s is called with POST: its arguments go in the body as a JSON array, not in $params", def)
		default:
			return badParam("%s does not take %s: a function call takes its arguments, and an entity selection function $filter and $orderby", def, name)
		}
	}
	return nil
}

// maxFunctionBody bounds the arguments of a function call.
const maxFunctionBody = 1 << 20

func unquoteSingle(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

// bindThis reads what an entity or entity selection function applies to.
func (h *Handler) bindThis(ctx context.Context, call *Call, t *funcTarget, q url.Values) error {
	switch t.def.Kind {
	case KindEntity:
		e, err := h.lookup(ctx, t.req, nil)
		if err != nil {
			return err
		}
		call.Entity = &Entity{DataClass: t.req.dc, Entity: *e}
	case KindEntitySelection:
		sel, err := h.functionSelection(ctx, t, q)
		if err != nil {
			return err
		}
		call.Selection = sel
	case KindDataClass:
		if len(t.rest) > 0 {
			return badParam("%s is a dataclass function: call it as POST /rest/%s/%s", t.def, t.def.Class, t.def.Name)
		}
	}
	return nil
}

// functionSelection is the selection an entity selection function applies
// to: a stored set, or the dataclass's entities that $filter selects,
// sorted by $orderby.
func (h *Handler) functionSelection(ctx context.Context, t *funcTarget, q url.Values) (*Selection, error) {
	req := t.req
	switch {
	case len(t.rest) == 2 && t.rest[0] == "$entityset":
		req.setID, req.hasSetID = normalizeSetID(t.rest[1]), true
	case len(t.rest) == 1 && t.rest[0] == "$entityset", len(t.rest) == 0:
	default:
		return nil, badParam("%s applies to an entity selection: /rest/%s/%s, …/%s/$entityset/{id}, or with $filter and $orderby", t.def, req.dc.Name, t.def.Name, t.def.Name)
	}
	p, err := readDataParams(q, h.Data.Model(), req.dc)
	if err != nil {
		return nil, err
	}
	sel := &Selection{DataClass: req.dc}
	if !req.hasSetID {
		if sel.Rows, err = h.Data.Rows(ctx, selection(req, p)); err != nil {
			return nil, err
		}
		return sel, nil
	}
	es, err := h.EntitySets.Get(ctx, req.setID, h.Now())
	if err != nil {
		return nil, err
	}
	if es.DataClass != req.dc.Name {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeEntitySetNotFound, "entity set %s holds %s entities, not %s", es.ID, es.DataClass, req.dc.Name)
	}
	rows := es.Rows
	if p.filter != nil || len(p.orderBy) > 0 {
		if rows, err = h.refine(ctx, req, p, rows); err != nil {
			return nil, err
		}
	}
	sel.Rows = rows.AppendTo(nil)
	return sel, nil
}

// serveSingleton serves /rest/$singleton/{class}/{function}.
func (h *Handler) serveSingleton(w http.ResponseWriter, r *http.Request) error {
	if t := requestFunction(r); t != nil {
		return h.serveFunction(w, r, t)
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "POST, GET")
		return fourd.Errorf(fourd.EMETHOD, fourd.ErrCodeMethodNotAllowed, "%s is not allowed on %s: singleton functions are called with POST", r.Method, r.URL.Path)
	}
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "unknown REST resource %q: call a singleton function as /rest/$singleton/{class}/{function}", r.URL.Path)
}
