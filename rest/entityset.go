package rest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// createEntitySet serves $method=entityset on a dataclass: the whole
// selection (whatever $skip and $top say) is stored, and the first page is
// returned with __ENTITYSET first.
func (h *Handler) createEntitySet(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	if err := h.checkNewEntitySet(r); err != nil {
		return err
	}
	ctx := r.Context()
	if err := h.explain(ctx, req, p); err != nil {
		return err
	}
	setPhase(ctx, fourd.PhaseQuerying, 0)
	rows, err := h.Data.Rows(ctx, selection(req, p))
	if err != nil {
		return err
	}
	es := h.newEntitySet(r, req.dc, h.EntitySets.NewRowSet(rows, len(p.orderBy) > 0), p)
	if err := h.EntitySets.Put(ctx, es); err != nil {
		return err
	}
	return h.writeSetPage(w, r, req, p, es, es.Rows)
}

func (h *Handler) newEntitySet(r *http.Request, dc *fourd.DataClass, rows fourd.RowSet, p *dataParams) *fourd.EntitySet {
	now := h.Now()
	sessionID := ""
	if s := RequestSession(r); s != nil {
		sessionID = s.ID
	}
	return &fourd.EntitySet{
		ID: h.newSetID(sessionID), DataClass: dc.Name, Rows: rows, SessionID: sessionID,
		Created: now, Refreshed: now, Timeout: p.timeout,
		SavedFilter: p.savedFilter, SavedOrderBy: p.savedOrderBy,
	}
}

// writeSetPage writes the page of rows that $skip and $top select, with
// the set's URI as __ENTITYSET.
func (h *Handler) writeSetPage(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams, es *fourd.EntitySet, rows fourd.RowSet) error {
	ctx := r.Context()
	proj := h.projectionFor(r, req, p)
	setPhase(ctx, fourd.PhaseLoading, rows.Len())
	page, err := h.Data.Load(ctx, req.dc, rows.Page(p.skip, p.top), proj.storageNames())
	if err != nil {
		return err
	}
	uri := ""
	if es != nil {
		uri = setURI(req.dc, es.ID)
	}
	return h.writeCollection(ctx, w, uri, proj, rows.Len(), p.skip, page, p)
}

// getEntitySet serves /rest/{dataClass}/$entityset/{id}: a page of the set
// (filtered, sorted and projected as asked), its release, its combination
// with another set, or a new set made from it.
func (h *Handler) getEntitySet(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	ctx := r.Context()
	if p.method == "subentityset" {
		return badParam("$method=subentityset applies to a 1->N relation of one entity: /rest/Company(1)/staff?$method=subentityset&$subOrderby=lastName")
	}
	if p.method == "release" {
		if err := h.release(r, req.setID); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, []byte(`{"ok":true}`))
		return nil
	}
	es, err := h.EntitySets.Get(ctx, req.setID, h.Now())
	if fourd.ErrorCode(err) == fourd.ENOTFOUND && (p.savedFilter != "" || p.savedOrderBy != "") && h.madeBy(req.setID, RequestSession(r)) {
		// A rebuild is a new set: it counts against the session's quota.
		if err := h.checkNewEntitySet(r); err != nil {
			return err
		}
		es, err = h.rebuildEntitySet(r, req, p)
	}
	if err != nil {
		return err
	}
	if es.DataClass != req.dc.Name {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeEntitySetNotFound, "entity set %s holds %s entities, not %s", es.ID, es.DataClass, req.dc.Name)
	}
	rows := es.Rows
	if p.clean {
		if rows, err = h.clean(r, req.dc, rows); err != nil {
			return err
		}
	}
	if p.logicOp != "" {
		other, err := h.EntitySets.Get(ctx, strings.ToUpper(p.otherSet), h.Now())
		if err != nil {
			return err
		}
		if other.DataClass != es.DataClass {
			return badParam("$otherCollection %s holds %s entities; both sets must be of one dataclass (%s)", other.ID, other.DataClass, es.DataClass)
		}
		combined, shared, err := h.EntitySets.Combine(es.Rows, other.Rows, p.logicOp)
		if err != nil {
			return err
		}
		if p.logicOp == fourd.SetIntersect {
			body := []byte("false")
			if shared {
				body = []byte("true")
			}
			writeJSON(w, http.StatusOK, body)
			return nil
		}
		rows = combined
	}
	if rows, err = h.refine(ctx, req, p, rows); err != nil {
		return err
	}
	if p.compute != "" || p.distinct {
		return h.getCompute(w, r, req, p, rows)
	}
	if p.method == "entityset" {
		if err := h.checkNewEntitySet(r); err != nil {
			return err
		}
		nes := h.newEntitySet(r, req.dc, rows, p)
		if err := h.EntitySets.Put(ctx, nes); err != nil {
			return err
		}
		return h.writeSetPage(w, r, req, p, nes, rows)
	}
	if p.logicOp != "" || p.filter != nil || len(p.orderBy) > 0 {
		// The answer is another selection than the set's: naming the set
		// as its __ENTITYSET would send the client back to other rows.
		// $method=entityset keeps it as a set of its own.
		es = nil
	}
	return h.writeSetPage(w, r, req, p, es, rows)
}

