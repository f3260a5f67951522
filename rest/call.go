package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
	"github.com/fourd/fourd/filter"
)

// Call is one call of a class function.
type Call struct {
	// Function is the function called.
	Function *FunctionDef
	// Args are the call's arguments, decoded from the JSON array 4D clients
	// send: JSON values as encoding/json decodes them into any, numbers as
	// json.Number; an object with "__ENTITY":true as an *Entity (read by
	// its __KEY with the attributes it gives set on it, and its __STAMP if
	// given, for Save's stamp check; or a new entity without __KEY); an object with "__ENTITIES":true as a *Selection (the
	// entity set named by __DATASET).
	Args []any
	// Raw are the arguments as they were sent, one per element of the array.
	Raw []json.RawMessage
	// Session is the session of the request: a copy read when the request
	// started (or by the call's last Login or UpdateSession). Changing it
	// changes nothing stored: change the session with UpdateSession.
	Session *fourd.Session
	// Process is the process the call runs as (also the ctx the function
	// receives).
	Process *fourd.Process
	// Data is the datastore; nil on a server without one.
	Data fourd.Datastore
	// Entity is the entity an entity function applies to, with every
	// attribute, read when the call started.
	Entity *Entity
	// Selection is the entity selection an entity selection function
	// applies to.
	Selection *Selection

	h          *Handler
	w          http.ResponseWriter
	r          *http.Request
	renewed    *fourd.Session
	privileges access.PrivilegeSet // the session's, with what the method promotes
}

type callKey struct{}

