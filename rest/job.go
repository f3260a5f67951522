package rest

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/fourd/fourd"
)

// Jobs runs the server's long operations, each in a process of its own
// with a progress indicator; the server implements it.
type Jobs interface {
	// BuildIndex builds the index of dataClass.attribute and waits for it.
	BuildIndex(ctx context.Context, dataClass, attribute string) error
	// Flush writes the datastore's cache to disk and waits for it.
	Flush(ctx context.Context) error
}

// postIndex serves POST /rest/$index with {"dataClass":"Employee",
// "attribute":"lastName"}: it builds the index in an Indexing process and
// answers {"ok":true} when it is done. Meanwhile $info shows its
// indexProgressIndicator and $activity its process.
func (h *Handler) postIndex(w http.ResponseWriter, r *http.Request) error {
	if h.Jobs == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server builds no indexes")
	}
	var req struct {
		DataClass string `json:"dataClass"`
		Attribute string `json:"attribute"`
	}
	body, err := readSmallBody(r, 1<<16, "$index")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &req); err != nil || req.DataClass == "" || req.Attribute == "" {
		return badParam(`the body must be {"dataClass":"Employee","attribute":"lastName"}`)
	}
	if err := h.Jobs.BuildIndex(r.Context(), req.DataClass, req.Attribute); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []byte(`{"ok":true}`))
	return nil
}

// postFlush serves POST /rest/$flush: it writes the cache to disk in a
// DB4D Flush cache process and answers {"ok":true} when it is done.
func (h *Handler) postFlush(w http.ResponseWriter, r *http.Request) error {
	if h.Jobs == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server has nothing to flush")
	}
	if err := h.Jobs.Flush(r.Context()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []byte(`{"ok":true}`))
	return nil
}
