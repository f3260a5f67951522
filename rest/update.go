package rest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
)

// postUpdate serves POST /rest/{dataClass}?$method=update: one entity, or
// an array of entities, each created (no __KEY/__STAMP) or updated (both
// given). One entity answers the entity as saved; an array answers
// {"__ENTITIES":[…]}, each element carrying __ERROR if it was not saved.
// With $atomic=true either all are saved or none.
func (h *Handler) postUpdate(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	if req.hasKey || req.hasSetID {
		return badParam("$method=update goes to the dataclass: POST /rest/%s?$method=update", req.dc.Name)
	}
	if err := onlyParams(r.URL.Query(), "$method="+p.method, "$method", "$atomic", "$atOnce"); err != nil {
		return err
	}
	if err := h.mayWrite(r, req.dc); err != nil {
		return err // before a byte of the body is read
	}
	setPhase(r.Context(), fourd.PhaseSaving, 0)
	raws, single, err := decodeEntities(r.Body)
	if err != nil {
		return err
	}
	saves := make([]fourd.EntitySave, len(raws))
	for i, raw := range raws {
		s, err := decodeSave(req.dc, raw)
		if err != nil {
			if single {
				return err
			}
			var fe *fourd.Error
			if errors.As(err, &fe) {
				fe.Message = "entity " + strconv.Itoa(i) + ": " + fe.Message
			}
			return err
		}
		saves[i] = s
	}
	if err := h.checkSaves(r, req.dc, saves); err != nil {
		return err
	}
	ctx := r.Context()
	save := h.Data.Save
	if p.method == "validate" {
		v, ok := h.Data.(fourd.Validator)
		if !ok {
			return badParam("$method=validate: this server's datastore cannot check saves without making them")
		}
		save = v.Validate
	}
	results, err := h.saveUnlocked(ctx, RequestSession(r), req.dc, saves, p.atomic, single, save)
	if err != nil {
		return err
	}
	if p.method == "validate" {
		return writeValidation(w, results)
	}
	enc, err := h.newEncoder(ctx)
	if err != nil {
		return err
	}
	proj := h.readable(r, defaultProjection(h.Data.Model(), req.dc))
	if single {
		res := results[0]
		if res.Err != nil {
			if res.Entity == nil {
				return res.Err
			}
			status := StatusCode(res.Err)
			writeJSON(w, status, appendEntityWithError(enc, nil, res, proj))
			return nil
		}
		writeJSON(w, http.StatusOK, enc.appendEntity(nil, res.Entity, proj, nil, true))
		return nil
	}
	out := []byte(`{"__ENTITIES":[`)
	for i, res := range results {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendEntityWithError(enc, out, res, proj)
	}
	out = append(out, "]}"...)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// onlyParams refuses the $-parameters of q other than those named, rather
// than ignore them: an update answers the entities as saved, so $filter,
// $attributes, $expand and the like would be silently without effect.
func onlyParams(q url.Values, what string, names ...string) error {
	for name := range q {
		if strings.HasPrefix(name, "$") && !slices.Contains(names, name) {
			return badParam("%s does not take %s: it answers the entities as saved (only %s apply)", what, name, strings.Join(names[1:], " and "))
		}
	}
	return nil
}

// saveUnlocked saves the entities, except those another session locks:
// their results carry the lock error. With atomic (all or nothing) or
// single (one entity), a locked entity fails the whole call, as the
// error, and nothing is saved.
func (h *Handler) saveUnlocked(ctx context.Context, s *fourd.Session, dc *fourd.DataClass, saves []fourd.EntitySave, atomic, single bool, save saveFunc) ([]fourd.SaveResult, error) {
	h.lockGate.RLock()
	defer h.lockGate.RUnlock()
	whole := atomic || single
	var locked map[int]error
	for i, sv := range saves {
		if !sv.Update {
			continue
		}
		if err := h.checkLock(ctx, s, dc, sv.Key); err != nil {
			if whole {
				return nil, err
			}
			if locked == nil {
				locked = map[int]error{}
			}
			locked[i] = err
		}
	}
	if len(locked) == 0 {
		return save(ctx, dc, saves, atomic)
	}
	rest := make([]fourd.EntitySave, 0, len(saves)-len(locked))
	for i, sv := range saves {
		if locked[i] == nil {
			rest = append(rest, sv)
		}
	}
	saved, err := save(ctx, dc, rest, false)
	if err != nil {
		return nil, err
	}
	out := make([]fourd.SaveResult, len(saves))
	for i, j := 0, 0; i < len(saves); i++ {
		if err := locked[i]; err != nil {
			out[i] = fourd.SaveResult{Err: err}
			continue
		}
		out[i] = saved[j]
		j++
	}
	return out, nil
}

// saveFunc is Datastore.Save, or Validator.Validate for $method=validate.
type saveFunc func(ctx context.Context, dc *fourd.DataClass, saves []fourd.EntitySave, atomic bool) ([]fourd.SaveResult, error)

// writeValidation answers $method=validate: {"ok":true} when every entity
// would be saved; otherwise, as 4D's page shows it, {"__ENTITIES":[…]}
// with one element per entity that would not, carrying its __ERROR (fourd
// adds __INDEX, its position in the request, and __KEY for an update),
// with the status of the first failure.
func writeValidation(w http.ResponseWriter, results []fourd.SaveResult) error {
	var out []byte
	status := http.StatusOK
	for i, res := range results {
		if res.Err == nil {
			continue
		}
		if out == nil {
			out = []byte(`{"__ENTITIES":[`)
			status = StatusCode(res.Err)
		} else {
			out = append(out, ',')
		}
		out = append(out, `{"__INDEX":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		if res.Entity != nil {
			out = append(out, `,"__KEY":`...)
			out = fourd.AppendJSONString(out, res.Entity.Key)
		}
		items := envelopeItems(res.Err)
		if len(items) == 0 {
			return res.Err // not an entity's fault: internal
		}
		body, err := json.Marshal(items)
		if err != nil {
			return err
		}
		out = append(out, `,"__ERROR":`...)
		out = append(out, body...)
		out = append(out, '}')
	}
	if out == nil {
		writeJSON(w, http.StatusOK, []byte(`{"ok":true}`))
		return nil
	}
	writeJSON(w, status, append(out, "]}"...))
	return nil
}

// mayWrite refuses an update request of a session that may neither
// create nor update entities of dc, before its body is read.
func (h *Handler) mayWrite(r *http.Request, dc *fourd.DataClass) error {
	if h.allow(r, access.ActionCreate, dc, "") == nil || h.allow(r, access.ActionUpdate, dc, "") == nil {
		return nil
	}
	return fourd.Errorf(fourd.EUNAUTHORIZED, fourd.ErrCodePermission, "no permission to create or update %s", dc.Name)
}

// decodeEntities reads an update body as a stream: one JSON object, or an
// array of objects decoded one at a time, so that no more than one entity
// is held twice (as text and decoded). Anything else, null or a value
// among the objects included, is a 400.
func decodeEntities(body io.Reader) (raws []map[string]json.RawMessage, single bool, err error) {
	br := bufio.NewReader(body)
	first, err := firstByte(br)
	if err != nil {
		return nil, false, err
	}
	dec := json.NewDecoder(br)
	shape := func(err error) error {
		if errors.As(err, new(*fourd.Error)) {
			return err // a limit of the body, not its shape
		}
		return badParam("the body must be a JSON object or an array of objects: %v", err)
	}
	switch first {
	case '{':
		var one map[string]json.RawMessage
		if err := dec.Decode(&one); err != nil {
			return nil, false, shape(err)
		}
		raws, single = append(raws, one), true
	case '[':
		if _, err := dec.Token(); err != nil {
			return nil, false, shape(err)
		}
		for dec.More() {
			var one map[string]json.RawMessage
			if err := dec.Decode(&one); err != nil {
				return nil, false, shape(err)
			}
			if one == nil {
				return nil, false, badParam("entity %d of the body is null; each must be an object", len(raws))
			}
			raws = append(raws, one)
		}
		if _, err := dec.Token(); err != nil { // the closing ]
			return nil, false, shape(err)
		}
	default:
		return nil, false, badParam("the body must be a JSON object or an array of objects, not one that starts with %q", first)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("more JSON follows the entities")
		}
		return nil, false, shape(err)
	}
	return raws, single, nil
}

// firstByte returns the first byte of br that is not JSON white space,
// leaving it unread.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return 0, badParam("the body is empty; it must be a JSON object or an array of objects")
		}
		if err != nil {
			return 0, bodyError(err)
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, br.UnreadByte()
	}
}

// appendEntityWithError writes a save result: the entity, with __STATUS and
// __ERROR when it was not saved.
func appendEntityWithError(enc *encoder, b []byte, res fourd.SaveResult, proj *projection) []byte {
	if res.Err == nil {
		return enc.appendEntity(b, res.Entity, proj, nil, false)
	}
	errs := envelopeItems(res.Err)
	status := 4
	statusText := "Other error"
	if fourd.ErrorCode(res.Err) == fourd.ECONFLICT {
		status, statusText = 2, "Stamp has changed"
	}
	var entity []byte
	if res.Entity != nil {
		entity = enc.appendEntity(nil, res.Entity, proj, nil, false)
		entity = entity[1 : len(entity)-1] // its members, to follow __STATUS
	}
	b = append(b, `{"__STATUS":`...)
	var le *fourd.LockedError
	if errors.As(res.Err, &le) {
		b = appendLockStatus(b, le.Holder)
	} else {
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"statusText":`...)
		b = fourd.AppendJSONString(b, statusText)
	}
	b = append(b, `,"success":false}`...)
	if len(entity) > 0 {
		b = append(b, ',')
		b = append(b, entity...)
	}
	b = append(b, `,"__ERROR":`...)
	enc2, _ := json.Marshal(errs)
	b = append(b, enc2...)
	return append(b, '}')
}

// decodeSave reads one entity of an update body.
func decodeSave(dc *fourd.DataClass, raw map[string]json.RawMessage) (fourd.EntitySave, error) {
	s := fourd.EntitySave{Values: map[string]any{}}
	_, hasKey := raw["__KEY"]
	_, hasStamp := raw["__STAMP"]
	if hasKey != hasStamp {
		return s, badParam("an update needs both __KEY and __STAMP; a creation, neither")
	}
	if hasKey {
		s.Update = true
		key, err := keyText(raw["__KEY"])
		if err != nil {
			return s, err
		}
		s.Key = key
		if err := json.Unmarshal(raw["__STAMP"], &s.Stamp); err != nil {
			return s, badParam("__STAMP must be a number")
		}
	}
	for name, v := range raw {
		if len(name) >= 2 && name[:2] == "__" || name == "uri" {
			continue // __KEY, __STAMP, __TIMESTAMP, __entityModel and the echo of uri are not attributes
		}
		a := dc.Attribute(name)
		if a == nil {
			return s, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeUnknownAttribute, "%s has no attribute %q", dc.Name, name)
		}
		switch a.Kind {
		case fourd.KindRelatedEntities:
			return s, badParam("%s.%s lists related entities; set the relation from the other side", dc.Name, name)
		case fourd.KindRelatedEntity:
			key, err := relatedKey(v)
			if err != nil {
				return s, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadValue, "%s.%s: %v", dc.Name, name, err)
			}
			if key == "" {
				s.Values[name] = nil
			} else {
				s.Values[name] = key
			}
		default:
			var val any
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(&val); err != nil {
				return s, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadValue, "%s.%s: %v", dc.Name, name, err)
			}
			s.Values[name] = val
		}
	}
	return s, nil
}

