package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/fourd/fourd"
)

// The $catalog answers, as rest.md §4 shows them.

type catalogEntry struct {
	Name    string `json:"name"`
	URI     string `json:"uri"`
	DataURI string `json:"dataURI"`
}

type catalogAttribute struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	FieldPos    int    `json:"fieldPos,omitempty"`
	Scope       string `json:"scope"`
	Type        string `json:"type"`
	Indexed     bool   `json:"indexed,omitempty"`
	Identifying bool   `json:"identifying,omitempty"`
	Path        string `json:"path,omitempty"`
	ReversePath bool   `json:"reversePath,omitempty"`
	ForeignKey  string `json:"foreignKey,omitempty"`
	InverseName string `json:"inverseName,omitempty"`
}

type catalogKey struct {
	Name string `json:"name"`
}

type catalogDataClass struct {
	Name           string             `json:"name"`
	ClassName      string             `json:"className"`
	CollectionName string             `json:"collectionName"`
	TableNumber    int                `json:"tableNumber"`
	Scope          string             `json:"scope"`
	DataURI        string             `json:"dataURI"`
	DefaultTopSize int                `json:"defaultTopSize"`
	Attributes     []catalogAttribute `json:"attributes"`
	Key            []catalogKey       `json:"key"`
	Methods        []catalogMethod    `json:"methods,omitempty"`
}

// catalogMethod is an exposed function, as $catalog's singletons section
// lists them; a dataclass's also says what it applies to.
type catalogMethod struct {
	Name             string `json:"name"`
	ApplyTo          string `json:"applyTo,omitempty"`
	AllowedOnHTTPGET bool   `json:"allowedOnHTTPGET"`
	Exposed          bool   `json:"exposed"`
}

type catalogSingleton struct {
	Name    string          `json:"name"`
	Methods []catalogMethod `json:"methods"`
}

// singletons lists the singleton classes with their functions, for the
// "singletons" section of $catalog and $catalog/$all (nil when none).
func (h *Handler) singletons() []catalogSingleton {
	var out []catalogSingleton
	for _, d := range h.Functions.List() {
		if d.Kind != KindSingleton {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Name != d.Class {
			out = append(out, catalogSingleton{Name: d.Class})
		}
		last := &out[len(out)-1]
		last.Methods = append(last.Methods, catalogMethod{Name: d.Name, AllowedOnHTTPGET: d.get, Exposed: true})
	}
	return out
}

// methodsOf lists the functions registered for a dataclass: dataclass,
// entity and entity selection functions.
func (h *Handler) methodsOf(dc string) []catalogMethod {
	var out []catalogMethod
	for _, d := range h.Functions.List() {
		if d.Class != dc || d.Kind == KindSingleton || d.Kind == KindDataStore {
			continue
		}
		out = append(out, catalogMethod{Name: d.Name, ApplyTo: d.Kind.String(), AllowedOnHTTPGET: d.get, Exposed: true})
	}
	return out
}

func (h *Handler) describe(m *fourd.Model, dc *fourd.DataClass) catalogDataClass {
	out := catalogDataClass{
		Name: dc.Name, ClassName: dc.Name, CollectionName: dc.Name + "Selection", TableNumber: dc.Number(),
		Scope: "public", DataURI: "/rest/" + dc.Name, DefaultTopSize: DefaultTop,
		Key: []catalogKey{{Name: dc.PrimaryKey}}, Methods: h.methodsOf(dc.Name),
	}
	for _, a := range dc.Attributes {
		ca := catalogAttribute{Name: a.Name, Kind: string(a.Kind), Scope: "public"}
		switch a.Kind {
		case fourd.KindStorage:
			ca.FieldPos, ca.Type, ca.Indexed = a.Position(), string(a.Type), a.Indexed
			ca.Identifying = a.Name == dc.PrimaryKey
		case fourd.KindRelatedEntity:
			ca.Type, ca.Path, ca.ForeignKey = a.RelatedDataClass, a.RelatedDataClass, a.Name
			for _, back := range m.DataClass(a.RelatedDataClass).Attributes {
				if back.Kind == fourd.KindRelatedEntities && back.RelatedDataClass == dc.Name && back.Path == a.Name {
					ca.InverseName = back.Name
				}
			}
		case fourd.KindRelatedEntities:
			ca.Type, ca.Path, ca.ReversePath, ca.InverseName = a.RelatedDataClass+"Selection", a.Path, true, a.Path
		}
		out.Attributes = append(out.Attributes, ca)
	}
	return out
}

// getCatalog serves GET /rest/$catalog: the exposed dataclasses.
func (h *Handler) getCatalog(w http.ResponseWriter, r *http.Request) error {
	entries := []catalogEntry{}
	if h.Data != nil {
		for _, dc := range h.Data.Model().DataClasses {
			entries = append(entries, catalogEntry{Name: dc.Name, URI: "/rest/$catalog/" + dc.Name, DataURI: "/rest/" + dc.Name})
		}
	}
	return writeValue(w, struct {
		Singletons  []catalogSingleton `json:"singletons,omitempty"`
		DataClasses []catalogEntry     `json:"dataClasses"`
	}{h.singletons(), entries})
}

// getCatalogEntry serves GET /rest/$catalog/$all and /rest/$catalog/{dataClass}.
func (h *Handler) getCatalogEntry(w http.ResponseWriter, r *http.Request) error {
	name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/rest/$catalog/"), "/")
	if t := requestFunction(r); t != nil {
		return h.serveFunction(w, r, t)
	}
	if r.Method == http.MethodPost {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "no exposed datastore function %q", name)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, POST")
		return fourd.Errorf(fourd.EMETHOD, fourd.ErrCodeMethodNotAllowed, "%s is not allowed on %s; use GET, or POST to call a datastore function", r.Method, r.URL.Path)
	}
	if h.Data == nil {
		return unknownDataClass(name)
	}
	m := h.Data.Model()
	if name == "$all" {
		all := []catalogDataClass{}
		for _, dc := range m.DataClasses {
			all = append(all, h.describe(m, dc))
		}
		return writeValue(w, struct {
			Singletons  []catalogSingleton `json:"singletons,omitempty"`
			DataClasses []catalogDataClass `json:"dataClasses"`
		}{h.singletons(), all})
	}
	dc := m.DataClass(name)
	if dc == nil {
		return unknownDataClass(name)
	}
	return writeValue(w, h.describe(m, dc))
}

// writeValue writes v with encoding/json: for small, rare answers.
func writeValue(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}