// CallFromContext returns the call a class function's ctx belongs to, so
// that code the function calls with only ctx reaches the session, the
// process and the datastore; nil outside a call.
func CallFromContext(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// Entity is an entity a function receives or returns: a copy, read from
// the datastore, that the function may change with Set and save with
// Call.Save.
type Entity struct {
	DataClass *fourd.DataClass
	fourd.Entity
	changed map[string]bool
}

// IsNew reports whether the entity has never been saved.
func (e *Entity) IsNew() bool { return e.Key == "" }

// Get returns the value of a storage attribute (a relatedEntity attribute
// gives the related entity's key), nil when null.
func (e *Entity) Get(attribute string) any { return e.Values[attribute] }

// Set sets an attribute's value for the next Save: a value of the
// attribute's type (numbers as float64, int64 or json.Number, dates as
// time.Time), or a key for a relatedEntity attribute.
func (e *Entity) Set(attribute string, value any) {
	if e.Values == nil {
		e.Values = map[string]any{}
	}
	if e.changed == nil {
		e.changed = map[string]bool{}
	}
	e.Values[attribute] = value
	e.changed[attribute] = true
}

// Selection is an entity selection a function receives or returns: rows
// of one dataclass, in order.
type Selection struct {
	DataClass *fourd.DataClass
	Rows      []fourd.RowID
}

// Len returns the number of entities in the selection.
func (s *Selection) Len() int { return len(s.Rows) }

// Login logs the call's session in as user, with privileges (already
// expanded) and an idle lifetime (0: the handler's). The session gets a new
// ID and the answer a new cookie.
func (c *Call) Login(user *fourd.User, privileges []string, lifetime time.Duration) error {
	return c.login(user, privileges, lifetime, false)
}

// login is Login; directory says the user is one of the users directory's
// (fourd's own authentify), whose changes the session then follows.
func (c *Call) login(user *fourd.User, privileges []string, lifetime time.Duration, directory bool) error {
	s, err := c.h.login(c.r.Context(), c.w, c.r, c.Session, user, privileges, lifetime, directory)

	if err != nil {
		return err
	}
	c.Session, c.renewed = s, s
	return nil
}

// UpdateSession changes the call's session through the store (4D's
// Session.setPrivileges, clearPrivileges, idleTimeout…): fn receives the
// stored session and returns it changed, as for fourd.SessionStore.Update
// (it may be called more than once, so it must be pure). Call.Session
// becomes the stored result; the privileges this call runs with stay those
// it started with, as after a Login, and the session's next request has
// the new ones.
func (c *Call) UpdateSession(ctx context.Context, fn func(fourd.Session) (fourd.Session, error)) error {
	if c.Session == nil {
		return errors.New("update of a call without a session")
	}
	s, err := c.h.Sessions.Update(ctx, c.Session.ID, fn)
	if err != nil {
		return err
	}
	c.Session = &s
	return nil
}

// Arg decodes argument i into v with encoding/json: an EINVALID error for
// a missing argument or one of the wrong type, which the client sees as a
// 400.
func (c *Call) Arg(i int, v any) error {
	if i < 0 || i >= len(c.Raw) {
		return badParam("%s takes at least %d argument(s), %d given", c.Function, i+1, len(c.Raw))
	}
	if err := json.Unmarshal(c.Raw[i], v); err != nil {
		return badParam("%s: argument %d: %v", c.Function, i+1, err)
	}
	return nil
}

// HasPrivilege reports whether the call runs with the named privilege: the
// session's, or one its method's promote permission adds for the call.
func (c *Call) HasPrivilege(name string) bool {
	if c.h.Policy == nil {
		return c.Session != nil && c.Session.HasPrivilege(name)
	}
	return c.h.Policy.Has(c.privileges, name)
}

func (c *Call) dataStore() (fourd.Datastore, error) {
	if c.Data == nil {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server has no datastore")
	}
	return c.Data, nil
}

func (c *Call) allowed(action access.Action, dc *fourd.DataClass, attribute string) error {
	if c.h.Policy == nil || c.h.Policy.Allowed(c.privileges, action, dc.Name, attribute) {
		return nil
	}
	what := dc.Name
	if attribute != "" {
		what += "." + attribute
	}
	return errPermission(action, what)
}

// Query returns the entities of dataClass that match an ORDA query
// ($filter's language), with :1, :2… bound to params, in the query's
// order. The call's privileges must allow reading the dataclass.
func (c *Call) Query(ctx context.Context, dataClass, query string, params ...any) (*Selection, error) {
	ds, err := c.dataStore()
	if err != nil {
		return nil, err
	}
	dc := ds.Model().DataClass(dataClass)
	if dc == nil {
		return nil, unknownDataClass(dataClass)
	}
	if err := c.allowed(access.ActionRead, dc, ""); err != nil {
		return nil, err
	}
	q, err := filter.Parse(query)
	if err != nil {
		return nil, badFilter(err)
	}
	if q, err = q.Bind(params); err != nil {
		return nil, badFilter(err)
	}
	rows, err := ds.Rows(ctx, fourd.Selection{DataClass: dc, Filter: q})
	if err != nil {
		return nil, err
	}
	return &Selection{DataClass: dc, Rows: rows}, nil
}

// Entities reads the entities of a selection, in its order, every
// attribute loaded; an entity deleted since is left out.
func (c *Call) Entities(ctx context.Context, sel *Selection) ([]*Entity, error) {
	ds, err := c.dataStore()
	if err != nil {
		return nil, err
	}
	if err := c.allowed(access.ActionRead, sel.DataClass, ""); err != nil {
		return nil, err
	}
	es, err := ds.Load(ctx, sel.DataClass, sel.Rows, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*Entity, 0, len(es))
	for _, e := range es {
		if e != nil {
			out = append(out, &Entity{DataClass: sel.DataClass, Entity: *e})
		}
	}
	return out, nil
}

// Save saves what Set changed in e: it creates a new entity, or updates
// one if its stamp has not changed since it was read (else ECONFLICT with
// 4D's stamp errors, which the client sees as a 409). An entity locked by
// another session is not saved (ECONFLICT, "Already locked"). The call's
// privileges must allow create or update on every attribute set. On
// success e holds the entity as saved.
func (c *Call) Save(ctx context.Context, e *Entity) error {
	ds, err := c.dataStore()
	if err != nil {
		return err
	}
	save := fourd.EntitySave{Values: map[string]any{}}
	for name := range e.changed {
		save.Values[name] = e.Values[name]
	}
	action := access.ActionCreate
	if !e.IsNew() {
		action = access.ActionUpdate
		save.Key, save.Stamp, save.Update = e.Key, e.Stamp, true
	}
	if err := c.allowed(action, e.DataClass, ""); err != nil {
		return err
	}
	for name := range save.Values {
		if err := c.allowed(action, e.DataClass, name); err != nil {
			return err
		}
	}
	c.h.lockGate.RLock()
	defer c.h.lockGate.RUnlock()
	if save.Update {
		if err := c.h.checkLock(ctx, c.Session, e.DataClass, e.Key); err != nil {
			return err
		}
	}
	results, err := ds.Save(ctx, e.DataClass, []fourd.EntitySave{save}, false)
	if err != nil {
		return err
	}
	if res := results[0]; res.Err != nil {
		return res.Err
	} else if res.Entity != nil {
		e.Entity = *res.Entity
	}
	e.changed = nil
	return nil
}

// Lock locks e for the call's process: other sessions see it locked (and
// cannot update, delete or lock it) until the process ends, normally or
// by an abort, or Unlock is called. A lock the session already holds
// stays as it is. An entity locked by another session gives ECONFLICT.
func (c *Call) Lock(ctx context.Context, e *Entity) error {
	if c.h.Locks == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server keeps no entity locks")
	}
	return c.h.takeLock(ctx, c.h.newLock(c.r, c.Session, e.DataClass, &e.Entity, c.Process.ID()))
}

