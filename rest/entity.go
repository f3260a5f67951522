package rest

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// The JSON forms of entities, as rest.md §3 describes them:
//
//	{"__KEY":"1","__TIMESTAMP":"…","__STAMP":1,"ID":1,"name":"Acme",…,
//	 "employer":{"__deferred":{"uri":"/rest/Company(1)","__KEY":"1"}},
//	 "staff":{"__deferred":{"uri":"/rest/Company(1)/staff?$expand=staff"}}}
//
// Attributes come in the dataclass's order. $attributes changes the
// relations: "employer" gives {"__KEY":"1"}, "employer.name" or
// "employer.*" the related entity with those attributes, "staff.lastName"
// an inline selection of the related entities.

// entityURI is the relative URI of an entity: /rest/Company(1), or
// /rest/Company("AB12") for a key that is not a number.
func entityURI(dc *fourd.DataClass, key string) string {
	k := dc.Key()
	if k.Type == fourd.AttrLong || k.Type == fourd.AttrLong64 {
		return "/rest/" + dc.Name + "(" + key + ")"
	}
	return "/rest/" + dc.Name + "(" + strconv.Quote(key) + ")"
}

// related holds what was loaded for the relations of a page of entities.
type related struct {
	one  map[string]map[string]*fourd.Entity   // relatedEntity attribute -> key -> entity
	many map[string]map[string][]*fourd.Entity // relatedEntities attribute -> parent key -> entities
	sub  map[string]*related                   // for the nested levels
}