// clean returns rows without those whose entity was deleted since the set
// was made, in the same order: $clean.
func (h *Handler) clean(r *http.Request, dc *fourd.DataClass, rows fourd.RowSet) (fourd.RowSet, error) {
	list := rows.AppendTo(make([]fourd.RowID, 0, rows.Len()))
	live, err := h.Data.Rows(r.Context(), fourd.Selection{DataClass: dc, InRows: list})
	if err != nil {
		return nil, err
	}
	if len(live) == len(list) {
		return rows, nil
	}
	in := h.EntitySets.NewRowSet(live, false)
	list = slices.DeleteFunc(list, func(row fourd.RowID) bool { return !in.Contains(row) })
	return h.EntitySets.NewRowSet(list, rows.Sorted()), nil
}

// refine applies $filter (keeping the set's order) and $orderby to a set's
// rows.
func (h *Handler) refine(ctx context.Context, req *dataRequest, p *dataParams, rows fourd.RowSet) (fourd.RowSet, error) {
	if p.filter == nil && len(p.orderBy) == 0 {
		return rows, nil
	}
	setPhase(ctx, fourd.PhaseQuerying, 0)
	list := rows.AppendTo(nil)
	if p.filter != nil {
		match, err := h.Data.Rows(ctx, fourd.Selection{DataClass: req.dc, Filter: p.filter})
		if err != nil {
			return nil, err
		}
		in := h.EntitySets.NewRowSet(match, false)
		list = slices.DeleteFunc(list, func(row fourd.RowID) bool { return !in.Contains(row) })
	}
	sorted := rows.Sorted()
	if len(p.orderBy) > 0 {
		var err error
		if list, err = h.Data.Sort(ctx, req.dc, list, p.orderBy); err != nil {
			return nil, err
		}
		sorted = true
	}
	return h.EntitySets.NewRowSet(list, sorted), nil
}

// rebuildEntitySet remakes a vanished set under its own ID from the saved
// filter and order the request carries, with 4D's 10-minute timeout. The
// caller has checked that the request's session made that ID (madeBy) and
// that its quota has room: a client cannot plant sets under IDs it picks,
// nor hold more sets than its quota by rebuilding them.
func (h *Handler) rebuildEntitySet(r *http.Request, req *dataRequest, p *dataParams) (*fourd.EntitySet, error) {
	sel := fourd.Selection{DataClass: req.dc}
	var err error
	if p.savedFilter != "" {
		if sel.Filter, err = filter.Parse(p.savedFilter); err != nil {
			return nil, badFilter(err)
		}
		if len(sel.Filter.Placeholders()) > 0 {
			return nil, badParam("$savedfilter cannot use placeholders: the set could not be rebuilt from it alone")
		}
		sel.OrderBy = sel.Filter.OrderBy
	}
	if p.savedOrderBy != "" {
		if sel.OrderBy, err = filter.ParseOrderBy(p.savedOrderBy); err != nil {
			return nil, badFilter(err)
		}
	}
	rows, err := h.Data.Rows(r.Context(), sel)
	if err != nil {
		return nil, err
	}
	es := h.newEntitySet(r, req.dc, h.EntitySets.NewRowSet(rows, len(sel.OrderBy) > 0), p)
	es.ID = req.setID
	es.Timeout = fourd.RebuiltEntitySetTimeout
	if err := h.EntitySets.Put(r.Context(), es); err != nil {
		return nil, err
	}
	return es, nil
}