// Unlock releases a lock the call's session holds on e.
func (c *Call) Unlock(ctx context.Context, e *Entity) error {
	if c.h.Locks == nil {
		return nil
	}
	_, err := c.h.Locks.Unlock(ctx, e.DataClass.Name, e.Key, c.Session.ID)
	return err
}

// decodeArgs decodes a JSON array of arguments.
func (h *Handler) decodeArgs(ctx context.Context, body []byte) ([]json.RawMessage, []any, error) {
	var raw []json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, nil
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, nil, badParam("the arguments must be a JSON array, as in [\"Aguada\", 2]: %v", err)
	}
	args := make([]any, len(raw))
	for i, a := range raw {
		v, err := h.decodeArg(ctx, a)
		if err != nil {
			var fe *fourd.Error
			if errors.As(err, &fe) {
				fe.Message = fmt.Sprintf("argument %d: %s", i+1, fe.Message)
			}
			return nil, nil, err
		}
		args[i] = v
	}
	return raw, args, nil
}

// decodeArg decodes one argument: an entity, an entity selection, or a
// plain JSON value.
func (h *Handler) decodeArg(ctx context.Context, raw json.RawMessage) (any, error) {
	var obj map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &obj) == nil {
		switch {
		case isTrue(obj["__ENTITY"]):
			return h.entityArg(ctx, obj)
		case isTrue(obj["__ENTITIES"]):
			return h.selectionArg(ctx, obj)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badParam("%v", err)
	}
	return v, nil
}

func isTrue(raw json.RawMessage) bool {
	var b bool
	return raw != nil && json.Unmarshal(raw, &b) == nil && b
}

// entityArg reads {"__DATACLASS":…,"__ENTITY":true[,"__KEY":…],attrs…}.
func (h *Handler) entityArg(ctx context.Context, obj map[string]json.RawMessage) (*Entity, error) {
	if h.Data == nil {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server has no datastore")
	}
	var name string
	if json.Unmarshal(obj["__DATACLASS"], &name) != nil || name == "" {
		return nil, badParam(`an entity argument names its dataclass: {"__DATACLASS":"Employee","__ENTITY":true,"__KEY":12}`)
	}
	dc := h.Data.Model().DataClass(name)
	if dc == nil {
		return nil, unknownDataClass(name)
	}
	attrs := make(map[string]json.RawMessage, len(obj))
	for k, v := range obj {
		if k != "__KEY" && k != "__STAMP" {
			attrs[k] = v
		}
	}
	given, err := decodeSave(dc, attrs)
	if err != nil {
		return nil, err
	}
	e := &Entity{DataClass: dc}
	if rawKey, ok := obj["__KEY"]; ok {
		key, err := keyText(rawKey)
		if err != nil {
			return nil, err
		}
		read, err := h.Data.Entity(ctx, dc, key, nil)
		if err != nil {
			return nil, err
		}
		e.Entity = *read
		e.Values = maps.Clone(read.Values)
		if rawStamp, ok := obj["__STAMP"]; ok {
			// The client's stamp: Save then refuses the entity if it changed
			// since the client read it, not only since the call did.
			if err := json.Unmarshal(rawStamp, &e.Stamp); err != nil {
				return nil, badParam("__STAMP must be a number")
			}
		}
	}
	for name, v := range given.Values {
		e.Set(name, v)
	}
	return e, nil
}

// selectionArg reads {"__ENTITIES":true,"__DATASET":"<entity set ID>"}.
func (h *Handler) selectionArg(ctx context.Context, obj map[string]json.RawMessage) (*Selection, error) {
	if h.Data == nil || h.EntitySets == nil {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server has no datastore")
	}
	var id string
	if json.Unmarshal(obj["__DATASET"], &id) != nil || id == "" {
		return nil, badParam(`an entity selection argument names its entity set: {"__ENTITIES":true,"__DATASET":"<ID>"}`)
	}
	es, err := h.EntitySets.Get(ctx, normalizeSetID(id), h.Now())
	if err != nil {
		return nil, err
	}
	dc := h.Data.Model().DataClass(es.DataClass)
	if dc == nil {
		return nil, unknownDataClass(es.DataClass)
	}
	return &Selection{DataClass: dc, Rows: es.Rows.AppendTo(nil)}, nil
}