// loadRelated loads the related entities that projection p shows inline
// for the entities es (of p.dc), level by level. Each level is counted
// against the answer's budget before it is loaded.
func loadRelated(ctx context.Context, ds fourd.Datastore, p *projection, es []*fourd.Entity, b *answerBudget) (*related, error) {
	if len(p.nested) == 0 {
		return nil, nil
	}
	rel := &related{one: map[string]map[string]*fourd.Entity{}, many: map[string]map[string][]*fourd.Entity{}, sub: map[string]*related{}}
	for _, a := range p.attrs {
		child := p.nested[a.Name]
		if child == nil {
			continue
		}
		target := child.dc
		var keys []string
		seen := map[string]bool{}
		var found []*fourd.Entity
		switch a.Kind {
		case fourd.KindRelatedEntity:
			for _, e := range es {
				if e == nil {
					continue
				}
				if k, ok := e.Values[a.Name].(string); ok && k != "" && !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			if err := b.take(len(keys)); err != nil {
				return nil, err
			}
			list, err := entitiesWhereIn(ctx, ds, target, target.PrimaryKey, keys, child, nil)
			if err != nil {
				return nil, err
			}
			byKey := make(map[string]*fourd.Entity, len(list))
			for _, e := range list {
				byKey[e.Key] = e
			}
			rel.one[a.Name] = byKey
			found = list
		case fourd.KindRelatedEntities:
			for _, e := range es {
				if e != nil && !seen[e.Key] {
					seen[e.Key] = true
					keys = append(keys, e.Key)
				}
			}
			withBack := *child
			withBack.attrs = appendAttr(child.attrs, target.Attribute(a.Path))
			list, err := entitiesWhereIn(ctx, ds, target, a.Path, keys, &withBack, b)
			if err != nil {
				return nil, err
			}
			byParent := map[string][]*fourd.Entity{}
			for _, e := range list {
				if k, ok := e.Values[a.Path].(string); ok {
					byParent[k] = append(byParent[k], e)
				}
			}
			rel.many[a.Name] = byParent
			found = list
		}
		sub, err := loadRelated(ctx, ds, child, found, b)
		if err != nil {
			return nil, err
		}
		rel.sub[a.Name] = sub
	}
	return rel, nil
}

func appendAttr(attrs []*fourd.Attribute, a *fourd.Attribute) []*fourd.Attribute {
	for _, x := range attrs {
		if x == a {
			return attrs
		}
	}
	return append(append([]*fourd.Attribute(nil), attrs...), a)
}

// entitiesWhereIn loads the entities of dc whose attribute attr is one of
// keys, built as a filter tree (never as text), in row order. With a
// budget, each batch is counted against it before it is loaded.
func entitiesWhereIn(ctx context.Context, ds fourd.Datastore, dc *fourd.DataClass, attr string, keys []string, p *projection, b *answerBudget) ([]*fourd.Entity, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out []*fourd.Entity
	const batch = 500 // keeps each IN list well under SQLite's parameter limit
	for start := 0; start < len(keys); start += batch {
		end := min(start+batch, len(keys))
		list := make([]filter.Value, 0, end-start)
		for _, k := range keys[start:end] {
			list = append(list, filter.Value{Kind: filter.KindString, Str: k})
		}
		sel := fourd.Selection{DataClass: dc, Filter: &filter.Query{Expr: &filter.Comparison{
			Path: filter.Path{{Name: attr}}, Op: filter.OpIn, Value: filter.Value{Kind: filter.KindList, List: list},
		}}}
		if b != nil && b.max > 0 {
			_, n, err := ds.Page(ctx, sel, 0, 0, nil) // the count alone
			if err != nil {
				return nil, err
			}
			if err := b.take(n); err != nil {
				return nil, err
			}
		}
		page, _, err := ds.Page(ctx, sel, 0, math.MaxInt32, p.storageNames())
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
	}
	return out, nil
}

// encoder writes entities for one response.
type encoder struct {
	globalStamp int64
	// What a read answer may cost (Limits): entities written and bytes.
	// Past either, err is set and nothing more is appended; the caller
	// answers err instead of the partial body.
	entities answerBudget
	maxBytes int
	err      error
}

// boundedEncoder returns an encoder whose answer is bounded by
// MaxAnswerEntities and MaxAnswerBytes.
func (h *Handler) boundedEncoder(ctx context.Context) (*encoder, error) {
	enc, err := h.newEncoder(ctx)
	if err != nil {
		return nil, err
	}
	enc.entities.max = h.Limits.MaxAnswerEntities
	enc.maxBytes = h.Limits.MaxAnswerBytes
	return enc, nil
}

// over reports whether the answer has passed a limit, counting one more
// entity; check says why.
func (enc *encoder) over(b []byte) bool {
	if enc.check(b) != nil {
		return true
	}
	enc.err = enc.entities.take(1)
	return enc.err != nil
}

// check returns the error of an answer b that has passed a limit.
func (enc *encoder) check(b []byte) error {
	if enc.err == nil && enc.maxBytes > 0 && len(b) > enc.maxBytes {
		enc.err = errTooLarge("the answer would be larger than %d bytes; ask for a smaller $top or fewer attributes (limit: --max-answer-size)", enc.maxBytes)
	}
	return enc.err
}

// newEncoder returns an encoder for one response, with the datastore's
// global stamp read now, and no limit.
func (h *Handler) newEncoder(ctx context.Context) (*encoder, error) {
	stamp, err := h.Data.GlobalStamp(ctx)
	if err != nil {
		return nil, err
	}
	return &encoder{globalStamp: stamp}, nil
}

// appendEntity writes one entity with projection p. withModel adds
// __entityModel first (a single-entity answer).
func (enc *encoder) appendEntity(b []byte, e *fourd.Entity, p *projection, rel *related, withModel bool) []byte {
	if enc.over(b) {
		return b
	}
	if e == nil {
		return append(b, `{"__STAMP":0}`...) // a row deleted since the set was made, as 4D shows it
	}
	b = append(b, '{')
	if withModel {
		b = append(b, `"__entityModel":`...)
		b = fourd.AppendJSONString(b, p.dc.Name)
		b = append(b, ',')
	}
	b = append(b, `"__KEY":`...)
	b = fourd.AppendJSONString(b, e.Key)
	b = append(b, `,"__TIMESTAMP":"`...)
	b = fourd.AppendTime(b, e.Timestamp)
	b = append(b, `","__STAMP":`...)
	b = strconv.AppendInt(b, e.Stamp, 10)
	return append(enc.appendAttributes(b, e, p, rel, nil), '}')
}

// appendAttributes writes ,"name":value for each attribute of p. counts,
// when not nil, gives the 1->N relations shown deferred as {"__COUNT":n}
// instead ($asArray), by relation and parent key.
func (enc *encoder) appendAttributes(b []byte, e *fourd.Entity, p *projection, rel *related, counts map[string]map[string]int) []byte {
	for _, a := range p.attrs {
		b = append(b, ',')
		b = fourd.AppendJSONString(b, a.Name)
		b = append(b, ':')
		switch a.Kind {
		case fourd.KindStorage:
			b = appendValue(b, e.Values[a.Name])
		case fourd.KindRelatedEntity:
			b = enc.appendRelatedEntity(b, e, a, p, rel)
		case fourd.KindRelatedEntities:
			if byKey := counts[a.Name]; byKey != nil {
				b = append(b, `{"__COUNT":`...)
				b = strconv.AppendInt(b, int64(byKey[e.Key]), 10)
				b = append(b, '}')
				continue
			}
			b = enc.appendRelatedEntities(b, e, a, p, rel)
		}
	}
	return b
}

// appendArray writes a page of entities in $asArray's form, as 4D's
// $asArray page shows it: a bare array whose entities carry
// "__KEY":{"<primary key>":value,"__STAMP":n}, and 1->N relations as
// {"__COUNT":n} (counts) unless $attributes shows them inline.
func (enc *encoder) appendArray(b []byte, p *projection, es []*fourd.Entity, rel *related, counts map[string]map[string]int) []byte {
	pk := p.dc.Key()
	b = append(b, '[')
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		if enc.over(b) {
			return b
		}
		if e == nil {
			b = append(b, `{"__STAMP":0}`...)
			continue
		}
		b = append(b, `{"__KEY":{`...)
		b = fourd.AppendJSONString(b, pk.Name)
		b = append(b, ':')
		if pk.Type == fourd.AttrLong || pk.Type == fourd.AttrLong64 {
			b = append(b, e.Key...) // the key's text is the number
		} else {
			b = fourd.AppendJSONString(b, e.Key)
		}
		b = append(b, `,"__STAMP":`...)
		b = strconv.AppendInt(b, e.Stamp, 10)
		b = append(b, '}')
		b = append(enc.appendAttributes(b, e, p, rel, counts), '}')
	}
	return append(b, ']')
}