// postRelease serves POST /rest/$entityset/$release with a JSON array of
// entity set IDs. It releases those that exist and answers
// {"ok":true,"released":[…],"notFound":[…]}.
func (h *Handler) postRelease(w http.ResponseWriter, r *http.Request) error {
	if h.EntitySets == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server keeps no entity sets")
	}
	body, err := readSmallBody(r, 1<<20, "$entityset/$release")
	if err != nil {
		return err
	}
	var ids []string
	if err := json.Unmarshal(body, &ids); err != nil {
		return badParam("the body must be a JSON array of entity set IDs, as in [\"4C51204DD8184B65AC7D79F09A077F24\"]: %v", err)
	}
	released, notFound := []string{}, []string{}
	ctx := r.Context()
	for _, id := range ids {
		if ctx.Err() != nil { // the client left, or the process was aborted
			return context.Cause(ctx)
		}
		id = strings.ToUpper(strings.TrimSpace(id))
		err := h.release(r, id)
		switch fourd.ErrorCode(err) {
		case "":
			released = append(released, id)
		case fourd.ENOTFOUND:
			notFound = append(notFound, id)
		default:
			return err
		}
	}
	out, _ := json.Marshal(struct {
		OK       bool     `json:"ok"`
		Released []string `json:"released"`
		NotFound []string `json:"notFound"`
	}{true, released, notFound})
	writeJSON(w, http.StatusOK, out)
	return nil
}

// relationFilter is the filter "path = key", built as a tree.
func relationFilter(path, key string) *filter.Query {
	return &filter.Query{Expr: &filter.Comparison{Path: filter.Path{{Name: path}}, Op: filter.OpStrictEqual, Value: filter.Value{Kind: filter.KindString, Str: key}}}
}

// andQueries is "a AND b".
func andQueries(a, b *filter.Query) *filter.Query {
	return &filter.Query{Expr: &filter.Logical{Op: filter.And, Left: a.Expr, Right: b.Expr}, OrderBy: b.OrderBy}
}

// release releases a set. With access control, a session that is not an
// administrator may release only the sets it made; another's answers as
// an unknown set, so that IDs cannot be probed. An administrator may
// release any set: the admin action "release an entity set". Either way it
// costs one lookup in the store, however many sets are held.
func (h *Handler) release(r *http.Request, id string) error {
	if h.accessControl() && !isAdmin(r) {
		s := RequestSession(r)
		if s == nil {
			return errEntitySetNotFound(id)
		}
		return fourd.ReleaseEntitySet(r.Context(), h.EntitySets, id, s.ID)
	}
	return fourd.ReleaseEntitySet(r.Context(), h.EntitySets, id, "")
}

func errEntitySetNotFound(id string) error {
	e := fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeEntitySetNotFound, "EntitySet %q cannot be found", id)
	e.Component = fourd.ComponentDB
	return e
}

// entitySets returns the entity-set store, or nil (as an interface) when
// the handler keeps none.
func (h *Handler) entitySets() fourd.EntitySetStore {
	if h.EntitySets == nil {
		return nil
	}
	return h.EntitySets
}

// Entity-set IDs carry proof of the session that made them, so that a set
// can be rebuilt from $savedfilter only by its own session, even once the
// store has forgotten it: 8 random bytes, then the first 8 bytes of
// HMAC-SHA256(key, random bytes + session ID) under a key the handler
// draws at Init. The ID keeps 4D's shape (32 hexadecimal characters). A
// session that logs in gets a new ID (no session fixation), so the sets it
// made before cannot be rebuilt after; several nodes would have to share
// the key.

func (h *Handler) newSetID(sessionID string) string {
	var b [16]byte
	_, _ = rand.Read(b[:8]) // crypto/rand.Read never fails (Go 1.24+)
	h.setIDMAC(b[:8], sessionID, b[8:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// setIDMAC writes into out the first len(out) bytes of the MAC of an ID's
// random part for a session.
func (h *Handler) setIDMAC(random []byte, sessionID string, out []byte) {
	m := hmac.New(sha256.New, h.setKey[:])
	m.Write(random)
	m.Write([]byte(sessionID))
	copy(out, m.Sum(nil))
}

// madeBy reports whether the set ID id was made by newSetID for session s.
func (h *Handler) madeBy(id string, s *fourd.Session) bool {
	b, err := hex.DecodeString(id)
	if s == nil || err != nil || len(b) != 16 {
		return false
	}
	var want [8]byte
	h.setIDMAC(b[:8], s.ID, want[:])
	return hmac.Equal(b[8:], want[:])
}