// keyText reads a key given as a JSON string or number.
func keyText(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), nil
	}
	return "", badParam("__KEY must be a string or a number")
}

// relatedKey reads the value of a relatedEntity attribute: null, a key, or
// an object with __KEY (as the entity was sent).
func relatedKey(raw json.RawMessage) (string, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return "", nil
	}
	if k, err := keyText(raw); err == nil {
		return k, nil
	}
	var obj struct {
		Key      json.RawMessage `json:"__KEY"`
		Deferred *struct {
			Key json.RawMessage `json:"__KEY"`
		} `json:"__deferred"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", errors.New("give the related entity's key, or an object with __KEY")
	}
	if obj.Key == nil && obj.Deferred != nil {
		obj.Key = obj.Deferred.Key
	}
	if obj.Key == nil {
		return "", errors.New("the object has no __KEY")
	}
	return keyText(obj.Key)
}

// postDelete serves $method=delete. It deletes exactly what a GET of the
// same URL selects (decisions.md, "Deletes"), or refuses: an entity by key;
// the entities a 1->N relation leads to (/rest/Company(1)/staff), filtered
// and paged as the GET is; a filtered selection; an entity set, filtered
// and paged as the GET is. It answers {"ok":true}.
func (h *Handler) postDelete(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	dc, rows, err := h.deleteTarget(r, req, p)
	if err != nil {
		return err
	}
	h.lockGate.RLock()
	defer h.lockGate.RUnlock()
	if err := h.checkRowLocks(r.Context(), RequestSession(r), dc, rows); err != nil {
		return err
	}
	setPhase(r.Context(), fourd.PhaseSaving, len(rows))
	if _, err := h.Data.Delete(r.Context(), dc, rows); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []byte(`{"ok":true}`))
	return nil
}

// deleteTarget returns the dataclass and the rows a delete removes: those
// a GET of the same URL selects. Parameters that would make the two differ
// are refused rather than ignored.
func (h *Handler) deleteTarget(r *http.Request, req *dataRequest, p *dataParams) (*fourd.DataClass, []fourd.RowID, error) {
	ctx := r.Context()
	switch {
	case p.compute != "" || p.distinct:
		return nil, nil, badParam("$method=delete cannot go with $compute or $distinct: their GET answers values, not entities")
	case p.logicOp != "":
		return nil, nil, badParam("$method=delete cannot go with $logicOperator: store the combination with $method=entityset first, then delete that set")
	}
	if req.hasKey {
		following := len(req.attrs) == 1 && req.attrs[0].Kind != fourd.KindStorage && p.attributes == nil
		if following {
			return h.deleteRelated(r, req, p)
		}
		for _, a := range req.attrs {
			if a.Kind != fourd.KindStorage {
				return nil, nil, badParam("$method=delete on %s(%s)/… with a relation and other attributes: delete the entity at /rest/%s(%s), or the related ones at /rest/%s(%s)/%s", req.dc.Name, req.key, req.dc.Name, req.key, req.dc.Name, req.key, a.Name)
			}
		}
		if p.filter != nil || len(p.orderBy) > 0 || p.paged {
			return nil, nil, badParam("$method=delete on one entity, %s(%s): $filter, $orderby, $top and $skip do not apply to it", req.dc.Name, req.key)
		}
		if err := h.allow(r, access.ActionDrop, req.dc, ""); err != nil {
			return nil, nil, err
		}
		e, err := h.lookup(ctx, req, nil)
		if err != nil {
			return nil, nil, err
		}
		return req.dc, []fourd.RowID{e.Row}, nil
	}
	if err := h.allow(r, access.ActionDrop, req.dc, ""); err != nil {
		return nil, nil, err
	}
	switch {
	case req.hasSetID:
		es, err := h.EntitySets.Get(ctx, req.setID, h.Now())
		if err != nil {
			return nil, nil, err
		}
		if es.DataClass != req.dc.Name {
			return nil, nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeEntitySetNotFound, "entity set %s holds %s entities, not %s", es.ID, es.DataClass, req.dc.Name)
		}
		rows, err := h.refine(ctx, req, p, es.Rows)
		if err != nil {
			return nil, nil, err
		}
		return req.dc, pageOf(rows.AppendTo(nil), p), nil
	case p.filter != nil:
		rows, err := h.Data.Rows(ctx, selection(req, p))
		if err != nil {
			return nil, nil, err
		}
		return req.dc, pageOf(rows, p), nil
	}
	return nil, nil, badParam("$method=delete needs an entity (/rest/%s(key)), a $filter or an entity set; it never deletes a whole dataclass", req.dc.Name)
}

// deleteRelated returns what /rest/Company(1)/staff?$method=delete
// removes: the related entities the GET lists, with its $filter, $orderby,
// $top and $skip. An N->1 relation (/rest/Employee(1)/employer) is refused:
// the related entity is shared by others, and has a URL of its own.
func (h *Handler) deleteRelated(r *http.Request, req *dataRequest, p *dataParams) (*fourd.DataClass, []fourd.RowID, error) {
	a := req.attrs[0]
	target := h.Data.Model().DataClass(a.RelatedDataClass)
	if a.Kind == fourd.KindRelatedEntity {
		return nil, nil, badParam("$method=delete on %s(%s)/%s: that is one related entity, shared by others; delete it by its own URL, /rest/%s(key)", req.dc.Name, req.key, a.Name, target.Name)
	}
	if err := h.allow(r, access.ActionRead, req.dc, ""); err != nil {
		return nil, nil, err
	}
	if err := h.allow(r, access.ActionDrop, target, ""); err != nil {
		return nil, nil, err
	}
	e, err := h.lookup(r.Context(), req, nil)
	if err != nil {
		return nil, nil, err
	}
	sel := fourd.Selection{DataClass: target, Filter: relationFilter(a.Path, e.Key), OrderBy: p.orderBy}
	if p.filter != nil {
		sel.Filter = andQueries(sel.Filter, p.filter)
	}
	rows, err := h.Data.Rows(r.Context(), sel)
	if err != nil {
		return nil, nil, err
	}
	return target, pageOf(rows, p), nil
}

// pageOf returns the rows a GET's page shows when $top, $limit or $skip
// is given (then $top defaults to 100, as on GET), and all of them
// otherwise: the whole selection that __COUNT counts.
func pageOf(rows []fourd.RowID, p *dataParams) []fourd.RowID {
	if !p.paged {
		return rows
	}
	start := min(p.skip, len(rows))
	end := min(start+p.top, len(rows))
	return rows[start:end]
}