func (enc *encoder) appendRelatedEntity(b []byte, e *fourd.Entity, a *fourd.Attribute, p *projection, rel *related) []byte {
	key, _ := e.Values[a.Name].(string)
	if key == "" {
		return append(b, "null"...)
	}
	target := p.m.DataClass(a.RelatedDataClass)
	child := p.nested[a.Name]
	switch {
	case child != nil && rel != nil:
		if re := rel.one[a.Name][key]; re != nil {
			return enc.appendEntity(b, re, child, rel.sub[a.Name], false)
		}
		return append(b, "null"...) // the key names no entity any more
	case p.named:
		b = append(b, `{"__KEY":`...)
		b = fourd.AppendJSONString(b, key)
		return append(b, '}')
	}
	b = append(b, `{"__deferred":{"uri":`...)
	b = fourd.AppendJSONString(b, entityURI(target, key))
	b = append(b, `,"__KEY":`...)
	b = fourd.AppendJSONString(b, key)
	return append(b, "}}"...)
}

func (enc *encoder) appendRelatedEntities(b []byte, e *fourd.Entity, a *fourd.Attribute, p *projection, rel *related) []byte {
	uri := entityURI(p.dc, e.Key) + "/" + a.Name + "?$expand=" + a.Name
	child := p.nested[a.Name]
	if child == nil || rel == nil {
		b = append(b, `{"__deferred":{"uri":`...)
		b = fourd.AppendJSONString(b, uri)
		return append(b, "}}"...)
	}
	list := rel.many[a.Name][e.Key]
	b = append(b, `{"__ENTITYSET":`...)
	b = fourd.AppendJSONString(b, uri)
	b = append(b, `,"__GlobalStamp":`...)
	b = strconv.AppendInt(b, enc.globalStamp, 10)
	b = append(b, `,"__COUNT":`...)
	b = strconv.AppendInt(b, int64(len(list)), 10)
	b = append(b, `,"__FIRST":0,"__ENTITIES":[`...)
	for i, re := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = enc.appendEntity(b, re, child, rel.sub[a.Name], false)
	}
	b = append(b, `],"__SENT":`...)
	b = strconv.AppendInt(b, int64(len(list)), 10)
	return append(b, '}')
}

// appendValue writes a storage attribute's value.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return fourd.AppendJSONString(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return append(b, "null"...)
		}
		if math.Abs(v) < 1e21 {
			return strconv.AppendFloat(b, v, 'f', -1, 64)
		}
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Time:
		b = append(b, '"')
		b = fourd.AppendTime(b, v)
		return append(b, '"')
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

// appendCollection writes a page of entities in the collection shape:
// __ENTITYSET (when a set was made), __DATACLASS, __entityModel,
// __GlobalStamp, __COUNT, __FIRST, __ENTITIES, __SENT.
func (enc *encoder) appendCollection(b []byte, entitySetURI string, p *projection, count, first int, es []*fourd.Entity, rel *related) []byte {
	b = append(b, '{')
	if entitySetURI != "" {
		b = append(b, `"__ENTITYSET":`...)
		b = fourd.AppendJSONString(b, entitySetURI)
		b = append(b, ',')
	}
	b = append(b, `"__DATACLASS":`...)
	b = fourd.AppendJSONString(b, p.dc.Name)
	b = append(b, `,"__entityModel":`...)
	b = fourd.AppendJSONString(b, p.dc.Name)
	b = append(b, `,"__GlobalStamp":`...)
	b = strconv.AppendInt(b, enc.globalStamp, 10)
	b = append(b, `,"__COUNT":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `,"__FIRST":`...)
	b = strconv.AppendInt(b, int64(first), 10)
	b = append(b, `,"__ENTITIES":[`...)
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		b = enc.appendEntity(b, e, p, rel, false)
	}
	b = append(b, `],"__SENT":`...)
	b = strconv.AppendInt(b, int64(len(es)), 10)
	return append(b, '}')
}
