package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/fourd/fourd"
)

// maxBody bounds a request body: 32 MiB of JSON.
const maxBody = 32 << 20

// postUpdate serves POST /rest/{dataClass}?$method=update: one entity, or
// an array of entities, each created (no __KEY/__STAMP) or updated (both
// given). One entity answers the entity as saved; an array answers
// {"__ENTITIES":[…]}, each element carrying __ERROR if it was not saved.
// With $atomic=true either all are saved or none.
func (h *Handler) postUpdate(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	if req.hasKey || req.hasSetID {
		return badParam("$method=update goes to the dataclass: POST /rest/%s?$method=update", req.dc.Name)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badParam("read the request body: %v", err)
	}
	if len(body) > maxBody {
		return badParam("the request body is larger than %d bytes", maxBody)
	}
	body = bytes.TrimSpace(body)
	single := len(body) > 0 && body[0] == '{'
	var raws []map[string]json.RawMessage
	if single {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(body, &one); err != nil {
			return badParam("the body must be a JSON object or an array of objects: %v", err)
		}
		raws = append(raws, one)
	} else if err := json.Unmarshal(body, &raws); err != nil {
		return badParam("the body must be a JSON object or an array of objects: %v", err)
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
	results, err := h.Data.Save(ctx, req.dc, saves, p.atomic)
	if err != nil {
		return err
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
	b = append(b, `{"__STATUS":{"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"statusText":`...)
	b = fourd.AppendJSONString(b, statusText)
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

// postDelete serves $method=delete on an entity, a filtered selection or
// an entity set, and answers {"ok":true}.
func (h *Handler) postDelete(w http.ResponseWriter, r *http.Request, req *dataRequest, p *dataParams) error {
	if err := h.allow(r, fourd.ActionDrop, req.dc, ""); err != nil {
		return err
	}
	ctx := r.Context()
	var rows []fourd.RowID
	switch {
	case req.hasKey:
		e, err := h.lookup(ctx, req, nil)
		if err != nil {
			return err
		}
		rows = []fourd.RowID{e.Row}
	case req.hasSetID:
		es, err := h.EntitySets.Get(ctx, req.setID, h.Now())
		if err != nil {
			return err
		}
		rows = es.Rows.AppendTo(nil)
	case p.filter != nil:
		var err error
		if rows, err = h.Data.Rows(ctx, selection(req, p)); err != nil {
			return err
		}
	default:
		return badParam("$method=delete needs an entity (/rest/%s(key)), a $filter or an entity set; it never deletes a whole dataclass", req.dc.Name)
	}
	if _, err := h.Data.Delete(ctx, req.dc, rows); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []byte(`{"ok":true}`))
	return nil
}
